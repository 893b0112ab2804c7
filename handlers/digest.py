"""/digest: the head of sales' digest on demand (managers get a polite refusal)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message

from services.access import CompanyPolicy
from services.digest import build_digest
from services.uow import UnitOfWork
from services.users import UserDTO
from ui.i18n import Translator
from ui.messages import send_parts
from ui.texts.digest import digest_parts


async def digest_command(
    message: Message,
    bot: Bot,
    user: UserDTO,
    uow: UnitOfWork,
    tr: Translator,
    company: CompanyPolicy,
    now: datetime,
    dashboard_url: str | None = None,
) -> None:
    """The digest now: the charts as photos, then the figures (DigestNotAllowed otherwise)."""
    digest = await build_digest(uow, user.id, now, default_timezone=company.default_timezone)
    # the charts are CPU-bound (matplotlib): keep answering everyone else meanwhile
    parts = await asyncio.to_thread(digest_parts, digest, tr, dashboard_url)
    await send_parts(bot, message.chat.id, parts)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(digest_command, Command("digest"))
    return router
