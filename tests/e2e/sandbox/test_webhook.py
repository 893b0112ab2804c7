"""Webhook mode as Telegram has it: a tiny receiver in the test records what the sandbox POSTs."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiohttp import web

from sandbox import LimitsConfig, Sandbox, SandboxConfig
from sandbox.webhook import SECRET_HEADER
from tests.e2e.sandbox_harness import SandboxClient, make_bot, run_webhook

ANN, BORIS, OLGA = 101, 102, 103
SECRET = "s3cret_-Token"


@dataclass
class Received:
    update_id: int
    chat_id: int
    secret: str | None
    status: int
    body: dict[str, Any]


@dataclass
class Receiver:
    """The bot's side of a webhook: records every POST and answers as told."""

    hold: float = 0.0
    statuses: deque[int] = field(default_factory=deque)
    answer: dict[str, Any] | None = None
    requests: list[Received] = field(default_factory=list)
    started: list[int] = field(default_factory=list)
    active: int = 0
    peak: int = 0
    active_by_chat: Counter[int] = field(default_factory=Counter)
    overlaps_in_a_chat: int = 0
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        chat_id = body["message"]["chat"]["id"]
        self.started.append(body["update_id"])
        self.active += 1
        self.peak = max(self.peak, self.active)
        self.active_by_chat[chat_id] += 1
        if self.active_by_chat[chat_id] > 1:
            self.overlaps_in_a_chat += 1
        try:
            await asyncio.sleep(self.hold)
        finally:
            self.active -= 1
            self.active_by_chat[chat_id] -= 1
        status = self.statuses.popleft() if self.statuses else 200
        secret = request.headers.get(SECRET_HEADER)
        self.requests.append(Received(body["update_id"], chat_id, secret, status, body))
        if status != 200:
            return web.Response(status=status)
        return web.json_response(self.answer or {})

    def delivered(self) -> list[int]:
        return [item.update_id for item in self.requests if item.status == 200]

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = int(self.runner.addresses[0][1])

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


FAST = SandboxConfig(
    identities=[
        {"id": ANN, "first_name": "Ann", "role": "manager"},
        {"id": BORIS, "first_name": "Boris", "role": "manager"},
        {"id": OLGA, "first_name": "Olga", "role": "head"},
    ],
    limits=LimitsConfig(rate_limit=False),
    webhook_timeout=0.5,
    webhook_retry_initial=0.05,
    webhook_retry_max=0.2,
)


@pytest.fixture
async def world() -> AsyncIterator[tuple[Sandbox, SandboxClient, Bot, Receiver]]:
    receiver = Receiver()
    await receiver.start()
    async with Sandbox(FAST) as sandbox, SandboxClient(sandbox.base_url) as client:
        bot = make_bot(sandbox.base_url)
        try:
            yield sandbox, client, bot, receiver
        finally:
            await bot.session.close()
            await receiver.stop()


World = tuple[Sandbox, SandboxClient, Bot, Receiver]


async def test_updates_are_posted_with_the_secret_and_getupdates_is_refused(world: World) -> None:
    _, client, bot, receiver = world
    assert await bot.set_webhook(receiver.url, secret_token=SECRET) is True

    sent = await client.send(ANN, "/start")
    await eventually(lambda: _true(len(receiver.requests) == 1))

    (request,) = receiver.requests
    assert (request.update_id, request.secret) == (sent["update_id"], SECRET)
    assert request.body["message"]["text"] == "/start"
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.max_connections) == (receiver.url, 0, 40)
    assert info.last_error_date is None
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook"):
        await bot.get_updates()
    state = await client.webhook()
    assert state["active"] and state["secret_token_set"]
    assert state["stats"]["deliveries"] == 1 and state["stats"]["failures"] == 0


async def test_no_secret_header_without_a_secret(world: World) -> None:
    _, client, bot, receiver = world
    await bot.set_webhook(receiver.url)

    await client.send(ANN, "hi")
    await eventually(lambda: _true(len(receiver.requests) == 1))

    assert receiver.requests[0].secret is None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"secret_token": "has space"}, "secret token contains unallowed characters"),
        ({"secret_token": "ключ"}, "secret token contains unallowed characters"),
        ({"secret_token": "x" * 257}, "secret token contains unallowed characters"),
        ({"url": "ftp://127.0.0.1/hook"}, "bad webhook"),
        ({"url": "http:///hook"}, "bad webhook"),
        ({"url": "not a url"}, "bad webhook"),
    ],
)
async def test_set_webhook_refuses_what_telegram_refuses(
    world: World, kwargs: dict[str, Any], error: str
) -> None:
    _, client, bot, receiver = world
    arguments = {"url": receiver.url, **kwargs}

    with pytest.raises(TelegramBadRequest, match=error):
        await bot.set_webhook(**arguments)
    assert (await client.webhook())["active"] is False
    assert await bot.set_webhook(receiver.url, secret_token="A" * 256) is True


async def test_one_update_at_a_time_per_chat_chats_in_parallel(world: World) -> None:
    _, client, bot, receiver = world
    receiver.hold = 0.05
    await bot.set_webhook(receiver.url)

    sent: dict[int, list[int]] = {ANN: [], BORIS: [], OLGA: []}
    for round_number in range(4):
        for user in sent:
            created = await client.send(user, f"burst {round_number}")
            sent[user].append(created["update_id"])
    await eventually(lambda: _true(len(receiver.delivered()) == 12))

    assert receiver.overlaps_in_a_chat == 0
    for user, update_ids in sent.items():
        assert [r.update_id for r in receiver.requests if r.chat_id == user] == update_ids
    assert receiver.peak >= 2, "different chats are delivered in parallel"
    assert (await client.webhook())["stats"]["peak_in_flight"] <= 3


async def test_max_connections_caps_parallel_deliveries(world: World) -> None:
    _, client, bot, receiver = world
    receiver.hold = 0.03
    await bot.set_webhook(receiver.url, max_connections=1)

    for user in (ANN, BORIS, OLGA, ANN, BORIS, OLGA):
        await client.send(user, "hello")
    await eventually(lambda: _true(len(receiver.delivered()) == 6))

    assert receiver.peak == 1
    assert receiver.delivered() == sorted(receiver.delivered())


async def test_in_flight_is_shown_per_chat(world: World) -> None:
    _, client, bot, receiver = world
    receiver.hold = 0.4
    await bot.set_webhook(receiver.url)

    first = await client.send(ANN, "one")
    await client.send(ANN, "two")
    await eventually(lambda: _true(len(receiver.started) == 1))

    state = await client.webhook()
    assert state["in_flight"] == {str(ANN): first["update_id"]}
    assert state["info"]["pending_update_count"] == 2
    await eventually(lambda: _true(len(receiver.delivered()) == 2))


async def test_a_500_is_retried_until_a_2xx_and_then_never_again(world: World) -> None:
    _, client, bot, receiver = world
    receiver.statuses.extend([500, 500])
    await bot.set_webhook(receiver.url)

    sent = await client.send(ANN, "log a call")
    await eventually(lambda: _true(len(receiver.delivered()) == 1))
    await asyncio.sleep(0.3)  # longer than the backoff: nothing more may come

    assert [(r.update_id, r.status) for r in receiver.requests] == [
        (sent["update_id"], 500),
        (sent["update_id"], 500),
        (sent["update_id"], 200),
    ]
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None
    stats = (await client.webhook())["stats"]
    assert (stats["deliveries"], stats["failures"]) == (1, 2)


async def test_updates_wait_while_the_url_is_down_then_drain_in_order(world: World) -> None:
    _, client, bot, receiver = world
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    await bot.set_webhook(url)

    sent = [(await client.send(ANN, f"call {n}"))["update_id"] for n in range(3)]
    sent.append((await client.send(BORIS, "mine"))["update_id"])

    async def errors_seen() -> bool:
        info = await bot.get_webhook_info()
        return info.last_error_message == "Connection refused"

    await eventually(errors_seen)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 4
    assert (await client.stats())["webhook"]["failures"] >= 2

    await receiver.start(port)
    await eventually(lambda: _true(len(receiver.delivered()) == 4))

    assert [r.update_id for r in receiver.requests if r.chat_id == ANN] == sent[:3]
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_a_timeout_counts_as_failed_and_the_update_comes_again(world: World) -> None:
    _, client, bot, receiver = world
    receiver.hold = 0.8  # past the sandbox's 0.5 s webhook_timeout
    await bot.set_webhook(receiver.url)

    sent = await client.send(ANN, "slow")
    await eventually(lambda: _true(len(receiver.started) >= 2))
    receiver.hold = 0.0
    await eventually(lambda: _true(sent["update_id"] in receiver.delivered()))

    assert receiver.started[:2] == [sent["update_id"], sent["update_id"]]
    assert (await bot.get_webhook_info()).last_error_message == "Read timeout expired"


async def test_drop_pending_updates_on_set_and_on_delete(world: World) -> None:
    _, client, bot, receiver = world
    down = f"http://127.0.0.1:{free_port()}/hook"
    await bot.set_webhook(down)
    for text in ("a", "b"):
        await client.send(ANN, text)
    assert (await bot.get_webhook_info()).pending_update_count == 2

    await bot.set_webhook(receiver.url, drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0

    await bot.set_webhook(down)
    await client.send(ANN, "c")
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert await bot.get_updates() == []
    await asyncio.sleep(0.1)
    assert receiver.requests == []


async def test_delete_webhook_hands_pending_updates_to_getupdates(world: World) -> None:
    _, client, bot, _ = world
    await bot.set_webhook(f"http://127.0.0.1:{free_port()}/hook")
    sent = await client.send(ANN, "kept")

    assert await bot.delete_webhook() is True
    updates = await bot.get_updates()

    assert [update.update_id for update in updates] == [sent["update_id"]]
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("", 1)


async def test_redelivery_posts_the_same_update_again(world: World) -> None:
    _, client, bot, receiver = world
    await bot.set_webhook(receiver.url, secret_token=SECRET)
    sent = await client.send(ANN, "once")
    await eventually(lambda: _true(len(receiver.delivered()) == 1))

    await client.redeliver(sent["update_id"])
    await eventually(lambda: _true(len(receiver.delivered()) == 2))

    first, second = receiver.requests
    assert first.body == second.body and second.secret == SECRET
    assert (await client.webhook())["stats"]["redeliveries"] == 1


async def test_redelivery_in_polling_mode_reappears_in_getupdates(world: World) -> None:
    _, client, bot, _ = world
    first = await client.send(ANN, "one")
    second = await client.send(ANN, "two")
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    assert await bot.get_updates(offset=second["update_id"] + 1) == []

    await client.redeliver(first["update_id"])
    again = await bot.get_updates(offset=second["update_id"] + 1)
    assert [u.update_id for u in again] == [first["update_id"]]
    assert again[0].message is not None and again[0].message.text == "one"

    # The bot confirms it like any other update; it does not come a third time.
    assert await bot.get_updates(offset=first["update_id"] + 1) == []
    assert await bot.get_updates(offset=second["update_id"] + 1) == []


async def test_redelivery_of_an_unknown_or_pending_update_is_refused(world: World) -> None:
    _, client, _, _ = world
    pending = await client.send(ANN, "not polled yet")

    with pytest.raises(AssertionError, match=r"409.*still waiting"):
        await client.redeliver(pending["update_id"])
    with pytest.raises(AssertionError, match=r"404.*never delivered"):
        await client.redeliver(999)


async def test_a_method_in_the_webhook_answer_is_executed(world: World) -> None:
    _, client, bot, receiver = world
    receiver.answer = {"method": "sendMessage", "chat_id": ANN, "text": "pong"}
    await bot.set_webhook(receiver.url)

    await client.send(ANN, "ping")
    reply = await client.wait_for(ANN, lambda m: m["text"] == "pong")

    assert reply["from_bot"] is True
    assert (await client.webhook())["stats"]["methods_in_responses"] == 1


async def test_allowed_updates_of_set_webhook_filter_deliveries(world: World) -> None:
    _, client, bot, receiver = world
    await bot.set_webhook(receiver.url, allowed_updates=["callback_query"])

    await client.send(ANN, "ignored")
    await asyncio.sleep(0.1)

    assert receiver.requests == []
    info = await bot.get_webhook_info()
    assert (info.pending_update_count, info.allowed_updates) == (0, ["callback_query"])


# --- The real aiogram webhook stack --------------------------------------------------------


def echo_router() -> Router:
    router = Router(name="webhook-echo")

    @router.message(F.text == "/inline")
    async def answer_in_body(message: Message) -> SendMessage:
        # Returned, not awaited: aiogram writes it into the webhook answer (multipart form).
        return message.answer("answered in the webhook response")

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    return router


async def test_aiogram_webhook_server_works_against_the_sandbox(sandbox: Sandbox) -> None:
    dp = Dispatcher()
    dp.include_router(echo_router())
    async with SandboxClient(sandbox.base_url) as client, run_webhook(dp, sandbox.base_url):
        await client.send(ANN, "hello")
        reply = await client.wait_for(ANN, lambda m: m["text"] == "echo: hello")
        assert reply["from_bot"]
        state = await client.webhook()
        assert state["secret_token_set"] and state["info"]["allowed_updates"] == ["message"]
    assert (await _webhook_url(sandbox)) == ""


async def test_aiogram_reply_inside_the_webhook_answer(sandbox: Sandbox) -> None:
    dp = Dispatcher()
    dp.include_router(echo_router())
    async with (
        SandboxClient(sandbox.base_url) as client,
        run_webhook(dp, sandbox.base_url, handle_in_background=False),
    ):
        await client.send(ANN, "/inline")
        await client.wait_for(ANN, lambda m: m["text"] == "answered in the webhook response")
        stats = (await client.webhook())["stats"]
        calls = (await client.stats())["calls"]
    assert stats["methods_in_responses"] == 1
    assert calls.get("sendMessage") == 1, "the bot itself never called sendMessage"


async def test_aiogram_refuses_a_wrong_secret_and_the_update_stays_pending(
    sandbox: Sandbox,
) -> None:
    dp = Dispatcher()
    dp.include_router(echo_router())
    async with (
        SandboxClient(sandbox.base_url) as client,
        run_webhook(dp, sandbox.base_url, secret_token="right-secret") as runner,
    ):
        # Someone re-registers the same URL with another secret: aiogram answers 401.
        await runner.bot.set_webhook(runner.url, secret_token="wrong-secret")
        await client.send(ANN, "hello")

        async def refused() -> bool:
            info = (await client.webhook())["info"]
            return bool(info.get("last_error_message"))

        await eventually(refused)
        info = (await client.webhook())["info"]
        assert info["last_error_message"] == "Wrong response from the webhook: 401 Unauthorized"
        assert info["pending_update_count"] == 1
        assert (await client.messages(ANN))["messages"] == []


async def _webhook_url(sandbox: Sandbox) -> str:
    async with SandboxClient(sandbox.base_url) as client:
        return str((await client.webhook())["info"]["url"])


async def _true(value: bool) -> bool:
    return value


async def test_a_redelivered_update_reaches_aiogram_again_with_the_same_id(
    sandbox: Sandbox,
) -> None:
    seen: list[int] = []
    router = Router(name="webhook-seen")

    @router.message()
    async def record(message: Message, event_update: Any) -> None:
        seen.append(event_update.update_id)
        await message.answer(f"handled {len(seen)}")

    dp = Dispatcher()
    dp.include_router(router)
    async with SandboxClient(sandbox.base_url) as client, run_webhook(dp, sandbox.base_url):
        sent = await client.send(ANN, "log the call")
        await client.wait_for(ANN, lambda m: m["text"] == "handled 1")
        await client.redeliver(sent["update_id"])
        await client.wait_for(ANN, lambda m: m["text"] == "handled 2")

    assert seen == [sent["update_id"], sent["update_id"]]
