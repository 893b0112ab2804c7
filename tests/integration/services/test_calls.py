"""Logging calls, undo and the next contact, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from services.calls import (
    LoggedCall,
    NextContactChoice,
    NextContactMode,
    call_target,
    log_call,
    parse_time_of_day,
    reschedule,
    undo_call,
)
from services.db.models import Client, Interaction, Outcome, Role
from services.errors import AccessDenied, InteractionNotFound, InvalidNextContact, UndoExpired
from services.uow import UnitOfWorkFactory
from tests.integration.services.clients_seed import (
    NOW,
    TODAY,
    add_client,
    add_snapshot,
    add_user,
    viewer,
)

TOMORROW = NextContactChoice(NextContactMode.TOMORROW)


async def _stored(uow_factory: UnitOfWorkFactory, client_id: int) -> tuple[date | None, int]:
    async with uow_factory() as uow:
        due = await uow.session.scalar(select(Client.next_due_on).where(Client.id == client_id))
        count = await uow.session.scalar(
            select(func.count()).where(Interaction.client_id == client_id)
        )
    return due, int(count or 0)


async def test_logged_call_is_committed_with_the_next_contact(
    uow_factory: UnitOfWorkFactory,
) -> None:
    anna = await add_user(uow_factory, "Анна")
    client = await add_client(uow_factory, "Клиент", anna, next_due_on=TODAY - timedelta(days=2))

    logged = await log_call(
        uow_factory(),
        viewer(anna),
        client,
        outcome=Outcome.REACHED,
        next_contact=NextContactChoice(NextContactMode.IN_3_DAYS),
        comment="  Обсудили прайс ",
        now=NOW,
    )

    assert logged.next_contact_on == TODAY + timedelta(days=3)
    assert logged.previous_due == TODAY - timedelta(days=2)
    assert logged.comment == "Обсудили прайс" and not logged.has_voice
    assert await _stored(uow_factory, client) == (TODAY + timedelta(days=3), 1)
    assert logged.card.last_interaction is not None
    assert logged.card.last_interaction.id == logged.interaction_id
    assert logged.card.next_due == TODAY + timedelta(days=3) and logged.card.overdue_days == 0
    async with uow_factory() as uow:
        row = await uow.session.get(Interaction, logged.interaction_id)
        assert row is not None
        assert (row.user_id, row.outcome, row.occurred_at) == (anna, "reached", NOW)


async def test_presets_are_calendar_days(uow_factory: UnitOfWorkFactory) -> None:
    anna = await add_user(uow_factory, "Анна")
    client = await add_client(uow_factory, "Клиент", anna)
    friday = datetime(2026, 3, 6, 9, 0, tzinfo=UTC)  # Friday in Moscow; +1 is Saturday
    presets = {
        NextContactMode.TODAY: 0,
        NextContactMode.TOMORROW: 1,
        NextContactMode.IN_3_DAYS: 3,
        NextContactMode.IN_A_WEEK: 7,
    }
    for mode, days in presets.items():
        logged = await log_call(
            uow_factory(),
            viewer(anna),
            client,
            outcome=Outcome.NO_ANSWER,
            next_contact=NextContactChoice(mode),
            now=friday,
        )
        assert logged.next_contact_on == date(2026, 3, 6) + timedelta(days=days), mode
    assert await _stored(uow_factory, client) == (date(2026, 3, 13), 4)


async def test_cadence_comes_from_the_snapshot_settings_and_vip_cap(
    uow_factory: UnitOfWorkFactory,
) -> None:
    anna = await add_user(uow_factory, "Анна")
    plain = await add_client(uow_factory, "Без сегмента", anna)
    segmented = await add_client(uow_factory, "С сегментом", anna)
    vip = await add_client(uow_factory, "VIP", anna, is_vip=True)
    await add_snapshot(uow_factory, segmented, date(2026, 1, 1), segment="BY", cadence_days=45)
    await add_snapshot(uow_factory, segmented, date(2026, 3, 1), segment="BY", cadence_days=30)
    await add_snapshot(uow_factory, vip, date(2026, 3, 1), segment="CZ", cadence_days=90)

    me = viewer(anna)
    assert (await call_target(uow_factory(), me, plain, NOW)).cadence_days == 90
    assert (await call_target(uow_factory(), me, segmented, NOW)).cadence_days == 30
    assert (await call_target(uow_factory(), me, vip, NOW)).cadence_days == 7
    logged = await log_call(
        uow_factory(),
        me,
        segmented,
        outcome=Outcome.ORDER,
        next_contact=NextContactChoice(NextContactMode.CADENCE),
        now=NOW,
    )
    assert logged.next_contact_on == TODAY + timedelta(days=30)


async def test_call_back_time_is_stored_in_utc_from_the_users_zone(
    uow_factory: UnitOfWorkFactory,
) -> None:
    anna = await add_user(uow_factory, "Анна")
    client = await add_client(uow_factory, "Клиент", anna)
    logged = await log_call(
        uow_factory(),
        viewer(anna, timezone="Asia/Yekaterinburg"),  # UTC+5
        client,
        outcome=Outcome.CALL_BACK,
        next_contact=NextContactChoice(NextContactMode.TOMORROW, at=time(15, 30)),
        now=NOW,
    )
    assert logged.next_contact_at == datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
    async with uow_factory() as uow:
        row = await uow.session.get(Interaction, logged.interaction_id)
        assert row is not None and row.next_contact_at == datetime(2026, 3, 3, 10, 30, tzinfo=UTC)

    with pytest.raises(InvalidNextContact):  # 09:00 in Moscow has passed at 12:00
        await log_call(
            uow_factory(),
            viewer(anna),
            client,
            outcome=Outcome.CALL_BACK,
            next_contact=NextContactChoice(NextContactMode.TODAY, at=time(9, 0)),
            now=NOW,
        )


async def test_past_dates_and_other_peoples_clients_are_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    anna = await add_user(uow_factory, "Анна")
    client = await add_client(uow_factory, "Клиент", anna)
    with pytest.raises(InvalidNextContact):
        await log_call(
            uow_factory(),
            viewer(anna),
            client,
            outcome=Outcome.REACHED,
            next_contact=NextContactChoice(NextContactMode.DATE, on=TODAY - timedelta(days=1)),
            now=NOW,
        )
    assert await _stored(uow_factory, client) == (None, 0)

    john = await add_user(uow_factory, "John")
    johns = await add_client(uow_factory, "Клиент Джона", john)
    with pytest.raises(AccessDenied):
        await log_call(
            uow_factory(),
            viewer(anna),
            johns,
            outcome=Outcome.REACHED,
            next_contact=TOMORROW,
            now=NOW,
        )
    with pytest.raises(AccessDenied):
        await call_target(uow_factory(), viewer(anna), johns, NOW)
    assert await _stored(uow_factory, johns) == (None, 0)


async def test_undo_restores_the_due_date_within_ten_minutes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    anna = await add_user(uow_factory, "Анна")
    client = await add_client(uow_factory, "Клиент", anna, next_due_on=TODAY)
    logged = await log_call(
        uow_factory(), viewer(anna), client, outcome=Outcome.REACHED, next_contact=TOMORROW, now=NOW
    )
    card = await undo_call(
        uow_factory(),
        viewer(anna),
        logged.interaction_id,
        now=NOW + timedelta(minutes=10),
    )
    assert card.next_due == TODAY and card.last_interaction is None
    assert await _stored(uow_factory, client) == (TODAY, 0)


async def test_undo_is_refused_late_or_for_someone_else(uow_factory: UnitOfWorkFactory) -> None:
    anna = await add_user(uow_factory, "Анна")
    other = await add_user(uow_factory, "Ольга", Role.MANAGER)
    client = await add_client(uow_factory, "Клиент", anna, next_due_on=TODAY)
    logged = await log_call(
        uow_factory(), viewer(anna), client, outcome=Outcome.REACHED, next_contact=TOMORROW, now=NOW
    )
    with pytest.raises(UndoExpired):
        await undo_call(
            uow_factory(),
            viewer(anna),
            logged.interaction_id,
            now=NOW + timedelta(minutes=10, seconds=1),
        )
    with pytest.raises(AccessDenied):
        await undo_call(
            uow_factory(),
            viewer(other, Role.MANAGER),
            logged.interaction_id,
            now=NOW,
        )
    assert await _stored(uow_factory, client) == (TODAY + timedelta(days=1), 1)

    # a due date moved after the call stays where it was moved to
    week = NextContactChoice(NextContactMode.IN_A_WEEK)
    moved = await reschedule(uow_factory(), viewer(anna), client, week, now=NOW)
    assert moved.next_due == TODAY + timedelta(days=7)
    await undo_call(uow_factory(), viewer(anna), logged.interaction_id, now=NOW)
    assert await _stored(uow_factory, client) == (TODAY + timedelta(days=7), 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15:30", time(15, 30)), ("9.05", time(9, 5)), (" 7 ", time(7, 0)), ("23-59", time(23, 59))],
)
def test_time_of_day_parsing(text: str, expected: time) -> None:
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize("text", ["24:00", "12:60", "полдень", "", "1230"])
def test_time_of_day_rejects_nonsense(text: str) -> None:
    with pytest.raises(InvalidNextContact):
        parse_time_of_day(text)


async def test_one_draft_saves_one_call_and_a_head_may_undo_it_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    anna = await add_user(uow_factory, "Анна")
    head = await add_user(uow_factory, "Ольга", Role.HEAD)
    client = await add_client(uow_factory, "Клиент", anna, next_due_on=TODAY)

    async def save(comment: str) -> LoggedCall:
        return await log_call(
            uow_factory(),
            viewer(anna),
            client,
            outcome=Outcome.REACHED,
            next_contact=TOMORROW,
            comment=comment,
            now=NOW,
            draft_id="d" * 32,
        )

    first, second = await asyncio.gather(save("первый"), save("второй"))
    assert sorted([first.already_saved, second.already_saved]) == [False, True]
    assert first.interaction_id == second.interaction_id
    assert await _stored(uow_factory, client) == (TODAY + timedelta(days=1), 1)

    await undo_call(uow_factory(), viewer(head, Role.HEAD), first.interaction_id, now=NOW)
    assert await _stored(uow_factory, client) == (TODAY, 0)
    with pytest.raises(InteractionNotFound):
        await undo_call(uow_factory(), viewer(anna), first.interaction_id, now=NOW)
    for forged in (0, -1, 2**31, 10**30):
        with pytest.raises(InteractionNotFound):
            await undo_call(uow_factory(), viewer(anna), forged, now=NOW)
    again = await log_call(
        uow_factory(), viewer(anna), client, outcome=Outcome.REACHED, next_contact=TOMORROW, now=NOW
    )
    assert again.interaction_id > first.interaction_id  # an undone call's id is never reused
