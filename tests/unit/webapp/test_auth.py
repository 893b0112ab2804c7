"""`initData` validation against Telegram's documented algorithm (signed in `tests.init_data`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest

from tests.init_data import sign_init_data, telegram_user
from webapp.auth import InitDataError, init_data_from_header, validate_init_data

TOKEN = "123456:TEST-token"
NOW = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def check(init_data: str, *, token: str = TOKEN, now: datetime = NOW) -> object:
    return validate_init_data(init_data, token, now=now, max_age=DAY)


def test_a_valid_init_data_names_the_user() -> None:
    signed = sign_init_data(TOKEN, telegram_user(1001, "Ольга", "ru"), NOW - timedelta(hours=1))
    identity = check(signed)
    assert identity.telegram_id == 1001
    assert identity.first_name == "Ольга"
    assert identity.language_code == "ru"
    assert identity.auth_date == NOW - timedelta(hours=1)


def test_a_forged_hash_is_refused() -> None:
    signed = sign_init_data(TOKEN, telegram_user(1001), NOW, hash_override="0" * 64)
    with pytest.raises(InitDataError) as error:
        check(signed)
    assert error.value.code == "invalid_init_data"


def test_changing_the_user_breaks_the_signature() -> None:
    fields = dict(parse_qsl(sign_init_data(TOKEN, telegram_user(2001), NOW)))
    fields["user"] = fields["user"].replace("2001", "1001")  # a manager posing as the head
    with pytest.raises(InitDataError, match="not signed"):
        check(urlencode(fields))


def test_another_bots_init_data_is_refused() -> None:
    signed = sign_init_data("999999:OTHER", telegram_user(1001), NOW)
    with pytest.raises(InitDataError):
        check(signed)


def test_a_stale_auth_date_is_refused_and_a_fresh_one_is_not() -> None:
    stale = sign_init_data(TOKEN, telegram_user(1001), NOW - DAY - timedelta(seconds=1))
    with pytest.raises(InitDataError) as error:
        check(stale)
    assert error.value.code == "expired_init_data"
    check(sign_init_data(TOKEN, telegram_user(1001), NOW - DAY + timedelta(seconds=1)))


def test_a_date_in_the_future_is_refused_beyond_clock_skew() -> None:
    check(sign_init_data(TOKEN, telegram_user(1001), NOW + timedelta(minutes=2)))
    with pytest.raises(InitDataError):
        check(sign_init_data(TOKEN, telegram_user(1001), NOW + timedelta(hours=1)))


@pytest.mark.parametrize(
    "garbage",
    ["", "hash=", "user=%7B%7D", "a" * 5000, "auth_date=1&hash=abc\x00", "%ZZ", "==&&=="],
)
def test_garbage_is_refused_without_a_traceback(garbage: str) -> None:
    with pytest.raises(InitDataError):
        check(garbage)


def test_init_data_without_a_user_is_refused() -> None:
    with pytest.raises(InitDataError, match="no user"):
        check(sign_init_data(TOKEN, None, NOW))


def test_the_authorization_header() -> None:
    assert init_data_from_header("tma query_id=1&hash=2") == "query_id=1&hash=2"
    assert init_data_from_header("TMA  x=1 ") == "x=1"
    for bad in (None, "", "tma", "tma   ", "Bearer x=1", "x=1"):
        with pytest.raises(InitDataError) as error:
            init_data_from_header(bad)
        assert error.value.code == "missing_init_data"
