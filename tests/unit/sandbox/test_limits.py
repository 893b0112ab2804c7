"""Token buckets and Telegram's length and button checks, on a fake clock."""

from __future__ import annotations

import pytest

from sandbox.config import LimitsConfig
from sandbox.errors import ApiError
from sandbox.limits import (
    RateLimiter,
    TokenBucket,
    check_callback_data,
    check_inline_keyboard,
    check_text_length,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)

    for _ in range(3):
        assert bucket.wait_time() == 0
        bucket.take()
    assert bucket.wait_time() == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.wait_time() == 0
    clock.now += 100
    for _ in range(3):
        bucket.take()
    assert bucket.wait_time() > 0, "refill never exceeds the burst"


def test_chat_limit_answers_429_with_whole_seconds_and_costs_nothing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(LimitsConfig(chat_burst=2, chat_rate=0.25), clock)
    limiter.acquire(1)
    limiter.acquire(1)

    with pytest.raises(ApiError) as refused:
        limiter.acquire(1)

    assert refused.value.code == 429
    assert refused.value.retry_after == 4
    assert refused.value.payload() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 4",
        "parameters": {"retry_after": 4},
    }
    limiter.acquire(2)  # another chat has its own bucket
    clock.now += 4
    limiter.acquire(1)


def test_global_bucket_spans_chats_but_edits_skip_it() -> None:
    clock = FakeClock()
    limiter = RateLimiter(LimitsConfig(global_burst=2, global_rate=1, chat_burst=5), clock)
    limiter.acquire(1)
    limiter.acquire(2)

    with pytest.raises(ApiError):
        limiter.acquire(3)
    limiter.acquire(3, count_global=False)


@pytest.mark.parametrize(
    "limits", [LimitsConfig(enabled=False), LimitsConfig(rate_limit=False)], ids=["off", "no-rate"]
)
def test_switched_off_limits_never_refuse(limits: LimitsConfig) -> None:
    limiter = RateLimiter(limits, FakeClock())
    for _ in range(100):
        limiter.acquire(1)


def test_text_and_caption_lengths() -> None:
    limits = LimitsConfig()
    check_text_length("x" * 4096, limits)
    check_text_length("x" * 1024, limits, caption=True)

    with pytest.raises(ApiError, match="message is too long"):
        check_text_length("x" * 4097, limits)
    with pytest.raises(ApiError, match="message caption is too long"):
        check_text_length("x" * 1025, limits, caption=True)
    check_text_length("x" * 5000, LimitsConfig(enabled=False))


def test_callback_data_is_limited_in_bytes() -> None:
    limits = LimitsConfig()
    check_callback_data("ж" * 32, limits)

    for bad in ("ж" * 33, "", None):
        with pytest.raises(ApiError) as refused:
            check_callback_data(bad, limits)
        assert refused.value.description == "Bad Request: BUTTON_DATA_INVALID"


def test_inline_keyboard_needs_an_action_per_button() -> None:
    limits = LimitsConfig()
    check_inline_keyboard(
        {
            "inline_keyboard": [
                [{"text": "a", "callback_data": "a"}, {"text": "b", "url": "tg://x"}]
            ]
        },
        limits,
    )

    with pytest.raises(ApiError, match="Text buttons are unallowed"):
        check_inline_keyboard({"inline_keyboard": [[{"text": "a"}]]}, limits)
    with pytest.raises(ApiError, match="BUTTON_URL_INVALID"):
        check_inline_keyboard({"inline_keyboard": [[{"text": "a", "url": "ftp://x"}]]}, limits)
    with pytest.raises(ApiError, match="must be an Array"):
        check_inline_keyboard({"inline_keyboard": "nope"}, limits)
