"""The "Import / Cancel" buttons under a file's preview."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from ui.callbacks import ImportAction, ImportCb
from ui.i18n import Translator


def confirm_import_keyboard(import_id: str, tr: Translator) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(
            text=tr("imports.button_go"),
            callback_data=ImportCb(a=ImportAction.GO, i=import_id).pack(),
        ),
        InlineKeyboardButton(
            text=tr("imports.button_cancel"),
            callback_data=ImportCb(a=ImportAction.CANCEL, i=import_id).pack(),
        ),
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row])
