"""One retry layer for every Bot API call the bot makes (a session middleware).

- 429 Too Many Requests: wait `retry_after` (bounded) and send the same request again;
- 5xx, timeouts and network errors: retry with exponential backoff, a bounded number
  of times.
Anything else (400, 403, ...) is not retried. The runtime's own calls (`getMe`,
`getUpdates`, webhook registration) have their own backoff in bot/runtime, and the push
sender keeps its own retries and ledger: while `scheduler.sender.OWN_RETRIES` is set, this
layer steps aside so nothing is retried twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import (
    Close,
    DeleteWebhook,
    GetMe,
    GetUpdates,
    GetWebhookInfo,
    LogOut,
    SetWebhook,
    TelegramMethod,
)
from aiogram.methods.base import Response, TelegramType

from scheduler.sender import OWN_RETRIES

log = logging.getLogger(__name__)

# The runtime's own calls (startup, polling, the webhook): it retries them with its backoff
# and gives up loudly, which a second retry layer here would only delay.
RUNTIME_METHODS = (GetUpdates, GetMe, SetWebhook, DeleteWebhook, GetWebhookInfo, Close, LogOut)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RequestRetry:
    """How hard one Bot API call is tried before its error reaches the handler."""

    max_attempts: int = 5  # 5xx and network failures, the first try included
    max_flood_waits: int = 5  # 429 answers honoured per call
    max_retry_after: float = 30.0  # a longer wait than this is not waited for
    backoff_base: float = 0.5
    backoff_cap: float = 8.0

    def backoff(self, failures: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1)))


class RetryRequests(BaseRequestMiddleware):
    """Retries what Telegram says can be retried, so a handler's reply is not dropped."""

    def __init__(self, policy: RequestRetry | None = None, sleep: Sleep = asyncio.sleep) -> None:
        self.policy = policy or RequestRetry()
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if isinstance(method, RUNTIME_METHODS) or OWN_RETRIES.get():
            return await make_request(bot, method)
        failures = flood_waits = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                flood_waits += 1
                wait = float(error.retry_after)
                if flood_waits > self.policy.max_flood_waits or wait > self.policy.max_retry_after:
                    raise
                log.info("429 on %s: retrying after %.0f s", _name(method), wait)
                await self._sleep(wait)
            except (TelegramServerError, TelegramNetworkError) as error:
                failures += 1
                if failures >= self.policy.max_attempts:
                    raise
                delay = self.policy.backoff(failures)
                log.info("%s on %s: retrying in %.1f s", type(error).__name__, _name(method), delay)
                await self._sleep(delay)


def _name(method: TelegramMethod[TelegramType]) -> str:
    return str(getattr(method, "__api_method__", type(method).__name__))
