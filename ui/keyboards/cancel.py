"""The "cancel" button any conversation may offer; handled next to /cancel in handlers.common."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton

from ui.callbacks import CancelCb
from ui.i18n import Translator


def cancel_button(tr: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=tr("menu.cancel_button"), callback_data=CancelCb().pack())
