"""Scheduled pushes and the digest, end to end through the local Bot API sandbox.

The tick is called directly with the harness's FixedClock (Monday 2 March 2026, 09:00 in
Moscow); the sender's sleep and monotonic clock are virtual, so retries never wait.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import create_application
from sandbox import Sandbox
from scheduler.jobs import JobContext, tick
from scheduler.sender import Sender
from services.db.models import Delivery, User
from tests.e2e.bot_harness import (
    ANNA,
    HEAD,
    JOHN,
    NOW,
    TOKEN,
    BotHarness,
    SeedIds,
    button_data,
    buttons,
    make_settings,
    text_of,
)
from tests.e2e.sandbox_harness import SandboxClient
from tests.unit.scheduler.fakes import FakeTime

MANAGERS = (ANNA, JOHN)


def _context(bot_app: BotHarness, bot: Any = None) -> tuple[JobContext, Sender]:
    fake = FakeTime()
    sender = Sender(bot or bot_app.app.bot, sleep=fake.sleep, monotonic=fake.monotonic)
    # segments come from the seed's snapshots: no nightly recomputation here
    context = JobContext(bot_app.uow_factory, bot_app.clock, sender, recompute_at=None)
    return context, sender


async def _feed(chat: SandboxClient, user_id: int) -> list[dict[str, Any]]:
    return list((await chat.messages(user_id))["messages"])


async def test_morning_pushes_arrive_with_working_buttons(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    context, _ = _context(bot_app)
    report = await tick(context)
    assert report.morning.sent == 2

    (anna,) = await _feed(chat, ANNA)
    text = text_of(anna)
    assert "К звонку сегодня: 3, из них просрочено: 2" in text
    assert "ООО «Ромашка» ⭐ (просрочка 2 дня)" in text
    labels = [button["text"] for button in buttons(anna)]
    assert labels[0] == "📋 Список на сегодня"
    assert "⭐ ООО «Ромашка»" in labels
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(anna))

    (john,) = await _feed(chat, JOHN)
    assert text_of(john) == "No calls scheduled for today."

    # the card button opens the client's card (the clients feature answers it)
    await chat.press(ANNA, anna["message_id"], button_data(anna, "Ромашка"))
    card = await chat.wait_for(ANNA, lambda m: "Ромашка" in text_of(m) and m is not anna)
    assert card["message_id"] != anna["message_id"]

    # the next minutes send nothing more
    for _ in range(3):
        bot_app.clock.advance(timedelta(minutes=1))
        again = await tick(context)
        assert again.morning.sent == 0
    assert len([m for m in await _feed(chat, JOHN)]) == 1


async def test_the_digest_chart_arrives_as_a_photo_before_the_text(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    context, _ = _context(bot_app)
    dashboard = "https://crm.example.org/webapp/"
    context = dataclasses.replace(context, dashboard_url=dashboard)
    report = await tick(context)
    assert report.digest.sent == 1
    photo, week_photo, text = await _feed(chat, HEAD)
    assert photo["photo"] and photo["caption"].startswith("Звонки за 27.02–01.03")
    assert "Просроченных контактов:" in photo["caption"]  # the caption adds to the chart
    png = await chat.download(photo["photo"])
    assert png.startswith(b"\x89PNG")
    assert int.from_bytes(png[16:20], "big") == 1080  # drawn for a phone screen
    # a Monday: the past week against the week before, in a second chart and in the text
    assert week_photo["caption"].startswith("Прошлая неделя 23.02–01.03")
    assert text_of(text).startswith("Дайджест отдела продаж · 02.03")
    assert "Прошлая неделя, 23.02–01.03" in text_of(text)

    # every client named opens with a tap, and the dashboard is one button away
    labels = [b["text"] for b in buttons(text)]
    assert labels[-1] == "📊 Дашборд"
    assert buttons(text)[-1]["web_app"] == {"url": dashboard}
    risky = [b for b in buttons(text) if "callback_data" in b]
    assert [b["text"] for b in risky] == ["1. ИП Васильев"]  # Лютик is to win back, not at risk
    await chat.press(HEAD, text["message_id"], risky[0]["callback_data"])
    card = await chat.wait_for(HEAD, lambda m: "ИП Васильев" in text_of(m) and m is not text)
    assert "Записать звонок" in " ".join(b["text"] for b in buttons(card))


async def test_429_and_5xx_are_retried_and_the_push_arrives_once(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.fault("sendMessage", 429, times=2, retry_after=3, chat_id=ANNA)
    await chat.fault("sendMessage", 502, times=1, chat_id=JOHN)
    await chat.fault("sendMessage", "timeout", times=1, hold=0.2, chat_id=JOHN)
    context, sender = _context(bot_app)
    report = await tick(context)
    assert (report.morning.sent, report.morning.failed) == (2, 0)
    assert len(await _feed(chat, ANNA)) == 1
    assert len(await _feed(chat, JOHN)) == 1
    stats = await chat.stats()
    assert stats["errors_by_method"]["sendMessage"] == {"429": 2, "502": 1}
    assert (sender.stats.flood_waits, sender.stats.server_errors) == (2, 1)
    assert sender.stats.network_errors == 1
    async with bot_app.uow_factory() as uow:
        attempts = dict(
            (await uow.session.execute(select(Delivery.recipient_id, Delivery.attempts))).all()
        )
    # 429s are refusals, not tries; John: 502, timeout, success; the head (a Monday):
    # two charts and the text
    assert attempts == {seed.anna: 1, seed.john: 3, seed.head: 3}


async def test_persistent_5xx_fails_and_a_later_tick_delivers(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.fault("sendMessage", 500, times=5, chat_id=ANNA)
    context, _ = _context(bot_app)
    report = await tick(context)
    assert report.morning.failed == 1
    assert await _feed(chat, ANNA) == []
    bot_app.clock.advance(timedelta(minutes=3))
    report = await tick(context)
    assert report.morning.sent == 1
    assert len(await _feed(chat, ANNA)) == 1


async def test_a_user_who_blocked_the_bot_is_marked_inactive(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.block(JOHN)
    context, _ = _context(bot_app)
    report = await tick(context)
    assert report.morning.blocked == 1
    async with bot_app.uow_factory() as uow:
        john = await uow.session.get(User, seed.john)
        assert john is not None and john.is_active is False
        anna = await uow.session.get(User, seed.anna)
        assert anna is not None and anna.is_active is True


async def test_two_bot_instances_ticking_at_once_send_each_push_once(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient, bot_sandbox: Sandbox
) -> None:
    second = await create_application(
        bot_app.settings, token=TOKEN, api_base=bot_sandbox.base_url, clock=bot_app.clock
    )
    try:
        first_context, _ = _context(bot_app)
        fake = FakeTime()
        second_context = JobContext(
            second.uow_factory,
            bot_app.clock,
            Sender(second.bot, sleep=fake.sleep, monotonic=fake.monotonic),
            recompute_at=None,
        )
        reports = await asyncio.gather(
            tick(first_context), tick(second_context), tick(first_context), tick(second_context)
        )
    finally:
        await second.close()
    assert sum(r.morning.sent for r in reports) == 2
    assert sum(r.digest.sent for r in reports) == 1
    counts = Counter({user: len(await _feed(chat, user)) for user in (*MANAGERS, HEAD)})
    assert counts == {ANNA: 1, JOHN: 1, HEAD: 3}  # the head (a Monday): two charts, the text


async def test_digest_on_demand_for_the_head_but_not_for_a_manager(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.send(HEAD, "/digest")
    photo = await chat.wait_for(HEAD, lambda m: bool(m.get("photo")))
    text = await chat.wait_for(HEAD, lambda m: "Дайджест отдела продаж" in text_of(m))
    assert photo["message_id"] < text["message_id"]

    await chat.send(ANNA, "/digest")
    refusal = await chat.wait_for(ANNA, lambda m: "Дайджест" in text_of(m))
    assert text_of(refusal).startswith("Дайджест получает руководитель отдела продаж")
    assert not refusal.get("photo")

    await chat.send(JOHN, "/digest")
    english = await chat.wait_for(JOHN, lambda m: "digest" in text_of(m))
    assert text_of(english).startswith("The digest is for the head of sales")


@pytest.mark.parametrize("bot_db_url", ["sqlite"], indirect=True)
async def test_the_scheduler_starts_and_stops_with_the_bot(
    bot_sandbox: Sandbox, bot_db_url: str, seed: SeedIds, chat: SandboxClient
) -> None:
    """With scheduler=True the app ticks at start (catch-up) and stops with polling."""
    from services.clock import FixedClock

    app = await create_application(
        make_settings(bot_db_url),
        token=TOKEN,
        api_base=bot_sandbox.base_url,
        clock=FixedClock(NOW + timedelta(minutes=30)),
        scheduler=True,
    )
    assert app.scheduler is not None
    await app.start_polling()
    try:
        push = await chat.wait_for(ANNA, lambda m: "К звонку сегодня" in text_of(m), timeout=15)
        assert push["from_bot"]
        assert app.scheduler.running
    finally:
        await app.close()
    assert not app.scheduler.running
