"""Telegram's flood limits as token buckets, and its length and button checks."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from sandbox.config import LimitsConfig
from sandbox.errors import bad_request, too_many_requests

Clock = Callable[[], float]


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` tokens per second."""

    def __init__(self, rate: float, burst: int, clock: Clock, now: float | None = None) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock() if now is None else now

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def wait_time(self) -> float:
        """Seconds until a token is available; 0 when one is available now."""
        self._refill()
        if self._tokens >= 1.0:
            return 0.0
        if self.rate <= 0:
            return math.inf
        return (1.0 - self._tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self._tokens -= 1.0


class RateLimiter:
    """A global bucket plus one bucket per chat, as Telegram's flood control behaves."""

    def __init__(self, config: LimitsConfig, clock: Clock = time.monotonic) -> None:
        self.config = config
        self._clock = clock
        self._global = TokenBucket(config.global_rate, config.global_burst, clock)
        self._chats: dict[int, TokenBucket] = {}

    def _chat_bucket(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            bucket = TokenBucket(self.config.chat_rate, self.config.chat_burst, self._clock)
            self._chats[chat_id] = bucket
        return bucket

    def acquire(self, chat_id: int, *, count_global: bool = True) -> None:
        """Take a token from the chat's bucket (and the global one) or raise a 429.

        Tokens are taken only when every bucket involved has one, so a rejected call costs
        nothing, like a request Telegram refused.
        """
        if not self.config.rate_limit_active:
            return
        buckets = [self._chat_bucket(chat_id)]
        if count_global:
            buckets.append(self._global)
        wait = max(bucket.wait_time() for bucket in buckets)
        if wait > 0:
            # Telegram's retry_after is whole seconds and never 0.
            raise too_many_requests(max(1, math.ceil(min(wait, 3600.0))))
        for bucket in buckets:
            bucket.take()

    def reset(self) -> None:
        self._global = TokenBucket(self.config.global_rate, self.config.global_burst, self._clock)
        self._chats.clear()


def check_text_length(plain_text: str, config: LimitsConfig, *, caption: bool = False) -> None:
    """Reject text over Telegram's limit; it counts characters after entity parsing."""
    if not config.enabled:
        return
    if caption and len(plain_text) > config.max_caption_length:
        raise bad_request("message caption is too long")
    if not caption and len(plain_text) > config.max_text_length:
        raise bad_request("message is too long")


_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def check_inline_keyboard(markup: Mapping[str, Any], config: LimitsConfig) -> None:
    """Validate an inline keyboard the way Telegram does before it stores the message."""
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, Mapping) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be non-empty")
            actions = [name for name in _INLINE_ACTIONS if name in button]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                check_callback_data(button["callback_data"], config)
            if "url" in button and not _is_button_url(button["url"]):
                raise bad_request("BUTTON_URL_INVALID")
            if "web_app" in button:
                web_app = button["web_app"]
                url = web_app.get("url") if isinstance(web_app, Mapping) else None
                check_web_app_url(url, "inline keyboard button")


def check_callback_data(data: Any, config: LimitsConfig) -> None:
    if not isinstance(data, str):
        raise bad_request("BUTTON_DATA_INVALID")
    size = len(data.encode("utf-8"))
    if size == 0 or (config.enabled and size > config.max_callback_data_bytes):
        raise bad_request("BUTTON_DATA_INVALID")


def check_web_app_url(url: Any, where: str) -> None:
    """Mini App URLs: Telegram wants HTTPS; the sandbox, on loopback, takes HTTP as well."""
    if not isinstance(url, str) or not url:
        raise bad_request(f"{where} Web App URL must be non-empty")
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise bad_request(f"{where} Web App URL '{url}' is invalid: Only HTTP(S) links are allowed")


def _is_button_url(url: Any) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://", "tg://"))
