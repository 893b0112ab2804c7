"""/export: the client base as an XLSX document (the head: everyone's; a manager: their own)."""

from __future__ import annotations

import io
from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message

from services.exporting import XlsxExportWriter, export_clients, export_owner_for
from services.uow import UnitOfWork
from services.users import UserDTO
from ui.i18n import Translator
from ui.texts.export import export_labels, sheet_title


async def export_command(
    message: Message, bot: Bot, user: UserDTO, uow: UnitOfWork, tr: Translator, now: datetime
) -> None:
    """One row per client with segment, status, P(alive), next contact and owner."""
    buffer = io.BytesIO()
    writer = XlsxExportWriter(buffer, sheet_title=sheet_title(tr))
    summary = await export_clients(
        uow, writer, labels=export_labels(tr), owner_id=export_owner_for(user.role, user.id)
    )
    name = f"{tr('export.file_name')}-{now:%Y-%m-%d}.xlsx"
    await bot.send_document(
        message.chat.id,
        BufferedInputFile(buffer.getvalue(), filename=name),
        caption=tr("export.caption", n=summary.rows),
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(export_command, Command("export"))
    return router
