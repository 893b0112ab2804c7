"""The reply keyboard under the message field: the main actions, one tap each.

Its buttons send their text as an ordinary message, so `reply_action` tells which action
a text is, in any of the bot's languages and with or without the emoji, and the bot
treats it as the matching command even in the middle of a conversation.
"""

from __future__ import annotations

import re
from functools import cache

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup

from ui.i18n import LANGUAGES, Translator

ACTIONS = ("today", "find", "reactivate", "risk", "settings")
_LAYOUT = (("today", "find"), ("reactivate", "risk"), ("settings",))
_NOT_LETTERS = re.compile(r"[^\w]+")


def main_keyboard(tr: Translator) -> ReplyKeyboardMarkup:
    rows = [[KeyboardButton(text=tr(f"menu.reply.{action}")) for action in row] for row in _LAYOUT]
    return ReplyKeyboardMarkup(
        keyboard=rows,
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=tr("menu.reply.placeholder"),
    )


def _bare(text: str) -> str:
    return " ".join(_NOT_LETTERS.sub(" ", text).split()).casefold()


@cache
def _actions_by_text() -> dict[str, str]:
    found: dict[str, str] = {}
    for language in LANGUAGES:
        tr = Translator(language)
        for action in ACTIONS:
            found[_bare(tr(f"menu.reply.{action}"))] = action
    return found


def reply_action(text: str | None) -> str | None:
    """The action a reply-keyboard text stands for ("📋 Сегодня", "today"); None otherwise."""
    if not text or len(text) > 40:
        return None
    return _actions_by_text().get(_bare(text))
