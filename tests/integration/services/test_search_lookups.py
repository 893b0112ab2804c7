"""Lookups as people type them, against real databases (SQLite and PostgreSQL).

The phone tail, labels before numbers, external ids in lower case, a segment after the
name, a colleague's client, and the index kept in the database for the next start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import func, select, update

from services.db.models import Role, SearchSnapshot
from services.search import SearchIndexStore, search_clients
from services.uow import UnitOfWorkFactory
from tests.integration.services.clients_seed import (
    NOW,
    add_client,
    add_snapshot,
    add_user,
    viewer,
)

AS_OF = date(2026, 3, 1)


@pytest.fixture
async def index(uow_factory: UnitOfWorkFactory) -> AsyncIterator[SearchIndexStore]:
    store = SearchIndexStore(uow_factory)
    yield store
    await store.close()


@pytest.fixture
async def team(uow_factory: UnitOfWorkFactory) -> dict[str, int]:
    people = {
        "head": await add_user(uow_factory, "Ольга Власова", Role.HEAD),
        "anna": await add_user(uow_factory, "Анна Смирнова"),
        "ivan": await add_user(uow_factory, "Иван Петров"),
    }
    anna, ivan = people["anna"], people["ivan"]
    people["semenov"] = await add_client(
        uow_factory,
        "ИП Семёнов Евгений Андреевич",
        anna,
        phones=["79527230731"],
        city="Владимир",
        tax_id="330766405346",
    )
    people["euro"] = await add_client(
        uow_factory, "ООО «ЕвроЭлектроЮнит»", anna, tax_id="7185576911", external_id="DEMO-0000473"
    )
    people["zodchiy_tula"] = await add_client(uow_factory, "ООО «Зодчий»", anna, city="Тула")
    people["zodchiy_msk"] = await add_client(uow_factory, "ООО «Зодчий»", ivan, city="Москва")
    people["petrov_ax"] = await add_client(uow_factory, "Петров Илья", ivan, phones=["79160000731"])
    people["petrov_bz"] = await add_client(uow_factory, "Петров Олег", ivan)
    await add_snapshot(uow_factory, people["petrov_ax"], AS_OF, segment="AX")
    await add_snapshot(uow_factory, people["petrov_bz"], AS_OF, segment="BZ")
    return people


async def _names(
    uow_factory: UnitOfWorkFactory, index: SearchIndexStore, who: int, query: str, **kw: object
) -> list[str]:
    found = await search_clients(uow_factory(), index, viewer(who, **kw), query, now=NOW)
    return [f"{hit.name} ({hit.city})" for hit in found.hits]


async def test_numbers_as_people_copy_them(
    uow_factory: UnitOfWorkFactory, index: SearchIndexStore, team: dict[str, int]
) -> None:
    anna = team["anna"]
    for query in ("723-07-31", "7230731", "ИНН 330766405346", "инн: 330766405346", "0731"):
        found = await search_clients(uow_factory(), index, viewer(anna), query, now=NOW)
        assert found.card is not None and found.card.client_id == team["semenov"], query
    for query in ("ИНН 7185576911", "demo-0000473", "DEMO-0000473", "№ DEMO-0000473"):
        found = await search_clients(uow_factory(), index, viewer(anna), query, now=NOW)
        assert found.card is not None and found.card.client_id == team["euro"], query
    # the head sees two clients ending in 0731: four digits say too little
    head = await search_clients(uow_factory(), index, viewer(team["head"], Role.HEAD), "0731")
    assert head.total == 0 and head.ambiguous_tail == 2
    seven = await search_clients(uow_factory(), index, viewer(team["head"], Role.HEAD), "0000731")
    assert [hit.client_id for hit in seven.hits] == [team["petrov_ax"]]


async def test_look_alike_rows_carry_what_tells_them_apart(
    uow_factory: UnitOfWorkFactory, index: SearchIndexStore, team: dict[str, int]
) -> None:
    head = team["head"]
    found = await search_clients(uow_factory(), index, viewer(head, Role.HEAD), "Зодчий")
    assert {(hit.city, hit.owner_name) for hit in found.hits} == {
        ("Тула", "Анна Смирнова"),
        ("Москва", "Иван Петров"),
    }
    assert await _names(uow_factory, index, head, "Зодчий Петров", role=Role.HEAD) == [
        "ООО «Зодчий» (Москва)"
    ]
    assert await _names(uow_factory, index, head, "зодчий тула", role=Role.HEAD) == [
        "ООО «Зодчий» (Тула)"
    ]


async def test_a_segment_after_the_name_narrows(
    uow_factory: UnitOfWorkFactory, index: SearchIndexStore, team: dict[str, int]
) -> None:
    ivan = team["ivan"]
    for query in ("Петров AX", "петров ax", "Петров АХ"):  # Latin or Cyrillic letters
        found = await search_clients(uow_factory(), index, viewer(ivan), query)
        assert [hit.client_id for hit in found.hits] == [team["petrov_ax"]], query
        assert found.segment == "AX"
    nothing = await search_clients(uow_factory(), index, viewer(ivan), "Петров CZ")
    assert nothing.total == 0 and nothing.segment == "CZ"


async def test_a_colleagues_client_says_whose_it_is(
    uow_factory: UnitOfWorkFactory, index: SearchIndexStore, team: dict[str, int]
) -> None:
    anna, ivan = team["anna"], team["ivan"]
    found = await search_clients(uow_factory(), index, viewer(ivan), "Семёнов", now=NOW)
    assert found.total == 0 and found.card is None and found.hits == ()
    assert [(m.owner_id, m.owner_name, m.count, m.client_name) for m in found.elsewhere] == [
        (anna, "Анна Смирнова", 1, "ИП Семёнов Евгений Андреевич")
    ]
    by_phone = await search_clients(uow_factory(), index, viewer(ivan), "+7 952 723-07-31")
    assert by_phone.total == 0 and by_phone.elsewhere[0].owner_id == anna
    # the company lets everyone see everyone's clients: the card itself
    wide = await search_clients(
        uow_factory(), index, viewer(ivan, visibility="all"), "Семёнов", now=NOW
    )
    assert wide.card is not None and wide.elsewhere == ()
    # their own match is all a manager is shown
    own = await search_clients(uow_factory(), index, viewer(ivan), "Зодчий", now=NOW)
    assert own.card is not None and own.elsewhere == ()
    nobody = await search_clients(uow_factory(), index, viewer(ivan), "Ромашка")
    assert nobody.total == 0 and nobody.elsewhere == ()


async def test_a_restart_answers_from_the_kept_index(
    uow_factory: UnitOfWorkFactory, team: dict[str, int]
) -> None:
    first = SearchIndexStore(uow_factory)
    await search_clients(uow_factory(), first, viewer(team["anna"]), "Семёнов")
    deadline = time.monotonic() + 10
    while True:  # the build is written in the background
        async with uow_factory() as uow:
            kept = await uow.session.scalar(select(func.count()).select_from(SearchSnapshot))
        if kept or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    await first.close()
    assert kept == 1 and not first.started_from_kept_index

    # a client added while the bot was down is there too: the stamp moved on
    added = await add_client(uow_factory, "Семёнова Ирина", team["anna"])
    second = SearchIndexStore(uow_factory)
    second.start()
    found = await search_clients(uow_factory(), second, viewer(team["anna"]), "Семёнова")
    assert [hit.client_id for hit in found.hits] == [added, team["semenov"]]
    assert second.started_from_kept_index
    await second.close()

    # an index kept by other code (older rules) is never read: a build answers instead
    async with uow_factory() as uow:
        await uow.session.execute(update(SearchSnapshot).values(rules="older-rules"))
        await uow.commit()
    third = SearchIndexStore(uow_factory)
    found = await search_clients(uow_factory(), third, viewer(team["anna"]), "Семёнова")
    assert [hit.client_id for hit in found.hits] == [added, team["semenov"]]
    assert not third.started_from_kept_index
    await third.close()
