"""Keyboards of adding a client, editing contacts and handing a client over."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.client_records import HandOver
from services.clients import ClientCard
from ui.callbacks import (
    AddAction,
    AddClientCb,
    CancelCb,
    CardAction,
    ClientCb,
    ContactCb,
    ContactField,
    HandCb,
)
from ui.formatting import cut
from ui.i18n import Translator

NAME_LENGTH = 40


def _cancel(tr: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=tr("menu.cancel_button"), callback_data=CancelCb().pack())


def skip_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    """Under a question that may be left unanswered."""
    skip = InlineKeyboardButton(
        text=tr("records.skip"), callback_data=AddClientCb(a=AddAction.SKIP).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[skip, _cancel(tr)]])


def save_keyboard(draft_id: str, tr: Translator) -> InlineKeyboardMarkup:
    save = InlineKeyboardButton(
        text=tr("records.add.save"),
        callback_data=AddClientCb(a=AddAction.SAVE, k=draft_id).pack(),
    )
    return InlineKeyboardMarkup(inline_keyboard=[[save, _cancel(tr)]])


def contacts_keyboard(card: ClientCard, tr: Translator) -> InlineKeyboardMarkup:
    cid = card.client_id

    def button(text: str, field: ContactField, clear: bool = False) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=text, callback_data=ContactCb(c=cid, f=field, x=clear).pack()
        )

    rows = [
        [
            button(tr("records.contacts.phones"), ContactField.PHONES),
            button(tr("records.contacts.email"), ContactField.EMAIL),
            button(tr("records.contacts.city"), ContactField.CITY),
        ]
    ]
    clear = []
    if card.email:
        clear.append(button(tr("records.contacts.clear_email"), ContactField.EMAIL, True))
    if card.city:
        clear.append(button(tr("records.contacts.clear_city"), ContactField.CITY, True))
    if clear:
        rows.append(clear)
    back = ClientCb(a=CardAction.BACK, c=cid).pack()
    rows.append([InlineKeyboardButton(text=tr("card.buttons.back_to_card"), callback_data=back)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def question_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_cancel(tr)]])


def hand_over_keyboard(options: HandOver, tr: Translator) -> InlineKeyboardMarkup:
    cid = options.client_id
    rows = [
        [
            InlineKeyboardButton(
                text=cut(target.display_name, NAME_LENGTH),
                callback_data=HandCb(c=cid, t=target.id).pack(),
            )
        ]
        for target in options.targets
    ]
    back = ClientCb(a=CardAction.BACK, c=cid).pack()
    rows.append([InlineKeyboardButton(text=tr("card.buttons.back_to_card"), callback_data=back)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
