"""Long polling that neither stops on a failing handler nor idles on a failing Bot API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from bot.app import create_application
from bot.runtime.backoff import GaveUp
from bot.runtime.polling import BotApiRejected
from bot.runtime.serve import BotRuntime
from sandbox import Sandbox
from services.clock import FixedClock
from tests.e2e.bot_harness import ANNA, NOW, TOKEN, BotHarness, make_settings, text_of
from tests.e2e.runtime_harness import free_port, metric
from tests.e2e.sandbox_harness import SandboxClient


@pytest.fixture
async def quick_bot(bot_sandbox: Sandbox, bot_db_url: str, seed: Any) -> AsyncIterator[BotHarness]:
    """The bot with retries 0.2 s apart, so outages in these tests are short."""
    settings = make_settings(bot_db_url, RETRY_MAX_DELAY_S=0.2, STARTUP_GIVE_UP_S=30)
    harness = BotHarness(bot_sandbox, settings, FixedClock(NOW))
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()


async def test_a_failing_handler_never_stops_polling(
    quick_bot: BotHarness, chat: SandboxClient
) -> None:
    quick_bot.expect_errors()
    await chat.fault("sendMessage", 400, description="Bad Request: something odd")
    await chat.send(ANNA, "/help")
    failed = await chat.wait_for(ANNA, lambda m: "код ошибки" in text_of(m))
    assert failed
    await chat.send(ANNA, "/help")
    assert await chat.wait_for(ANNA, lambda m: "/today" in text_of(m))
    metrics = quick_bot.app.metrics.render().decode()
    assert metric(metrics, "crmbot_updates", outcome="error") == 1
    assert metric(metrics, "crmbot_updates", outcome="handled") == 1
    assert metric(metrics, "crmbot_handler_errors", type="TelegramBadRequest") == 1
    assert metric(metrics, "crmbot_bot_api_errors", method="sendMessage", code="400") == 1


async def test_get_updates_failures_are_retried_logged_and_counted(
    quick_bot: BotHarness, chat: SandboxClient, caplog: pytest.LogCaptureFixture
) -> None:
    await chat.fault("getUpdates", 502, times=3)
    await chat.send(ANNA, "/help")  # ends the long poll in progress; the next three fail
    assert await chat.wait_for(ANNA, lambda m: "/today" in text_of(m), timeout=15)
    deadline = time.monotonic() + 10
    while metric(quick_bot.app.metrics.render().decode(), "crmbot_retries") < 3:
        assert time.monotonic() < deadline, "getUpdates was not retried three times"
        await asyncio.sleep(0.05)
    await chat.send(ANNA, "/help")  # and polling goes on
    assert await chat.wait_for(ANNA, lambda m: "/today" in text_of(m), timeout=15)
    metrics = quick_bot.app.metrics.render().decode()
    assert metric(metrics, "crmbot_retries", operation="bot_api") == 3
    assert metric(metrics, "crmbot_bot_api_errors", method="getUpdates", code="5xx") == 3
    attempts = [
        r.getMessage() for r in caplog.records if "is not available (attempt" in r.getMessage()
    ]
    assert [message.split("(attempt ")[1][0] for message in attempts] == ["1", "2", "3"]


async def test_a_persistent_conflict_ends_polling_after_the_give_up_time(
    bot_sandbox: Sandbox, bot_db_url: str, seed: Any, chat: SandboxClient
) -> None:
    # 409: another process polls with this token (or a webhook is set) — for good
    await chat.fault("getUpdates", 409, times=1000, description="Conflict: terminated by other")
    settings = make_settings(bot_db_url, RETRY_MAX_DELAY_S=0.2, STARTUP_GIVE_UP_S=1.5)
    app = await create_application(
        settings, token=TOKEN, api_base=bot_sandbox.base_url, clock=FixedClock(NOW)
    )
    started = time.monotonic()
    try:
        await app.start_polling()
        assert app.polling is not None
        with pytest.raises(
            GaveUp,
            match=r"the Bot API was not available for \d+ s, giving up: TelegramConflictError",
        ):
            await asyncio.wait_for(app.polling, timeout=15)
        assert 1.5 <= time.monotonic() - started < 10
    finally:
        await app.close()


async def _refusing_bot_api() -> tuple[web.AppRunner, str]:
    async def refuse(request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def test_a_refused_token_stops_the_process_at_once(bot_db_url: str, seed: Any) -> None:
    runner, base = await _refusing_bot_api()
    try:
        settings = make_settings(bot_db_url, STARTUP_GIVE_UP_S=300)
        app = await create_application(settings, token=TOKEN, api_base=base, check_schema=False)
        started = time.monotonic()
        with pytest.raises(BotApiRejected, match="Check BOT_TOKEN"):
            await asyncio.wait_for(BotRuntime(app).run(), timeout=15)
        assert time.monotonic() - started < 5  # not after 300 s of retries
    finally:
        await runner.cleanup()
