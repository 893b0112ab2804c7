"""Answering a button press by replacing the message it was under."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def show(
    callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the message in place (or send a new one if Telegram no longer has it)."""
    await callback.answer()
    if isinstance(callback.message, Message):
        try:
            await callback.message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as error:
            # Pressing a button that leads to the screen already shown is not a failure.
            if "message is not modified" not in error.message:
                raise
    elif callback.message is not None and callback.bot is not None:
        await callback.bot.send_message(callback.message.chat.id, text, reply_markup=markup)
