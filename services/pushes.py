"""What the scheduler sends and when: the morning push, the digest's timing, call-back reminders.

Planning is separate from sending: `plan_daily` and `plan_reminders` look at the people,
their local time, the working calendar and the delivery ledger, and say which deliveries
are due now and which were missed beyond the catch-up window. The scheduler then claims,
builds, sends and marks each one (services/delivery.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, select
from sqlalchemy.orm import aliased

from services.calendar import WorkCalendar, load_calendar
from services.db.models import Client, ClientPhone, Interaction, Role, User
from services.delivery import DeliveryKey, DeliveryKind, LedgerRow, ledger_rows, may_retry
from services.lists import ClientListItem, call_list, reactivation_list, risk_list
from services.uow import UnitOfWork
from services.zones import resolve_zone

DEFAULT_PUSH_TIME = time(9, 0)
CATCH_UP_WINDOW = timedelta(hours=6)
REMINDER_LOOKBACK = timedelta(days=2)  # older unsent reminders are not even looked at
CLIENTS_PER_SEGMENT = 3
REACTIVATION_PICKS = 5
AT_RISK_PICKS = 3
FEATURED_DUE = 5  # due clients that get their own card button
SEGMENT_ORDER = tuple(f"{abc}{xyz}" for abc in "ABC" for xyz in "XYZ")

T = TypeVar("T")


@dataclass(frozen=True)
class Recipient:
    """A person a scheduled message goes to, with their effective settings."""

    user_id: int
    telegram_id: int
    display_name: str
    role: Role
    language: str
    timezone: str
    push_time: time


@dataclass(frozen=True)
class DueDelivery:
    key: DeliveryKey
    recipient: Recipient
    scheduled_at: datetime  # UTC


@dataclass(frozen=True)
class DeliveryPlan:
    due: tuple[DueDelivery, ...]  # send now (oldest first)
    missed: tuple[DueDelivery, ...]  # beyond the catch-up window: record as skipped


async def load_recipients(
    uow: UnitOfWork,
    roles: Sequence[Role],
    now: datetime,
    *,
    default_timezone: str,
    default_language: str,
) -> list[Recipient]:
    """Active people of `roles` with pushes on and not muted at `now` (inside `async with uow`)."""
    users = (
        await uow.session.scalars(
            select(User)
            .where(
                User.is_active.is_(True),
                User.telegram_id.is_not(None),
                User.pushes_enabled.is_(True),
                User.role.in_([role.value for role in roles]),
            )
            .order_by(User.id)
        )
    ).all()
    return [
        _recipient(user, default_timezone, default_language)
        for user in users
        if user.muted_until is None or user.muted_until <= now
    ]


def _recipient(user: User, default_timezone: str, default_language: str) -> Recipient:
    assert user.telegram_id is not None
    return Recipient(
        user_id=user.id,
        telegram_id=user.telegram_id,
        display_name=user.display_name,
        role=Role(user.role),
        language=user.language or default_language,
        timezone=resolve_zone(user.timezone, default_timezone).key,
        push_time=user.push_time or DEFAULT_PUSH_TIME,
    )


def occurrences(
    recipient: Recipient, now: datetime, calendar: WorkCalendar, *, days_back: int = 1
) -> list[tuple[date, datetime]]:
    """(local date, UTC moment) of the recipient's daily slot on recent working days up to now.

    Yesterday is included so that a push missed overnight (a restart after a long
    downtime) is noticed and either caught up or recorded as skipped.
    """
    tz = ZoneInfo(recipient.timezone)
    today = now.astimezone(tz).date()
    result = []
    for offset in range(days_back, -1, -1):
        day = today - timedelta(days=offset)
        if not calendar.is_working_day(day):
            continue
        moment = datetime.combine(day, recipient.push_time, tzinfo=tz).astimezone(UTC)
        if moment <= now:
            result.append((day, moment))
    return result


async def plan_daily(
    uow: UnitOfWork,
    kind: DeliveryKind,
    roles: Sequence[Role],
    now: datetime,
    *,
    default_timezone: str,
    default_language: str,
    catch_up: timedelta = CATCH_UP_WINDOW,
) -> DeliveryPlan:
    """Which daily deliveries of `kind` (one per person and working day) are due at `now`."""
    async with uow:
        calendar = await load_calendar(uow)
        recipients = await load_recipients(
            uow,
            roles,
            now,
            default_timezone=default_timezone,
            default_language=default_language,
        )
        candidates = [
            DueDelivery(DeliveryKey(recipient.user_id, kind, day), recipient, moment)
            for recipient in recipients
            for day, moment in occurrences(recipient, now, calendar)
        ]
        ledger = await ledger_rows(uow, kind, {c.key.local_date for c in candidates})
    return _split(candidates, ledger, now, catch_up)


def _split(
    candidates: Sequence[DueDelivery],
    ledger: dict[DeliveryKey, LedgerRow],
    now: datetime,
    catch_up: timedelta,
) -> DeliveryPlan:
    due: list[DueDelivery] = []
    missed: list[DueDelivery] = []
    for candidate in sorted(candidates, key=lambda c: (c.scheduled_at, c.key.recipient_id)):
        row = ledger.get(candidate.key)
        in_window = now - candidate.scheduled_at <= catch_up
        if row is None:
            (due if in_window else missed).append(candidate)
        elif in_window and may_retry(row, now):
            due.append(candidate)
    return DeliveryPlan(tuple(due), tuple(missed))


# --- call-back reminders ----------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """A call-back the manager asked for while logging a call."""

    interaction_id: int
    client_id: int
    client_name: str
    company: str | None
    user_id: int
    at: datetime  # UTC
    comment: str | None
    phones: tuple[str, ...] = ()  # normalized digits, to call from the reminder itself


def _not_superseded() -> ColumnElement[bool]:
    """No later contact with the same client: a newer log replaces the planned call-back."""
    later = aliased(Interaction)
    return ~exists().where(
        and_(later.client_id == Interaction.client_id, later.occurred_at > Interaction.occurred_at)
    )


async def plan_reminders(
    uow: UnitOfWork,
    now: datetime,
    *,
    default_timezone: str,
    default_language: str,
    catch_up: timedelta = CATCH_UP_WINDOW,
) -> DeliveryPlan:
    """Call-back reminders whose time has come (ref = interaction id).

    Reminders go to the manager who logged the call whatever their push settings: they
    asked for this one explicitly. Only an inactive user gets none.
    """
    async with uow:
        rows = (
            await uow.session.execute(
                select(Interaction.id, Interaction.next_contact_at, User)
                .join(User, User.id == Interaction.user_id)
                .where(
                    Interaction.next_contact_at.is_not(None),
                    Interaction.next_contact_at > now - REMINDER_LOOKBACK,
                    Interaction.next_contact_at <= now,
                    User.is_active.is_(True),
                    User.telegram_id.is_not(None),
                    _not_superseded(),
                )
            )
        ).all()
        candidates = []
        for interaction_id, at, user in rows:
            assert at is not None  # filtered by the query
            recipient = _recipient(user, default_timezone, default_language)
            local_day = at.astimezone(ZoneInfo(recipient.timezone)).date()
            key = DeliveryKey(user.id, DeliveryKind.REMINDER, local_day, str(interaction_id))
            candidates.append(DueDelivery(key, recipient, at))
        days = {c.key.local_date for c in candidates}
        ledger = await ledger_rows(uow, DeliveryKind.REMINDER, days)
    return _split(candidates, ledger, now, catch_up)


async def load_reminder(uow: UnitOfWork, interaction_id: int) -> Reminder | None:
    """The reminder as it stands now; None if the call was deleted or a newer one replaced it."""
    async with uow:
        row = (
            await uow.session.execute(
                select(Interaction, Client.name, Client.company)
                .join(Client, Client.id == Interaction.client_id)
                .where(Interaction.id == interaction_id, _not_superseded())
            )
        ).one_or_none()
        if row is None:
            return None
        interaction, name, company = row
        if interaction.next_contact_at is None or interaction.user_id is None:
            return None
        phones = await uow.session.scalars(
            select(ClientPhone.phone)
            .where(ClientPhone.client_id == interaction.client_id)
            .order_by(ClientPhone.id)
        )
        return Reminder(
            interaction_id=interaction.id,
            client_id=interaction.client_id,
            client_name=name,
            company=company,
            user_id=interaction.user_id,
            at=interaction.next_contact_at,
            comment=interaction.comment,
            phones=tuple(phones),
        )


# --- the manager's morning push ----------------------------------------------------------


@dataclass(frozen=True)
class SegmentGroup:
    segment: str | None
    count: int
    first: tuple[ClientListItem, ...]


@dataclass(frozen=True)
class MorningPush:
    user_id: int
    today: date
    due_count: int
    overdue_count: int
    groups: tuple[SegmentGroup, ...]
    reactivation: tuple[ClientListItem, ...]
    at_risk: tuple[ClientListItem, ...]
    featured: tuple[ClientListItem, ...]  # clients that get a card button, in order

    @property
    def is_empty(self) -> bool:
        return self.due_count == 0 and not self.reactivation and not self.at_risk


def _segment_rank(segment: str | None) -> int:
    return SEGMENT_ORDER.index(segment) if segment in SEGMENT_ORDER else len(SEGMENT_ORDER)


def rotate(items: Sequence[T], day: date, count: int) -> list[T]:
    """`count` items starting at a position that moves by `count` each calendar day.

    Deterministic (the same day gives the same picks, whoever asks and however often), and
    over consecutive days it walks the whole list instead of offering the same few clients.
    """
    if len(items) <= count:
        return list(items)
    start = (day.toordinal() * count) % len(items)
    return [items[(start + i) % len(items)] for i in range(count)]


def group_by_segment(
    items: Sequence[ClientListItem], per_group: int = CLIENTS_PER_SEGMENT
) -> tuple[SegmentGroup, ...]:
    """Due clients by segment (AX first, no segment last); `items` come in call order
    (`services.lists.CALL_ORDER`), so each group keeps its first clients first."""
    groups: dict[str | None, list[ClientListItem]] = {}
    for item in items:
        groups.setdefault(item.segment, []).append(item)
    return tuple(
        SegmentGroup(segment, len(members), tuple(members[:per_group]))
        for segment, members in sorted(groups.items(), key=lambda kv: _segment_rank(kv[0]))
    )


def _unique(items: Sequence[ClientListItem]) -> tuple[ClientListItem, ...]:
    seen: set[int] = set()
    result = []
    for item in items:
        if item.client_id not in seen:
            seen.add(item.client_id)
            result.append(item)
    return tuple(result)


async def build_morning_push(uow: UnitOfWork, user_id: int, today: date) -> MorningPush:
    """A manager's morning summary for `today` (their local date)."""
    async with uow:
        due = await call_list(uow, user_id, today)
        reactivation = await reactivation_list(uow, user_id, today)
        risk = await risk_list(uow, user_id, today)
    due_ids = {item.client_id for item in due}
    # a client due today anyway is not offered again as a reactivation or risk pick
    picks = rotate(
        [i for i in reactivation if i.client_id not in due_ids], today, REACTIVATION_PICKS
    )
    at_risk = [i for i in risk if i.client_id not in due_ids][:AT_RISK_PICKS]
    return MorningPush(
        user_id=user_id,
        today=today,
        due_count=len(due),
        overdue_count=sum(1 for item in due if (item.overdue_days or 0) > 0),
        groups=group_by_segment(due),
        reactivation=tuple(picks),
        at_risk=tuple(at_risk),
        featured=_unique([*due[:FEATURED_DUE], *picks, *at_risk]),
    )
