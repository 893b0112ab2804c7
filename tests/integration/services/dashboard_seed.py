"""A small base whose dashboard figures are computed by hand (see `EXPECTED`).

Today is Wednesday 9 December 2026 in Moscow; the aggregates are refreshed as of that day.
Month to date is 1–9 December against 1–9 November.

Purchases (cycle = median gap; dormant after 1.5 cycles, lost after min(4 cycles, 365)):
- Ромашка (Анна): first purchase 2 Dec (new in Dec), a return of 100 on 6 Dec.
- Лютик (Анна): first purchase 5 Nov (new in Nov, within the same days), again 20 Nov.
- Василёк (Анна): three purchases a month apart in 2025, back on 3 Dec 2026 (returned).
- Клевер (Борис): 1 May, 1 Jun, 1 Jul 2026 (cycle 30.5): lost on 1 Nov.
- Одуванчик (Борис): 1, 11, 21 Aug 2026 (cycle 10): lost on 1 Oct.
- Пион (Борис): never bought.
- Мак (no manager): first purchase 5 Dec (new).

Segment snapshots on 9 Dec (an older one on 1 Dec must not count):
Ромашка AX 1000, Лютик AX 500 (at risk 200), Василёк BY 300, Клевер AX 700 (at risk 100),
Одуванчик CZ 100, Пион none, Мак BY 400 (at risk 50).

Calls (Moscow): Анна 2 today, 3 on Monday 7 Dec, 4 on 1 Dec, 1 on 30 Nov; Борис 1 today
and an e-mail on 8 Dec (not a call); an inactive manager 1 today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.dashboard import refresh_aggregates
from services.db.models import Channel, Role
from services.uow import UnitOfWorkFactory
from tests.integration.services.push_seed import (
    add_call,
    add_client,
    add_purchase,
    add_snapshot,
    add_user,
)

MSK = ZoneInfo("Europe/Moscow")
TODAY = date(2026, 12, 9)
NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)  # 15:00 in Moscow
HEAD_TG, ADMIN_TG, ANNA_TG, BORIS_TG, GONE_TG = 1001, 1000, 2001, 2002, 2003


@dataclass(frozen=True)
class DashboardBase:
    head: int
    admin: int
    anna: int
    boris: int
    gone: int
    clients: dict[str, int]


def msk(month: int, day: int, hour: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=MSK)


async def seed_dashboard_base(uow_factory: UnitOfWorkFactory) -> DashboardBase:
    head = await add_user(uow_factory, "Ольга Петрова", HEAD_TG, Role.HEAD, language="ru")
    admin = await add_user(uow_factory, "Админ", ADMIN_TG, Role.ADMIN, language="en")
    anna = await add_user(uow_factory, "Анна Смирнова", ANNA_TG, daily_call_plan=20)
    boris = await add_user(uow_factory, "Борис Котов", BORIS_TG, daily_call_plan=10)
    gone = await add_user(uow_factory, "Уволен", GONE_TG, is_active=False)
    c = {
        "romashka": await add_client(uow_factory, "Ромашка", anna, next_due_on=date(2026, 12, 1)),
        "lyutik": await add_client(uow_factory, "Лютик", anna, next_due_on=date(2026, 12, 20)),
        "vasilek": await add_client(uow_factory, "Василёк", anna),
        "klever": await add_client(uow_factory, "Клевер", boris, next_due_on=date(2026, 11, 1)),
        "oduvanchik": await add_client(
            uow_factory, "Одуванчик", boris, next_due_on=date(2026, 12, 8)
        ),
        "pion": await add_client(uow_factory, "Пион", boris, next_due_on=date(2026, 12, 9)),
        "mak": await add_client(uow_factory, "Мак", None),
    }
    purchases = [
        ("romashka", date(2026, 12, 2), "1000.00"),
        ("romashka", date(2026, 12, 6), "-100.00"),
        ("lyutik", date(2026, 11, 5), "500.00"),
        ("lyutik", date(2026, 11, 20), "300.00"),
        ("vasilek", date(2025, 1, 10), "100.00"),
        ("vasilek", date(2025, 2, 10), "100.00"),
        ("vasilek", date(2025, 3, 12), "100.00"),
        ("vasilek", date(2026, 12, 3), "200.00"),
        ("klever", date(2026, 5, 1), "50.00"),
        ("klever", date(2026, 6, 1), "50.00"),
        ("klever", date(2026, 7, 1), "50.00"),
        ("oduvanchik", date(2026, 8, 1), "20.00"),
        ("oduvanchik", date(2026, 8, 11), "20.00"),
        ("oduvanchik", date(2026, 8, 21), "20.00"),
        ("mak", date(2026, 12, 5), "300.00"),
        ("mak", date(2026, 12, 10), "999.00"),  # after today: not known yet
    ]
    for name, day, amount in purchases:
        await add_purchase(uow_factory, c[name], day, amount)

    snapshots = {  # name: (abc, xyz, revenue, at_risk, revenue at risk)
        "romashka": ("A", "X", 1000, False, 0),
        "lyutik": ("A", "X", 500, True, 200),
        "vasilek": ("B", "Y", 300, False, 0),
        "klever": ("A", "X", 700, True, 100),
        "oduvanchik": ("C", "Z", 100, False, 0),
        "pion": (None, None, 0, False, 0),
        "mak": ("B", "Y", 400, True, 50),
    }
    for name, (abc, xyz, revenue, at_risk, amount) in snapshots.items():
        # an older run said otherwise: only the latest one counts
        await add_snapshot(
            uow_factory, c[name], date(2026, 12, 1), abc="C", xyz="Z", revenue=Decimal(1)
        )
        await add_snapshot(
            uow_factory,
            c[name],
            TODAY,
            abc=abc,
            xyz=xyz,
            status="potential" if abc is None else "active",
            revenue=Decimal(revenue),
            at_risk=at_risk,
            revenue_at_risk=Decimal(amount),
            p_alive=0.3 if at_risk else 0.9,
        )

    calls = [
        (anna, "romashka", msk(12, 9, 10)),
        (anna, "lyutik", msk(12, 9, 11)),
        (anna, "romashka", msk(12, 7)),
        (anna, "lyutik", msk(12, 7, 12)),
        (anna, "vasilek", msk(12, 7, 13)),
        *((anna, "vasilek", msk(12, 1, hour)) for hour in (10, 11, 12, 13)),
        (anna, "romashka", msk(11, 30)),
        (boris, "klever", msk(12, 9, 9)),
        (gone, "klever", msk(12, 9, 9)),
    ]
    for user, name, moment in calls:
        await add_call(uow_factory, c[name], user, moment)
    await add_call(uow_factory, c["klever"], boris, msk(12, 8), channel=Channel.EMAIL)
    await refresh_aggregates(uow_factory(), TODAY)
    return DashboardBase(head, admin, anna, boris, gone, c)
