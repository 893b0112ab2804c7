"""Liveness and readiness of one bot process, and the watch on its dependencies.

- live (`/healthz`): the event loop is responsive (a heartbeat ticks every second);
- ready (`/readyz`): started and not stopping, the database answers `SELECT 1`, the Bot API
  answered recently (`getMe`, `getUpdates`, `getWebhookInfo`), the scheduler runs.

The database is probed every few seconds; while it fails the probes back off and, past
the give-up time, `GaveUp` ends the process. Polling waits for the database meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime.backoff import FailureStreak, RetryPolicy
from bot.runtime.metrics import Metrics

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL = 1.0
MAX_LOOP_LAG = 10.0  # a loop blocked this long is not healthy
DATABASE_PROBE_INTERVAL = 2.0
DATABASE_PROBE_TIMEOUT = 5.0
READINESS_DATABASE_TIMEOUT = 2.0
BOT_API_MAX_AGE = 180.0  # the Bot API must have answered within this many seconds

# What an unreachable, restarting or overloaded database raises.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    sa_exc.DBAPIError,
    sa_exc.TimeoutError,
)


class Health:
    """What `/healthz` and `/readyz` report, kept up to date by the runtime."""

    def __init__(
        self,
        metrics: Metrics,
        policy: RetryPolicy,
        *,
        scheduler_running: Callable[[], bool] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._monotonic = monotonic
        self.engine: AsyncEngine | None = None
        self.scheduler_running = scheduler_running
        self.database = FailureStreak(
            "the database", policy, on_retry=lambda _: metrics.retried("database")
        )
        self.bot_api = FailureStreak(
            "the Bot API", policy, on_retry=lambda _: metrics.retried("bot_api")
        )
        self.serving = False
        self.stopping = False
        self._database_up = asyncio.Event()
        self._bot_api_ok_at: float | None = None
        self._beat = monotonic()
        self._lag = 0.0

    # --- the Bot API ---------------------------------------------------------------------

    def bot_api_answered(self) -> None:
        self._bot_api_ok_at = self._monotonic()
        self.bot_api.succeeded()

    def bot_api_fresh(self) -> bool:
        at = self._bot_api_ok_at
        return at is not None and self._monotonic() - at <= BOT_API_MAX_AGE

    # --- the database --------------------------------------------------------------------

    async def check_database(self, limit: float = DATABASE_PROBE_TIMEOUT) -> None:
        """`SELECT 1`; raises one of `DATABASE_ERRORS` when the database does not answer."""
        if self.engine is None:
            raise ConnectionError("the database is not connected yet")
        async with asyncio.timeout(limit), self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def probe_database(self) -> float:
        """One probe; the delay until the next one (shorter while failing, up to the cap)."""
        try:
            await self.check_database()
        except DATABASE_ERRORS as error:
            self._database_up.clear()
            return self.database.failed(error)  # GaveUp past the give-up time
        self.database.succeeded()
        self._database_up.set()
        return DATABASE_PROBE_INTERVAL

    def database_reachable(self) -> None:
        self.database.succeeded()
        self._database_up.set()

    @property
    def database_up(self) -> bool:
        return self._database_up.is_set()

    async def wait_for_database(self) -> None:
        await self._database_up.wait()

    # --- the loop ------------------------------------------------------------------------

    async def heartbeat(self) -> None:
        """Beat every second; the lag shows a blocked event loop."""
        while True:
            expected = self._monotonic() + HEARTBEAT_INTERVAL
            await asyncio.sleep(HEARTBEAT_INTERVAL)
            now = self._monotonic()
            self._lag = max(0.0, now - expected)
            self._beat = now

    def liveness(self) -> tuple[bool, dict[str, Any]]:
        since_beat = self._monotonic() - self._beat
        ok = since_beat <= HEARTBEAT_INTERVAL + MAX_LOOP_LAG and self._lag <= MAX_LOOP_LAG
        return ok, {"status": "ok" if ok else "stalled", "loop_lag_s": round(self._lag, 3)}

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        checks: dict[str, str] = {}
        if self.stopping:
            checks["process"] = "stopping"
        elif not self.serving:
            checks["process"] = "starting"
        else:
            checks["process"] = "ok"
        try:
            await self.check_database(limit=READINESS_DATABASE_TIMEOUT)
            checks["database"] = "ok"
        except DATABASE_ERRORS as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        checks["bot_api"] = "ok" if self.bot_api_fresh() else "no recent answer"
        if self.scheduler_running is not None:
            checks["scheduler"] = "ok" if self.scheduler_running() else "not running"
        ready = all(value == "ok" for value in checks.values())
        self._metrics.ready.set(1 if ready else 0)
        return ready, {"status": "ready" if ready else "not ready", "checks": checks}
