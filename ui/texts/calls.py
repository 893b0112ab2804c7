"""Texts of call logging: prompts, the saved call, outcomes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.calls import LoggedCall
from ui.formatting import format_date, format_moment, format_money, format_time, h
from ui.i18n import Translator

COMMENT_IN_SAVED = 300


def outcome_label(outcome: str, tr: Translator) -> str:
    return tr(f"calls.outcome.{outcome}")


def call_prompt(
    name: str, outcome: str | None, tr: Translator, *question: str, rescheduling: bool = False
) -> str:
    """The conversation's header (client, outcome so far) above the next question."""
    lines = [tr("calls.header_next" if rescheduling else "calls.header", name=h(name, 100))]
    if outcome:
        lines.append(tr("calls.saved_outcome", outcome=outcome_label(outcome, tr)))
    return "\n".join([*lines, *question])


def when_text(day: date, at: datetime | None, zone: ZoneInfo, tr: Translator) -> str:
    """The next contact: its local date, and the time when one was set."""
    text = format_date(day, tr)
    return f"{text} {format_time(at.astimezone(zone))}" if at is not None else text


def detail_lines(
    tr: Translator,
    zone: ZoneInfo,
    *,
    meeting_at: datetime | None = None,
    meeting_place: str | None = None,
    refusal_reason: str | None = None,
    order_amount: Decimal | None = None,
) -> list[str]:
    """An outcome's details: the meeting's time and place, the refusal's reason, the amount."""
    lines = []
    if meeting_at is not None:
        lines.append(tr("calls.saved_meeting", when=format_moment(meeting_at, zone, tr)))
    if meeting_place:
        lines.append(tr("calls.saved_place", place=h(meeting_place, 200)))
    if refusal_reason:
        lines.append(tr("calls.saved_reason", reason=h(refusal_reason, 200)))
    if order_amount is not None:
        lines.append(tr("calls.saved_amount", amount=format_money(order_amount, tr)))
    return lines


def day_off_line(day: date, working_day: bool, tr: Translator) -> list[str]:
    """The visible note under a next contact that falls on a weekend or a public holiday."""
    return [] if working_day else [tr("calls.day_off_note", date=format_date(day, tr))]


def saved_text(logged: LoggedCall, tr: Translator, zone: ZoneInfo) -> str:
    when = when_text(logged.next_contact_on, logged.next_contact_at, zone, tr)
    lines = [
        tr(
            "calls.already_saved" if logged.already_saved else "calls.saved",
            name=h(logged.card.name, 100),
        ),
        tr("calls.saved_outcome", outcome=outcome_label(logged.outcome, tr)),
        *detail_lines(
            tr,
            zone,
            meeting_at=logged.meeting_at,
            meeting_place=logged.meeting_place,
            refusal_reason=logged.refusal_reason,
            order_amount=logged.order_amount,
        ),
        tr("calls.saved_next", date=when),
    ]
    if logged.comment:
        lines.append(f"<i>«{h(logged.comment, COMMENT_IN_SAVED)}»</i>")
    if logged.has_voice:
        lines.append(tr("card.voice_comment"))
    lines.append(tr("calls.undo_hint"))
    return "\n".join(lines)
