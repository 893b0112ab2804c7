"""Clients added and edited from the chat, notes, hand-over and the day's figures, against
real databases (SQLite and PostgreSQL). A later import matches a chat-made client."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.client_records import (
    ClientKind,
    NewClient,
    add_note,
    clean_phones,
    clean_tax_id,
    create_client,
    hand_over_client,
    update_contacts,
    voice_file_id,
)
from services.clients import HistoryKind, get_history
from services.day import day_progress, find_manager, week_ahead
from services.db.models import (
    Channel,
    Client,
    ClientDraft,
    ClientNote,
    ClientPhone,
    Interaction,
    Outcome,
    Role,
)
from services.db.versions import CLIENTS, read_version
from services.digest import build_digest
from services.errors import (
    AccessDenied,
    ClientAlreadyExists,
    InvalidPhone,
    InvalidReassignTarget,
    InvalidTaxId,
    ManagerNotFound,
)
from services.importing import import_clients
from services.uow import UnitOfWorkFactory
from tests.integration.services.clients_seed import (
    NOW,
    TODAY,
    add_client,
    add_interaction,
    add_user,
    viewer,
)

VALID_INN = "7707083893"


async def _count(uow_factory: UnitOfWorkFactory, model: type, *where: object) -> int:
    async with uow_factory() as uow:
        query = select(func.count()).select_from(model)
        return int(await uow.session.scalar(query.where(*where) if where else query) or 0)


async def _stamp(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        return await read_version(uow, CLIENTS)


def test_tax_ids_and_phones_are_checked() -> None:
    assert clean_tax_id("ИНН 7707 083 893") == VALID_INN
    assert clean_tax_id("500100732259") == "500100732259"
    for bad in ("7707083894", "12345", "77070838931234567890", "ИНН", "7707083893\x00"):
        with pytest.raises(InvalidTaxId):
            clean_tax_id(bad)
    assert clean_phones("8 916 123-45-67; +7 (495) 000-00-00") == ("79161234567", "74950000000")
    for bad in ("12345", "позвонить", "", "1" * 20):
        with pytest.raises(InvalidPhone):
            clean_phones(bad)


async def test_a_client_added_from_the_chat_is_the_managers_and_saved_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    anna = await add_user(uow_factory, "Анна Смирнова")
    stamp = await _stamp(uow_factory)
    new = NewClient(
        ClientKind.COMPANY, "  ООО  «Незабудка» ", ("79165554433",), f"ИНН {VALID_INN}", "Калуга"
    )
    # a double tap: the same draft twice at once, then once more
    first, second = await asyncio.gather(
        create_client(uow_factory(), viewer(anna), "draft-1", new, now=NOW),
        create_client(uow_factory(), viewer(anna), "draft-1", new, now=NOW),
    )
    third = await create_client(uow_factory(), viewer(anna), "draft-1", new, now=NOW)
    assert first.client_id == second.client_id == third.client_id
    assert sorted([first.created, second.created, third.created]) == [False, False, True]
    assert await _count(uow_factory, Client) == 1
    assert await _count(uow_factory, ClientDraft) == 1
    assert await _count(uow_factory, ClientPhone) == 1
    assert await _stamp(uow_factory) > stamp  # the search index hears of it
    async with uow_factory() as uow:
        client = await uow.session.get(Client, first.client_id)
        assert client is not None
        assert (client.name, client.company, client.owner_id, client.tax_id, client.city) == (
            "ООО «Незабудка»",
            "ООО «Незабудка»",
            anna,
            VALID_INN,
            "Калуга",
        )
        assert client.phones == "+7 916 555-44-33"

    # another draft with the same ИНН: the client exists already, whoever's it is
    john = await add_user(uow_factory, "John Carter")
    with pytest.raises(ClientAlreadyExists) as exists:
        await create_client(uow_factory(), viewer(john), "draft-2", new, now=NOW)
    assert exists.value.client_id == first.client_id
    assert exists.value.owner_name == "Анна Смирнова" and not exists.value.visible
    assert await _count(uow_factory, Client) == 1


async def test_a_later_import_with_the_same_inn_updates_the_chat_client(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    anna = await add_user(uow_factory, "Анна Смирнова")
    new = NewClient(ClientKind.COMPANY, "Незабудка", (), VALID_INN, None)
    made = await create_client(uow_factory(), viewer(anna), "draft-1", new, now=NOW)
    export = tmp_path / "clients.csv"
    export.write_text(
        "Код;Клиент;ИНН;Город\nC-77;ООО «Незабудка» (Калуга);" + VALID_INN + ";Калуга\n",
        encoding="utf-8",
    )
    report = await import_clients(uow_factory(), export)
    assert report.rows_imported == 0 and report.rows_updated == 1
    assert await _count(uow_factory, Client) == 1
    async with uow_factory() as uow:
        client = await uow.session.get(Client, made.client_id)
        assert client is not None
        assert (client.external_id, client.city, client.owner_id) == ("C-77", "Калуга", anna)
    # and the next import of the same export matches it by the external id it now has
    again = tmp_path / "again.csv"
    again.write_text("Код;Клиент\nC-77;Незабудка-Калуга\n", encoding="utf-8")
    assert (await import_clients(uow_factory(), again)).rows_imported == 0
    assert await _count(uow_factory, Client) == 1


async def test_contacts_notes_and_the_history(uow_factory: UnitOfWorkFactory) -> None:
    anna = await add_user(uow_factory, "Анна Смирнова")
    john = await add_user(uow_factory, "John Carter")
    client = await add_client(uow_factory, "ООО «Лютик»", anna, phones=["74951112233"])
    stamp = await _stamp(uow_factory)
    card = await update_contacts(
        uow_factory(),
        viewer(anna),
        client,
        now=NOW,
        phones=("74951112233", "79997654321"),
        email="zakaz@lyutik.ru",
        city="Тверь",
    )
    assert card.phones == ("+7 495 111-22-33", "+7 999 765-43-21")
    assert (card.email, card.city) == ("zakaz@lyutik.ru", "Тверь")
    assert await _stamp(uow_factory) > stamp
    cleared = await update_contacts(
        uow_factory(), viewer(anna), client, now=NOW, clear_email=True, clear_city=True
    )
    assert (cleared.email, cleared.city) == (None, None)
    with pytest.raises(AccessDenied):
        await update_contacts(uow_factory(), viewer(john), client, now=NOW, city="Москва")

    await add_interaction(uow_factory, client, anna, NOW - timedelta(hours=2))
    saved = await add_note(
        uow_factory(), viewer(anna), client, "Бухгалтер в отпуске", source_key="1:5", now=NOW
    )
    again = await add_note(
        uow_factory(), viewer(anna), client, "Бухгалтер в отпуске", source_key="1:5", now=NOW
    )
    assert saved.created and not again.created and again.note_id == saved.note_id
    assert await _count(uow_factory, ClientNote) == 1
    history = await get_history(uow_factory(), viewer(anna), client)
    assert [entry.kind for entry in history.entries] == [
        HistoryKind.NOTE,
        HistoryKind.INTERACTION,
    ]
    assert history.entries[0].note is not None
    assert history.entries[0].note.text == "Бухгалтер в отпуске"
    assert history.total == 2


async def test_notes_are_not_calls_in_the_progress_or_the_digest(
    uow_factory: UnitOfWorkFactory,
) -> None:
    head = await add_user(uow_factory, "Ольга Власова", Role.HEAD)
    anna = await add_user(uow_factory, "Анна Смирнова")
    john = await add_user(uow_factory, "Иван Петров")
    overdue = await add_client(uow_factory, "Просроченный", anna, next_due_on=TODAY - timedelta(2))
    await add_client(uow_factory, "На сегодня", anna, next_due_on=TODAY)
    await add_client(uow_factory, "На среду", john, next_due_on=TODAY + timedelta(2))
    for hours in (1, 2, 3):
        await add_interaction(uow_factory, overdue, anna, NOW - timedelta(hours=hours))
    await add_interaction(uow_factory, overdue, anna, NOW - timedelta(days=1))
    await add_interaction(uow_factory, overdue, john, NOW - timedelta(hours=1))
    for _ in range(4):
        await add_note(uow_factory(), viewer(anna), overdue, "заметка", source_key=None, now=NOW)

    mine = await day_progress(uow_factory(), viewer(anna), NOW)
    assert (mine.calls, mine.plan, mine.overdue, mine.due_today, mine.owned) == (3, 20, 1, 1, 2)
    team = await day_progress(uow_factory(), viewer(head, Role.HEAD), NOW)
    assert (team.team, team.calls, team.plan, team.overdue) == (True, 4, 40, 1)
    picked = await find_manager(uow_factory(), viewer(head, Role.HEAD), "петрова")
    assert picked.id == john
    ivan = await day_progress(uow_factory(), viewer(head, Role.HEAD), NOW, manager_id=john)
    assert (ivan.team, ivan.calls, ivan.overdue, ivan.manager) == (False, 1, 0, picked)
    with pytest.raises(ManagerNotFound):
        await find_manager(uow_factory(), viewer(head, Role.HEAD), "Сидоров")
    with pytest.raises(AccessDenied):
        await day_progress(uow_factory(), viewer(anna), NOW, manager_id=john)
    week = await week_ahead(uow_factory(), viewer(head, Role.HEAD), NOW)
    assert [(day.day, day.count) for day in week.busy_days] == [(TODAY + timedelta(2), 1)]
    assert (await week_ahead(uow_factory(), viewer(anna), NOW)).total == 0

    digest = await build_digest(
        uow_factory(), head, NOW + timedelta(days=1), default_timezone="Europe/Moscow"
    )
    assert digest.last_day.calls == 4  # calls only: the notes are not there


async def test_one_client_is_handed_over_by_a_head_only(uow_factory: UnitOfWorkFactory) -> None:
    head = await add_user(uow_factory, "Ольга Власова", Role.HEAD)
    anna = await add_user(uow_factory, "Анна Смирнова")
    john = await add_user(uow_factory, "Иван Петров")
    first = await add_client(uow_factory, "Первый", anna)
    second = await add_client(uow_factory, "Второй", anna)
    with pytest.raises(AccessDenied):
        await hand_over_client(uow_factory(), viewer(anna), first, john, now=NOW)
    with pytest.raises(InvalidReassignTarget):
        await hand_over_client(uow_factory(), viewer(head, Role.HEAD), first, head, now=NOW)
    stamp = await _stamp(uow_factory)
    card = await hand_over_client(uow_factory(), viewer(head, Role.HEAD), first, john, now=NOW)
    assert card.owner_name == "Иван Петров"
    assert await _stamp(uow_factory) > stamp
    async with uow_factory() as uow:
        rows = await uow.session.execute(select(Client.id, Client.owner_id))
        owners = {client_id: owner_id for client_id, owner_id in rows}
    assert owners == {first: john, second: anna}


async def test_a_voice_comment_only_for_who_may_see_the_client(
    uow_factory: UnitOfWorkFactory,
) -> None:
    anna = await add_user(uow_factory, "Анна Смирнова")
    john = await add_user(uow_factory, "John Carter")
    client = await add_client(uow_factory, "Ромашка", anna)
    async with uow_factory() as uow:
        row = Interaction(
            client_id=client,
            user_id=anna,
            occurred_at=NOW,
            channel=Channel.CALL.value,
            outcome=Outcome.REACHED.value,
            voice_file_id="AwACAgIAAxk-voice",
        )
        uow.session.add(row)
        await uow.flush()
        interaction = row.id
        await uow.commit()
    assert await voice_file_id(uow_factory(), viewer(anna), interaction) == "AwACAgIAAxk-voice"
    with pytest.raises(AccessDenied):
        await voice_file_id(uow_factory(), viewer(john), interaction)
