"""Catch-alls, last in the router order: nothing the person sends is met with silence."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from ui.i18n import Translator


async def unknown_command(message: Message, tr: Translator) -> None:
    """A command the bot does not know: one line pointing to /help."""
    await message.answer(tr("fallback.unknown_command"))


async def voice_outside_flow(message: Message, tr: Translator) -> None:
    """A voice message outside a call log: it becomes a comment only while logging one."""
    await message.answer(tr("fallback.voice"))


async def other_message(message: Message, tr: Translator) -> None:
    """A photo, a sticker, a location...: what the bot reads. (Files go to the import.)"""
    await message.answer(tr("fallback.other_message"))


async def outdated_button(callback: CallbackQuery, tr: Translator) -> None:
    """A button no handler took (malformed, forged or from an old version): a short toast."""
    await callback.answer(tr("fallback.outdated_button"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(voice_outside_flow, F.voice)
    router.message.register(other_message)
    router.callback_query.register(outdated_button)
    return router
