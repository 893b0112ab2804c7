"""The one rate-limited sender for everything the scheduler pushes.

Telegram allows about 30 messages a second overall and about one a second per chat; we stay
under with at most 25 a second overall and one a second per chat. Send slots are handed
out by one limiter shared by all workers, so any number of concurrent deliveries keep the
pace. Failures:

- 429 Too Many Requests: wait `retry_after` (everyone waits: the limit is the bot's) and
  retry the same message;
- 5xx, timeouts, network errors: retry with exponential backoff, a bounded number of times,
  then report the failure (the ledger keeps it for a later tick);
- 403 Forbidden (the user blocked the bot): report `blocked`, no retries;
- anything else Telegram rejects (400...): report the failure, no retries.

Sleeping and the monotonic clock are injected, so tests run without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from ui.messages import BotLike, Part, send_part

log = logging.getLogger(__name__)

# Set while the sender makes a call: the Bot API retry layer of the bot's session steps
# aside, since the sender retries itself (and keeps the push ledger's attempt counts).
OWN_RETRIES: ContextVar[bool] = ContextVar("sender_own_retries", default=False)

Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]

GLOBAL_RATE = 25.0  # messages per second, all chats together
CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
MAX_ATTEMPTS = 5  # tries of one message on 5xx / network errors
MAX_FLOOD_WAITS = 10  # 429s tolerated for one message before giving up
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
REQUEST_TIMEOUT = 20  # seconds per Bot API call


class SendStatus(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    attempts: int  # Bot API calls made, not counting those refused with 429
    parts_sent: int
    error: str | None = None


@dataclass
class SenderStats:
    """Running totals for logs and the benchmark."""

    sent: int = 0
    calls: int = 0
    flood_waits: int = 0  # 429s received
    server_errors: int = 0
    network_errors: int = 0
    failed: int = 0
    blocked: int = 0


# --- pacing ---------------------------------------------------------------------------------


class RateLimiter:
    """Decides when the next message may go: paced overall, one a second per chat.

    Messages are spaced 1/rate apart on a fixed grid (a late wake-up does not push the grid
    back, so the average rate holds under load), and as a hard guarantee no more than `rate`
    sends start within any one second. Each chat gets one send per `chat_interval`.
    """

    def __init__(
        self,
        rate: float = GLOBAL_RATE,
        chat_interval: float = CHAT_INTERVAL,
        *,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / rate
        self._chat_interval = chat_interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._next_global = -math.inf
        self._next_chat: dict[int, float] = {}
        self._paused_until = -math.inf
        self._recent: deque[float] = deque(maxlen=max(1, math.floor(rate)))

    async def acquire(self, chat_id: int) -> None:
        """Wait until this chat may get a message, and take that moment."""
        while True:
            async with self._lock:
                now = self._monotonic()
                ready = max(
                    self._next_chat.get(chat_id, -math.inf),
                    self._paused_until,
                    self._next_global,
                )
                recent = self._recent
                if len(recent) == recent.maxlen:
                    ready = max(ready, recent[0] + 1.0)
                if ready <= now:
                    grid = self._next_global
                    base = grid if now - grid < self._interval else now
                    self._next_global = base + self._interval
                    self._next_chat[chat_id] = now + self._chat_interval
                    recent.append(now)
                    self._forget_idle_chats(now)
                    return
            await self._sleep(ready - now)

    def pause(self, chat_id: int, seconds: float) -> None:
        """Telegram said "retry after": nobody sends for that long."""
        until = self._monotonic() + seconds
        self._paused_until = max(self._paused_until, until)
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, -math.inf), until)

    def _forget_idle_chats(self, now: float) -> None:
        # keeps the per-chat table small when thousands of chats get one message each
        if len(self._next_chat) > 10_000:
            self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}


# --- sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _PartOutcome:
    status: SendStatus
    attempts: int
    error: str | None = None


class Sender:
    """Sends messages through one `RateLimiter`, retrying what can be retried."""

    def __init__(
        self,
        bot: BotLike,
        *,
        rate: float = GLOBAL_RATE,
        chat_interval: float = CHAT_INTERVAL,
        max_attempts: int = MAX_ATTEMPTS,
        max_flood_waits: int = MAX_FLOOD_WAITS,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
        request_timeout: int = REQUEST_TIMEOUT,
        sleep: Sleep = asyncio.sleep,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self._bot = bot
        self._sleep = sleep
        self._limiter = RateLimiter(rate, chat_interval, monotonic=monotonic, sleep=sleep)
        self._max_attempts = max_attempts
        self._max_flood_waits = max_flood_waits
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._request_timeout = request_timeout
        self.stats = SenderStats()

    async def send(self, chat_id: int, parts: Sequence[Part]) -> SendResult:
        """Send the parts in order; stop at the first part that cannot be delivered."""
        attempts = 0
        for index, part in enumerate(parts):
            outcome = await self._send_part(chat_id, part)
            attempts += outcome.attempts
            if outcome.status is not SendStatus.SENT:
                if outcome.status is SendStatus.BLOCKED:
                    self.stats.blocked += 1
                else:
                    self.stats.failed += 1
                return SendResult(outcome.status, attempts, index, outcome.error)
        return SendResult(SendStatus.SENT, attempts, len(parts))

    def _backoff(self, failures: int) -> float:
        return float(min(self._backoff_cap, self._backoff_base * 2 ** (failures - 1)))

    async def _send_part(self, chat_id: int, part: Part) -> _PartOutcome:
        attempts = failures = flood_waits = 0
        while True:
            await self._limiter.acquire(chat_id)
            attempts += 1
            self.stats.calls += 1
            try:
                await self._call(chat_id, part)
            except TelegramRetryAfter as error:
                self.stats.flood_waits += 1
                flood_waits += 1
                attempts -= 1  # refused before it was tried: not an attempt
                log.warning("429 for chat %s: retry after %ss", chat_id, error.retry_after)
                if flood_waits > self._max_flood_waits:
                    return _PartOutcome(SendStatus.FAILED, attempts, f"429 x{flood_waits}")
                self._limiter.pause(chat_id, float(error.retry_after))
            except TelegramForbiddenError as error:
                log.info("chat %s blocked the bot: %s", chat_id, error.message)
                return _PartOutcome(SendStatus.BLOCKED, attempts, f"403: {error.message}")
            except TelegramEntityTooLarge as error:
                return _PartOutcome(SendStatus.FAILED, attempts, f"413: {error.message}")
            except (TelegramServerError, TelegramNetworkError, ClientDecodeError) as error:
                failures += 1
                if isinstance(error, TelegramServerError):
                    self.stats.server_errors += 1
                else:
                    self.stats.network_errors += 1
                description = f"{type(error).__name__}: {error}"
                if failures >= self._max_attempts:
                    log.warning("giving up on chat %s after %s tries", chat_id, attempts)
                    return _PartOutcome(SendStatus.FAILED, attempts, description)
                await self._sleep(self._backoff(failures))
            except TelegramAPIError as error:
                log.warning("chat %s: Telegram rejected the message: %s", chat_id, error)
                return _PartOutcome(SendStatus.FAILED, attempts, f"{type(error).__name__}: {error}")
            else:
                self.stats.sent += 1
                return _PartOutcome(SendStatus.SENT, attempts)

    async def _call(self, chat_id: int, part: Part) -> None:
        token = OWN_RETRIES.set(True)
        try:
            await send_part(self._bot, chat_id, part, request_timeout=self._request_timeout)
        finally:
            OWN_RETRIES.reset(token)
