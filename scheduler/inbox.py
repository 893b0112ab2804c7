"""The inbox job: import what 1C dropped into `IMPORT_INBOX`, then tell the admins (and heads)."""

from __future__ import annotations

import logging

from scheduler.jobs import JobContext
from services.db.models import Role
from services.import_desk import ImportDesk, import_recipients
from services.inbox import InboxResult, InboxWatcher, process_inbox
from services.zones import resolve_zone
from ui.i18n import Translator
from ui.messages import text_parts
from ui.texts.imports import render_changes, render_inbox_done, render_inbox_failed

log = logging.getLogger(__name__)

INBOX_EVERY_SECONDS = 15


async def watch_inbox(
    ctx: JobContext, watcher: InboxWatcher, desk: ImportDesk
) -> list[InboxResult]:
    """One scan of the folder: import the files that are whole and new, report each."""
    now = ctx.clock.now()
    today = now.astimezone(resolve_zone(ctx.default_timezone)).date()
    results = await process_inbox(ctx.uow_factory, desk, watcher, today=today, now=now)
    news = [result for result in results if not result.duplicate]
    if not news:
        return results
    admins = await import_recipients(ctx.uow_factory(), [Role.ADMIN])
    heads = await import_recipients(ctx.uow_factory(), [Role.HEAD])
    for result in news:
        for admin in admins:
            tr = Translator(admin.language or ctx.default_language)
            if result.outcome is not None and result.kind is not None:
                text = render_inbox_done(result.file_name, result.kind, str(result.report_path), tr)
            else:
                text = render_inbox_failed(
                    result.file_name, result.reason or "", str(result.report_path), tr
                )
            await ctx.sender.send(admin.telegram_id, text_parts(text))
        if result.outcome is not None and result.outcome.recomputed:
            for head in heads:
                tr = Translator(head.language or ctx.default_language)
                await ctx.sender.send(
                    head.telegram_id, text_parts(render_changes(result.outcome, tr))
                )
    return results
