"""The Bot API retry layer: 429 waits `retry_after` (bounded), 5xx and timeouts back off."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, SendMessage

from bot.runtime.retry import RequestRetry, RetryRequests
from scheduler.sender import OWN_RETRIES

METHOD = SendMessage(chat_id=1, text="hi")
BOT = Bot("42:TEST")


class Script:
    """A `make_request` that fails as told, then answers."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    async def __call__(self, bot: Any, method: Any) -> Any:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def _layer(waits: list[float], **policy: Any) -> RetryRequests:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return RetryRequests(RequestRetry(**policy), sleep=sleep)


async def test_429_waits_retry_after_and_5xx_and_timeouts_back_off() -> None:
    waits: list[float] = []
    script = Script(
        TelegramRetryAfter(METHOD, "Too Many Requests", 3),
        TelegramServerError(METHOD, "Bad Gateway"),
        TelegramNetworkError(METHOD, "timeout"),
    )
    assert await _layer(waits)(script, BOT, METHOD) == "ok"
    assert script.calls == 4 and waits == [3.0, 0.5, 1.0]


async def test_bounded_attempts_long_waits_and_client_errors_are_not_retried() -> None:
    waits: list[float] = []
    script = Script(*[TelegramServerError(METHOD, "Bad Gateway")] * 10)
    with pytest.raises(TelegramServerError):
        await _layer(waits, max_attempts=3)(script, BOT, METHOD)
    assert script.calls == 3

    script = Script(TelegramRetryAfter(METHOD, "Too Many Requests", 600))
    with pytest.raises(TelegramRetryAfter):
        await _layer(waits)(script, BOT, METHOD)
    assert script.calls == 1

    script = Script(TelegramBadRequest(METHOD, "message is not modified"))
    with pytest.raises(TelegramBadRequest):
        await _layer(waits)(script, BOT, METHOD)
    assert script.calls == 1


async def test_polling_and_the_push_sender_keep_their_own_retries() -> None:
    waits: list[float] = []
    poll = GetUpdates()
    script = Script(TelegramServerError(poll, "Bad Gateway"))
    with pytest.raises(TelegramServerError):
        await _layer(waits)(script, BOT, poll)
    token = OWN_RETRIES.set(True)
    try:
        script = Script(TelegramRetryAfter(METHOD, "Too Many Requests", 1))
        with pytest.raises(TelegramRetryAfter):
            await _layer(waits)(script, BOT, METHOD)
    finally:
        OWN_RETRIES.reset(token)
    assert waits == []
