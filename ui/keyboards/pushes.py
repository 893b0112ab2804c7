"""Keyboards of the scheduled messages: pure functions of the push DTOs and a translator."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.lists import ClientListItem, ListKind
from services.pushes import MorningPush, Reminder
from ui.callbacks import CardAction, ClientCb, ListCb
from ui.formatting import VIP_MARK, cut
from ui.i18n import Translator

BUTTON_NAME_LIMIT = 28  # keeps two buttons per row readable on a phone


def _card_data(client_id: int) -> str:
    return ClientCb(a=CardAction.OPEN, c=client_id).pack()


def _today_data() -> str:
    return ListCb(k=ListKind.TODAY.value, p=0).pack()


def _card_button(item: ClientListItem) -> InlineKeyboardButton:
    name = cut(item.name, BUTTON_NAME_LIMIT)
    label = f"{VIP_MARK} {name}" if item.is_vip else name
    return InlineKeyboardButton(text=label, callback_data=_card_data(item.client_id))


def morning_push_keyboard(push: MorningPush, tr: Translator) -> InlineKeyboardMarkup | None:
    """ "Today's list" on top, then a card button for each client the push names first."""
    if push.is_empty:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    if push.due_count:
        rows.append(
            [InlineKeyboardButton(text=tr("push.button.today"), callback_data=_today_data())]
        )
    cards = [_card_button(item) for item in push.featured]
    rows.extend(cards[i : i + 2] for i in range(0, len(cards), 2))
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def reminder_keyboard(reminder: Reminder, tr: Translator) -> InlineKeyboardMarkup:
    """ "Log call" right away, and the card."""
    log_call = ClientCb(a=CardAction.LOG_CALL, c=reminder.client_id).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=tr("push.reminder.log_call"), callback_data=log_call)],
            [
                InlineKeyboardButton(
                    text=tr("push.reminder.button"), callback_data=_card_data(reminder.client_id)
                )
            ],
        ]
    )
