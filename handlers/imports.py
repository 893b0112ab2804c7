"""A file sent to the bot: a preview, "Import / Cancel", one progress message, a report."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from datetime import date, datetime

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from services.access import CompanyPolicy
from services.db.models import Role
from services.import_desk import (
    ImportDesk,
    ImportOutcome,
    Progress,
    Recipient,
    UploadTooLarge,
    cancel_import,
    check_upload,
    claim_import,
    finish_claimed,
    forget_stale,
    import_recipients,
    new_upload_path,
    prepare_import,
    run_import,
)
from services.uow import UnitOfWork, UnitOfWorkFactory
from services.users import UserDTO
from services.zones import resolve_zone
from ui.callbacks import ImportAction, ImportCb
from ui.formatting import h
from ui.i18n import Translator
from ui.keyboards.imports import confirm_import_keyboard
from ui.texts.imports import render_changes, render_preview, render_progress, render_report

log = logging.getLogger(__name__)


def _today(now: datetime, company: CompanyPolicy) -> date:
    """The company's date: what "as of today" means for the sales a file brings."""
    return now.astimezone(resolve_zone(company.default_timezone)).date()


async def document_received(
    message: Message,
    bot: Bot,
    user: UserDTO,
    uow: UnitOfWork,
    tr: Translator,
    now: datetime,
    company: CompanyPolicy,
    import_desk: ImportDesk,
) -> None:
    """Download the file, read it without writing anything and ask whether to import it."""
    document = message.document
    assert document is not None
    name = document.file_name or "file.csv"
    check_upload(user, name, document.file_size)
    forget_stale(import_desk, now)  # files nobody confirmed within a day
    import_id, path = new_upload_path(import_desk, name)
    try:
        await bot.download(document, destination=path)
    except TelegramBadRequest as error:
        shutil.rmtree(path.parent, ignore_errors=True)
        if "too big" in error.message:
            raise UploadTooLarge(document.file_size or 0) from error
        raise
    preview = await prepare_import(
        uow,
        import_desk,
        user,
        import_id,
        path,
        file_name=name,
        now=now,
        today=_today(now, company),
    )
    await message.answer(
        render_preview(preview, tr), reply_markup=confirm_import_keyboard(import_id, tr)
    )


async def cancel_pressed(
    callback: CallbackQuery,
    callback_data: ImportCb,
    user: UserDTO,
    tr: Translator,
    import_desk: ImportDesk,
) -> None:
    """Drop the waiting file."""
    name = cancel_import(import_desk, callback_data.i, user)
    await callback.answer()
    if isinstance(callback.message, Message):
        with contextlib.suppress(TelegramBadRequest):
            await callback.message.edit_reply_markup(reply_markup=None)
        await callback.message.answer(tr("imports.cancelled", name=h(name, 100)))


async def import_pressed(
    callback: CallbackQuery,
    callback_data: ImportCb,
    bot: Bot,
    user: UserDTO,
    tr: Translator,
    now: datetime,
    company: CompanyPolicy,
    import_desk: ImportDesk,
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Import once (a double tap finds the file claimed), showing progress in one message."""
    pending = claim_import(import_desk, callback_data.i, user, now)
    await callback.answer()
    message = callback.message
    assert isinstance(message, Message)
    with contextlib.suppress(TelegramBadRequest):
        await message.edit_reply_markup(reply_markup=None)
    status = await bot.send_message(message.chat.id, tr("imports.started"))
    progress = Progress()
    task = asyncio.create_task(
        run_import(
            uow_factory,
            import_desk,
            pending.kind,
            pending.path,
            file_name=pending.file_name,
            today=_today(now, company),
            progress=progress,
        )
    )
    try:
        await _show_progress(status, task, progress, pending.file_name, tr, import_desk)
        outcome = await task
    except BaseException:
        await _edit(status, tr("imports.failed", name=h(pending.file_name, 100)))
        raise
    finally:
        finish_claimed(pending)
    await _edit(status, tr("imports.finished", name=h(pending.file_name, 100)))
    await _send_report(bot, message.chat.id, outcome, tr)
    if outcome.recomputed:
        await _tell_heads(bot, uow_factory, outcome, user, company.default_language)


async def _show_progress(
    status: Message,
    task: asyncio.Task[ImportOutcome],
    progress: Progress,
    name: str,
    tr: Translator,
    desk: ImportDesk,
) -> None:
    """Edit the one status message every few seconds while the import runs."""
    shown = status.text or ""
    while not task.done():
        await asyncio.wait({task}, timeout=desk.progress_every)
        if task.done():
            return
        text = render_progress(name, progress, tr)
        if text != shown:
            await _edit(status, text)
            shown = text


async def _edit(status: Message, text: str) -> None:
    try:
        await status.edit_text(text)
    except TelegramAPIError:  # progress is a courtesy: the import goes on
        log.warning("could not update the import progress message", exc_info=True)


async def _send_report(bot: Bot, chat_id: int, outcome: ImportOutcome, tr: Translator) -> None:
    await bot.send_message(chat_id, render_report(outcome, tr))
    if outcome.rejected_csv is not None:
        stem = outcome.report.file_name.rsplit(".", 1)[0]
        await bot.send_document(
            chat_id,
            BufferedInputFile(outcome.rejected_csv, filename=f"{stem}-rejected.csv"),
            caption=tr("imports.rejected_file", name=h(outcome.report.file_name, 100)),
        )


async def _tell_heads(
    bot: Bot,
    uow_factory: UnitOfWorkFactory,
    outcome: ImportOutcome,
    uploader: UserDTO,
    default_language: str,
) -> None:
    """Every head (and the admin who imported) learns what the import changed."""
    recipients = await import_recipients(uow_factory(), [Role.HEAD])
    if uploader.telegram_id is not None and uploader.telegram_id not in {
        r.telegram_id for r in recipients
    }:
        recipients.append(Recipient(uploader.telegram_id, uploader.language))
    for recipient in recipients:
        try:
            await bot.send_message(
                recipient.telegram_id,
                render_changes(outcome, Translator(recipient.language or default_language)),
            )
        except TelegramAPIError:
            log.warning("could not tell %s about the import", recipient.telegram_id)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(document_received, F.document)
    router.callback_query.register(import_pressed, ImportCb.filter(F.a == ImportAction.GO))
    router.callback_query.register(cancel_pressed, ImportCb.filter(F.a == ImportAction.CANCEL))
    return router
