"""The client card, history, VIP and lookup against real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from services.access import ensure_can_access
from services.clients import (
    ChurnRisk,
    HistoryKind,
    get_card,
    get_history,
    set_vip,
)
from services.db.engine import make_engine, make_session_factory
from services.db.models import Client, Outcome, Role
from services.db.versions import clients_changed
from services.errors import AccessDenied, ClientNotFound
from services.search import SearchIndexStore, search_clients
from services.uow import UnitOfWorkFactory
from services.users import reassign_clients
from tests.integration.services.clients_seed import (
    NOW,
    TODAY,
    add_client,
    add_interaction,
    add_purchase,
    add_snapshot,
    add_user,
    viewer,
)


@pytest.fixture
async def index(uow_factory: UnitOfWorkFactory) -> AsyncIterator[SearchIndexStore]:
    """This test's name index of its database."""
    store = SearchIndexStore(uow_factory)
    yield store
    await store.close()


async def _eventually_found(
    uow_factory: UnitOfWorkFactory, index: SearchIndexStore, anna: int, query: str
) -> list[str]:
    """The index rebuilds in the background: the new name shows within seconds."""
    for _ in range(200):
        found = await search_clients(uow_factory(), index, viewer(anna), query)
        if found.total:
            return [h.name for h in found.hits]
        await asyncio.sleep(0.025)
    return []


async def test_card_shows_what_a_manager_needs(uow_factory: UnitOfWorkFactory) -> None:
    anna = await add_user(uow_factory, "Анна Смирнова")
    client = await add_client(
        uow_factory,
        "Иванов Пётр",
        anna,
        company="ООО «Ромашка»",
        phones=["79123456789"],
        tax_id="7701234567",
        is_vip=True,
        vip_reason="Ключевой",
        next_due_on=TODAY - timedelta(days=3),
    )
    await add_snapshot(uow_factory, client, date(2026, 1, 1), segment="CZ", p_alive=0.2)
    await add_snapshot(
        uow_factory,
        client,
        date(2026, 3, 1),
        segment="AX",
        p_alive=0.65,
        risk="medium",
        cross_sell=["Чай", "Сиропы"],
    )
    await add_purchase(uow_factory, client, date(2025, 3, 1), "1000000")  # older than a year
    await add_purchase(uow_factory, client, date(2025, 6, 1), "1234567.50")
    await add_purchase(uow_factory, client, date(2026, 2, 20), "1000")
    await add_interaction(
        uow_factory, client, anna, NOW - timedelta(days=1), Outcome.CALL_BACK, "Перезвонить"
    )

    card = await get_card(uow_factory(), viewer(anna), client, NOW)

    assert (card.name, card.company, card.owner_name) == (
        "Иванов Пётр",
        "ООО «Ромашка»",
        "Анна Смирнова",
    )
    assert card.is_vip and card.vip_reason == "Ключевой"
    assert card.snapshot is not None and card.segment == "AX"  # the latest snapshot wins
    assert card.churn_risk is ChurnRisk.MEDIUM
    assert card.snapshot.cross_sell == ("Чай", "Сиропы")
    assert (card.last_purchase_on, card.last_purchase_amount) == (date(2026, 2, 20), Decimal(1000))
    assert card.revenue_12m == Decimal("1235567.50")
    assert card.last_interaction is not None
    assert card.last_interaction.user_name == "Анна Смирнова"
    assert card.last_interaction.outcome == Outcome.CALL_BACK
    assert card.last_interaction.comment == "Перезвонить"
    assert (card.next_due, card.overdue_days, card.today) == (TODAY - timedelta(days=3), 3, TODAY)
    assert card.phones == ("+7 912 345-67-89",)
    assert not card.can_set_vip


async def test_card_without_history_or_snapshot(uow_factory: UnitOfWorkFactory) -> None:
    anna = await add_user(uow_factory, "Анна")
    client = await add_client(uow_factory, "Новый клиент", anna, phones=[])
    card = await get_card(uow_factory(), viewer(anna), client, NOW)
    assert card.snapshot is None and card.churn_risk is None
    assert card.last_purchase_on is None and card.revenue_12m == Decimal(0)
    assert card.last_interaction is None and card.next_due is None and card.overdue_days == 0


async def test_card_shows_the_stored_risk_band_never_a_second_one(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """A lost client has left: no risk band, whatever its P(alive)."""
    anna = await add_user(uow_factory, "Анна")
    client = await add_client(uow_factory, "Ушедший", anna)
    await add_snapshot(uow_factory, client, date(2026, 3, 1), status="lost", p_alive=0.3)
    card = await get_card(uow_factory(), viewer(anna), client, NOW)
    assert card.status == "lost" and card.churn_risk is None


async def test_access_follows_role_and_visibility(uow_factory: UnitOfWorkFactory) -> None:
    anna = await add_user(uow_factory, "Анна")
    john = await add_user(uow_factory, "John")
    head = await add_user(uow_factory, "Ольга", Role.HEAD)
    johns = await add_client(uow_factory, "Клиент Джона", john)

    with pytest.raises(AccessDenied):
        await get_card(uow_factory(), viewer(anna), johns, NOW)
    with pytest.raises(AccessDenied):
        await ensure_can_access(uow_factory(), viewer(anna), johns)
    await ensure_can_access(uow_factory(), viewer(anna, visibility="all"), johns)
    await ensure_can_access(uow_factory(), viewer(head, Role.HEAD), johns)
    with pytest.raises(ClientNotFound):
        await get_card(uow_factory(), viewer(head, Role.HEAD), johns + 100, NOW)


async def test_history_is_newest_first_and_paged(uow_factory: UnitOfWorkFactory) -> None:
    anna = await add_user(uow_factory, "Анна")
    client = await add_client(uow_factory, "Клиент", anna)
    for day in range(1, 6):  # purchases on 1..5 February, calls at noon on 1..5 February
        await add_purchase(uow_factory, client, date(2026, 2, day), f"{day}00")
        await add_interaction(
            uow_factory, client, anna, NOW.replace(month=2, day=day), comment=f"звонок {day}"
        )

    first = await get_history(uow_factory(), viewer(anna), client, page=0, page_size=4)
    assert (first.total, first.pages, first.page) == (10, 3, 0)
    kinds = [(e.kind, e.day.day) for e in first.entries]
    assert kinds == [
        (HistoryKind.INTERACTION, 5),
        (HistoryKind.PURCHASE, 5),
        (HistoryKind.INTERACTION, 4),
        (HistoryKind.PURCHASE, 4),
    ]
    last = await get_history(uow_factory(), viewer(anna), client, page=2, page_size=4)
    assert [(e.kind, e.day.day) for e in last.entries] == [
        (HistoryKind.INTERACTION, 1),
        (HistoryKind.PURCHASE, 1),
    ]
    assert last.entries[1].amount == Decimal(100)
    clamped = await get_history(uow_factory(), viewer(anna), client, page=99, page_size=4)
    assert clamped.page == 2


async def test_vip_needs_the_right_role(uow_factory: UnitOfWorkFactory) -> None:
    anna = await add_user(uow_factory, "Анна")
    head = await add_user(uow_factory, "Ольга", Role.HEAD)
    client = await add_client(uow_factory, "Клиент", anna)

    with pytest.raises(AccessDenied):
        await set_vip(uow_factory(), viewer(anna), client, is_vip=True, now=NOW)
    card = await set_vip(
        uow_factory(), viewer(head, Role.HEAD), client, is_vip=True, reason="  Крупный  ", now=NOW
    )
    assert card.is_vip and card.vip_reason == "Крупный"
    card = await set_vip(
        uow_factory(), viewer(anna, managers_can_set_vip=True), client, is_vip=False, now=NOW
    )
    assert not card.is_vip and card.vip_reason is None
    assert not (await get_card(uow_factory(), viewer(anna), client, NOW)).is_vip


async def test_lookup_by_phone_tax_id_external_id_and_name(
    uow_factory: UnitOfWorkFactory, index: SearchIndexStore
) -> None:
    anna = await add_user(uow_factory, "Анна")
    ivanov = await add_client(
        uow_factory,
        "Иванов Пётр",
        anna,
        company="Ромашка",
        phones=["79123456789"],
        tax_id="7701234567",
        external_id="CRM-42",
    )
    await add_client(uow_factory, "Петров Иван", anna)
    ivanova = await add_client(uow_factory, "Иванова Мария", anna)

    for query in ("8 (912) 345-67-89", "+79123456789", "9123456789", "7701234567", "CRM-42"):
        found = await search_clients(uow_factory(), index, viewer(anna), query, now=NOW)
        assert [h.client_id for h in found.hits] == [ivanov], query
        assert found.card is not None and found.card.client_id == ivanov

    for query in ("иванов", "IVANOV", "Иванову", "Ивонов"):
        found = await search_clients(uow_factory(), index, viewer(anna), query, now=NOW)
        assert {h.client_id for h in found.hits} == {ivanov, ivanova}, query
        assert found.card is None and found.total == 2

    found = await search_clients(uow_factory(), index, viewer(anna), "Ivanova Maria", now=NOW)
    assert [h.client_id for h in found.hits] == [ivanova]
    nothing = await search_clients(uow_factory(), index, viewer(anna), "Сидоров", now=NOW)
    assert nothing.total == 0 and nothing.hits == ()
    nothing = await search_clients(uow_factory(), index, viewer(anna), "8 999 000-00-00", now=NOW)
    assert nothing.total == 0


async def test_lookup_respects_visibility_and_pages(
    uow_factory: UnitOfWorkFactory, index: SearchIndexStore
) -> None:
    anna = await add_user(uow_factory, "Анна")
    john = await add_user(uow_factory, "John")
    for number in range(12):
        await add_client(uow_factory, f"Смирнов {number:02d}", anna)
    johns = await add_client(uow_factory, "Смирнов Джона", john, phones=["79990001122"])

    mine = await search_clients(uow_factory(), index, viewer(anna), "смирнов", page=1)
    assert (mine.total, mine.pages, mine.page, len(mine.hits)) == (12, 2, 1, 2)
    assert johns not in {h.client_id for h in mine.hits}
    assert not mine.show_owner
    by_phone = await search_clients(uow_factory(), index, viewer(anna), "+7 999 000-11-22")
    assert by_phone.total == 0 and by_phone.hits == ()  # only whose client it is, below
    assert [m.owner_id for m in by_phone.elsewhere] == [john]

    wide = await search_clients(uow_factory(), index, viewer(anna, visibility="all"), "смирнов")
    assert wide.total == 13 and wide.show_owner

    # a client added after the index was built is found at once
    newest = await add_client(uow_factory, "Смирнова Ольга", anna)
    again = await search_clients(uow_factory(), index, viewer(anna), "смирнова ольга", now=NOW)
    assert [h.client_id for h in again.hits] == [newest]


async def test_renames_elsewhere_show_within_seconds(
    db_url: str, uow_factory: UnitOfWorkFactory, index: SearchIndexStore
) -> None:
    """Another process (here: another engine) renames a client and stamps the change."""
    anna = await add_user(uow_factory, "Анна")
    client = await add_client(uow_factory, "Старое Название", anna)
    assert (await search_clients(uow_factory(), index, viewer(anna), "старое")).total == 1
    other = make_engine(db_url)
    try:
        async with UnitOfWorkFactory(make_session_factory(other))() as uow:
            row = await uow.session.get(Client, client)
            assert row is not None
            row.name = "Новое Имя"
            await clients_changed(uow)
            await uow.commit()
    finally:
        await other.dispose()
    assert await _eventually_found(uow_factory, index, anna, "новое имя") == ["Новое Имя"]
    assert (await search_clients(uow_factory(), index, viewer(anna), "старое")).total == 0


async def test_clients_handed_over_are_found_by_their_new_manager(
    uow_factory: UnitOfWorkFactory, index: SearchIndexStore
) -> None:
    head = await add_user(uow_factory, "Ольга", Role.HEAD)
    anna = await add_user(uow_factory, "Анна")
    john = await add_user(uow_factory, "John")
    await add_client(uow_factory, "Ромашка", john)
    assert (await search_clients(uow_factory(), index, viewer(anna), "ромашка")).total == 0
    await reassign_clients(uow_factory(), actor_id=head, source_id=john, target_id=anna)
    assert await _eventually_found(uow_factory, index, anna, "ромашка") == ["Ромашка"]
