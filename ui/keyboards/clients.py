"""Keyboards of the client card, its history and lookup results: pure functions of DTOs."""

from __future__ import annotations

import zlib
from collections import Counter

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.clients import ClientCard, HistoryKind, HistoryPage
from services.search import SearchHit, SearchPage
from ui.callbacks import AddAction, AddClientCb, CardAction, ClientCb, SearchCb, VoiceCb
from ui.formatting import cut, format_short_date
from ui.i18n import Translator
from ui.keyboards.lists import client_button, pager_row


def _button(
    text: str, action: CardAction, client_id: int, p: int = 0, v: int = 0
) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=ClientCb(a=action, c=client_id, p=p, v=v).pack()
    )


def card_version(card: ClientCard) -> int:
    """A short fingerprint of what the card shows (1..999999): it changes when the card does."""
    last = card.last_interaction
    shown = (
        card.name,
        card.phones,
        card.email,
        card.owner_id,
        card.is_vip,
        card.vip_reason,
        card.next_due,
        last.id if last else None,
        card.today,
    )
    return zlib.crc32(repr(shown).encode()) % 999_999 + 1


def card_keyboard(card: ClientCard, tr: Translator) -> InlineKeyboardMarkup:
    cid, v = card.client_id, card_version(card)
    rows = [
        [
            _button(tr("card.buttons.log_call"), CardAction.LOG_CALL, cid, v=v),
            _button(tr("card.buttons.history"), CardAction.HISTORY, cid, v=v),
        ],
        [_button(tr("card.buttons.next_contact"), CardAction.NEXT_CONTACT, cid, v=v)],
    ]
    if card.can_set_vip:
        if card.is_vip:
            rows[1].append(_button(tr("card.buttons.vip_off"), CardAction.VIP, cid, 0, v))
        else:
            rows[1].append(_button(tr("card.buttons.vip_on"), CardAction.VIP, cid, 1, v))
    rows += record_rows(card, tr)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def record_rows(card: ClientCard, tr: Translator) -> list[list[InlineKeyboardButton]]:
    """The card's buttons that change the record: contacts, a note, hand over."""
    cid, v = card.client_id, card_version(card)
    rows = [
        [
            _button(tr("card.buttons.contacts"), CardAction.CONTACTS, cid, v=v),
            _button(tr("card.buttons.note"), CardAction.NOTE, cid, v=v),
        ]
    ]
    if card.can_hand_over:
        rows.append([_button(tr("card.buttons.hand_over"), CardAction.HAND_OVER, cid, v=v)])
    return rows


def history_keyboard(page: HistoryPage, tr: Translator) -> InlineKeyboardMarkup:
    cid = page.client_id
    rows = voice_rows(page, tr)
    pager = pager_row(page.page, page.pages, lambda p: ClientCb(a=CardAction.HISTORY, c=cid, p=p))
    if pager:
        rows.append(pager)
    rows.append([_button(tr("card.buttons.back_to_card"), CardAction.BACK, cid)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def voice_rows(page: HistoryPage, tr: Translator) -> list[list[InlineKeyboardButton]]:
    """A ▶️ button per voice comment on the page: the bot sends the recording again."""
    buttons = [
        InlineKeyboardButton(
            text=tr("records.voice.button", date=format_short_date(entry.day, tr)),
            callback_data=VoiceCb(i=entry.interaction.id).pack(),
        )
        for entry in page.entries
        if entry.kind == HistoryKind.INTERACTION
        and entry.interaction is not None
        and entry.interaction.has_voice
    ]
    return [buttons[start : start + 3] for start in range(0, len(buttons), 3)]


def hit_label(hit: SearchHit, page: SearchPage) -> str:
    """A result's button: the name, then what tells it from look-alikes on the page."""
    label = hit.name
    if hit.company and hit.company != hit.name:
        label += f" ({cut(hit.company, 20)})"
    details = [cut(hit.city, 20)] if hit.city else []
    same = Counter((other.name, other.city) for other in page.hits)
    if same[(hit.name, hit.city)] > 1 and hit.tax_id:
        details.append(hit.tax_id)
    if page.show_owner and hit.owner_name:
        details.append(cut(hit.owner_name, 20))
    return " · ".join([label, *details])


def search_keyboard(
    page: SearchPage, key: str, tr: Translator, *, for_log: bool = False
) -> InlineKeyboardMarkup | None:
    """A button per client found (the card, or logging a call for /log), then the pager."""
    action = CardAction.LOG_CALL if for_log else CardAction.OPEN
    start = page.page * 10
    rows = []
    for number, hit in enumerate(page.hits, start=start + 1):
        label = hit_label(hit, page)
        rows.append([client_button(number, label, hit.client_id, vip=hit.is_vip, action=action)])
    pager = pager_row(page.page, page.pages, lambda p: SearchCb(k=key, p=p, log=for_log))
    if pager:
        rows.append(pager)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def add_offer_keyboard(key: str, tr: Translator) -> InlineKeyboardMarkup:
    """Under "nobody found": add the typed name as a company or as a person."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=tr("search.offer_company"),
                    callback_data=AddClientCb(a=AddAction.COMPANY, k=key).pack(),
                ),
                InlineKeyboardButton(
                    text=tr("search.offer_person"),
                    callback_data=AddClientCb(a=AddAction.PERSON, k=key).pack(),
                ),
            ]
        ]
    )
