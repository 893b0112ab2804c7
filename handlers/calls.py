"""Logging a call from the field: outcome -> next contact (-> time) -> comment -> saved.

Also the card's "Next contact" (the same date choice, without a call) and undo.
Everything the conversation knows lives in FSM data under "call" (client id,
mode, outcome, next contact, time), so a restart of the bot
in the middle changes nothing. Every button re-checks access to the client.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from handlers.clients import show_card
from handlers.search import search_command
from services.access import Viewer
from services.calls import (
    CallTarget,
    NextContactChoice,
    NextContactMode,
    NextContactPreview,
    call_target,
    log_call,
    parse_time_of_day,
    preview_next_contact,
    reschedule,
    undo_call,
)
from services.clients import ClientCard
from services.db.models import Outcome
from services.errors import StaleAction
from services.search import SearchIndexStore
from services.uow import UnitOfWork
from ui.callbacks import CalendarCb, CallAction, CallCb, CardAction, ClientCb, UndoCb
from ui.formatting import h
from ui.i18n import Translator
from ui.keyboards.calls import (
    calendar_keyboard,
    comment_keyboard,
    next_contact_keyboard,
    outcome_keyboard,
    time_keyboard,
    undo_keyboard,
)
from ui.replies import edit_or_send
from ui.texts.calls import call_prompt, saved_text, when_text

LOG = "log"
RESCHEDULE = "next"


class CallFlow(StatesGroup):
    outcome = State()
    next_contact = State()
    time = State()
    comment = State()


# --- Conversation data ---------------------------------------------------------------------


async def _flow(state: FSMContext, client_id: int) -> dict[str, Any]:
    """The conversation this button belongs to; a button of an older one is refused."""
    call = (await state.get_data()).get("call")
    if not isinstance(call, dict) or call.get("c") != client_id:
        raise StaleAction()
    return call


async def _current_flow(state: FSMContext) -> dict[str, Any]:
    """The conversation a typed answer belongs to."""
    call = (await state.get_data()).get("call")
    if not isinstance(call, dict) or not isinstance(call.get("c"), int):
        raise StaleAction()
    return call


async def _step(state: FSMContext, call: dict[str, Any], step: State) -> None:
    await state.update_data(call=call)
    await state.set_state(step)


async def _finish(state: FSMContext) -> None:
    """Leave the conversation but keep other data (recent searches)."""
    await state.set_state(None)
    data = await state.get_data()
    data.pop("call", None)
    await state.set_data(data)


def _choice(call: dict[str, Any]) -> NextContactChoice:
    next_contact = call.get("n") or {}
    on = next_contact.get("on")
    at = call.get("t")
    return NextContactChoice(
        mode=NextContactMode(next_contact.get("m", NextContactMode.TOMORROW)),
        on=date.fromisoformat(on) if on else None,
        at=time.fromisoformat(at) if at else None,
    )


def _prompt(name: str, call: dict[str, Any], tr: Translator, *question: str) -> str:
    """The conversation's header (client, outcome so far) above the next question."""
    outcome = call.get("o")
    return call_prompt(name, outcome, tr, *question, rescheduling=call.get("mode") == RESCHEDULE)


def _when(preview: NextContactPreview, viewer: Viewer, tr: Translator) -> str:
    return when_text(preview.on, preview.at, viewer.zone, tr)


async def _start(
    target: Message,
    state: FSMContext,
    client_id: int,
    name: str,
    mode: str,
    tr: Translator,
    markup: InlineKeyboardMarkup,
) -> None:
    """Open the conversation with its first question; an unfinished one is replaced.

    The state is written before the question is sent: a quick tap on an answer must
    find it (updates of one chat may be handled concurrently).
    """
    call: dict[str, Any] = {"c": client_id, "mode": mode}
    await _step(state, call, CallFlow.outcome if mode == LOG else CallFlow.next_contact)
    question = tr("calls.ask_outcome" if mode == LOG else "calls.ask_next")
    await target.answer(_prompt(name, call, tr, question), reply_markup=markup)


async def _ask_comment(
    state: FSMContext,
    call: dict[str, Any],
    preview: NextContactPreview,
    viewer: Viewer,
    tr: Translator,
) -> tuple[str, InlineKeyboardMarkup]:
    """Move on to the comment; the question and its keyboard, to send or edit in."""
    await _step(state, call, CallFlow.comment)
    text = _prompt(
        preview.target.name,
        call,
        tr,
        tr("calls.next_chosen", date=_when(preview, viewer, tr)),
        tr("calls.ask_comment"),
    )
    return text, comment_keyboard(preview.target.client_id, tr)


async def _choose_time(
    state: FSMContext,
    call: dict[str, Any],
    at: time | None,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> tuple[str, InlineKeyboardMarkup]:
    """Keep the time to call back at (a button or typed) and ask for the comment."""
    choice = NextContactChoice(_choice(call).mode, _choice(call).on, at)
    preview = await preview_next_contact(uow, viewer, int(call["c"]), choice, now)
    call["t"] = at.strftime("%H:%M") if at else None
    return await _ask_comment(state, call, preview, viewer, tr)


async def _say_then_show_card(
    callback: CallbackQuery, text: str, card: ClientCard, viewer: Viewer, tr: Translator
) -> None:
    """Put `text` in place of the pressed message, then send the refreshed card below."""
    await edit_or_send(callback, text, None)
    if isinstance(callback.message, Message):
        await show_card(callback.message, card, viewer, tr)


async def _show_calendar(
    callback: CallbackQuery, target: CallTarget, year: int, month: int, tr: Translator
) -> None:
    """Turn the pressed message's keyboard into the calendar of one month."""
    await callback.answer()
    markup = calendar_keyboard(target.client_id, year, month, target.today, tr)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=markup)


async def _after_next_contact(
    callback: CallbackQuery,
    state: FSMContext,
    call: dict[str, Any],
    preview: NextContactPreview,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """The date is chosen: reschedule now, or ask for the time / the comment."""
    if call.get("mode") == RESCHEDULE:
        card = await reschedule(uow, viewer, preview.target.client_id, _choice(call), now=now)
        await _finish(state)
        await callback.answer()
        text = tr("calls.rescheduled", date=_when(preview, viewer, tr))
        await _say_then_show_card(callback, text, card, viewer, tr)
        return
    await callback.answer()
    if call.get("o") == Outcome.CALL_BACK and not call.get("t"):
        await _step(state, call, CallFlow.time)
        question = tr("calls.ask_time", date=_when(preview, viewer, tr))
        text = _prompt(preview.target.name, call, tr, question)
        await edit_or_send(callback, text, time_keyboard(preview.target.client_id, tr))
        return
    await edit_or_send(callback, *await _ask_comment(state, call, preview, viewer, tr))


async def _save(
    target: Message,
    state: FSMContext,
    call: dict[str, Any],
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
    *,
    comment: str | None = None,
    voice_file_id: str | None = None,
    edit: bool = False,
) -> None:
    """Commit the call, then say so (with undo), then show the refreshed card."""
    logged = await log_call(
        uow,
        viewer,
        int(call["c"]),
        outcome=Outcome(call["o"]),
        next_contact=_choice(call),
        comment=comment,
        voice_file_id=voice_file_id,
        now=now,
    )
    await _finish(state)
    text = saved_text(logged, tr, viewer.zone)
    markup = undo_keyboard(logged.interaction_id, logged.previous_due, tr)
    if edit:
        await target.edit_text(text, reply_markup=markup)
    else:
        await target.answer(text, reply_markup=markup)
    await show_card(target, logged.card, viewer, tr)


# --- Router ---------------------------------------------------------------------------------


async def log_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    uow: UnitOfWork,
    search_index: SearchIndexStore,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """/log <query>: find the client, then log a call for them."""
    card = await search_command(
        message, command, state, uow, search_index, viewer, now, tr, for_log=True
    )
    if card is not None:
        markup = outcome_keyboard(card.client_id, tr)
        await _start(message, state, card.client_id, card.name, LOG, tr, markup)


async def start_from_card(
    callback: CallbackQuery,
    callback_data: ClientCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """ "Log call" or "Next contact" on a card (or a row of /log results)."""
    target = await call_target(uow, viewer, callback_data.c, now)
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    if callback_data.a == CardAction.LOG_CALL:
        mode, markup = LOG, outcome_keyboard(target.client_id, tr)
    else:
        mode, markup = RESCHEDULE, next_contact_keyboard(target, tr, same_day=True)
    await _start(callback.message, state, target.client_id, target.name, mode, tr, markup)


async def outcome(
    callback: CallbackQuery,
    callback_data: CallCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """How the call went -> when to contact next."""
    target = await call_target(uow, viewer, callback_data.c, now)
    call = await _flow(state, target.client_id)
    if callback_data.v not in set(Outcome):
        raise StaleAction()
    call["o"] = callback_data.v
    await _step(state, call, CallFlow.next_contact)
    await callback.answer()
    text = _prompt(target.name, call, tr, tr("calls.ask_next"))
    same_day = callback_data.v == Outcome.CALL_BACK
    await edit_or_send(callback, text, next_contact_keyboard(target, tr, same_day=same_day))


async def next_preset(
    callback: CallbackQuery,
    callback_data: CallCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """Tomorrow, in 3 days, in a week, today, or by the segment's schedule."""
    if callback_data.v not in set(NextContactMode) or callback_data.v == NextContactMode.DATE:
        raise StaleAction()
    choice = NextContactChoice(NextContactMode(callback_data.v))
    preview = await preview_next_contact(uow, viewer, callback_data.c, choice, now)
    call = await _flow(state, callback_data.c)
    call["n"] = {"m": choice.mode.value}
    await _after_next_contact(callback, state, call, preview, uow, viewer, now, tr)


async def open_calendar(
    callback: CallbackQuery,
    callback_data: CallCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """Pick a date: this month's calendar."""
    target = await call_target(uow, viewer, callback_data.c, now)
    await _flow(state, target.client_id)
    await _show_calendar(callback, target, target.today.year, target.today.month, tr)


async def calendar_month(
    callback: CallbackQuery,
    callback_data: CalendarCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """◀ ▶ in the calendar."""
    target = await call_target(uow, viewer, callback_data.c, now)
    await _flow(state, target.client_id)
    if not 1 <= callback_data.m <= 12:
        raise StaleAction()
    await _show_calendar(callback, target, callback_data.y, callback_data.m, tr)


async def calendar_day(
    callback: CallbackQuery,
    callback_data: CalendarCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A day in the calendar."""
    try:
        day = date(callback_data.y, callback_data.m, callback_data.d)
    except ValueError:
        raise StaleAction() from None
    choice = NextContactChoice(NextContactMode.DATE, on=day)
    preview = await preview_next_contact(uow, viewer, callback_data.c, choice, now)
    call = await _flow(state, callback_data.c)
    call["n"] = {"m": NextContactMode.DATE.value, "on": day.isoformat()}
    await _after_next_contact(callback, state, call, preview, uow, viewer, now, tr)


async def time_button(
    callback: CallbackQuery,
    callback_data: CallCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """An hour to call back at (or none)."""
    call = await _flow(state, callback_data.c)
    at = parse_time_of_day(callback_data.v) if callback_data.a == CallAction.TIME else None
    question = await _choose_time(state, call, at, uow, viewer, now, tr)
    await callback.answer()
    await edit_or_send(callback, *question)


async def time_typed(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A time typed as HH:MM."""
    call = await _current_flow(state)
    at = parse_time_of_day(message.text or "")
    text, markup = await _choose_time(state, call, at, uow, viewer, now, tr)
    await message.answer(text, reply_markup=markup)


async def no_comment(
    callback: CallbackQuery,
    callback_data: CallCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """Save without a comment."""
    call = await _flow(state, callback_data.c)
    await callback.answer()
    if isinstance(callback.message, Message):
        await _save(callback.message, state, call, uow, viewer, now, tr, edit=True)


async def voice_comment(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A voice message as the comment (its file id is kept)."""
    call = await _current_flow(state)
    voice = message.voice.file_id if message.voice else None
    await _save(
        message,
        state,
        call,
        uow,
        viewer,
        now,
        tr,
        comment=message.caption,
        voice_file_id=voice,
    )


async def text_comment(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A typed comment."""
    call = await _current_flow(state)
    await _save(message, state, call, uow, viewer, now, tr, comment=message.text)


async def use_the_buttons(message: Message, tr: Translator) -> None:
    """Anything else in the middle of logging a call."""
    await message.answer(tr("calls.use_buttons"))


async def stale_button(
    callback: CallbackQuery,
    callback_data: CallCb | CalendarCb,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
) -> None:
    """A button of a finished or cancelled conversation (or a forged one)."""
    await call_target(uow, viewer, callback_data.c, now)  # someone else's client: refused
    raise StaleAction()


async def undo(
    callback: CallbackQuery,
    callback_data: UndoCb,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """Undo a call logged less than ten minutes ago."""
    previous = date.fromordinal(callback_data.d) if callback_data.d > 0 else None
    card = await undo_call(uow, viewer, callback_data.i, previous_due=previous, now=now)
    await callback.answer(tr("calls.undone_short"))
    await _say_then_show_card(
        callback, tr("calls.undone", name=h(card.name, 100)), card, viewer, tr
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(log_command, Command("log"))
    router.callback_query.register(
        start_from_card, ClientCb.filter(F.a.in_({CardAction.LOG_CALL, CardAction.NEXT_CONTACT}))
    )
    router.callback_query.register(
        outcome, CallFlow.outcome, CallCb.filter(F.a == CallAction.OUTCOME)
    )
    router.callback_query.register(
        next_preset, CallFlow.next_contact, CallCb.filter(F.a == CallAction.NEXT)
    )
    router.callback_query.register(
        open_calendar, CallFlow.next_contact, CallCb.filter(F.a == CallAction.CALENDAR)
    )
    router.callback_query.register(
        calendar_month, CallFlow.next_contact, CalendarCb.filter(F.d == 0)
    )
    router.callback_query.register(calendar_day, CallFlow.next_contact, CalendarCb.filter(F.d > 0))
    router.callback_query.register(
        time_button, CallFlow.time, CallCb.filter(F.a.in_({CallAction.TIME, CallAction.NO_TIME}))
    )
    router.message.register(time_typed, CallFlow.time, F.text, ~F.text.startswith("/"))
    router.callback_query.register(
        no_comment, CallFlow.comment, CallCb.filter(F.a == CallAction.NO_COMMENT)
    )
    router.message.register(voice_comment, CallFlow.comment, F.voice)
    router.message.register(text_comment, CallFlow.comment, F.text, ~F.text.startswith("/"))
    router.message.register(use_the_buttons, CallFlow.time, ~F.text.startswith("/"))
    router.message.register(use_the_buttons, CallFlow.comment, ~F.text.startswith("/"))
    router.message.register(use_the_buttons, CallFlow.next_contact, ~F.text.startswith("/"))
    router.message.register(use_the_buttons, CallFlow.outcome, ~F.text.startswith("/"))
    router.callback_query.register(stale_button, CalendarCb.filter())
    router.callback_query.register(stale_button, CallCb.filter())
    router.callback_query.register(undo, UndoCb.filter())
    return router
