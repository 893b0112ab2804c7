"""The team's live figures: who the active managers are, their calls and overdue contacts.

Counted straight from `interactions` and `clients` on each request: both have an index
that answers these counts in milliseconds at any size of the base, and a logged call or a
rescheduled contact shows at once. The digest and the dashboard read the same figures.

- *calls*: interactions with channel "call" logged by the manager (`Interaction.user_id`)
  between local midnights of the period in the given time zone;
- *plan*: the manager's `daily_call_plan` times the working days of the period;
- *overdue*: the manager's clients whose `next_due_on` is before today.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from services.calendar import WorkCalendar
from services.db.models import Channel, Client, Interaction, Role, User
from services.uow import UnitOfWork


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

    def of(self, user_id: int) -> ManagerCalls | None:
        return next((m for m in self.managers if m.user_id == user_id), None)


@dataclass(frozen=True)
class ManagerOverdue:
    user_id: int
    name: str
    overdue: int


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


async def active_managers(uow: UnitOfWork) -> list[User]:
    """Active managers by name; call inside `async with uow`."""
    return list(
        (
            await uow.session.scalars(
                select(User)
                .where(User.role == Role.MANAGER.value, User.is_active.is_(True))
                .order_by(User.display_name, User.id)
            )
        ).all()
    )


async def calls_period(
    uow: UnitOfWork,
    managers: Sequence[User],
    start: date,
    end: date,
    tz: ZoneInfo,
    calendar: WorkCalendar,
) -> CallsPeriod:
    """Each manager's calls in the local days [start, end) against plan; inside `async with uow`."""
    counts = dict(
        (
            await uow.session.execute(
                select(Interaction.user_id, func.count())
                .where(
                    Interaction.user_id.in_([m.id for m in managers]),
                    Interaction.channel == Channel.CALL.value,
                    Interaction.occurred_at >= local_midnight_utc(start, tz),
                    Interaction.occurred_at < local_midnight_utc(end, tz),
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


async def overdue_counts(
    uow: UnitOfWork, managers: Sequence[User], today: date
) -> tuple[ManagerOverdue, ...]:
    """Each manager's clients due before `today`; inside `async with uow`."""
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
