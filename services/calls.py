"""Logging a call from the field, undoing it, and choosing when to contact the client next.

The next contact a manager picks becomes `Client.next_due_on` (a manager's date
overrides the segment's cadence, as in the segmentation engine). "By the segment's
schedule" means today + the client's cadence: the latest snapshot's `cadence_days`,
else the company's cadence for its segment, else the default cadence; VIP clients
are capped at `vip_cadence_cap_days`. "Tomorrow", "in 3 days" and "in a week"
are calendar days: a Saturday stays a Saturday (the call list shows it on Monday
as overdue by two days), which keeps the rule predictable for the person choosing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from services.access import Viewer, load_client_for
from services.calendar import load_calendar
from services.clients import ClientCard, build_card, latest_snapshot
from services.db.models import Channel, Client, ClientSegment, Interaction, Outcome, Role
from services.errors import (
    AccessDenied,
    InteractionNotFound,
    InvalidAmount,
    InvalidNextContact,
    UndoExpired,
)
from services.settings_store import load_segmentation_settings
from services.uow import UnitOfWork

UNDO_WINDOW = timedelta(minutes=10)
COMMENT_MAX_LENGTH = 4000
VOICE_FILE_ID_MAX_LENGTH = 200  # interactions.voice_file_id is String(200)
MAX_DAYS_AHEAD = 730  # a date two years out is a mis-tap on the calendar
MAX_INTERACTION_ID = 2**31 - 1  # interactions.id is a 32-bit integer on PostgreSQL
DRAFT_ID_LENGTH = 32
_TIME = re.compile(r"^\s*(\d{1,2})(?:\s*[:.\-h ]\s*(\d{2}))?\s*$")
_IN = re.compile(
    r"^\s*(?:через|in)\s+(?:(\d{1,3})\s*)?"
    r"(час|часа|часов|ч|hours?|h|минуту|минуты|минут|мин|minutes?|min)\.?\s*$",
    re.IGNORECASE,
)
PLACE_MAX_LENGTH = 200
REASON_MAX_LENGTH = 200
MAX_ORDER_AMOUNT = Decimal("9999999999999.99")  # Numeric(16, 2)
_AMOUNT = re.compile(r"^\s*(\d[\d\s]*(?:[.,]\d{1,2})?)\s*(?:₽|руб\.?|р\.?|rub)?\s*$", re.I)


class NextContactMode(StrEnum):
    TODAY = "today"
    TOMORROW = "tomorrow"
    IN_3_DAYS = "3d"
    IN_A_WEEK = "week"
    CADENCE = "cadence"
    REACTIVATION = "react"  # after a refusal: when the win-back list would bring them back
    DATE = "date"


DAYS_AHEAD = {
    NextContactMode.TODAY: 0,
    NextContactMode.TOMORROW: 1,
    NextContactMode.IN_3_DAYS: 3,
    NextContactMode.IN_A_WEEK: 7,
}


@dataclass(frozen=True)
class NextContactChoice:
    """What the manager picked: a preset, the cadence, or a date; `at` is local time of day."""

    mode: NextContactMode
    on: date | None = None
    at: time | None = None


def parse_time_of_day(text: str) -> time:
    """`15:30`, `9.05`, `15` -> a time of day; anything else raises `InvalidNextContact`."""
    match = _TIME.match(text)
    if match is None:
        raise InvalidNextContact(text.strip()[:20])
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if hours > 23 or minutes > 59:
        raise InvalidNextContact(text.strip()[:20])
    return time(hours, minutes)


def parse_call_back_time(text: str, day: date, now: datetime, viewer: Viewer) -> time:
    """A typed time of day on `day`: "15:30", or "через 2 часа" / "in 30 minutes" from now."""
    match = _IN.match(text)
    if match is None:
        return parse_time_of_day(text)
    count = int(match.group(1) or 1)
    unit = match.group(2).lower()
    hours = unit.startswith(("ч", "h"))
    moment = now.astimezone(viewer.zone) + (
        timedelta(hours=count) if hours else timedelta(minutes=count)
    )
    if moment.date() != day:
        raise InvalidNextContact(text.strip()[:20])
    return moment.time().replace(second=0, microsecond=0)


def call_back_hours(
    day: date, now: datetime, viewer: Viewer, hours: tuple[int, ...]
) -> tuple[int, ...]:
    """The hours of `hours` still ahead on `day` (all of them on a later day)."""
    local = now.astimezone(viewer.zone)
    if day > local.date():
        return hours
    if day < local.date():
        return ()
    return tuple(hour for hour in hours if time(hour) > local.time())


def parse_amount(text: str) -> Decimal:
    """An order's amount: "125 000", "99,90 ₽"; anything else raises `InvalidValue`."""
    match = _AMOUNT.match(text)
    if match is None:
        raise InvalidAmount(text.strip()[:20])
    try:
        amount = Decimal(match.group(1).replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise InvalidAmount(text.strip()[:20]) from None
    if not 0 < amount <= MAX_ORDER_AMOUNT:
        raise InvalidAmount(text.strip()[:20])
    return amount.quantize(Decimal("0.01"))


def resolve_next_date(
    choice: NextContactChoice, today: date, cadence_days: int, reactivation_days: int = 30
) -> date:
    """The calendar day a choice means; raises `InvalidNextContact` for the past or far future."""
    if choice.mode == NextContactMode.CADENCE:
        return today + timedelta(days=cadence_days)
    if choice.mode == NextContactMode.REACTIVATION:
        return today + timedelta(days=reactivation_days)
    if choice.mode == NextContactMode.DATE:
        if choice.on is None:
            raise InvalidNextContact("")
        if not today <= choice.on <= today + timedelta(days=MAX_DAYS_AHEAD):
            raise InvalidNextContact(choice.on.isoformat())
        return choice.on
    return today + timedelta(days=DAYS_AHEAD[choice.mode])


@dataclass(frozen=True)
class CallTarget:
    """The client a call is being logged for, with what the prompts show."""

    client_id: int
    name: str
    company: str | None
    is_vip: bool
    segment: str | None
    today: date
    cadence_days: int
    cadence_due: date
    reactivation_days: int = 30
    reactivation_due: date | None = None


@dataclass(frozen=True)
class LoggedCall:
    interaction_id: int
    client_id: int
    outcome: Outcome
    next_contact_on: date
    next_contact_at: datetime | None
    previous_due: date | None
    comment: str | None
    has_voice: bool
    card: ClientCard
    already_saved: bool = False
    meeting_at: datetime | None = None
    meeting_place: str | None = None
    refusal_reason: str | None = None
    order_amount: Decimal | None = None


async def _cadence_days(uow: UnitOfWork, client: Client, snapshot: ClientSegment | None) -> int:
    settings = await load_segmentation_settings(uow)
    if snapshot is not None and snapshot.cadence_days and snapshot.cadence_days > 0:
        days = snapshot.cadence_days
    elif snapshot is not None and snapshot.segment and snapshot.segment in settings.cadence_days:
        days = settings.cadence_days[snapshot.segment]
    else:
        days = settings.default_cadence_days
    if client.is_vip:
        days = min(days, settings.vip_cadence_cap_days)
    return int(days)


async def _target(uow: UnitOfWork, viewer: Viewer, client_id: int, now: datetime) -> CallTarget:
    client = await load_client_for(uow, viewer, client_id)
    snapshot = await latest_snapshot(uow, client_id)
    today = viewer.local_today(now)
    cadence = await _cadence_days(uow, client, snapshot)
    reactivation = int((await load_segmentation_settings(uow)).reactivation_contact_days)
    return CallTarget(
        client_id=client.id,
        name=client.name,
        company=client.company,
        is_vip=client.is_vip,
        segment=snapshot.segment if snapshot else None,
        today=today,
        cadence_days=cadence,
        cadence_due=today + timedelta(days=cadence),
        reactivation_days=reactivation,
        reactivation_due=today + timedelta(days=reactivation),
    )


async def call_target(uow: UnitOfWork, viewer: Viewer, client_id: int, now: datetime) -> CallTarget:
    """Who the call is for; every step of the conversation calls this to re-check access."""
    async with uow:
        return await _target(uow, viewer, client_id, now)


@dataclass(frozen=True)
class NextContactPreview:
    """A choice checked against the calendar and the clock, before anything is saved."""

    target: CallTarget
    on: date
    at: datetime | None
    working_day: bool = True  # False: a weekend or a public holiday (accepted, with a note)


async def preview_next_contact(
    uow: UnitOfWork, viewer: Viewer, client_id: int, choice: NextContactChoice, now: datetime
) -> NextContactPreview:
    """The day (and UTC moment) a choice means; raises `InvalidNextContact` for the past."""
    async with uow:
        target = await _target(uow, viewer, client_id, now)
        calendar = await load_calendar(uow)
    on = _resolve(choice, target)
    moment = _next_moment(viewer, on, choice.at, now)
    return NextContactPreview(target, on, moment, calendar.is_working_day(on))


def _resolve(choice: NextContactChoice, target: CallTarget) -> date:
    return resolve_next_date(choice, target.today, target.cadence_days, target.reactivation_days)


def _next_moment(viewer: Viewer, day: date, at: time | None, now: datetime) -> datetime | None:
    if at is None:
        return None
    moment = datetime.combine(day, at, tzinfo=viewer.zone).astimezone(UTC)
    if moment < now:
        raise InvalidNextContact(at.strftime("%H:%M"))
    return moment


def _clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    text = comment.strip()
    return text[:COMMENT_MAX_LENGTH] or None


@dataclass(frozen=True)
class CallDetails:
    """What an outcome adds: a meeting's place, a refusal's reason, an order's amount."""

    meeting_place: str | None = None
    refusal_reason: str | None = None
    order_amount: Decimal | None = None


def _short(text: str | None, limit: int) -> str | None:
    return (text or "").strip()[:limit] or None


def _details(
    outcome: Outcome, details: CallDetails | None, next_at: datetime | None
) -> dict[str, object]:
    """The columns of an outcome's details; what does not belong to the outcome is dropped."""
    details = details or CallDetails()
    if details.order_amount is not None and not 0 < details.order_amount <= MAX_ORDER_AMOUNT:
        raise InvalidAmount(str(details.order_amount)[:20])
    meeting = outcome == Outcome.MEETING_SET
    return {
        "meeting_at": next_at if meeting else None,
        "meeting_place": _short(details.meeting_place, PLACE_MAX_LENGTH) if meeting else None,
        "refusal_reason": _short(details.refusal_reason, REASON_MAX_LENGTH)
        if outcome == Outcome.REFUSED
        else None,
        "order_amount": details.order_amount if outcome == Outcome.ORDER else None,
    }


def new_draft_id() -> str:
    """The identity of one call being logged: saving it twice saves it once."""
    return uuid.uuid4().hex


def _insert_once(dialect: str, values: dict[str, object]) -> Any:
    """`INSERT ... ON CONFLICT (draft_id) DO NOTHING` in the session's dialect."""
    module = postgresql if dialect == "postgresql" else sqlite
    return (
        module.insert(Interaction)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["draft_id"])
        .returning(Interaction.id)
    )


async def _saved_from_draft(uow: UnitOfWork, draft_id: str) -> Interaction | None:
    return await uow.session.scalar(select(Interaction).where(Interaction.draft_id == draft_id))


def _logged(interaction: Interaction, card: ClientCard, *, already: bool) -> LoggedCall:
    return LoggedCall(
        interaction_id=interaction.id,
        client_id=interaction.client_id,
        outcome=Outcome(interaction.outcome),
        next_contact_on=interaction.next_contact_on or card.today,
        next_contact_at=interaction.next_contact_at,
        previous_due=interaction.previous_due,
        comment=interaction.comment,
        has_voice=interaction.voice_file_id is not None,
        card=card,
        already_saved=already,
        meeting_at=interaction.meeting_at,
        meeting_place=interaction.meeting_place,
        refusal_reason=interaction.refusal_reason,
        order_amount=interaction.order_amount,
    )


async def log_call(
    uow: UnitOfWork,
    viewer: Viewer,
    client_id: int,
    *,
    outcome: Outcome | str,
    next_contact: NextContactChoice,
    comment: str | None = None,
    voice_file_id: str | None = None,
    now: datetime,
    draft_id: str | None = None,
    details: CallDetails | None = None,
) -> LoggedCall:
    """Save the call and the next contact date in one transaction, then return the fresh card.

    Idempotent on `draft_id`: when that draft was saved already (a double tap, a retry
    after a crash, two replicas racing), nothing is written and the saved call comes back
    with `already_saved`.
    """
    outcome = Outcome(outcome)
    draft_id = draft_id or new_draft_id()
    if len(draft_id) > DRAFT_ID_LENGTH:
        raise InvalidNextContact("draft")
    if voice_file_id is not None and len(voice_file_id) > VOICE_FILE_ID_MAX_LENGTH:
        raise InvalidNextContact("voice")
    async with uow:
        saved = await _saved_from_draft(uow, draft_id)
        if saved is not None:
            await load_client_for(uow, viewer, saved.client_id)
            return _logged(saved, await build_card(uow, viewer, saved.client_id, now), already=True)
        target = await _target(uow, viewer, client_id, now)
        next_on = _resolve(next_contact, target)
        next_at = _next_moment(viewer, next_on, next_contact.at, now)
        client = await load_client_for(uow, viewer, client_id)
        values: dict[str, object] = {
            "client_id": client_id,
            "user_id": viewer.user_id,
            "occurred_at": now,
            "created_at": now,
            "channel": Channel.CALL.value,
            "outcome": outcome.value,
            "comment": _clean_comment(comment),
            "next_contact_on": next_on,
            "next_contact_at": next_at,
            "voice_file_id": voice_file_id,
            "draft_id": draft_id,
            "previous_due": client.next_due_on,
            **_details(outcome, details, next_at),
        }
        dialect = uow.session.get_bind().dialect.name
        inserted = await uow.session.scalar(_insert_once(dialect, values))
        if inserted is None:  # another attempt of the same draft won the race
            await uow.session.rollback()
            saved = await _saved_from_draft(uow, draft_id)
            if saved is None:
                raise InteractionNotFound(0)
            return _logged(saved, await build_card(uow, viewer, saved.client_id, now), already=True)
        client.next_due_on = next_on
        await uow.commit()
        card = await build_card(uow, viewer, client_id, now)
        interaction = await uow.session.get(Interaction, inserted)
        assert interaction is not None
        return _logged(interaction, card, already=False)


async def saved_call(
    uow: UnitOfWork, viewer: Viewer, draft_id: str, now: datetime
) -> LoggedCall | None:
    """The call saved from `draft_id` (a late tap on its buttons), or None."""
    async with uow:
        saved = await _saved_from_draft(uow, draft_id)
        if saved is None:
            return None
        await load_client_for(uow, viewer, saved.client_id)
        return _logged(saved, await build_card(uow, viewer, saved.client_id, now), already=True)


async def undo_call(
    uow: UnitOfWork, viewer: Viewer, interaction_id: int, *, now: datetime
) -> ClientCard:
    """Remove a call logged less than ten minutes ago and restore the due date it replaced.

    Everything comes from the saved row (the button carries only its id); its author,
    a head or an admin may undo, once. The due date goes back only if nothing moved it
    since the call was logged.
    """
    if not 0 < interaction_id <= MAX_INTERACTION_ID:
        raise InteractionNotFound(interaction_id)
    async with uow:
        interaction = await uow.session.get(Interaction, interaction_id)
        if interaction is None:
            raise InteractionNotFound(interaction_id)
        if interaction.user_id != viewer.user_id and viewer.role not in (Role.HEAD, Role.ADMIN):
            raise AccessDenied("undo")
        client = await load_client_for(uow, viewer, interaction.client_id)
        if now - interaction.created_at > UNDO_WINDOW:
            raise UndoExpired(int(UNDO_WINDOW.total_seconds() // 60))
        if client.next_due_on == interaction.next_contact_on:
            client.next_due_on = interaction.previous_due
        client_id = client.id
        await uow.session.delete(interaction)
        await uow.commit()
        return await build_card(uow, viewer, client_id, now)


async def reschedule(
    uow: UnitOfWork,
    viewer: Viewer,
    client_id: int,
    choice: NextContactChoice,
    *,
    now: datetime,
) -> ClientCard:
    """Move the next contact without logging a call (the card's "Next contact"); commits."""
    async with uow:
        target = await _target(uow, viewer, client_id, now)
        next_on = _resolve(choice, target)
        client = await load_client_for(uow, viewer, client_id)
        client.next_due_on = next_on
        await uow.commit()
        return await build_card(uow, viewer, client_id, now)
