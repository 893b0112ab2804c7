"""The scheduler's tick against a real database (SQLite and PostgreSQL), with a fake Bot.

The clock is a FixedClock moved by hand; the sender's sleep is virtual. Dates: Thursday
5 November 2026 is a working day right after Unity Day (Wednesday 4 November).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from aiogram.exceptions import TelegramForbiddenError
from sqlalchemy import func, select

from scheduler.jobs import RECOMPUTE_AT, JobContext, TickReport, tick
from scheduler.sender import Sender
from services.calendar import WorkCalendar
from services.clock import FixedClock
from services.db.models import ClientPhone, Delivery, Outcome, Role, SegmentationRun, User
from services.delivery import DeliveryKind
from services.pushes import build_morning_push, plan_daily
from services.uow import UnitOfWorkFactory
from tests.integration.services.push_seed import (
    add_call,
    add_client,
    add_purchase,
    add_snapshot,
    add_user,
)
from tests.unit.scheduler.fakes import FakeBot, FakeTime, method

THURSDAY = date(2026, 11, 5)
MOSCOW_NINE = datetime(2026, 11, 5, 6, 0, tzinfo=UTC)  # 09:00 in Moscow (UTC+3)
YEKATERINBURG_NINE = datetime(2026, 11, 5, 4, 0, tzinfo=UTC)  # 09:00 in Yekaterinburg (UTC+5)
ANNA, IVAN, OLGA = 2001, 2002, 1001


class Scheduler:
    """One scheduler process: its own fake Bot and sender, the shared database and clock."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: FixedClock,
        *,
        recompute: bool = False,
        **bot: object,
    ) -> None:
        self.time = FakeTime()
        self.bot = FakeBot(self.time, **bot)  # type: ignore[arg-type]
        sender = Sender(self.bot, sleep=self.time.sleep, monotonic=self.time.monotonic)
        # the snapshots are written by each test; the nightly run would replace them
        self.context = JobContext(
            uow_factory, clock, sender, recompute_at=RECOMPUTE_AT if recompute else None
        )

    async def tick(self) -> TickReport:
        return await tick(self.context)

    def chats(self) -> list[int]:
        return [chat for chat, _, _ in self.bot.sent]

    def texts(self, chat: int) -> list[str]:
        return [text for c, text, _ in self.bot.sent if c == chat]


async def _ledger(uow_factory: UnitOfWorkFactory) -> list[tuple[int, str, date, str, str]]:
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(
                Delivery.recipient_id,
                Delivery.kind,
                Delivery.local_date,
                Delivery.ref,
                Delivery.status,
            ).order_by(Delivery.id)
        )
        return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def _two_managers(uow_factory: UnitOfWorkFactory) -> tuple[int, int]:
    anna = await add_user(uow_factory, "Анна Смирнова", ANNA)  # company zone: Moscow
    ivan = await add_user(uow_factory, "Иван Уральский", IVAN, timezone="Asia/Yekaterinburg")
    return anna, ivan


# --- when -------------------------------------------------------------------------------------


async def test_morning_push_at_nine_local_time_in_two_zones(uow_factory: UnitOfWorkFactory) -> None:
    await _two_managers(uow_factory)
    clock = FixedClock(YEKATERINBURG_NINE - timedelta(minutes=1))
    scheduler = Scheduler(uow_factory, clock)

    await scheduler.tick()
    assert scheduler.chats() == []

    clock.set(YEKATERINBURG_NINE)
    await scheduler.tick()
    assert scheduler.chats() == [IVAN]

    clock.set(MOSCOW_NINE - timedelta(minutes=1))
    await scheduler.tick()
    assert scheduler.chats() == [IVAN]

    clock.set(MOSCOW_NINE)
    report = await scheduler.tick()
    assert report.morning.sent == 1
    assert scheduler.chats() == [IVAN, ANNA]

    for minutes in (1, 2, 60):  # later ticks the same day send nothing again
        clock.set(MOSCOW_NINE + timedelta(minutes=minutes))
        await scheduler.tick()
    assert scheduler.chats() == [IVAN, ANNA]
    assert {(r[0], r[1], r[2], r[4]) for r in await _ledger(uow_factory)} == {
        (1, "morning_push", THURSDAY, "sent"),
        (2, "morning_push", THURSDAY, "sent"),
    }


async def test_own_push_time_overrides_nine(uow_factory: UnitOfWorkFactory) -> None:
    await add_user(uow_factory, "Анна", ANNA, push_time=time(7, 30))
    clock = FixedClock(datetime(2026, 11, 5, 4, 29, tzinfo=UTC))  # 07:29 in Moscow
    scheduler = Scheduler(uow_factory, clock)
    await scheduler.tick()
    assert scheduler.chats() == []
    clock.set(datetime(2026, 11, 5, 4, 30, tzinfo=UTC))
    await scheduler.tick()
    assert scheduler.chats() == [ANNA]


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 7, 6, 0, tzinfo=UTC),  # Saturday
        datetime(2026, 11, 8, 6, 0, tzinfo=UTC),  # Sunday
        datetime(2026, 11, 4, 6, 0, tzinfo=UTC),  # Unity Day
        datetime(2027, 1, 7, 6, 0, tzinfo=UTC),  # Christmas
    ],
)
async def test_no_pushes_on_weekends_and_public_holidays(
    uow_factory: UnitOfWorkFactory, moment: datetime
) -> None:
    await _two_managers(uow_factory)
    clock = FixedClock(moment)
    scheduler = Scheduler(uow_factory, clock)
    for _ in range(3):
        await scheduler.tick()
        clock.advance(timedelta(hours=2))
    assert scheduler.chats() == []


async def test_calendar_settings_can_add_a_holiday(uow_factory: UnitOfWorkFactory) -> None:
    from services.calendar import save_calendar

    await _two_managers(uow_factory)
    await save_calendar(uow_factory(), WorkCalendar.from_dict({"extra_holidays": ["2026-11-05"]}))
    scheduler = Scheduler(uow_factory, FixedClock(MOSCOW_NINE))
    await scheduler.tick()
    assert scheduler.chats() == []


async def test_catch_up_within_six_hours_after_a_restart(uow_factory: UnitOfWorkFactory) -> None:
    await _two_managers(uow_factory)
    # the bot was down all morning and comes back at 14:59 in Moscow
    clock = FixedClock(MOSCOW_NINE + timedelta(hours=5, minutes=59))
    scheduler = Scheduler(uow_factory, clock)
    report = await scheduler.tick()
    # Anna's 09:00 was 5 h 59 min ago: sent late, once; Ivan's (Yekaterinburg) 7 h 59 min ago
    assert scheduler.chats() == [ANNA]
    assert (report.morning.sent, report.morning.missed) == (1, 1)
    clock.advance(timedelta(minutes=5))
    await scheduler.tick()
    assert scheduler.chats() == [ANNA]


async def test_missed_beyond_six_hours_is_skipped_and_recorded(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _two_managers(uow_factory)
    clock = FixedClock(MOSCOW_NINE + timedelta(hours=6, minutes=1))  # 15:01 in Moscow
    scheduler = Scheduler(uow_factory, clock)
    report = await scheduler.tick()
    assert scheduler.chats() == []
    assert report.morning.missed == 2
    assert {(r[0], r[4]) for r in await _ledger(uow_factory)} == {(1, "skipped"), (2, "skipped")}
    clock.advance(timedelta(minutes=30))
    again = await scheduler.tick()
    assert again.morning.missed == 0  # recorded once, not every minute
    assert scheduler.chats() == []


# --- exactly once ------------------------------------------------------------------------------


async def test_two_schedulers_at_once_send_each_push_once(uow_factory: UnitOfWorkFactory) -> None:
    for number in range(12):
        await add_user(uow_factory, f"Менеджер {number}", 3000 + number)
    clock = FixedClock(MOSCOW_NINE)
    first, second = Scheduler(uow_factory, clock), Scheduler(uow_factory, clock)
    await asyncio.gather(first.tick(), second.tick(), first.tick(), second.tick())
    chats = first.chats() + second.chats()
    assert sorted(chats) == [3000 + number for number in range(12)]
    statuses = [row[4] for row in await _ledger(uow_factory)]
    assert statuses == ["sent"] * 12


async def test_pushes_off_or_muted_get_nothing(uow_factory: UnitOfWorkFactory) -> None:
    await add_user(uow_factory, "Выключил", 3001, pushes_enabled=False)
    await add_user(uow_factory, "На паузе", 3002, muted_until=MOSCOW_NINE + timedelta(hours=2))
    await add_user(uow_factory, "Пауза кончилась", 3003, muted_until=MOSCOW_NINE)
    await add_user(uow_factory, "Отключён", 3004, is_active=False)
    clock = FixedClock(MOSCOW_NINE)
    scheduler = Scheduler(uow_factory, clock)
    await scheduler.tick()
    assert scheduler.chats() == [3003]
    clock.advance(timedelta(hours=2))  # the pause is over, still inside the catch-up window
    await scheduler.tick()
    assert scheduler.chats() == [3003, 3002]


async def test_a_user_who_blocked_the_bot_is_marked_inactive(
    uow_factory: UnitOfWorkFactory,
) -> None:
    anna, _ = await _two_managers(uow_factory)
    blocked = TelegramForbiddenError(method(ANNA), "Forbidden: bot was blocked by the user")
    clock = FixedClock(MOSCOW_NINE)
    scheduler = Scheduler(uow_factory, clock, script={ANNA: [blocked]})
    report = await scheduler.tick()
    assert report.morning.blocked == 1
    async with uow_factory() as uow:
        user = await uow.session.get(User, anna)
        assert user is not None and user.is_active is False
    clock.set(MOSCOW_NINE + timedelta(days=1))
    await scheduler.tick()
    assert ANNA not in scheduler.chats()


async def test_a_failed_send_is_retried_by_a_later_tick(uow_factory: UnitOfWorkFactory) -> None:
    from aiogram.exceptions import TelegramServerError

    await add_user(uow_factory, "Анна", ANNA)
    errors = [TelegramServerError(method(ANNA), "Bad Gateway") for _ in range(5)]
    clock = FixedClock(MOSCOW_NINE)
    scheduler = Scheduler(uow_factory, clock, script={ANNA: errors})
    report = await scheduler.tick()
    assert (report.morning.failed, scheduler.chats()) == (1, [])
    clock.advance(timedelta(minutes=1))
    await scheduler.tick()  # too soon to retry
    assert scheduler.chats() == []
    clock.advance(timedelta(minutes=2))
    await scheduler.tick()
    assert scheduler.chats() == [ANNA]
    assert (await _ledger(uow_factory))[0][4] == "sent"


# --- what -------------------------------------------------------------------------------------


async def _anna_with_clients(uow_factory: UnitOfWorkFactory) -> dict[str, int]:
    anna = await add_user(uow_factory, "Анна Смирнова", ANNA)
    ids = {}
    specs = [
        # name, vip, abc, xyz, next_due, reactivation, at_risk, revenue_at_risk
        ("ООО «Ромашка»", True, "B", "X", THURSDAY - timedelta(days=4), False, False, 0),
        ("ООО «Лютик»", False, "A", "X", THURSDAY, False, False, 0),
        ("ИП Васильев", False, "A", "X", THURSDAY - timedelta(days=1), False, False, 0),
        ("АО «Клевер»", False, "C", "Z", THURSDAY + timedelta(days=3), False, True, 50_000),
        ("ООО «Спящий»", False, "C", "Y", None, True, False, 0),
    ]
    for name, vip, abc, xyz, due, reactivation, at_risk, amount in specs:
        client_id = await add_client(uow_factory, name, anna, is_vip=vip, next_due_on=due)
        await add_snapshot(
            uow_factory,
            client_id,
            THURSDAY - timedelta(days=1),
            abc=abc,
            xyz=xyz,
            reactivation=reactivation,
            at_risk=at_risk,
            revenue_at_risk=Decimal(amount),
        )
        ids[name] = client_id
    return ids


async def test_morning_push_content(uow_factory: UnitOfWorkFactory) -> None:
    ids = await _anna_with_clients(uow_factory)
    scheduler = Scheduler(uow_factory, FixedClock(MOSCOW_NINE))
    await scheduler.tick()
    (text,) = scheduler.texts(ANNA)
    assert "К звонку сегодня: <b>3</b>, из них просрочено: 2" in text
    lines = text.split("\n")
    ax = next(line for line in lines if line.startswith("<b>AX</b>"))
    assert ax.startswith("<b>AX</b> · 2: ИП Васильев (просрочка 1 день), ООО «Лютик»")
    assert any(
        line.startswith("<b>BX</b> · 1: ООО «Ромашка» ⭐ (просрочка 4 дня)") for line in lines
    )
    assert "• ООО «Спящий»" in text  # reactivation pick
    assert "• АО «Клевер» — под риском 50\u00a0000\u00a0₽" in text

    push = await build_morning_push(uow_factory(), 1, THURSDAY)
    assert [item.client_id for item in push.featured][:3] == [
        ids["ООО «Ромашка»"],  # VIP first
        ids["ИП Васильев"],  # then A, most overdue first
        ids["ООО «Лютик»"],
    ]


async def test_nothing_due_is_one_short_line(uow_factory: UnitOfWorkFactory) -> None:
    await add_user(uow_factory, "John Carter", 2002, language="en")
    scheduler = Scheduler(uow_factory, FixedClock(MOSCOW_NINE))
    await scheduler.tick()
    assert scheduler.texts(2002) == ["No calls scheduled for today."]


# --- reminders ----------------------------------------------------------------------------------


async def test_call_back_reminder_at_the_set_time(uow_factory: UnitOfWorkFactory) -> None:
    anna, _ = await _two_managers(uow_factory)
    client = await add_client(uow_factory, "ООО «Ромашка»", anna, company="Ромашка Групп")
    async with uow_factory() as uow:
        uow.session.add(ClientPhone(client_id=client, phone="79161234567"))
        await uow.commit()
    at = datetime(2026, 11, 5, 12, 30, tzinfo=UTC)  # 15:30 in Moscow
    call = await add_call(
        uow_factory,
        client,
        anna,
        at - timedelta(hours=4),
        outcome=Outcome.CALL_BACK,
        comment="Просили перезвонить после обеда",
        next_contact_at=at,
    )
    clock = FixedClock(at - timedelta(minutes=1))
    scheduler = Scheduler(uow_factory, clock)
    await scheduler.tick()
    assert [t for t in scheduler.texts(ANNA) if "перезвонить" in t] == []
    clock.set(at)
    await scheduler.tick()
    clock.advance(timedelta(minutes=1))
    await scheduler.tick()
    reminders = [t for t in scheduler.texts(ANNA) if "Пора перезвонить" in t]
    assert len(reminders) == 1
    assert "ООО «Ромашка»" in reminders[0] and "15:30" in reminders[0]
    assert "Просили перезвонить после обеда" in reminders[0]
    assert "+7 916 123-45-67" in reminders[0]  # the number to call, in the reminder itself
    ledger = [row for row in await _ledger(uow_factory) if row[1] == "reminder"]
    assert ledger == [(anna, "reminder", THURSDAY, str(call), "sent")]


async def test_a_newer_call_replaces_the_reminder(uow_factory: UnitOfWorkFactory) -> None:
    anna, _ = await _two_managers(uow_factory)
    client = await add_client(uow_factory, "ООО «Ромашка»", anna)
    at = datetime(2026, 11, 5, 12, 30, tzinfo=UTC)
    await add_call(uow_factory, client, anna, at - timedelta(hours=4), next_contact_at=at)
    await add_call(uow_factory, client, anna, at - timedelta(hours=1))  # they called earlier
    scheduler = Scheduler(uow_factory, FixedClock(at))
    report = await scheduler.tick()
    assert report.reminders.due == 0
    assert not [t for t in scheduler.texts(ANNA) if "Пора перезвонить" in t]


# --- the nightly recomputation --------------------------------------------------------------------


async def test_nightly_recompute_runs_once_after_three_company_time(
    uow_factory: UnitOfWorkFactory,
) -> None:
    anna = await add_user(uow_factory, "Анна", ANNA)
    client = await add_client(uow_factory, "ООО «Ромашка»", anna)
    for months in range(1, 7):
        await add_purchase(uow_factory, client, THURSDAY - timedelta(days=30 * months), "1000.00")
    clock = FixedClock(datetime(2026, 11, 4, 23, 59, tzinfo=UTC))  # 02:59 in Moscow
    scheduler = Scheduler(uow_factory, clock, recompute=True)
    assert (await scheduler.tick()).recomputed is False
    clock.set(datetime(2026, 11, 5, 0, 0, tzinfo=UTC))
    other = Scheduler(uow_factory, clock, recompute=True)
    first, second = await asyncio.gather(scheduler.tick(), other.tick())
    assert sorted([first.recomputed, second.recomputed]) == [False, True]
    clock.advance(timedelta(hours=1))
    assert (await scheduler.tick()).recomputed is False
    async with uow_factory() as uow:
        runs = await uow.session.scalar(select(func.count()).select_from(SegmentationRun))
    assert runs == 1


# --- the head's digest ----------------------------------------------------------------------------


async def test_the_head_gets_the_digest_as_a_photo_then_text(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await add_user(uow_factory, "Ольга Петрова", OLGA, Role.HEAD)
    await add_user(uow_factory, "Анна Смирнова", ANNA)
    scheduler = Scheduler(uow_factory, FixedClock(MOSCOW_NINE))
    report = await scheduler.tick()
    assert report.digest.sent == 1
    texts = scheduler.texts(OLGA)
    assert texts[0].startswith("<photo Звонки за 03.11")  # the working day before Thursday
    assert "<b>Дайджест отдела продаж · 05.11</b>" in texts[1]


async def test_plan_lists_heads_for_the_digest_only(uow_factory: UnitOfWorkFactory) -> None:
    await add_user(uow_factory, "Ольга Петрова", OLGA, Role.HEAD)
    await add_user(uow_factory, "Анна", ANNA)
    plan = await plan_daily(
        uow_factory(),
        DeliveryKind.DIGEST,
        [Role.HEAD],
        MOSCOW_NINE,
        default_timezone="Europe/Moscow",
        default_language="ru",
    )
    assert [item.recipient.telegram_id for item in plan.due] == [OLGA]
