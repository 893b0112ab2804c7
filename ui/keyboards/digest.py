"""The digest's buttons: every client it names opens with a tap, and the dashboard."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from services.digest import Digest
from ui.callbacks import CardAction
from ui.i18n import Translator
from ui.keyboards.lists import client_button


def named_clients(digest: Digest) -> list[tuple[int, str]]:
    """(client id, name) of every client the digest names, once each, in reading order."""
    seen: dict[int, str] = {}
    for migration in digest.migrations:
        seen.setdefault(migration.client_id, migration.name)
    for risk in digest.at_risk:
        seen.setdefault(risk.client_id, risk.name)
    return list(seen.items())


def dashboard_button(url: str, tr: Translator) -> InlineKeyboardButton:
    """Opens the dashboard (a Telegram Mini App) over the chat."""
    return InlineKeyboardButton(text=tr("digest.dashboard_button"), web_app=WebAppInfo(url=url))


def digest_keyboard(
    digest: Digest, tr: Translator, dashboard_url: str | None = None
) -> InlineKeyboardMarkup | None:
    rows = [
        [client_button(number, name, client_id, action=CardAction.OPEN)]
        for number, (client_id, name) in enumerate(named_clients(digest), start=1)
    ]
    if dashboard_url:
        rows.append([dashboard_button(dashboard_url, tr)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
