"""Who is asking: Telegram's signed `initData`, checked as Telegram documents it.

https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app: the
data-check string is every field but `hash`, sorted by key, as `key=value` lines; its
HMAC-SHA256 under the key HMAC_SHA256("WebAppData", bot_token) must equal `hash`. A valid
signature older than `max_age` (by `auth_date`) is refused too, so a leaked `initData`
stops working. The API takes it in the `Authorization: tma <initData>` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.utils.web_app import safe_parse_webapp_init_data

AUTH_SCHEME = "tma"
CLOCK_SKEW = timedelta(minutes=5)  # an `auth_date` this far ahead of our clock is accepted


class InitDataError(Exception):
    """The request's `initData` is missing, forged or stale: answered with 401."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class TelegramIdentity:
    """The person Telegram vouches for."""

    telegram_id: int
    first_name: str
    language_code: str | None
    auth_date: datetime


def init_data_from_header(header: str | None) -> str:
    """The `initData` of `Authorization: tma <initData>`."""
    if not header:
        raise InitDataError("missing_init_data", "send Authorization: tma <initData>")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != AUTH_SCHEME or not value.strip():
        raise InitDataError("missing_init_data", "send Authorization: tma <initData>")
    return value.strip()


def validate_init_data(
    init_data: str, bot_token: str, *, now: datetime, max_age: timedelta
) -> TelegramIdentity:
    """The identity in `init_data` if Telegram signed it for this bot within `max_age`."""
    try:
        data = safe_parse_webapp_init_data(bot_token, init_data)
    except ValueError:
        raise InitDataError("invalid_init_data", "initData is not signed for this bot") from None
    if data.user is None:
        raise InitDataError("invalid_init_data", "initData names no user")
    age = now - data.auth_date
    if age > max_age:
        raise InitDataError("expired_init_data", "initData is too old: open the dashboard again")
    if age < -CLOCK_SKEW:
        raise InitDataError("invalid_init_data", "initData is dated in the future")
    return TelegramIdentity(
        telegram_id=data.user.id,
        first_name=data.user.first_name,
        language_code=data.user.language_code,
        auth_date=data.auth_date,
    )
