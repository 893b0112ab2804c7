"""Capped exponential backoff and the give-up rule."""

from __future__ import annotations

import pytest

from bot.runtime.backoff import FailureStreak, GaveUp, RetryPolicy, retry


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_delays_double_up_to_the_cap() -> None:
    policy = RetryPolicy(give_up=300, cap=30, jitter=0)
    assert [policy.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_jitter_stays_within_ten_percent_and_under_the_cap() -> None:
    policy = RetryPolicy(give_up=300, cap=30)
    for attempt in range(1, 12):
        base = min(30.0, 2.0 ** (attempt - 1))
        for _ in range(50):
            delay = policy.delay(attempt)
            assert base * 0.9 - 1e-9 <= delay <= min(30.0, base * 1.1) + 1e-9


async def test_retry_waits_out_an_outage_and_resets() -> None:
    clock = FakeTime()
    retried: list[str] = []
    streak = FailureStreak(
        "the Bot API",
        RetryPolicy(give_up=60, cap=4, jitter=0),
        on_retry=retried.append,
        monotonic=clock.monotonic,
    )
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls <= 5:
            raise ConnectionRefusedError("down")
        return "up"

    assert await retry(flaky, streak, retry_on=(OSError,), sleep=clock.sleep) == "up"
    assert clock.sleeps == [1, 2, 4, 4, 4]
    assert retried == ["the Bot API"] * 5
    assert not streak.failing and streak.attempts == 0


async def test_gives_up_after_the_give_up_time_not_before() -> None:
    clock = FakeTime()
    streak = FailureStreak(
        "the database", RetryPolicy(give_up=10, cap=4, jitter=0), monotonic=clock.monotonic
    )

    async def down() -> None:
        raise ConnectionRefusedError("connection refused")

    with pytest.raises(GaveUp, match="the database was not available for 10 s") as raised:
        await retry(down, streak, retry_on=(OSError,), sleep=clock.sleep)
    # 1 + 2 + 4 = 7 s, then only the 3 s left, then one last try at 10 s
    assert clock.sleeps == [1, 2, 4, 3]
    assert isinstance(raised.value.last_error, ConnectionRefusedError)


async def test_errors_outside_retry_on_propagate_at_once() -> None:
    clock = FakeTime()
    streak = FailureStreak("the Bot API", RetryPolicy(give_up=10), monotonic=clock.monotonic)

    async def refused() -> None:
        raise PermissionError("401")

    with pytest.raises(PermissionError):
        await retry(refused, streak, retry_on=(ConnectionError,), sleep=clock.sleep)
    assert clock.sleeps == []
