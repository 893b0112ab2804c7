"""The head of sales' daily digest: the figures, as a frozen DTO (rendering is elsewhere).

Definitions:
- *last working day*: the period from the start of the previous working day to the start of
  today, in the head's time zone, so on a Monday it also counts calls logged over the
  weekend, and after a holiday everything since the last working day. It always holds
  exactly one working day, so each manager's plan is their `daily_call_plan`.
- *calls*: interactions with channel "call" logged by the manager (`Interaction.user_id`).
- *the past week*: Monday..Sunday before the current week, shown on the first working day
  of a week; the plan is the daily plan times the week's working days.
- *overdue*: the manager's clients whose `next_due_on` is before today.
- *new / lost / returned clients and revenue from new vs existing clients*: month to date
  and last month, exactly as `services.analytics.monthly_accounting` defines them.
- *notable migrations*: between the two latest run dates, clients that fell from A to
  B or C, or from X to Z (`services.analytics.segment_migrations`).
- *at risk*: clients whose current segment state is flagged at risk, by revenue at risk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select

from services.analytics import monthly_accounting
from services.calendar import WorkCalendar, load_calendar
from services.db.models import (
    Channel,
    Client,
    ClientSegment,
    Interaction,
    Role,
    Transaction,
    User,
)
from services.errors import AccessDenied
from services.segment_state import latest_migrations
from services.settings_store import load_segmentation_settings
from services.uow import UnitOfWork
from services.zones import resolve_zone

TOP_MIGRATIONS = 5
TOP_AT_RISK = 5
DIGEST_ROLES = frozenset({Role.HEAD, Role.ADMIN})


class DigestNotAllowed(AccessDenied):
    """Only the head of sales (and admins) get the digest."""

    code = "digest_not_allowed"

    def __init__(self) -> None:
        super().__init__("digest")


@dataclass(frozen=True)
class ManagerCalls:
    user_id: int
    name: str
    calls: int
    plan: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.calls / self.plan) if self.plan else None


@dataclass(frozen=True)
class CallsPeriod:
    start: date  # first local day of the period
    end: date  # the day after the last one
    working_days: int
    managers: tuple[ManagerCalls, ...]

    @property
    def calls(self) -> int:
        return sum(m.calls for m in self.managers)

    @property
    def plan(self) -> int:
        return sum(m.plan for m in self.managers)


@dataclass(frozen=True)
class ManagerOverdue:
    user_id: int
    name: str
    overdue: int


@dataclass(frozen=True)
class ClientFlow:
    """One month of client accounting (month to date for the current month)."""

    month: date  # its first day
    new: int
    lost: int
    returned: int
    revenue_new: Decimal
    revenue_existing: Decimal


@dataclass(frozen=True)
class NotableMigration:
    client_id: int
    name: str
    owner_name: str | None
    abc_from: str | None
    abc_to: str | None
    xyz_from: str | None
    xyz_to: str | None
    revenue: Decimal  # as of the earlier snapshot


@dataclass(frozen=True)
class RiskClient:
    client_id: int
    name: str
    owner_name: str | None
    revenue_at_risk: Decimal
    p_alive: float | None


@dataclass(frozen=True)
class Digest:
    today: date
    timezone: str
    last_day: CallsPeriod
    week: CallsPeriod | None
    overdue: tuple[ManagerOverdue, ...]
    this_month: ClientFlow
    last_month: ClientFlow
    migration_dates: tuple[date, date] | None  # (earlier, later) snapshot dates
    migrations_total: int
    migrations: tuple[NotableMigration, ...]
    at_risk_total: int
    revenue_at_risk_total: Decimal
    at_risk: tuple[RiskClient, ...]


def _local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def is_first_working_day_of_week(day: date, calendar: WorkCalendar) -> bool:
    monday = _week_start(day)
    return calendar.is_working_day(day) and calendar.working_days_in(monday, day) == 0


def _money(value: float | Decimal | None) -> Decimal:
    if value is None:
        return Decimal("0.00")
    return Decimal(str(round(float(value), 2))).quantize(Decimal("0.01"))


async def _authorize(uow: UnitOfWork, viewer_id: int) -> User:
    viewer = await uow.session.get(User, viewer_id)
    if viewer is None or not viewer.is_active or Role(viewer.role) not in DIGEST_ROLES:
        raise DigestNotAllowed()
    return viewer


async def _managers(uow: UnitOfWork) -> list[User]:
    return list(
        (
            await uow.session.scalars(
                select(User)
                .where(User.role == Role.MANAGER.value, User.is_active.is_(True))
                .order_by(User.display_name, User.id)
            )
        ).all()
    )


async def _calls_period(
    uow: UnitOfWork,
    managers: list[User],
    start: date,
    end: date,
    tz: ZoneInfo,
    calendar: WorkCalendar,
) -> CallsPeriod:
    counts = dict(
        (
            await uow.session.execute(
                select(Interaction.user_id, func.count())
                .where(
                    Interaction.user_id.in_([m.id for m in managers]),
                    Interaction.channel == Channel.CALL.value,
                    Interaction.occurred_at >= _local_midnight_utc(start, tz),
                    Interaction.occurred_at < _local_midnight_utc(end, tz),
                )
                .group_by(Interaction.user_id)
            )
        ).all()
    )
    days = calendar.working_days_in(start, end)
    return CallsPeriod(
        start=start,
        end=end,
        working_days=days,
        managers=tuple(
            ManagerCalls(m.id, m.display_name, int(counts.get(m.id, 0)), m.daily_call_plan * days)
            for m in managers
        ),
    )


async def _overdue(
    uow: UnitOfWork, managers: list[User], today: date
) -> tuple[ManagerOverdue, ...]:
    counts = dict(
        (
            await uow.session.execute(
                select(Client.owner_id, func.count())
                .where(Client.owner_id.in_([m.id for m in managers]), Client.next_due_on < today)
                .group_by(Client.owner_id)
            )
        ).all()
    )
    return tuple(ManagerOverdue(m.id, m.display_name, int(counts.get(m.id, 0))) for m in managers)


async def _client_flow(uow: UnitOfWork, today: date) -> tuple[ClientFlow, ClientFlow]:
    rows = (
        await uow.session.execute(
            select(Transaction.client_id, Transaction.date, Transaction.amount).where(
                Transaction.date <= today
            )
        )
    ).all()
    transactions = pd.DataFrame(rows, columns=["client_id", "date", "amount"])
    transactions["date"] = pd.to_datetime(transactions["date"])
    settings = await load_segmentation_settings(uow)
    table = monthly_accounting(transactions, today, settings, months=2)
    totals = table[table["manager_id"].isna()].sort_values("month")
    flows = [
        ClientFlow(
            month=row["month"].start_time.date(),
            new=int(row["new_clients"]),
            lost=int(row["lost_clients"]),
            returned=int(row["returned_clients"]),
            revenue_new=_money(row["revenue_new"]),
            revenue_existing=_money(row["revenue_existing"]),
        )
        for row in totals.to_dict("records")
    ]
    last_month, this_month = flows[-2], flows[-1]
    return this_month, last_month


def is_notable(abc_from: Any, abc_to: Any, xyz_from: Any, xyz_to: Any) -> bool:
    """A fall from A to B or C, or from X to Z."""
    return (abc_from == "A" and abc_to in ("B", "C")) or (xyz_from == "X" and xyz_to == "Z")


async def _names(uow: UnitOfWork, client_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    if not client_ids:
        return {}
    rows = (
        await uow.session.execute(
            select(Client.id, Client.name, User.display_name)
            .outerjoin(User, User.id == Client.owner_id)
            .where(Client.id.in_(client_ids))
        )
    ).all()
    return {client_id: (name, owner) for client_id, name, owner in rows}


async def _migrations(
    uow: UnitOfWork, top: int
) -> tuple[tuple[date, date] | None, int, tuple[NotableMigration, ...]]:
    latest = await latest_migrations(uow.session)
    if latest.dates is None:
        return None, 0, ()
    moved = latest.migrations
    revenue = dict(zip(moved["client_id"], moved["revenue_from"], strict=True))
    notable = [
        record
        for record in moved.astype(object).where(moved.notna(), None).to_dict("records")
        if is_notable(record["abc_from"], record["abc_to"], record["xyz_from"], record["xyz_to"])
    ]
    notable.sort(key=lambda r: (-float(revenue.get(r["client_id"]) or 0), r["client_id"]))
    shown = notable[:top]
    names = await _names(uow, [int(r["client_id"]) for r in shown])
    items = tuple(
        NotableMigration(
            client_id=int(r["client_id"]),
            name=names.get(int(r["client_id"]), ("?", None))[0],
            owner_name=names.get(int(r["client_id"]), ("?", None))[1],
            abc_from=r["abc_from"],
            abc_to=r["abc_to"],
            xyz_from=r["xyz_from"],
            xyz_to=r["xyz_to"],
            revenue=_money(revenue.get(r["client_id"])),
        )
        for r in shown
    )
    return latest.dates, len(notable), items


async def _at_risk(uow: UnitOfWork, top: int) -> tuple[int, Decimal, tuple[RiskClient, ...]]:
    flagged = select(ClientSegment).where(ClientSegment.at_risk.is_(True)).subquery()
    count, total = (
        await uow.session.execute(
            select(func.count(), func.coalesce(func.sum(flagged.c.revenue_at_risk), 0))
        )
    ).one()
    rows = (
        await uow.session.execute(
            select(
                flagged.c.client_id,
                Client.name,
                User.display_name,
                flagged.c.revenue_at_risk,
                flagged.c.p_alive,
            )
            .join(Client, Client.id == flagged.c.client_id)
            .outerjoin(User, User.id == Client.owner_id)
            .order_by(flagged.c.revenue_at_risk.desc(), flagged.c.client_id)
            .limit(top)
        )
    ).all()
    items = tuple(
        RiskClient(client_id, name, owner, _money(at_risk), p_alive)
        for client_id, name, owner, at_risk, p_alive in rows
    )
    return int(count), _money(total), items


async def build_digest(
    uow: UnitOfWork,
    viewer_id: int,
    now: datetime,
    *,
    default_timezone: str,
    today: date | None = None,
    top: int = TOP_AT_RISK,
) -> Digest:
    """The digest for the head (or admin) `viewer_id`: `today` in their zone, else `now`'s date.

    Raises `DigestNotAllowed` for managers and inactive or unknown users.
    """
    async with uow:
        calendar = await load_calendar(uow)
        viewer = await _authorize(uow, viewer_id)
        tz = resolve_zone(viewer.timezone, default_timezone)
        today = today or now.astimezone(tz).date()
        managers = await _managers(uow)
        last_day = await _calls_period(
            uow, managers, calendar.previous_working_day(today), today, tz, calendar
        )
        week = None
        if is_first_working_day_of_week(today, calendar):
            monday = _week_start(today)
            week = await _calls_period(
                uow, managers, monday - timedelta(days=7), monday, tz, calendar
            )
        overdue = await _overdue(uow, managers, today)
        this_month, last_month = await _client_flow(uow, today)
        migration_dates, migrations_total, migrations = await _migrations(uow, TOP_MIGRATIONS)
        at_risk_total, revenue_at_risk_total, at_risk = await _at_risk(uow, top)
    return Digest(
        today=today,
        timezone=tz.key,
        last_day=last_day,
        week=week,
        overdue=overdue,
        this_month=this_month,
        last_month=last_month,
        migration_dates=migration_dates,
        migrations_total=migrations_total,
        migrations=migrations,
        at_risk_total=at_risk_total,
        revenue_at_risk_total=revenue_at_risk_total,
        at_risk=at_risk,
    )
