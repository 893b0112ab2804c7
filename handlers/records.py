"""Clients as records from the chat: add one a search did not find, edit its contacts,
write a note, hand it to another manager, play a voice comment again.

Each conversation keeps what it knows in the FSM data ("draft", "edit", "note"); a
command or a main-menu button ends it (the command then runs). Every button re-checks
the rights in the services.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from handlers.clients import show_card
from services.access import Viewer
from services.client_records import (
    ClientKind,
    NewClient,
    add_note,
    check_tax_id_free,
    clean_city,
    clean_email,
    clean_name,
    clean_phones,
    clean_tax_id,
    create_client,
    draft_client,
    hand_over_client,
    hand_over_options,
    update_contacts,
    voice_file_id,
)
from services.clients import ClientCard, get_card
from services.errors import ClientAlreadyExists, StaleAction
from services.uow import UnitOfWork
from ui.callbacks import (
    AddAction,
    AddClientCb,
    CardAction,
    ClientCb,
    ContactCb,
    ContactField,
    HandCb,
    VoiceCb,
)
from ui.formatting import h
from ui.i18n import Translator
from ui.keyboards.clients import card_keyboard
from ui.keyboards.records import (
    contacts_keyboard,
    hand_over_keyboard,
    question_keyboard,
    save_keyboard,
    skip_keyboard,
)
from ui.replies import edit_or_send, show
from ui.texts.card import card_text
from ui.texts.records import (
    contact_question,
    contacts_text,
    draft_text,
    exists_text,
    hand_over_text,
    handed_over_text,
    note_question,
)

_DATA_KEYS = ("draft", "edit", "note")


class AddClientFlow(StatesGroup):
    phone = State()
    tax_id = State()
    city = State()
    confirm = State()


class ContactsFlow(StatesGroup):
    value = State()


class NoteFlow(StatesGroup):
    text = State()


FLOWS = (AddClientFlow, ContactsFlow, NoteFlow)


async def leave_flows(state: FSMContext) -> None:
    """End an open conversation of this module; other data (recent searches) stays."""
    current = await state.get_state()
    if current is None or not any(current in flow.__all_states_names__ for flow in FLOWS):
        return
    await state.set_state(None)
    data = await state.get_data()
    for key in _DATA_KEYS:
        data.pop(key, None)
    await state.set_data(data)


async def leave_for_a_command(message: Message, state: FSMContext) -> None:
    """A command in the middle of a question: the question ends, the command runs."""
    await leave_flows(state)
    raise SkipHandler()


# --- Adding a client ---------------------------------------------------------------------


async def _draft(state: FSMContext) -> dict[str, Any]:
    draft = (await state.get_data()).get("draft")
    if not isinstance(draft, dict) or not isinstance(draft.get("id"), str):
        raise StaleAction()
    return draft


def _draft_text(draft: dict[str, Any], tr: Translator, *question: str) -> str:
    return draft_text(
        draft["name"],
        ClientKind(draft["kind"]),
        tr,
        *question,
        phones=draft.get("phones") or (),
        tax_id=draft.get("tax_id"),
        city=draft.get("city"),
    )


_NEXT = {
    AddClientFlow.phone.state: (AddClientFlow.tax_id, "records.add.ask_tax_id"),
    AddClientFlow.tax_id.state: (AddClientFlow.city, "records.add.ask_city"),
    AddClientFlow.city.state: (AddClientFlow.confirm, "records.add.summary"),
}


async def _ask_next(state: FSMContext, draft: dict[str, Any], tr: Translator) -> tuple[str, Any]:
    """Move the draft to the question after the current one: its text and keyboard."""
    current = await state.get_state()
    if current not in _NEXT:
        raise StaleAction()
    step, question = _NEXT[current]
    await state.update_data(draft=draft)
    await state.set_state(step)
    if step == AddClientFlow.confirm:
        return _draft_text(draft, tr, tr(question)), save_keyboard(draft["id"], tr)
    return _draft_text(draft, tr, tr(question)), skip_keyboard(tr)


async def start_adding(
    callback: CallbackQuery,
    callback_data: AddClientCb,
    state: FSMContext,
    tr: Translator,
) -> None:
    """ "Add «Ромашка» as a new client?" — a company or a person; then the phone."""
    name = ((await state.get_data()).get("searches") or {}).get(callback_data.k)
    if not isinstance(name, str):
        raise StaleAction()
    kind = ClientKind.COMPANY if callback_data.a == AddAction.COMPANY else ClientKind.PERSON
    draft = {"id": uuid.uuid4().hex, "name": clean_name(name), "kind": kind.value}
    await state.update_data(draft=draft)
    await state.set_state(AddClientFlow.phone)
    text = _draft_text(draft, tr, tr("records.add.ask_phone"))
    await show(callback, text, skip_keyboard(tr))


async def skip_question(callback: CallbackQuery, state: FSMContext, tr: Translator) -> None:
    """ "Skip": the next question in place of this one."""
    draft = await _draft(state)
    text, markup = await _ask_next(state, draft, tr)
    await show(callback, text, markup)


async def phone_typed(message: Message, state: FSMContext, tr: Translator) -> None:
    draft = await _draft(state)
    draft["phones"] = list(clean_phones(message.text or ""))
    text, markup = await _ask_next(state, draft, tr)
    await message.answer(text, reply_markup=markup)


async def tax_id_typed(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    draft = await _draft(state)
    tax_id = clean_tax_id(message.text or "")
    try:
        await check_tax_id_free(uow, viewer, tax_id)
    except ClientAlreadyExists as exists:
        await _already_there(message, state, uow, viewer, now, tr, exists)
        return
    draft["tax_id"] = tax_id
    text, markup = await _ask_next(state, draft, tr)
    await message.answer(text, reply_markup=markup)


async def _already_there(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
    exists: ClientAlreadyExists,
) -> None:
    """The ИНН is a known client's: no second one; its card when the viewer may see it."""
    await leave_flows(state)
    await message.answer(exists_text(exists.tax_id, exists.owner_name, exists.visible, tr))
    if exists.visible:
        await show_card(message, await get_card(uow, viewer, exists.client_id, now), viewer, tr)


async def city_typed(message: Message, state: FSMContext, tr: Translator) -> None:
    draft = await _draft(state)
    draft["city"] = clean_city(message.text or "")
    text, markup = await _ask_next(state, draft, tr)
    await message.answer(text, reply_markup=markup)


async def rename_draft(message: Message, state: FSMContext, tr: Translator) -> None:
    """Text at the last step is a better name for the new client."""
    draft = await _draft(state)
    draft["name"] = clean_name(message.text or "")
    await state.update_data(draft=draft)
    text = _draft_text(draft, tr, tr("records.add.summary"))
    await message.answer(text, reply_markup=save_keyboard(draft["id"], tr))


async def save_client(
    callback: CallbackQuery,
    callback_data: AddClientCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """Save the draft; a second tap (or a replayed update) opens what the first one saved."""
    draft = (await state.get_data()).get("draft")
    if isinstance(draft, dict) and draft.get("id") == callback_data.k:
        new = NewClient(
            kind=ClientKind(draft["kind"]),
            name=draft["name"],
            phones=tuple(draft.get("phones") or ()),
            tax_id=draft.get("tax_id"),
            city=draft.get("city"),
        )
        try:
            saved = await create_client(uow, viewer, callback_data.k, new, now=now)
        except ClientAlreadyExists as exists:
            await callback.answer()
            if isinstance(callback.message, Message):
                await _already_there(callback.message, state, uow, viewer, now, tr, exists)
            return
        client_id, created = saved.client_id, saved.created
    else:
        found = await draft_client(uow, viewer, callback_data.k)
        if found is None:
            raise StaleAction()
        client_id, created = found, False
    await leave_flows(state)
    card = await get_card(uow, viewer, client_id, now)
    key = "records.add.saved" if created else "records.add.saved_before"
    await show(callback, tr(key, name=h(card.name, 100)))
    if isinstance(callback.message, Message):
        await show_card(callback.message, card, viewer, tr)


async def stale_button(callback: CallbackQuery) -> None:
    """ "Skip" of a conversation that has ended."""
    raise StaleAction()


# --- Contacts ------------------------------------------------------------------------------


async def contacts_menu(
    callback: CallbackQuery,
    callback_data: ClientCb,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """ "✏️ Контакты" on the card: which field to change."""
    card = await get_card(uow, viewer, callback_data.c, now)
    await show(callback, contacts_text(card, tr), contacts_keyboard(card, tr))


async def contact_field(
    callback: CallbackQuery,
    callback_data: ContactCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """Ask for the new value, or clear the email or the city at once."""
    if callback_data.x and callback_data.f != ContactField.PHONES:
        card = await update_contacts(
            uow,
            viewer,
            callback_data.c,
            now=now,
            clear_email=callback_data.f == ContactField.EMAIL,
            clear_city=callback_data.f == ContactField.CITY,
        )
        await callback.answer(tr("records.contacts.saved"))
        await edit_or_send(callback, *_card_parts(card, viewer, tr))
        return
    card = await get_card(uow, viewer, callback_data.c, now)
    await leave_flows(state)
    await state.update_data(edit={"c": card.client_id, "f": callback_data.f.value})
    await state.set_state(ContactsFlow.value)
    await show(callback, contact_question(card, callback_data.f.value, tr), question_keyboard(tr))


def _card_parts(
    card: ClientCard, viewer: Viewer, tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    return card_text(card, tr, viewer.zone), card_keyboard(card, tr)


async def contact_typed(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """The new phones, email or city."""
    edit = (await state.get_data()).get("edit")
    if not isinstance(edit, dict) or not isinstance(edit.get("c"), int):
        raise StaleAction()
    text = message.text or ""
    field = ContactField(edit.get("f", ContactField.PHONES))
    if field == ContactField.PHONES:
        card = await update_contacts(uow, viewer, edit["c"], now=now, phones=clean_phones(text))
    elif field == ContactField.EMAIL:
        card = await update_contacts(uow, viewer, edit["c"], now=now, email=clean_email(text))
    else:
        card = await update_contacts(uow, viewer, edit["c"], now=now, city=clean_city(text))
    await leave_flows(state)
    await message.answer(tr("records.contacts.saved"))
    await show_card(message, card, viewer, tr)


# --- Notes ---------------------------------------------------------------------------------


async def ask_note(
    callback: CallbackQuery,
    callback_data: ClientCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """ "📝 Заметка" on the card: the next message is the note."""
    card = await get_card(uow, viewer, callback_data.c, now)
    await leave_flows(state)
    await state.update_data(note={"c": card.client_id})
    await state.set_state(NoteFlow.text)
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(
            note_question(card.name, tr), reply_markup=question_keyboard(tr)
        )


async def note_typed(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    note = (await state.get_data()).get("note")
    if not isinstance(note, dict) or not isinstance(note.get("c"), int):
        raise StaleAction()
    source = f"{message.chat.id}:{message.message_id}"
    saved = await add_note(uow, viewer, note["c"], message.text or "", source_key=source, now=now)
    await leave_flows(state)
    key = "records.note.saved" if saved.created else "records.note.saved_before"
    await message.answer(tr(key, name=h(saved.client_name, 100)))


# --- Handing over, voice -----------------------------------------------------------------


async def choose_new_owner(
    callback: CallbackQuery,
    callback_data: ClientCb,
    uow: UnitOfWork,
    viewer: Viewer,
    tr: Translator,
) -> None:
    """ "↪️ Передать" on the card (heads and admins): one button per active manager."""
    options = await hand_over_options(uow, viewer, callback_data.c)
    await show(callback, hand_over_text(options, tr), hand_over_keyboard(options, tr))


async def hand_over(
    callback: CallbackQuery,
    callback_data: HandCb,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    card = await hand_over_client(uow, viewer, callback_data.c, callback_data.t, now=now)
    await show(callback, *_card_parts(card, viewer, tr))
    if isinstance(callback.message, Message):
        await callback.message.answer(handed_over_text(card, tr))


async def play_voice(
    callback: CallbackQuery,
    callback_data: VoiceCb,
    bot: Bot,
    uow: UnitOfWork,
    viewer: Viewer,
) -> None:
    """▶️ under the history: the recording again, by its file id."""
    file_id = await voice_file_id(uow, viewer, callback_data.i)
    await callback.answer()
    if callback.message is not None:
        await bot.send_voice(callback.message.chat.id, file_id)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(leave_for_a_command, StateFilter(*FLOWS), F.text.startswith("/"))
    router.callback_query.register(
        start_adding, AddClientCb.filter(F.a.in_({AddAction.COMPANY, AddAction.PERSON}))
    )
    router.callback_query.register(
        skip_question,
        StateFilter(AddClientFlow.phone, AddClientFlow.tax_id, AddClientFlow.city),
        AddClientCb.filter(F.a == AddAction.SKIP),
    )
    router.callback_query.register(stale_button, AddClientCb.filter(F.a == AddAction.SKIP))
    router.callback_query.register(save_client, AddClientCb.filter(F.a == AddAction.SAVE))
    typed = (F.text, ~F.text.startswith("/"))
    router.message.register(phone_typed, AddClientFlow.phone, *typed)
    router.message.register(tax_id_typed, AddClientFlow.tax_id, *typed)
    router.message.register(city_typed, AddClientFlow.city, *typed)
    router.message.register(rename_draft, AddClientFlow.confirm, *typed)
    router.callback_query.register(contacts_menu, ClientCb.filter(F.a == CardAction.CONTACTS))
    router.callback_query.register(contact_field, ContactCb.filter())
    router.message.register(contact_typed, ContactsFlow.value, *typed)
    router.callback_query.register(ask_note, ClientCb.filter(F.a == CardAction.NOTE))
    router.message.register(note_typed, NoteFlow.text, *typed)
    router.callback_query.register(choose_new_owner, ClientCb.filter(F.a == CardAction.HAND_OVER))
    router.callback_query.register(hand_over, HandCb.filter())
    router.callback_query.register(play_voice, VoiceCb.filter())
    return router
