"""Texts of call logging: prompts, the saved call, outcomes."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.calls import LoggedCall
from ui.formatting import format_date, format_time, h
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


def saved_text(logged: LoggedCall, tr: Translator, zone: ZoneInfo) -> str:
    when = when_text(logged.next_contact_on, logged.next_contact_at, zone, tr)
    lines = [
        tr(
            "calls.already_saved" if logged.already_saved else "calls.saved",
            name=h(logged.card.name, 100),
        ),
        tr("calls.saved_outcome", outcome=outcome_label(logged.outcome, tr)),
        tr("calls.saved_next", date=when),
    ]
    if logged.comment:
        lines.append(f"<i>«{h(logged.comment, COMMENT_IN_SAVED)}»</i>")
    elif logged.has_voice:
        lines.append(tr("card.voice_comment"))
    lines.append(tr("calls.undo_hint"))
    return "\n".join(lines)
