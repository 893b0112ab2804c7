"""The "cancel" button any conversation may offer; handled next to /cancel in handlers.common."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton

from services.i18n import Translator


class CancelCb(CallbackData, prefix="cancel"):
    pass


def cancel_button(tr: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=tr("menu.cancel_button"), callback_data=CancelCb().pack())
