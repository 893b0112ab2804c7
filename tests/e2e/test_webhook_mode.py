"""Webhook mode in one process: the real application behind `BotRuntime`, the sandbox POSTing.

The multi-process tests (replicas, SIGKILL, give-up) are in tests/e2e/test_processes.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import create_application
from bot.runtime.serve import BotRuntime
from sandbox import Sandbox
from services.clock import FixedClock
from services.db.engine import make_engine, make_session_factory
from services.db.models import Interaction
from services.uow import UnitOfWorkFactory
from tests.e2e.bot_harness import ADMIN, ANNA, NOW, TOKEN, button_data, make_settings
from tests.e2e.runtime_harness import free_port, get_status, metric, wait_status
from tests.e2e.sandbox_harness import SandboxClient

SECRET = "test-secret_0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class WebhookBot:
    runtime: BotRuntime
    task: asyncio.Task[None]
    base: str  # http://127.0.0.1:PORT of the bot's server

    @property
    def webhook_url(self) -> str:
        return f"{self.base}/telegram"

    async def metrics(self) -> str:
        status, body = await get_status(f"{self.base}/metrics")
        assert status == 200
        return body

    async def post(self, body: Any, headers: dict[str, str] | None = None) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook_url, data=body, headers=headers or {}) as response,
        ):
            return response.status


async def start_webhook_bot(sandbox: Sandbox, db_url: str, **overrides: Any) -> WebhookBot:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(
        db_url,
        WEBHOOK_URL=f"{base}/telegram",
        WEBHOOK_PORT=port,
        WEBHOOK_SECRET=SECRET,
        **overrides,
    )
    app = await create_application(
        settings,
        token=TOKEN,
        api_base=sandbox.base_url,
        clock=FixedClock(NOW),
        check_schema=False,
    )
    runtime = BotRuntime(app)
    task = asyncio.create_task(runtime.run())
    bot = WebhookBot(runtime, task, base)
    try:
        await wait_status(f"{base}/readyz", 200, within=15)
    except BaseException:
        runtime.stop()
        await task
        raise
    return bot


@pytest.fixture
async def webhook_bot(
    bot_sandbox: Sandbox, bot_db_url: str, seed: Any
) -> AsyncIterator[WebhookBot]:
    bot = await start_webhook_bot(bot_sandbox, bot_db_url)
    try:
        yield bot
    finally:
        bot.runtime.stop()
        await asyncio.wait_for(bot.task, timeout=30)


async def test_registers_the_webhook_with_the_secret_and_answers(
    webhook_bot: WebhookBot, chat: SandboxClient
) -> None:
    state = await chat.webhook()
    assert state["active"] and state["secret_token_set"]
    assert state["info"]["url"] == webhook_bot.webhook_url
    await chat.send(ADMIN, "/start")
    reply = await chat.wait_for(ADMIN, lambda m: bool(m["plain_text"]))
    assert reply["plain_text"]
    metrics = await webhook_bot.metrics()
    assert metric(metrics, "crmbot_updates", type="message", outcome="handled") == 1


async def test_a_redelivered_update_is_handled_once(
    webhook_bot: WebhookBot, chat: SandboxClient
) -> None:
    sent = await chat.send(ADMIN, "/help")
    await chat.wait_for(ADMIN, lambda m: bool(m["plain_text"]))
    replies_before = await chat.wait_messages(ADMIN, after=0, wait=0.5, count=100)
    await chat.redeliver(int(sent["update_id"]))
    for _ in range(100):  # the sandbox POSTs it again; wait until the bot has seen it
        if metric(await webhook_bot.metrics(), "crmbot_updates", outcome="duplicate") == 1:
            break
        await asyncio.sleep(0.05)
    metrics = await webhook_bot.metrics()
    assert metric(metrics, "crmbot_updates", outcome="duplicate") == 1
    assert metric(metrics, "crmbot_updates", outcome="handled") == 1
    replies_after = await chat.wait_messages(ADMIN, after=0, wait=0.5, count=100)
    assert len(replies_after) == len(replies_before)


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, None, 401),
        ({SECRET_HEADER: "wrong-secret"}, None, 403),
        ({SECRET_HEADER: SECRET.upper()}, None, 403),
        ({SECRET_HEADER: SECRET}, b"not json", 400),
        ({SECRET_HEADER: SECRET}, b'{"no": "update_id"}', 400),
        ({SECRET_HEADER: SECRET}, b"[1, 2]", 400),
    ],
)
async def test_requests_without_the_secret_or_an_update_are_refused(
    webhook_bot: WebhookBot,
    chat: SandboxClient,
    headers: dict[str, str],
    body: bytes | None,
    status: int,
) -> None:
    forged = {
        "update_id": 990001,
        "message": {
            "message_id": 1,
            "date": 1700000000,
            "chat": {"id": ADMIN, "type": "private"},
            "from": {"id": ADMIN, "is_bot": False, "first_name": "Mallory"},
            "text": "/start",
        },
    }
    payload = body if body is not None else json.dumps(forged).encode()
    headers = {"Content-Type": "application/json", **headers}
    assert await webhook_bot.post(payload, headers) == status
    await asyncio.sleep(0.3)
    assert await chat.wait_messages(ADMIN, after=0, wait=0.2, count=10) == []
    metrics = await webhook_bot.metrics()
    assert metric(metrics, "crmbot_updates") == 0


async def test_health_readiness_and_metrics(webhook_bot: WebhookBot, chat: SandboxClient) -> None:
    status, body = await get_status(f"{webhook_bot.base}/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    status, body = await get_status(f"{webhook_bot.base}/readyz")
    assert status == 200
    assert json.loads(body)["checks"] == {"process": "ok", "database": "ok", "bot_api": "ok"}
    before = await webhook_bot.metrics()
    assert metric(before, "crmbot_ready") == 1
    for text in ("/help", "/start"):
        await chat.send(ANNA, text)
        await chat.wait_for(ANNA, lambda m: bool(m["plain_text"]))
    after = await webhook_bot.metrics()
    assert (
        metric(after, "crmbot_updates", type="message", outcome="handled")
        == metric(before, "crmbot_updates", type="message", outcome="handled") + 2
    )
    assert metric(after, "crmbot_updates_in_flight") == 0


async def test_stop_lets_the_handler_in_flight_finish(
    bot_sandbox: Sandbox, bot_db_url: str, seed: Any, chat: SandboxClient
) -> None:
    bot = await start_webhook_bot(bot_sandbox, bot_db_url)
    # the bot's answer is held by the Bot API for a second: the handler is in flight then
    await chat.fault("sendMessage", "timeout", hold=1.0)
    await chat.send(ANNA, "/help")
    for _ in range(100):
        if metric(await bot.metrics(), "crmbot_updates_in_flight") == 1:
            break
        await asyncio.sleep(0.02)
    assert metric(await bot.metrics(), "crmbot_updates_in_flight") == 1
    bot.runtime.stop()
    assert await get_status(f"{bot.base}/readyz") != 200
    await asyncio.wait_for(bot.task, timeout=30)
    # the handler went on to its end after the stop: its held answer timed out, and the
    # Bot API retry layer sent it again, so the reply still arrived
    metrics_text = bot.runtime.app.metrics.render().decode()
    assert metric(metrics_text, "crmbot_updates_in_flight") == 0
    assert metric(metrics_text, "crmbot_updates", outcome="handled") == 1
    [reply] = await chat.wait_messages(ANNA, wait=2)
    assert "/today" in reply["plain_text"]


@pytest.mark.parametrize("bot_db_url", ["postgres"], indirect=True)
async def test_readiness_follows_the_database_and_no_update_is_lost(
    bot_sandbox: Sandbox, bot_db_url: str, seed: Any, chat: SandboxClient
) -> None:
    from sqlalchemy.engine import make_url

    from tests.conftest import _pg_admin

    name = make_url(bot_db_url).database
    bot = await start_webhook_bot(bot_sandbox, bot_db_url)
    try:
        await _pg_admin(
            f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        )
        body = await wait_status(f"{bot.base}/readyz", 503, within=10)
        assert json.loads(body)["checks"]["database"].startswith("unreachable")
        assert (await get_status(f"{bot.base}/healthz"))[0] == 200  # alive, just not ready
        await asyncio.sleep(2.5)  # the database probe has noticed: updates wait at Telegram
        await chat.send(ANNA, "/help")
        await asyncio.sleep(1.0)
        assert (await chat.webhook())["info"]["pending_update_count"] >= 1
        await _pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await wait_status(f"{bot.base}/readyz", 200, within=15)
        reply = await chat.wait_for(ANNA, lambda m: bool(m["plain_text"]), timeout=15)
        assert reply["plain_text"]
    finally:
        await _pg_admin(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        bot.runtime.stop()
        await asyncio.wait_for(bot.task, timeout=30)


async def count_interactions(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        async with UnitOfWorkFactory(make_session_factory(engine))() as uow:
            return int((await uow.session.execute(select(func.count(Interaction.id)))).scalar())
    finally:
        await engine.dispose()


__all__ = ["button_data", "count_interactions"]
