"""Redelivered updates are handled once; handler tasks are tracked until done."""

from __future__ import annotations

import asyncio

from bot.runtime.metrics import Metrics
from bot.runtime.updates import InFlight, MemoryDeduplicator


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_an_update_id_passes_once_within_the_ttl() -> None:
    clock = Clock()
    seen = MemoryDeduplicator(ttl=60, monotonic=clock)
    assert await seen.first_delivery(7)
    assert not await seen.first_delivery(7)
    assert await seen.first_delivery(8)
    clock.now = 59
    assert not await seen.first_delivery(7)
    clock.now = 61
    assert await seen.first_delivery(7)  # forgotten after the TTL (Telegram keeps 24 h)


async def test_memory_is_bounded() -> None:
    seen = MemoryDeduplicator(ttl=3600, limit=3)
    for update_id in range(10):
        assert await seen.first_delivery(update_id)
    assert len(seen._seen) <= 3
    assert not await seen.first_delivery(9)


async def test_drain_waits_for_handlers_and_cancels_the_slow_ones() -> None:
    metrics = Metrics()
    in_flight = InFlight(metrics)
    finished: list[str] = []

    async def handler(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        finished.append(name)

    in_flight.submit(handler("quick", 0.05), name="quick")
    in_flight.submit(handler("slow", 30), name="slow")
    assert len(in_flight) == 2
    assert metrics.in_flight._value.get() == 2
    assert not await in_flight.drain(0.5)
    assert finished == ["quick"]
    assert len(in_flight) == 0
    assert metrics.in_flight._value.get() == 0


async def test_a_failing_handler_is_logged_not_raised(caplog) -> None:  # type: ignore[no-untyped-def]
    in_flight = InFlight(Metrics())

    async def broken() -> None:
        raise RuntimeError("boom")

    in_flight.submit(broken(), name="update-5")
    assert await in_flight.drain(1)
    assert any("update-5 failed" in record.getMessage() for record in caplog.records)
