"""Keyboards of call logging: outcomes, the next contact, a calendar, hours, comment, undo."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.calls import MAX_DAYS_AHEAD, CallTarget, NextContactMode
from services.db.models import Outcome
from ui.callbacks import (
    CalendarCb,
    CallAction,
    CallCb,
    DraftAction,
    DraftCb,
    NoopCb,
    UndoCb,
    VipCb,
)
from ui.formatting import format_short_date, month_name, weekday_short
from ui.i18n import Translator
from ui.keyboards.cancel import cancel_button

OUTCOMES = (
    Outcome.REACHED,
    Outcome.NO_ANSWER,
    Outcome.CALL_BACK,
    Outcome.MEETING_SET,
    Outcome.ORDER,
    Outcome.REFUSED,
)
CALL_BACK_HOURS = tuple(range(9, 20))


def _call(text: str, action: CallAction, client_id: int, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=CallCb(a=action, c=client_id, v=value).pack()
    )


def _noop(text: str = " ") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=NoopCb().pack())


def outcome_keyboard(client_id: int, tr: Translator) -> InlineKeyboardMarkup:
    buttons = [
        _call(tr(f"calls.outcome.{o.value}"), CallAction.OUTCOME, client_id, o.value)
        for o in OUTCOMES
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([cancel_button(tr)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


REFUSAL_REASONS = ("price", "no_need", "competitor", "no_budget")


def next_contact_keyboard(
    target: CallTarget, tr: Translator, *, same_day: bool = False, refusal: bool = False
) -> InlineKeyboardMarkup:
    """Presets, the segment's schedule (with its date) and a calendar; "today" for call-backs.

    After a refusal the first choice is the reactivation horizon, and there is no "tomorrow".
    """
    cid = target.client_id
    rows = []
    if refusal and target.reactivation_due is not None:
        label = tr(
            "calls.next.reactivation",
            days=tr.plural("common.days", target.reactivation_days),
            date=format_short_date(target.reactivation_due, tr),
        )
        rows.append([_call(label, CallAction.NEXT, cid, NextContactMode.REACTIVATION)])
    if same_day:
        rows.append([_call(tr("calls.next.today"), CallAction.NEXT, cid, NextContactMode.TODAY)])
    if not refusal:
        rows.append(
            [
                _call(tr("calls.next.tomorrow"), CallAction.NEXT, cid, NextContactMode.TOMORROW),
                _call(tr("calls.next.in_3_days"), CallAction.NEXT, cid, NextContactMode.IN_3_DAYS),
            ]
        )
    rows += [
        [_call(tr("calls.next.in_a_week"), CallAction.NEXT, cid, NextContactMode.IN_A_WEEK)],
        [
            _call(
                tr(
                    "calls.next.cadence",
                    date=format_short_date(target.cadence_due, tr),
                ),
                CallAction.NEXT,
                cid,
                NextContactMode.CADENCE,
            )
        ],
        [_call(tr("calls.next.pick_date"), CallAction.CALENDAR, cid)],
        [cancel_button(tr)],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _month_shift(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def calendar_keyboard(
    client_id: int, year: int, month: int, today: date, tr: Translator
) -> InlineKeyboardMarkup:
    """One month, Monday first; days before today are blank; ◀ ▶ move by a month."""
    last_day = today + timedelta(days=MAX_DAYS_AHEAD)
    title = f"{month_name(month, tr).capitalize()} {year}"
    prev_y, prev_m = _month_shift(year, month, -1)
    next_y, next_m = _month_shift(year, month, 1)
    can_go_back = (year, month) > (today.year, today.month)
    can_go_on = (next_y, next_m) <= (last_day.year, last_day.month)
    rows = [
        [
            InlineKeyboardButton(
                text="◀", callback_data=CalendarCb(c=client_id, y=prev_y, m=prev_m).pack()
            )
            if can_go_back
            else _noop(),
            _noop(title),
            InlineKeyboardButton(
                text="▶", callback_data=CalendarCb(c=client_id, y=next_y, m=next_m).pack()
            )
            if can_go_on
            else _noop(),
        ],
        [_noop(weekday_short(n, tr)) for n in range(7)],
    ]
    for week in calendar.Calendar(firstweekday=0).monthdayscalendar(year, month):
        row = []
        for day in week:
            if day == 0 or not today <= date(year, month, day) <= last_day:
                row.append(_noop())
            else:
                data = CalendarCb(c=client_id, y=year, m=month, d=day).pack()
                row.append(InlineKeyboardButton(text=str(day), callback_data=data))
        rows.append(row)
    rows.append([cancel_button(tr)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def time_keyboard(
    client_id: int, tr: Translator, hours_left: tuple[int, ...] = CALL_BACK_HOURS
) -> InlineKeyboardMarkup:
    """The hours still ahead (none past: a call-back at 21:53 today offers no 09:00)."""
    hours = [_call(f"{hour:02d}:00", CallAction.TIME, client_id, str(hour)) for hour in hours_left]
    rows = [hours[i : i + 4] for i in range(0, len(hours), 4)]
    rows.append([_call(tr("calls.time.no_time"), CallAction.NO_TIME, client_id)])
    rows.append([cancel_button(tr)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def comment_keyboard(
    client_id: int, tr: Translator, *, has_voice: bool = False
) -> InlineKeyboardMarkup:
    label = tr("calls.comment.save_voice" if has_voice else "calls.comment.skip")
    return InlineKeyboardMarkup(
        inline_keyboard=[[_call(label, CallAction.NO_COMMENT, client_id)], [cancel_button(tr)]]
    )


def reason_keyboard(client_id: int, tr: Translator) -> InlineKeyboardMarkup:
    """A refusal's usual reasons; any other is typed."""
    buttons = [
        _call(tr(f"calls.reason.{key}"), CallAction.REASON, client_id, key)
        for key in REFUSAL_REASONS
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([cancel_button(tr)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def skip_keyboard(client_id: int, action: CallAction, tr: Translator) -> InlineKeyboardMarkup:
    """One "skip" button (no amount, no place) and cancel."""
    label = tr("calls.amount.skip" if action == CallAction.NO_AMOUNT else "calls.place.skip")
    return InlineKeyboardMarkup(
        inline_keyboard=[[_call(label, action, client_id)], [cancel_button(tr)]]
    )


def undo_keyboard(interaction_id: int, tr: Translator) -> InlineKeyboardMarkup:
    data = UndoCb(i=interaction_id)
    button = InlineKeyboardButton(text=tr("calls.undo_button"), callback_data=data.pack())
    return InlineKeyboardMarkup(inline_keyboard=[[button]])


def paused_keyboard(client_id: int, tr: Translator) -> InlineKeyboardMarkup:
    """Under "the call was not logged": continue it or drop it."""
    resume = DraftCb(a=DraftAction.RESUME, c=client_id).pack()
    drop = DraftCb(a=DraftAction.DROP, c=client_id).pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=tr("calls.paused.resume"), callback_data=resume),
                InlineKeyboardButton(text=tr("calls.paused.drop"), callback_data=drop),
            ]
        ]
    )


def vip_reason_keyboard(client_id: int, tr: Translator) -> InlineKeyboardMarkup:
    skip = InlineKeyboardButton(
        text=tr("card.vip_reason.skip"), callback_data=VipCb(c=client_id).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[skip]])
