"""The head of sales' daily digest: the figures, as a frozen DTO (rendering is elsewhere).

Definitions:
- *last working day*: the period from the start of the previous working day to the start of
  today, in the head's time zone, so on a Monday it also counts calls logged over the
  weekend, and after a holiday everything since the last working day. It always holds
  exactly one working day, so each manager's plan is their `daily_call_plan`.
- *calls*, *plan* and *overdue*: as `services.team` counts them.
- *the past week*: Monday..Sunday before the current week, shown on the first working day
  of a week against the week before it; the plan is the daily plan times the week's
  working days.
- *new / lost / returned clients and revenue from new vs existing clients*: month to date
  against the same days of the last month (`services.dashboard.month_to_date`, from the
  aggregates kept at each recompute), as `services.analytics.monthly_accounting` defines
  them; on the first working day of a week also the past week against the week before.
- *notable migrations*: between the two latest run dates, clients that fell from A to
  B or C, or from X to Z (of the changes `services.analytics.segment_migrations` reports).
- *at risk*: clients flagged at risk by the latest segment run, by revenue at risk (the
  dashboard's figures: `services.dashboard.top_at_risk`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.calendar import WorkCalendar, load_calendar
from services.dashboard import ClientFlow, client_flow, month_to_date, top_at_risk
from services.db.models import Client, Role, User
from services.errors import AccessDenied
from services.model_check import ModelCheckView, month_check
from services.segment_state import latest_migrations
from services.team import (
    CallsPeriod,
    ManagerOverdue,
    active_managers,
    calls_period,
    overdue_counts,
)
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
    value_at_risk: Decimal | None = None  # the ranking; None without a spend model

    @property
    def at_stake(self) -> Decimal:
        """The money this client puts at stake: value at risk, else revenue at risk."""
        return self.revenue_at_risk if self.value_at_risk is None else self.value_at_risk


@dataclass(frozen=True)
class WeekReview:
    """The past week against the week before it (the first working day of a week)."""

    calls: CallsPeriod
    calls_before: CallsPeriod
    flow: ClientFlow
    flow_before: ClientFlow


@dataclass(frozen=True)
class Digest:
    today: date
    timezone: str
    last_day: CallsPeriod
    week: WeekReview | None
    overdue: tuple[ManagerOverdue, ...]
    this_month: ClientFlow  # the 1st to today (or to the latest recompute, if earlier)
    last_month: ClientFlow  # the same days of the month before
    figures_as_of: date | None  # the day of the latest recompute; None: never computed
    migration_dates: tuple[date, date] | None  # (earlier, later) snapshot dates
    migrations_total: int
    migrations: tuple[NotableMigration, ...]
    at_risk_total: int
    at_stake_total: Decimal
    at_risk: tuple[RiskClient, ...]
    # the first working day of a month: how the model did on the team's own data
    model_check: ModelCheckView | None = None


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def is_first_working_day_of_month(day: date, calendar: WorkCalendar) -> bool:
    return calendar.is_working_day(day) and calendar.working_days_in(day.replace(day=1), day) == 0


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


async def _week_review(
    uow: UnitOfWork, managers: list[User], monday: date, tz: ZoneInfo, calendar: WorkCalendar
) -> WeekReview:
    past, before = monday - timedelta(days=7), monday - timedelta(days=14)
    return WeekReview(
        calls=await calls_period(uow, managers, past, monday, tz, calendar),
        calls_before=await calls_period(uow, managers, before, past, tz, calendar),
        flow=await client_flow(uow, past, monday - timedelta(days=1)),
        flow_before=await client_flow(uow, before, past - timedelta(days=1)),
    )


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
    count, total, clients = await top_at_risk(uow, top)
    items = tuple(
        RiskClient(c.client_id, c.name, c.owner_name, c.revenue_at_risk, c.p_alive, c.value_at_risk)
        for c in clients
    )
    return count, total, items


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
        managers = await active_managers(uow)
        last_day = await calls_period(
            uow, managers, calendar.previous_working_day(today), today, tz, calendar
        )
        week = None
        if is_first_working_day_of_week(today, calendar):
            week = await _week_review(uow, managers, _week_start(today), tz, calendar)
        overdue = await overdue_counts(uow, managers, today)
        months = await month_to_date(uow, today)
        migration_dates, migrations_total, migrations = await _migrations(uow, TOP_MIGRATIONS)
        at_risk_total, at_stake_total, at_risk = await _at_risk(uow, top)
        model = None
        if is_first_working_day_of_month(today, calendar):
            model = await month_check(uow, today)
    return Digest(
        today=today,
        timezone=tz.key,
        last_day=last_day,
        week=week,
        overdue=overdue,
        this_month=months.this,
        last_month=months.previous,
        figures_as_of=months.as_of,
        migration_dates=migration_dates,
        migrations_total=migrations_total,
        migrations=migrations,
        at_risk_total=at_risk_total,
        at_stake_total=at_stake_total,
        at_risk=at_risk,
        model_check=model,
    )
