"""Call lists, reactivation and risk lists on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.db.models import Role
from services.lists import (
    ClientListItem,
    ListKind,
    call_list,
    list_page,
    reactivation_list,
    risk_list,
)
from services.uow import UnitOfWorkFactory
from tests.integration.services.clients_seed import (
    NOW,
    TODAY,
    add_client,
    add_snapshot,
    add_user,
    viewer,
)

OLD = date(2026, 1, 1)


async def _read(uow_factory: UnitOfWorkFactory, query: Any, *args: Any) -> list[ClientListItem]:
    """Run one of the list queries in a unit of work of its own."""
    async with uow_factory() as uow:
        return list(await query(uow, *args))


LATEST = date(2026, 3, 1)


async def test_call_list_order_scope_and_horizon(uow_factory: UnitOfWorkFactory) -> None:
    anna = await add_user(uow_factory, "Анна")
    john = await add_user(uow_factory, "John")

    async def client(name: str, owner: int, due_in: int, segment: str | None, **kw: object) -> int:
        cid = await add_client(
            uow_factory, name, owner, next_due_on=TODAY + timedelta(days=due_in), **kw
        )
        if segment:
            await add_snapshot(uow_factory, cid, LATEST, segment=segment, revenue=Decimal(500))
        return cid

    c_overdue_5 = await client("Ц просрочен 5", anna, -5, "CZ")
    b_overdue_1 = await client("Б просрочен 1", anna, -1, "BY")
    a_today = await client("А сегодня", anna, 0, "AX")
    a_overdue_2 = await client("А просрочен 2", anna, -2, "AY")
    vip_today = await client("VIP сегодня", anna, 0, None, is_vip=True)
    no_snapshot = await client("Без снимка", anna, -3, None)
    tomorrow = await client("Завтра", anna, 1, "AX")
    johns = await client("Клиент Джона", john, -10, "AX")
    # an older snapshot saying "A" must not lift a client now in B
    await add_snapshot(uow_factory, b_overdue_1, OLD, segment="AX")

    items = await _read(uow_factory, call_list, anna, TODAY)
    assert [i.client_id for i in items] == [
        vip_today,
        a_overdue_2,
        a_today,
        c_overdue_5,
        no_snapshot,
        b_overdue_1,
    ]
    first = items[1]
    assert (first.abc, first.xyz, first.segment, first.overdue_days) == ("A", "Y", "AY", 2)
    assert first.revenue_12m == Decimal(500) and first.owner_name == "Анна"
    assert items[0].abc is None and items[0].is_vip

    ahead = await _read(
        uow_factory, lambda uow, *a: call_list(uow, *a, horizon_days=1), anna, TODAY
    )
    assert tomorrow in {i.client_id for i in ahead} and len(ahead) == 7
    everyone = await _read(uow_factory, call_list, None, TODAY)
    assert [i.client_id for i in everyone[:2]] == [vip_today, johns] and len(everyone) == 7


async def test_reactivation_and_risk_use_the_latest_snapshot(
    uow_factory: UnitOfWorkFactory,
) -> None:
    anna = await add_user(uow_factory, "Анна")
    john = await add_user(uow_factory, "John")
    small = await add_client(uow_factory, "Малый", anna)
    big = await add_client(uow_factory, "Крупный", anna)
    recovered = await add_client(uow_factory, "Вернулся", anna)
    johns = await add_client(uow_factory, "Клиент Джона", john)
    await add_snapshot(
        uow_factory,
        small,
        LATEST,
        segment="CZ",
        revenue=Decimal(100),
        reactivation=True,
        at_risk=True,
        revenue_at_risk=Decimal(900),
        p_alive=0.3,
    )
    await add_snapshot(
        uow_factory,
        big,
        LATEST,
        segment="AZ",
        revenue=Decimal(9000),
        reactivation=True,
        at_risk=True,
        revenue_at_risk=Decimal(50),
    )
    await add_snapshot(uow_factory, recovered, OLD, reactivation=True, at_risk=True)
    await add_snapshot(uow_factory, recovered, LATEST, reactivation=False, at_risk=False)
    await add_snapshot(uow_factory, johns, LATEST, reactivation=True, at_risk=True)

    reactivate = await _read(uow_factory, reactivation_list, anna, TODAY)
    assert [i.client_id for i in reactivate] == [big, small]
    risky = await _read(uow_factory, risk_list, anna, TODAY)
    assert [i.client_id for i in risky] == [small, big]
    assert risky[0].revenue_at_risk == Decimal(900) and risky[0].p_alive == 0.3
    assert {i.client_id for i in await _read(uow_factory, risk_list, None, TODAY)} == {
        small,
        big,
        johns,
    }


async def test_pages_counts_scope_and_the_viewers_today(uow_factory: UnitOfWorkFactory) -> None:
    anna = await add_user(uow_factory, "Анна")
    head = await add_user(uow_factory, "Ольга", Role.HEAD)
    john = await add_user(uow_factory, "John")
    for number in range(12):
        await add_client(uow_factory, f"Клиент {number:02d}", anna, next_due_on=TODAY)
    await add_client(uow_factory, "Клиент Джона", john, next_due_on=TODAY)
    await add_client(uow_factory, "Через неделю", anna, next_due_on=TODAY + timedelta(days=7))
    await add_client(uow_factory, "Через 8 дней", anna, next_due_on=TODAY + timedelta(days=8))

    mine = await list_page(uow_factory(), viewer(anna), ListKind.TODAY, page=1, now=NOW)
    assert (mine.total, mine.pages, mine.page, len(mine.items)) == (12, 2, 1, 2)
    assert not mine.show_owner and mine.today == TODAY
    everyone = await list_page(uow_factory(), viewer(head, Role.HEAD), ListKind.TODAY, now=NOW)
    assert everyone.total == 13 and everyone.show_owner and len(everyone.items) == 10
    clamped = await list_page(uow_factory(), viewer(anna), ListKind.TODAY, page=7, now=NOW)
    assert clamped.page == 1

    week = await list_page(uow_factory(), viewer(anna), ListKind.WEEK, now=NOW)
    assert [i.name for i in week.items] == ["Через неделю"]

    # 22:30 UTC on 1 March is already 2 March in Moscow, still 1 March in London
    late = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
    moscow = await list_page(uow_factory(), viewer(anna), ListKind.TODAY, now=late)
    london = await list_page(
        uow_factory(), viewer(anna, timezone="Europe/London"), ListKind.TODAY, now=late
    )
    assert (moscow.total, london.total) == (12, 0)
    empty = await list_page(uow_factory(), viewer(anna), ListKind.RISK, now=NOW)
    assert (empty.total, empty.pages, empty.items) == (0, 1, ())
