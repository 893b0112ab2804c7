from __future__ import annotations

from datetime import date

import pytest

from services.calendar import WorkCalendar
from services.errors import InvalidValue
from services.zones import resolve_zone

RU = WorkCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 11, 3), True),  # Tuesday
        (date(2026, 11, 4), False),  # Unity Day, a Wednesday
        (date(2027, 1, 7), False),  # Orthodox Christmas, a Thursday
        (date(2027, 1, 8), False),  # New Year holidays
        (date(2027, 1, 11), True),  # the first working Monday of 2027
        (date(2026, 11, 7), False),  # Saturday
        (date(2026, 11, 8), False),  # Sunday
        (date(2027, 2, 20), True),  # a Saturday Russia made a working day (moved to 22 Feb)
        (date(2027, 2, 22), False),  # ...and the Monday off it moved to
    ],
)
def test_russian_calendar(day: date, working: bool) -> None:
    assert RU.is_working_day(day) is working


def test_manual_corrections_win_over_the_national_calendar() -> None:
    calendar = WorkCalendar.from_dict(
        {"extra_holidays": ["2026-11-03"], "extra_working_days": ["2026-11-04", "2026-11-07"]}
    )
    assert not calendar.is_working_day(date(2026, 11, 3))
    assert calendar.is_working_day(date(2026, 11, 4))
    assert calendar.is_working_day(date(2026, 11, 7))


def test_custom_week_and_no_country() -> None:
    calendar = WorkCalendar.from_dict({"working_days": [0, 1, 2, 3, 4, 5], "country": None})
    assert calendar.is_working_day(date(2026, 11, 4))  # no national holidays
    assert calendar.is_working_day(date(2026, 11, 7))  # Saturday is a working day here
    assert not calendar.is_working_day(date(2026, 11, 8))


def test_round_trip_through_a_dict() -> None:
    calendar = WorkCalendar.from_dict(
        {"working_days": [0, 2], "country": "ru", "extra_holidays": ["2026-01-12"]}
    )
    assert calendar.country == "RU"
    assert WorkCalendar.from_dict(calendar.to_dict()) == calendar


@pytest.mark.parametrize(
    "value",
    [
        {"working_days": []},
        {"working_days": [7]},
        {"working_days": "0-4"},
        {"country": "XX"},
        {"extra_holidays": ["31.12.2026"]},
        {"extra_working_days": "2026-12-31"},
    ],
)
def test_bad_settings_are_refused(value: dict[str, object]) -> None:
    with pytest.raises(InvalidValue):
        WorkCalendar.from_dict(value)


def test_previous_working_day_skips_weekends_and_holidays() -> None:
    assert RU.previous_working_day(date(2026, 11, 9)) == date(2026, 11, 6)  # Mon -> Fri
    assert RU.previous_working_day(date(2026, 11, 5)) == date(2026, 11, 3)  # over 4 Nov
    # over the New Year break: 31 Dec 2026 is a day off too
    assert RU.previous_working_day(date(2027, 1, 11)) == date(2026, 12, 30)


def test_working_days_in_a_range() -> None:
    assert RU.working_days_in(date(2026, 11, 2), date(2026, 11, 9)) == 4  # a week with 4 Nov
    assert RU.working_days_in(date(2026, 11, 9), date(2026, 11, 9)) == 0


def test_resolve_zone_falls_back_to_the_company_zone() -> None:
    assert resolve_zone("Asia/Yekaterinburg", "Europe/Moscow").key == "Asia/Yekaterinburg"
    assert resolve_zone(None, "Asia/Omsk").key == "Asia/Omsk"
    assert resolve_zone("Mars/Olympus", "Europe/Moscow").key == "Europe/Moscow"
