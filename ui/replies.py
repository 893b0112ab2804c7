"""Answering a button press by replacing the message it was under."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def edit_or_send(
    callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message; send a new one when it is too old to edit."""
    message = callback.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as error:
            # Pressing a button that leads to the screen already shown is not a failure.
            if "message is not modified" not in error.message:
                raise
    elif message is not None and callback.bot is not None:
        await callback.bot.send_message(message.chat.id, text, reply_markup=markup)


async def show(
    callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer the press, then put `text` in place of the pressed message."""
    await callback.answer()
    await edit_or_send(callback, text, markup)
