"""Every update once, counted, and tracked until its handler is done.

Telegram redelivers a webhook update it thinks was not received (a timeout, a replica that
died before answering), possibly to another replica. `UpdateGuard`, the outermost update
middleware of our own, lets only the first delivery of an `update_id` through: Redis
`SET NX EX` when several processes share Redis, an in-process table otherwise (one process
per SQLite file). The same middleware counts outcomes and errors for `/metrics`.

`InFlight` tracks the handler tasks so that a graceful stop can let them finish.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update

from bot.runtime.metrics import Metrics

log = logging.getLogger(__name__)

# Telegram keeps an undelivered update for 24 hours: a redelivery comes within that.
DEDUPE_TTL_SECONDS = 24 * 3600
MEMORY_DEDUPE_LIMIT = 200_000


class UpdateDeduplicator(Protocol):
    async def first_delivery(self, update_id: int) -> bool:
        """True the first time `update_id` is seen (within the TTL), False afterwards."""
        ...

    async def close(self) -> None: ...


class MemoryDeduplicator:
    """Seen update ids of this process, forgotten after the TTL or beyond a size limit."""

    def __init__(
        self,
        ttl: float = DEDUPE_TTL_SECONDS,
        limit: int = MEMORY_DEDUPE_LIMIT,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._limit = limit
        self._monotonic = monotonic
        self._seen: OrderedDict[int, float] = OrderedDict()

    async def first_delivery(self, update_id: int) -> bool:
        now = self._monotonic()
        while self._seen and (
            len(self._seen) >= self._limit or next(iter(self._seen.values())) <= now
        ):
            self._seen.popitem(last=False)
        if update_id in self._seen:
            return False
        self._seen[update_id] = now + self._ttl
        return True

    async def close(self) -> None:
        self._seen.clear()


class RedisDeduplicator:
    """One `SET key 1 NX EX ttl` per update: the replica whose SET succeeds handles it."""

    def __init__(self, redis_url: str, bot_id: int, ttl: int = DEDUPE_TTL_SECONDS) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(redis_url)
        self._prefix = f"crmbot:update:{bot_id}:"
        self._ttl = ttl

    async def first_delivery(self, update_id: int) -> bool:
        return bool(await self._redis.set(f"{self._prefix}{update_id}", 1, nx=True, ex=self._ttl))

    async def close(self) -> None:
        await self._redis.aclose()


def build_deduplicator(redis_url: str, bot_id: int) -> UpdateDeduplicator:
    if redis_url:
        return RedisDeduplicator(redis_url, bot_id)
    return MemoryDeduplicator()


class UpdateGuard(BaseMiddleware):
    """Drops redelivered updates; counts handled, unhandled and failed ones."""

    def __init__(self, deduplicator: UpdateDeduplicator, metrics: Metrics) -> None:
        self._deduplicator = deduplicator
        self._metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        kind = _update_type(event)
        if not await self._deduplicator.first_delivery(event.update_id):
            log.info("update %s was delivered again; handled once already", event.update_id)
            self._metrics.updates.labels(kind, "duplicate").inc()
            return UNHANDLED
        try:
            result = await handler(event, data)
        except Exception as error:
            self._metrics.updates.labels(kind, "error").inc()
            self._metrics.handler_errors.labels(type(error).__name__).inc()
            raise
        self._metrics.updates.labels(kind, "unhandled" if result is UNHANDLED else "handled").inc()
        return result


def _update_type(update: Update) -> str:
    try:
        return update.event_type
    except Exception:  # an update type newer than this aiogram
        return "unknown"


class InFlight:
    """The handler tasks still running; `drain` waits for them (bounded) at shutdown."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def submit(self, work: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(self._run(work, name), name=name)
        self._tasks.add(task)
        self._metrics.in_flight.inc()
        task.add_done_callback(self._done)
        return task

    async def _run(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:  # the error router answered whatever it could; never stop serving
            log.exception("%s failed", name)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        self._metrics.in_flight.dec()

    async def drain(self, limit: float) -> bool:
        """Wait up to `limit` s for the running handlers; cancel the rest. True if all done."""
        if not self._tasks:
            return True
        log.info("waiting up to %.0f s for %d update(s) in flight", limit, len(self._tasks))
        _, pending = await asyncio.wait(set(self._tasks), timeout=limit)
        if not pending:
            return True
        log.warning("%d update(s) still running after %.0f s; cancelled", len(pending), limit)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return False
