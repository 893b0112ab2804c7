from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from scheduler.sender import Sender, SendStatus
from tests.unit.scheduler.fakes import FakeBot, FakeTime, method
from ui.messages import CAPTION_LIMIT, PhotoPart, TextPart


def _sender(bot: FakeBot, clock: FakeTime, **kwargs: object) -> Sender:
    return Sender(bot, sleep=clock.sleep, monotonic=clock.monotonic, **kwargs)  # type: ignore[arg-type]


# --- lengths ---------------------------------------------------------------------------------


async def test_global_pace_is_25_per_second() -> None:
    clock = FakeTime()
    bot = FakeBot(clock)
    sender = _sender(bot, clock)
    for chat in range(100):
        await sender.send(chat, [TextPart("hi")])
    times = [t for _, _, t in bot.sent]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1 / 25 - 1e-9
    assert times[-1] - times[0] == pytest.approx(99 / 25)
    for start in times:
        assert sum(1 for t in times if start <= t < start + 1 - 1e-6) <= 25


async def test_never_more_than_rate_sends_in_any_second_after_a_stall() -> None:
    """A late wake-up lets the grid catch up, but the one-second window still holds."""
    clock = FakeTime()
    bot = FakeBot(clock)
    sender = _sender(bot, clock, rate=5.0)
    for chat in range(3):
        await sender.send(chat, [TextPart("x")])
    clock.now += 0.15  # the loop was busy
    for chat in range(3, 20):
        await sender.send(chat, [TextPart("x")])
    times = [t for _, _, t in bot.sent]
    for start in times:
        assert sum(1 for t in times if start <= t < start + 1 - 1e-6) <= 5


async def test_one_message_per_second_per_chat() -> None:
    clock = FakeTime()
    bot = FakeBot(clock)
    sender = _sender(bot, clock)
    await sender.send(7, [TextPart("one"), TextPart("two"), TextPart("three")])
    times = [t for _, _, t in bot.sent]
    assert [b - a for a, b in itertools.pairwise(times)] == [1.0, 1.0]


async def test_concurrent_workers_share_the_limits() -> None:
    """Real (tiny) time: 40 workers, a fast rate, two messages per chat."""
    bot = FakeBot(FakeTime())
    stamps: list[tuple[int, float]] = []

    async def send_message(chat_id: int, text: str, **kwargs: object) -> None:
        stamps.append((chat_id, time.monotonic()))

    bot.send_message = send_message  # type: ignore[method-assign]
    sender = Sender(bot, rate=400.0, chat_interval=0.05)
    started = time.monotonic()
    await asyncio.gather(
        *(sender.send(chat % 20, [TextPart("a"), TextPart("b")]) for chat in range(40))
    )
    assert len(stamps) == 80
    times = sorted(t for _, t in stamps)
    assert times[-1] - started >= 79 / 400 - 0.005  # paced, not all at once
    for chat in range(20):
        mine = sorted(t for c, t in stamps if c == chat)
        assert min(b - a for a, b in itertools.pairwise(mine)) >= 0.05 - 0.001


# --- failures --------------------------------------------------------------------------------


async def test_429_waits_retry_after_and_retries() -> None:
    clock = FakeTime()
    bot = FakeBot(clock, {5: [TelegramRetryAfter(method(5), "Too Many Requests", 3)]})
    sender = _sender(bot, clock)
    started = clock.now
    result = await sender.send(5, [TextPart("hi")])
    assert result.status is SendStatus.SENT
    assert result.attempts == 1  # a 429 is a refusal, not a try
    assert bot.calls == 2
    assert bot.sent[0][2] - started >= 3
    assert sender.stats.flood_waits == 1


async def test_429_pauses_every_chat() -> None:
    clock = FakeTime()
    bot = FakeBot(clock, {1: [TelegramRetryAfter(method(1), "Too Many Requests", 2)]})
    sender = _sender(bot, clock)
    started = clock.now
    await sender.send(1, [TextPart("a")])
    await sender.send(2, [TextPart("b")])
    assert all(t - started >= 2 for _, _, t in bot.sent)


async def test_server_errors_are_retried_with_backoff() -> None:
    clock = FakeTime()
    errors: list[Exception] = [
        TelegramServerError(method(), "Internal Server Error"),
        TelegramNetworkError(method(), "Request timeout error"),
    ]
    bot = FakeBot(clock, {3: errors})
    sender = _sender(bot, clock)
    result = await sender.send(3, [TextPart("hi")])
    assert (result.status, result.attempts) == (SendStatus.SENT, 3)
    assert 0.5 in clock.sleeps and 1.0 in clock.sleeps
    assert (sender.stats.server_errors, sender.stats.network_errors) == (1, 1)


async def test_server_errors_give_up_after_bounded_attempts() -> None:
    clock = FakeTime()
    bot = FakeBot(clock, {3: [TelegramServerError(method(), "Bad Gateway") for _ in range(20)]})
    sender = _sender(bot, clock, max_attempts=4)
    result = await sender.send(3, [TextPart("hi")])
    assert result.status is SendStatus.FAILED
    assert result.attempts == 4
    assert "Bad Gateway" in (result.error or "")
    assert not bot.sent


async def test_blocked_user_is_reported_without_retries() -> None:
    clock = FakeTime()
    bot = FakeBot(clock, {4: [TelegramForbiddenError(method(), "bot was blocked by the user")]})
    sender = _sender(bot, clock)
    result = await sender.send(4, [TextPart("hi"), TextPart("there")])
    assert (result.status, result.attempts, result.parts_sent) == (SendStatus.BLOCKED, 1, 0)
    assert bot.calls == 1


async def test_bad_request_is_not_retried() -> None:
    clock = FakeTime()
    bot = FakeBot(clock, {4: [TelegramBadRequest(method(), "chat not found")]})
    sender = _sender(bot, clock)
    result = await sender.send(4, [TextPart("hi")])
    assert (result.status, result.attempts) == (SendStatus.FAILED, 1)


async def test_photo_then_text() -> None:
    clock = FakeTime()
    bot = FakeBot(clock)
    sender = _sender(bot, clock)
    result = await sender.send(9, [PhotoPart(b"png", caption="c" * 2000), TextPart("text")])
    assert result.status is SendStatus.SENT
    assert result.parts_sent == 2
    assert bot.sent[0][1].startswith("<photo")
    assert len(bot.sent[0][1]) <= CAPTION_LIMIT + len("<photo >")
