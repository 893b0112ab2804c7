"""Logging a call from the field: outcome -> next contact (-> time) -> comment -> saved.

Also the card's "Next contact" (the same date choice, without a call) and undo.
Everything the conversation knows is a typed draft (handlers.call_draft) in FSM data,
so a restart of the bot in the middle changes nothing; saving is idempotent on the
draft's id. Every button re-checks access to the client.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from aiogram import BaseMiddleware, Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject

from handlers.call_draft import (
    LOG,
    RESCHEDULE,
    CallDraft,
    current_draft,
    draft_for,
    finish_draft,
    forget_second_comment,
    just_saved_by_comment,
    keep_draft,
    open_draft,
    pause_draft,
    saved_draft_id,
    take_paused,
)
from handlers.clients import show_card
from handlers.search import search_command
from services.access import Viewer
from services.calls import (
    CallTarget,
    LoggedCall,
    NextContactChoice,
    NextContactMode,
    NextContactPreview,
    call_back_hours,
    call_target,
    log_call,
    parse_amount,
    parse_call_back_time,
    parse_time_of_day,
    preview_next_contact,
    reschedule,
    saved_call,
    undo_call,
)
from services.clients import ClientCard
from services.db.models import Outcome
from services.errors import StaleAction
from services.search import SearchIndexStore
from services.uow import UnitOfWork
from ui.callbacks import (
    CalendarCb,
    CallAction,
    CallCb,
    CancelCb,
    CardAction,
    ClientCb,
    DraftAction,
    DraftCb,
    NoopCb,
    UndoCb,
)
from ui.formatting import h
from ui.i18n import Translator
from ui.keyboards.calls import (
    CALL_BACK_HOURS,
    REFUSAL_REASONS,
    calendar_keyboard,
    comment_keyboard,
    next_contact_keyboard,
    outcome_keyboard,
    paused_keyboard,
    reason_keyboard,
    skip_keyboard,
    time_keyboard,
    undo_keyboard,
)
from ui.keyboards.menu import reply_action
from ui.replies import edit_or_send
from ui.texts.calls import call_prompt, day_off_line, saved_text, when_text


class CallFlow(StatesGroup):
    outcome = State()
    amount = State()
    reason = State()
    next_contact = State()
    time = State()
    place = State()
    comment = State()


_TYPED_STEPS = {
    state.state for state in (CallFlow.amount, CallFlow.reason, CallFlow.time, CallFlow.place)
}


_STEPS = {step.state for step in CallFlow.__all_states__}


def _prompt(draft: CallDraft, tr: Translator, *question: str) -> str:
    """The conversation's header (client, outcome so far) above the next question."""
    return call_prompt(draft.name, draft.outcome, tr, *question, rescheduling=draft.rescheduling)


def _when(preview: NextContactPreview, viewer: Viewer, tr: Translator) -> str:
    return when_text(preview.on, preview.at, viewer.zone, tr)


async def _ask(
    target: Message, state: FSMContext, draft: CallDraft, step: State, text: str, markup: Any
) -> None:
    """Send a step's question as a new message and remember it (edited when the step is done)."""
    draft = await keep_draft(state, draft, step.state)
    sent = await target.answer(text, reply_markup=markup)
    await keep_draft(state, draft.with_(message_id=sent.message_id), step.state)


async def _edit_step(
    callback: CallbackQuery,
    state: FSMContext,
    draft: CallDraft,
    step: State,
    text: str,
    markup: InlineKeyboardMarkup,
) -> None:
    """The next question in place of the pressed message."""
    message_id = callback.message.message_id if callback.message else draft.message_id
    await keep_draft(state, draft.with_(message_id=message_id), step.state)
    await edit_or_send(callback, text, markup)


async def _close_step(bot: Bot | None, chat_id: int, draft: CallDraft) -> None:
    """The open step's message loses its buttons (it is answered or put aside)."""
    if bot is None or draft.message_id is None:
        return
    with contextlib.suppress(TelegramBadRequest):
        await bot.edit_message_reply_markup(
            chat_id=chat_id, message_id=draft.message_id, reply_markup=None
        )


async def _start(
    target: Message,
    state: FSMContext,
    client_id: int,
    name: str,
    mode: str,
    tr: Translator,
    markup: InlineKeyboardMarkup,
) -> None:
    """Open the conversation with its first question; an unfinished one is replaced."""
    draft = CallDraft(client_id=client_id, name=name, mode=mode)
    step = CallFlow.outcome if mode == LOG else CallFlow.next_contact
    question = tr("calls.ask_outcome" if mode == LOG else "calls.ask_next")
    await _ask(target, state, draft, step, _prompt(draft, tr, question), markup)


def _day_note(preview: NextContactPreview, tr: Translator) -> list[str]:
    return day_off_line(preview.on, preview.working_day, tr)


def _comment_question(
    draft: CallDraft, preview: NextContactPreview, viewer: Viewer, tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    text = _prompt(
        draft,
        tr,
        tr("calls.next_chosen", date=_when(preview, viewer, tr)),
        *_day_note(preview, tr),
        tr(
            "calls.voice_kept" if draft.voice_file_id else "calls.ask_comment_for",
            name=h(draft.name, 100),
        ),
    )
    return text, comment_keyboard(draft.client_id, tr, has_voice=draft.voice_file_id is not None)


def _time_question(
    draft: CallDraft, preview: NextContactPreview, viewer: Viewer, now: datetime, tr: Translator
) -> tuple[str, InlineKeyboardMarkup]:
    key = "calls.ask_meeting_time" if draft.outcome == Outcome.MEETING_SET else "calls.ask_time"
    question = tr(key, date=_when(preview, viewer, tr))
    hours = call_back_hours(preview.on, now, viewer, CALL_BACK_HOURS)
    text = _prompt(draft, tr, *_day_note(preview, tr), question)
    return text, time_keyboard(draft.client_id, tr, hours)


async def _next_question(
    draft: CallDraft, uow: UnitOfWork, viewer: Viewer, now: datetime, tr: Translator
) -> tuple[State, str, InlineKeyboardMarkup]:
    """The step that comes next for what the draft holds, with its question and keyboard.

    outcome -> (amount | reason) -> next contact -> (time) -> (place) -> comment.
    """
    cid = draft.client_id
    if draft.outcome is None and not draft.rescheduling:
        markup = outcome_keyboard(cid, tr)
        return CallFlow.outcome, _prompt(draft, tr, tr("calls.ask_outcome")), markup
    if draft.outcome == Outcome.ORDER and not draft.details_done:
        markup = skip_keyboard(cid, CallAction.NO_AMOUNT, tr)
        return CallFlow.amount, _prompt(draft, tr, tr("calls.ask_amount")), markup
    if draft.outcome == Outcome.REFUSED and not draft.details_done:
        return CallFlow.reason, _prompt(draft, tr, tr("calls.ask_reason")), reason_keyboard(cid, tr)
    if draft.next_mode is None:
        target = await call_target(uow, viewer, cid, now)
        meeting = draft.outcome == Outcome.MEETING_SET
        same_day = draft.rescheduling or meeting or draft.outcome == Outcome.CALL_BACK
        refusal = draft.outcome == Outcome.REFUSED
        markup = next_contact_keyboard(target, tr, same_day=same_day, refusal=refusal)
        question = tr("calls.ask_meeting_date" if meeting else "calls.ask_next")
        return CallFlow.next_contact, _prompt(draft, tr, question), markup
    preview = await preview_next_contact(uow, viewer, cid, draft.choice(), now)
    timed = draft.outcome in (Outcome.CALL_BACK, Outcome.MEETING_SET)
    if timed and not draft.time_done:
        return CallFlow.time, *_time_question(draft, preview, viewer, now, tr)
    if draft.outcome == Outcome.MEETING_SET and not draft.place_done:
        text = _prompt(
            draft,
            tr,
            tr("calls.saved_meeting", when=_when(preview, viewer, tr)),
            tr("calls.ask_place"),
        )
        return CallFlow.place, text, skip_keyboard(cid, CallAction.NO_PLACE, tr)
    return CallFlow.comment, *_comment_question(draft, preview, viewer, tr)


async def _go_on_by_button(
    callback: CallbackQuery,
    state: FSMContext,
    draft: CallDraft,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A step answered by a button: the next question in place of the pressed message."""
    step, text, markup = await _next_question(draft, uow, viewer, now, tr)
    await callback.answer()
    await _edit_step(callback, state, draft, step, text, markup)


async def _go_on_by_message(
    message: Message,
    state: FSMContext,
    draft: CallDraft,
    answered: CallDraft,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A step answered by typing: its question loses its buttons, the next one is sent."""
    step, text, markup = await _next_question(answered, uow, viewer, now, tr)
    await _close_step(message.bot, message.chat.id, draft)
    await _ask(message, state, answered, step, text, markup)


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
    draft: CallDraft,
    preview: NextContactPreview,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """The date is chosen: reschedule now, or go on to the time / place / comment."""
    if draft.rescheduling:
        card = await reschedule(uow, viewer, preview.target.client_id, draft.choice(), now=now)
        await finish_draft(state)
        await callback.answer()
        text = tr("calls.rescheduled", date=_when(preview, viewer, tr))
        await _say_then_show_card(callback, text, card, viewer, tr)
        return
    await _go_on_by_button(callback, state, draft, uow, viewer, now, tr)


async def _reply_saved(
    target: Message, logged: LoggedCall, viewer: Viewer, tr: Translator, *, edit: bool
) -> None:
    """Say the call is saved (or was already), with undo; then the refreshed card."""
    text = saved_text(logged, tr, viewer.zone)
    markup = undo_keyboard(logged.interaction_id, tr)
    if edit:
        await target.edit_text(text, reply_markup=markup)
    else:
        await target.answer(text, reply_markup=markup)
    await show_card(target, logged.card, viewer, tr)


async def _save(
    target: Message,
    state: FSMContext,
    draft: CallDraft,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
    *,
    comment: str | None = None,
    voice_file_id: str | None = None,
    edit: bool = False,
    after_commit: Callable[[], None] | None = None,
) -> None:
    """Commit the call (once per draft), then say so (with undo), then show the card."""
    if draft.outcome not in set(Outcome):
        raise StaleAction()
    logged = await log_call(
        uow,
        viewer,
        draft.client_id,
        outcome=Outcome(str(draft.outcome)),
        next_contact=draft.choice(),
        comment=comment,
        voice_file_id=voice_file_id or draft.voice_file_id,
        now=now,
        draft_id=draft.draft_id,
        details=draft.details(),
    )
    if after_commit is not None:  # a process test's kill point
        after_commit()
    await finish_draft(state, saved=draft, at=now, by_comment=comment is not None)
    if not edit:
        await _close_step(target.bot, target.chat.id, draft)
    await _reply_saved(target, logged, viewer, tr, edit=edit)


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
    """How the call went -> its details (amount, reason) or when to contact next."""
    target = await call_target(uow, viewer, callback_data.c, now)
    draft = await draft_for(state, target.client_id)
    if callback_data.v not in set(Outcome):
        raise StaleAction()
    draft = draft.with_(outcome=callback_data.v)
    await _go_on_by_button(callback, state, draft, uow, viewer, now, tr)


async def amount_typed(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """An order's amount, typed."""
    draft = await open_draft(state)
    amount = parse_amount(message.text or "")
    answered = draft.with_(order_amount=str(amount), details_done=True)
    await _go_on_by_message(message, state, draft, answered, uow, viewer, now, tr)


async def reason_typed(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A refusal's reason in the manager's words."""
    draft = await open_draft(state)
    answered = draft.with_(refusal_reason=(message.text or "")[:200], details_done=True)
    await _go_on_by_message(message, state, draft, answered, uow, viewer, now, tr)


async def place_typed(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """Where the meeting is."""
    draft = await open_draft(state)
    answered = draft.with_(meeting_place=(message.text or "")[:200], place_done=True)
    await _go_on_by_message(message, state, draft, answered, uow, viewer, now, tr)


async def detail_button(
    callback: CallbackQuery,
    callback_data: CallCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A preset reason, "no amount" or "no place"."""
    draft = await draft_for(state, callback_data.c)
    if callback_data.a == CallAction.REASON:
        if callback_data.v not in REFUSAL_REASONS:
            raise StaleAction()
        draft = draft.with_(refusal_reason=tr(f"calls.reason.{callback_data.v}"), details_done=True)
    elif callback_data.a == CallAction.NO_AMOUNT:
        draft = draft.with_(details_done=True)
    else:
        draft = draft.with_(place_done=True)
    await _go_on_by_button(callback, state, draft, uow, viewer, now, tr)


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
    draft = await draft_for(state, callback_data.c)
    draft = draft.with_(next_mode=choice.mode.value, next_on=None)
    await _after_next_contact(callback, state, draft, preview, uow, viewer, now, tr)


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
    await draft_for(state, target.client_id)
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
    await draft_for(state, target.client_id)
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
    draft = await draft_for(state, callback_data.c)
    draft = draft.with_(next_mode=NextContactMode.DATE.value, next_on=day)
    await _after_next_contact(callback, state, draft, preview, uow, viewer, now, tr)


async def time_button(
    callback: CallbackQuery,
    callback_data: CallCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """An hour to call back (or meet) at, or none."""
    draft = await draft_for(state, callback_data.c)
    at = parse_time_of_day(callback_data.v) if callback_data.a == CallAction.TIME else None
    draft = draft.with_(at=at, time_done=True)
    await _go_on_by_button(callback, state, draft, uow, viewer, now, tr)


async def time_typed(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A time typed as HH:MM, or "через 2 часа" / "in 30 minutes"."""
    draft = await open_draft(state)
    day = await preview_next_contact(uow, viewer, draft.client_id, draft.choice(), now)
    at = parse_call_back_time(message.text or "", day.on, now, viewer)
    answered = draft.with_(at=at, time_done=True)
    await _go_on_by_message(message, state, draft, answered, uow, viewer, now, tr)


async def no_comment(
    callback: CallbackQuery,
    callback_data: CallCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
    after_call_commit: Callable[[], None] | None = None,
) -> None:
    """Save without a comment."""
    draft = await draft_for(state, callback_data.c)
    await callback.answer()
    if isinstance(callback.message, Message):
        await _save(
            callback.message,
            state,
            draft,
            uow,
            viewer,
            now,
            tr,
            edit=True,
            after_commit=after_call_commit,
        )


async def voice_comment(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A voice note: with a caption it is saved at once; else a text comment may follow."""
    draft = await open_draft(state)
    voice = message.voice.file_id if message.voice else None
    if message.caption:
        await _save(
            message,
            state,
            draft,
            uow,
            viewer,
            now,
            tr,
            comment=message.caption,
            voice_file_id=voice,
        )
        return
    answered = draft.with_(voice_file_id=voice)
    await _go_on_by_message(message, state, draft, answered, uow, viewer, now, tr)


async def text_comment(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
    after_call_commit: Callable[[], None] | None = None,
) -> None:
    """A typed comment."""
    draft = await open_draft(state)
    await _save(
        message,
        state,
        draft,
        uow,
        viewer,
        now,
        tr,
        comment=message.text,
        after_commit=after_call_commit,
    )


async def second_comment(
    message: Message,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
    saved_draft: str,
) -> None:
    """A text seconds after a comment saved the call: the hurried second comment. Say the
    call is saved (with undo), and that this text was neither added nor searched."""
    await forget_second_comment(state)
    logged = await saved_call(uow, viewer, saved_draft, now)
    if logged is None:  # undone meanwhile: nothing to point at
        raise StaleAction()
    await message.answer(tr("calls.second_comment", text=h(message.text or "", 60)))
    await _reply_saved(message, logged, viewer, tr, edit=False)


async def _just_saved(message: Message, state: FSMContext, now: datetime) -> dict[str, str] | bool:
    draft_id = await just_saved_by_comment(state, now)
    return {"saved_draft": draft_id} if draft_id else False


async def stale_button(
    callback: CallbackQuery,
    callback_data: CallCb | CalendarCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """A button of a finished or cancelled conversation (or a forged one).

    A second tap on the last step of a call already saved says so, with its undo button.
    """
    await call_target(uow, viewer, callback_data.c, now)  # someone else's client: refused
    draft_id = await saved_draft_id(state, callback_data.c)
    if isinstance(callback_data, CallCb) and callback_data.a == CallAction.NO_COMMENT and draft_id:
        logged = await saved_call(uow, viewer, draft_id, now)
        if logged is not None and isinstance(callback.message, Message):
            await callback.answer(tr("calls.already_saved_short"))
            await _reply_saved(callback.message, logged, viewer, tr, edit=False)
            return
    raise StaleAction()


async def resume_draft(
    callback: CallbackQuery,
    callback_data: DraftCb,
    state: FSMContext,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """ "Continue" under "the call was not logged": the step it stopped at, asked again."""
    draft = await take_paused(state, callback_data.c)
    step, text, markup = await _next_question(draft, uow, viewer, now, tr)
    await callback.answer()
    if callback.message is not None:
        await edit_or_send(callback, tr("calls.paused_resumed", name=h(draft.name, 100)), None)
    if isinstance(callback.message, Message):
        await _ask(callback.message, state, draft, step, text, markup)


async def drop_draft(
    callback: CallbackQuery, callback_data: DraftCb, state: FSMContext, tr: Translator
) -> None:
    """ "Drop" under "the call was not logged": nothing is saved, the buttons go."""
    draft = await take_paused(state, callback_data.c)
    await callback.answer()
    await edit_or_send(callback, tr("calls.dropped", name=h(draft.name, 100)), None)


async def undo(
    callback: CallbackQuery,
    callback_data: UndoCb,
    uow: UnitOfWork,
    viewer: Viewer,
    now: datetime,
    tr: Translator,
) -> None:
    """Undo a call logged less than ten minutes ago (what to restore is on the saved row)."""
    card = await undo_call(uow, viewer, callback_data.i, now=now)
    await callback.answer(tr("calls.undone_short"))
    await _say_then_show_card(
        callback, tr("calls.undone", name=h(card.name, 100)), card, viewer, tr
    )


class DraftGuard(BaseMiddleware):
    """An open call log never captures unrelated input.

    A command, a reply-keyboard button, a search or another card's button while a call
    is being logged puts the draft aside visibly ("the call was not logged: continue or
    drop?") and the input is then handled as what it is. Registered on the Dispatcher's
    message and callback observers: it runs before any router, and the routers see the
    conversation as ended.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state = data.get("state")
        if data.get("raw_state") in _STEPS and isinstance(state, FSMContext):
            step = data["raw_state"]
            if _is_foreign(event, step):
                draft = await current_draft(state)
                if draft is not None:
                    await pause_draft(state, draft)
                    await _notice_paused(event, draft, data.get("tr") or Translator())
                else:
                    await state.set_state(None)
                data["raw_state"] = None
        return await handler(event, data)


# The buttons that belong to an open call log (its steps, cancel, label-only cells).
_DRAFT_PREFIXES = {cb.__prefix__ for cb in (CallCb, CalendarCb, CancelCb, NoopCb, DraftCb)}


def _is_foreign(event: TelegramObject, step: str) -> bool:
    """Input that is not an answer to the open step of a call log."""
    if isinstance(event, CallbackQuery):
        return (event.data or "").split(":", 1)[0] not in _DRAFT_PREFIXES
    if not isinstance(event, Message):
        return False
    text = event.text or ""
    if text.startswith("/"):
        return text.split(maxsplit=1)[0].split("@", 1)[0].lower() != "/cancel"
    if text and reply_action(text):
        return True
    if step == CallFlow.comment.state:
        return not (text or event.voice)
    if step in _TYPED_STEPS:
        return not text
    return True


async def _notice_paused(event: TelegramObject, draft: CallDraft, tr: Translator) -> None:
    message = event.message if isinstance(event, CallbackQuery) else event
    if not isinstance(message, Message):
        return
    await _close_step(message.bot, message.chat.id, draft)
    text = tr("calls.paused_text", name=h(draft.name, 100))
    await message.answer(text, reply_markup=paused_keyboard(draft.client_id, tr))


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
    router.message.register(amount_typed, CallFlow.amount, F.text, ~F.text.startswith("/"))
    router.message.register(reason_typed, CallFlow.reason, F.text, ~F.text.startswith("/"))
    router.message.register(place_typed, CallFlow.place, F.text, ~F.text.startswith("/"))
    router.callback_query.register(
        detail_button, CallFlow.amount, CallCb.filter(F.a == CallAction.NO_AMOUNT)
    )
    router.callback_query.register(
        detail_button, CallFlow.reason, CallCb.filter(F.a == CallAction.REASON)
    )
    router.callback_query.register(
        detail_button, CallFlow.place, CallCb.filter(F.a == CallAction.NO_PLACE)
    )
    router.callback_query.register(
        no_comment, CallFlow.comment, CallCb.filter(F.a == CallAction.NO_COMMENT)
    )
    router.message.register(voice_comment, CallFlow.comment, F.voice)
    router.message.register(text_comment, CallFlow.comment, F.text, ~F.text.startswith("/"))
    router.message.register(
        second_comment, StateFilter(None), F.text, ~F.text.startswith("/"), _just_saved
    )
    router.callback_query.register(stale_button, CalendarCb.filter())
    router.callback_query.register(stale_button, CallCb.filter())
    router.callback_query.register(resume_draft, DraftCb.filter(F.a == DraftAction.RESUME))
    router.callback_query.register(drop_draft, DraftCb.filter(F.a == DraftAction.DROP))
    router.callback_query.register(undo, UndoCb.filter())
    return router
