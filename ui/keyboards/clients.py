"""Keyboards of the client card, its history and lookup results: pure functions of DTOs."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.clients import ClientCard, HistoryPage
from services.search import SearchPage
from ui.callbacks import CardAction, ClientCb, SearchCb
from ui.formatting import cut
from ui.i18n import Translator
from ui.keyboards.lists import client_button, pager_row


def _button(text: str, action: CardAction, client_id: int, p: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=ClientCb(a=action, c=client_id, p=p).pack()
    )


def card_keyboard(card: ClientCard, tr: Translator) -> InlineKeyboardMarkup:
    cid = card.client_id
    rows = [
        [
            _button(tr("card.buttons.log_call"), CardAction.LOG_CALL, cid),
            _button(tr("card.buttons.history"), CardAction.HISTORY, cid),
        ],
        [_button(tr("card.buttons.next_contact"), CardAction.NEXT_CONTACT, cid)],
    ]
    if card.can_set_vip:
        if card.is_vip:
            rows[1].append(_button(tr("card.buttons.vip_off"), CardAction.VIP, cid, 0))
        else:
            rows[1].append(_button(tr("card.buttons.vip_on"), CardAction.VIP, cid, 1))
    return InlineKeyboardMarkup(inline_keyboard=rows)


def history_keyboard(page: HistoryPage, tr: Translator) -> InlineKeyboardMarkup:
    cid = page.client_id
    rows = []
    pager = pager_row(page.page, page.pages, lambda p: ClientCb(a=CardAction.HISTORY, c=cid, p=p))
    if pager:
        rows.append(pager)
    rows.append([_button(tr("card.buttons.back_to_card"), CardAction.BACK, cid)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def search_keyboard(
    page: SearchPage, key: str, tr: Translator, *, for_log: bool = False
) -> InlineKeyboardMarkup | None:
    """A button per client found (the card, or logging a call for /log), then the pager."""
    action = CardAction.LOG_CALL if for_log else CardAction.OPEN
    start = page.page * 10
    rows = []
    for number, hit in enumerate(page.hits, start=start + 1):
        label = hit.name
        if hit.company and hit.company != hit.name:
            label += f" ({cut(hit.company, 20)})"
        if page.show_owner and hit.owner_name:
            label += f" · {cut(hit.owner_name, 20)}"
        rows.append([client_button(number, label, hit.client_id, vip=hit.is_vip, action=action)])
    pager = pager_row(page.page, page.pages, lambda p: SearchCb(k=key, p=p, log=for_log))
    if pager:
        rows.append(pager)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
