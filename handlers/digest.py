"""/digest: the head of sales' digest on demand (managers get a polite refusal)."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Message

from bot.config import Settings
from handlers.push_texts import digest_caption, digest_chart, render_digest
from scheduler.sender import fit_caption, split_text
from services.clock import Clock
from services.digest import build_digest
from services.i18n import Translator
from services.uow import UnitOfWork
from services.users import UserDTO


def create_router() -> Router:
    router = Router(name=__name__)

    @router.message(Command("digest"))
    async def digest_command(
        message: Message,
        user: UserDTO,
        uow: UnitOfWork,
        tr: Translator,
        settings: Settings,
        clock: Clock,
    ) -> None:
        """The digest now: the chart as a photo, then the figures (DigestNotAllowed otherwise)."""
        digest = await build_digest(
            uow, user.id, clock.now(), default_timezone=settings.default_timezone
        )
        png = await asyncio.to_thread(digest_chart, digest, tr)
        await message.answer_photo(
            BufferedInputFile(png, filename="digest.png"),
            caption=fit_caption(digest_caption(digest, tr)),
        )
        for chunk in split_text(render_digest(digest, tr)):
            await message.answer(chunk)

    return router
