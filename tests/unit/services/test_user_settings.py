"""Parsing what people type in /settings, and where a pause ends."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from services.errors import InvalidPushTime, UnknownTimezone
from services.user_settings import (
    COMMON_TIMEZONES,
    MuteOption,
    UserSettingsDTO,
    mute_until,
    parse_push_time,
    parse_timezone,
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("09:30", time(9, 30)),
        ("9:30", time(9, 30)),
        (" 7.05 ", time(7, 5)),
        ("23-59", time(23, 59)),
        ("00:00", time(0, 0)),
    ],
)
def test_push_times_people_type(typed: str, expected: time) -> None:
    assert parse_push_time(typed) == expected


@pytest.mark.parametrize("typed", ["24:00", "9:60", "930", "утром", "", "9:3", "-1:00", "12:00pm"])
def test_not_a_push_time(typed: str) -> None:
    with pytest.raises(InvalidPushTime) as raised:
        parse_push_time(typed)
    assert raised.value.code == "invalid_push_time"
    assert raised.value.params == {"value": typed}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Europe/Moscow", "Europe/Moscow"),
        ("  asia/NOVOSIBIRSK ", "Asia/Novosibirsk"),
        ("UTC", "UTC"),
    ],
)
def test_time_zones_are_canonical(typed: str, expected: str) -> None:
    assert parse_timezone(typed) == expected


@pytest.mark.parametrize("typed", ["Moscow", "Europe/Atlantis", "", "../etc/passwd", "x" * 100])
def test_unknown_time_zones(typed: str) -> None:
    with pytest.raises(UnknownTimezone):
        parse_timezone(typed)


def test_every_offered_zone_is_known() -> None:
    assert [parse_timezone(zone) for zone in COMMON_TIMEZONES] == list(COMMON_TIMEZONES)


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (MuteOption.TOMORROW, datetime(2026, 3, 2, 21, 0, tzinfo=UTC)),
        (MuteOption.THREE_DAYS, datetime(2026, 3, 4, 21, 0, tzinfo=UTC)),
        (MuteOption.WEEK, datetime(2026, 3, 8, 21, 0, tzinfo=UTC)),
        (MuteOption.OFF, None),
    ],
)
def test_a_pause_ends_at_local_midnight(option: MuteOption, expected: datetime | None) -> None:
    now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 09:00 in Moscow

    assert mute_until(option, now=now, timezone="Europe/Moscow") == expected


def test_late_evening_utc_is_already_tomorrow_in_vladivostok() -> None:
    now = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # 06:00 on 3 March in Vladivostok

    until = mute_until(MuteOption.TOMORROW, now=now, timezone="Asia/Vladivostok")

    assert until == datetime(2026, 3, 3, 14, 0, tzinfo=UTC)  # 4 March, 00:00 local
    assert until is not None and until.tzinfo is UTC


def test_is_muted() -> None:
    now = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
    base = dict(user_id=1, language=None, timezone=None, push_time=None, pushes_enabled=True)

    assert UserSettingsDTO(**base, muted_until=datetime(2026, 3, 3, tzinfo=UTC)).is_muted(now)
    assert not UserSettingsDTO(**base, muted_until=now).is_muted(now)
    assert not UserSettingsDTO(**base, muted_until=None).is_muted(now)
