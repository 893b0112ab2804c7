"""The manager's day at a glance: calls made against the plan, what is overdue, the week ahead.

*Calls* are interactions with channel "call" logged by the person today (their local day,
as the head's digest counts them); notes and other channels do not count. The plan is the
person's `daily_call_plan`. *Overdue* are their clients whose next contact is before today.
A head sees the same line for the whole team (the active managers), or for one manager
picked by name (`/today Смирнова`) or from the buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, func, select

from services.access import Viewer
from services.db.models import Channel, Client, Interaction, Role, User
from services.errors import AccessDenied, ManagerNotFound
from services.lists import WEEK_DAYS
from services.search.normalize import query_words
from services.uow import UnitOfWork

_WIDE_ROLES = frozenset({Role.HEAD, Role.ADMIN})


@dataclass(frozen=True)
class Manager:
    id: int
    display_name: str


@dataclass(frozen=True)
class DayProgress:
    calls: int
    plan: int
    overdue: int
    due_today: int
    owned: int  # clients the person (the team, the manager picked) has at all
    team: bool  # the figures of every active manager together
    manager: Manager | None = None  # the manager a head narrowed the figures to


@dataclass(frozen=True)
class WeekDay:
    day: date
    count: int


@dataclass(frozen=True)
class WeekAhead:
    days: tuple[WeekDay, ...]  # tomorrow and the six days after it, empty days included
    total: int
    manager: Manager | None = None

    @property
    def busy_days(self) -> tuple[WeekDay, ...]:
        return tuple(day for day in self.days if day.count)


def _day_bounds(viewer: Viewer, today: date) -> tuple[datetime, datetime]:
    zone = viewer.zone
    start = datetime.combine(today, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def _active_managers() -> Select[int]:
    return select(User.id).where(User.role == Role.MANAGER.value, User.is_active.is_(True))


async def _manager(uow: UnitOfWork, viewer: Viewer, manager_id: int | None) -> Manager | None:
    if manager_id is None:
        return None
    if viewer.role not in _WIDE_ROLES:
        raise AccessDenied("team")
    row = (
        await uow.session.execute(select(User.id, User.display_name).where(User.id == manager_id))
    ).first()
    if row is None:
        raise ManagerNotFound(str(manager_id))
    return Manager(row[0], row[1])


async def day_progress(
    uow: UnitOfWork, viewer: Viewer, now: datetime, *, manager_id: int | None = None
) -> DayProgress:
    """Today's calls against the plan and the overdue count: own, the team's or one manager's."""
    today = viewer.local_today(now)
    start, end = _day_bounds(viewer, today)
    async with uow:
        manager = await _manager(uow, viewer, manager_id)
        team = viewer.role in _WIDE_ROLES and manager is None
        calls = select(func.count(Interaction.id)).where(
            Interaction.channel == Channel.CALL.value,
            Interaction.occurred_at >= start,
            Interaction.occurred_at < end,
        )
        plan = select(func.coalesce(func.sum(User.daily_call_plan), 0))
        clients = select(func.count(Client.id))
        if team:
            managers = _active_managers().scalar_subquery()
            calls = calls.where(Interaction.user_id.in_(managers))
            plan = plan.where(User.id.in_(managers))
        else:
            person = manager.id if manager is not None else viewer.user_id
            calls = calls.where(Interaction.user_id == person)
            plan = plan.where(User.id == person)
            clients = clients.where(Client.owner_id == person)
        session = uow.session
        overdue = clients.where(Client.next_due_on < today)
        due_today = clients.where(Client.next_due_on == today)
        return DayProgress(
            calls=int(await session.scalar(calls) or 0),
            plan=int(await session.scalar(plan) or 0),
            overdue=int(await session.scalar(overdue) or 0),
            due_today=int(await session.scalar(due_today) or 0),
            owned=int(await session.scalar(clients) or 0),
            team=team,
            manager=manager,
        )


async def week_ahead(
    uow: UnitOfWork, viewer: Viewer, now: datetime, *, manager_id: int | None = None
) -> WeekAhead:
    """How many contacts fall due on each of the next seven days."""
    today = viewer.local_today(now)
    first, last = today + timedelta(days=1), today + timedelta(days=WEEK_DAYS)
    async with uow:
        manager = await _manager(uow, viewer, manager_id)
        query = (
            select(Client.next_due_on, func.count(Client.id))
            .where(Client.next_due_on >= first, Client.next_due_on <= last)
            .group_by(Client.next_due_on)
        )
        owner = viewer.scope_owner_id
        if owner is None and manager is not None:
            owner = manager.id
        if owner is not None:
            query = query.where(Client.owner_id == owner)
        counts = {day: int(count) for day, count in await uow.session.execute(query)}
    days = tuple(
        WeekDay(first + timedelta(days=n), counts.get(first + timedelta(days=n), 0))
        for n in range(WEEK_DAYS)
    )
    return WeekAhead(days, sum(day.count for day in days), manager)


async def team_managers(uow: UnitOfWork, viewer: Viewer) -> tuple[Manager, ...]:
    """The active managers a head can narrow a list to, by name."""
    if viewer.role not in _WIDE_ROLES:
        raise AccessDenied("team")
    async with uow:
        rows = await uow.session.execute(
            select(User.id, User.display_name)
            .where(User.role == Role.MANAGER.value, User.is_active.is_(True))
            .order_by(User.display_name, User.id)
        )
        return tuple(Manager(uid, name) for uid, name in rows)


async def find_manager(uow: UnitOfWork, viewer: Viewer, typed: str) -> Manager:
    """The one active manager whose name has every typed word in any form ("Смирновой")."""
    wanted = query_words(typed)
    if not wanted:
        raise ManagerNotFound(typed.strip()[:40])
    found = []
    for manager in await team_managers(uow, viewer):
        keys = {key for word in query_words(manager.display_name) for key in word.keys}
        if all(set(word.keys) & keys for word in wanted):
            found.append(manager)
    if len(found) != 1:
        raise ManagerNotFound(typed.strip()[:40])
    return found[0]
