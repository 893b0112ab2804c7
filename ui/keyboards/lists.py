"""Keyboards of /today, /week, /reactivate, /risk and search results: pure functions of DTOs."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.lists import ListPage
from ui.callbacks import CardAction, ClientCb, ListCb, NoopCb
from ui.formatting import VIP_MARK, cut
from ui.i18n import Translator

BUTTON_TEXT_LENGTH = 48


def pager_row(
    page: int, pages: int, make: Callable[[int], CallbackData]
) -> list[InlineKeyboardButton]:
    """◀ 2/5 ▶ for paged lists; empty when everything fits on one page."""
    if pages <= 1:
        return []
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(text="◀", callback_data=make(page - 1).pack()))
    row.append(InlineKeyboardButton(text=f"{page + 1}/{pages}", callback_data=NoopCb().pack()))
    if page < pages - 1:
        row.append(InlineKeyboardButton(text="▶", callback_data=make(page + 1).pack()))
    return row


def client_button(
    number: int, name: str, client_id: int, *, vip: bool = False, action: CardAction
) -> InlineKeyboardButton:
    label = f"{number}. " + (f"{VIP_MARK} " if vip else "") + cut(name, BUTTON_TEXT_LENGTH)
    return InlineKeyboardButton(text=label, callback_data=ClientCb(a=action, c=client_id).pack())


def list_keyboard(page: ListPage, tr: Translator) -> InlineKeyboardMarkup | None:
    """A button per client (opens the card), then the pager."""
    start = page.page * 10
    rows = [
        [
            client_button(
                start + n, item.name, item.client_id, vip=item.is_vip, action=CardAction.OPEN
            )
        ]
        for n, item in enumerate(page.items, start=1)
    ]
    pager = pager_row(page.page, page.pages, lambda p: ListCb(k=page.kind.value, p=p))
    if pager:
        rows.append(pager)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
