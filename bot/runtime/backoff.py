"""Capped exponential backoff and the give-up rule: retry while it may heal, then fail loudly.

A `FailureStreak` follows one dependency (the Bot API, the database): every failure is
logged with its attempt number and the next delay; once the failures have lasted longer
than the give-up time it raises `GaveUp`, and the process exits non-zero so that its
supervisor restarts it (and someone notices) instead of idling forever.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

INITIAL_DELAY = 1.0
FACTOR = 2.0
JITTER = 0.1  # +-10%, so replicas restarted together do not retry in lockstep


@dataclass(frozen=True)
class RetryPolicy:
    """1 s, 2 s, 4 s ... at most `cap` seconds apart, for at most `give_up` seconds."""

    give_up: float = 300.0
    cap: float = 30.0
    initial: float = INITIAL_DELAY
    factor: float = FACTOR
    jitter: float = JITTER

    def delay(self, attempt: int) -> float:
        """The pause after the `attempt`-th consecutive failure (1-based)."""
        base = min(self.cap, self.initial * self.factor ** max(attempt - 1, 0))
        spread = base * self.jitter
        return max(0.0, min(self.cap, base + random.uniform(-spread, spread)))


class GaveUp(RuntimeError):
    """A dependency stayed unreachable for longer than the give-up time."""

    def __init__(self, what: str, seconds: float, last_error: BaseException) -> None:
        super().__init__(
            f"{what} was not available for {seconds:.0f} s, giving up: "
            f"{type(last_error).__name__}: {last_error}"
        )
        self.what = what
        self.last_error = last_error


class FailureStreak:
    """Consecutive failures of one dependency; `failed` says how long to wait, or gives up."""

    def __init__(
        self,
        what: str,
        policy: RetryPolicy,
        *,
        on_retry: Callable[[str], None] | None = None,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self.what = what
        self.policy = policy
        self._on_retry = on_retry
        self._monotonic = monotonic
        self.attempts = 0
        self.since: float | None = None

    @property
    def failing(self) -> bool:
        return self.since is not None

    def failed(self, error: BaseException) -> float:
        """Record a failure; the delay before the next try, or `GaveUp` once time is out."""
        now = self._monotonic()
        if self.since is None:
            self.since = now
        self.attempts += 1
        elapsed = now - self.since
        remaining = self.policy.give_up - elapsed
        if remaining <= 0:
            raise GaveUp(self.what, elapsed, error) from error
        delay = min(self.policy.delay(self.attempts), remaining)
        log.warning(
            "%s is not available (attempt %d): %s: %s; retrying in %.1f s, giving up in %.0f s",
            self.what,
            self.attempts,
            type(error).__name__,
            error,
            delay,
            remaining,
        )
        if self._on_retry is not None:
            self._on_retry(self.what)
        return delay

    def succeeded(self) -> None:
        if self.since is not None:
            log.info("%s is available again after %d failed attempt(s)", self.what, self.attempts)
        self.attempts = 0
        self.since = None


async def retry(
    operation: Callable[[], Awaitable[T]],
    streak: FailureStreak,
    *,
    retry_on: tuple[type[BaseException], ...],
    sleep: Sleep = asyncio.sleep,
) -> T:
    """Run `operation` until it succeeds; failures in `retry_on` back off, others propagate."""
    while True:
        try:
            result = await operation()
        except retry_on as error:
            await sleep(streak.failed(error))
            continue
        streak.succeeded()
        return result
