"""The company's working calendar: which days pushes and digests go out.

Working days are weekdays (Monday..Friday by default) that are not public holidays
of the configured country (Russia by default, from the `holidays` package, which
also knows the Saturdays Russia turns into working days when it moves a day off).
Both can be corrected by hand with extra holidays and extra working days. The
calendar is data: `app_settings["calendar"]`, e.g.
`{"working_days": [0, 1, 2, 3, 4], "country": "RU", "extra_holidays": ["2026-12-30"],
"extra_working_days": []}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import holidays

from services.errors import InvalidValue
from services.settings_store import read_setting, write_setting
from services.uow import UnitOfWork

CALENDAR_KEY = "calendar"
DEFAULT_WORKING_DAYS = frozenset(range(5))  # Monday..Friday, as date.weekday()
DEFAULT_COUNTRY = "RU"
# Bounds for the "previous working day" search: the Russian New Year break is the
# longest run of days off (about ten); a month means a broken configuration.
MAX_DAYS_OFF_IN_A_ROW = 31


@lru_cache(maxsize=64)
def _national_days(country: str, year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Public holidays and weekend days turned into working days, for one country and year."""
    calendar = holidays.country_holidays(country, years=year)
    days_off = frozenset(day for day in calendar if day.year == year)
    workdays = frozenset(
        day for day in getattr(calendar, "weekend_workdays", ()) if day.year == year
    )
    return days_off, workdays


def _parse_days(name: str, values: Any) -> frozenset[date]:
    if values is None:
        return frozenset()
    if not isinstance(values, list | tuple | set | frozenset):
        raise InvalidValue(name, values, "expected a list of dates (YYYY-MM-DD)")
    days = set()
    for value in values:
        if isinstance(value, date):
            days.add(value)
            continue
        try:
            days.add(date.fromisoformat(str(value)))
        except ValueError:
            raise InvalidValue(name, value, "expected a date as YYYY-MM-DD") from None
    return frozenset(days)


def _parse_weekdays(values: Any) -> frozenset[int]:
    if not isinstance(values, list | tuple | set | frozenset) or not values:
        raise InvalidValue("working_days", values, "expected a non-empty list of 0..6 (0=Monday)")
    weekdays = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
            raise InvalidValue("working_days", value, "expected 0..6 (0=Monday)")
        weekdays.add(value)
    return frozenset(weekdays)


def _parse_country(value: Any) -> str | None:
    if value is None or value == "":
        return None
    code = str(value).strip().upper()
    if code not in holidays.list_supported_countries():
        raise InvalidValue("country", value, "unknown country code (e.g. RU)")
    return code


@dataclass(frozen=True)
class WorkCalendar:
    """Working weekdays, the country whose public holidays are days off, manual corrections."""

    working_days: frozenset[int] = DEFAULT_WORKING_DAYS
    country: str | None = DEFAULT_COUNTRY
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> WorkCalendar:
        """Stored settings on top of the defaults; raises `InvalidValue` on bad data."""
        return cls(
            working_days=_parse_weekdays(value["working_days"])
            if "working_days" in value
            else DEFAULT_WORKING_DAYS,
            country=_parse_country(value["country"]) if "country" in value else DEFAULT_COUNTRY,
            extra_holidays=_parse_days("extra_holidays", value.get("extra_holidays")),
            extra_working_days=_parse_days("extra_working_days", value.get("extra_working_days")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "working_days": sorted(self.working_days),
            "country": self.country,
            "extra_holidays": sorted(day.isoformat() for day in self.extra_holidays),
            "extra_working_days": sorted(day.isoformat() for day in self.extra_working_days),
        }

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_holidays:
            return False
        if self.country is not None:
            days_off, weekend_workdays = _national_days(self.country, day.year)
            if day in days_off:
                return False
            if day in weekend_workdays:
                return True
        return day.weekday() in self.working_days

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before `day`."""
        candidate = day - timedelta(days=1)
        for _ in range(MAX_DAYS_OFF_IN_A_ROW):
            if self.is_working_day(candidate):
                return candidate
            candidate -= timedelta(days=1)
        return day - timedelta(days=1)

    def working_days_in(self, start: date, end: date) -> int:
        """How many working days lie in [start, end)."""
        return sum(1 for day in _days(start, end) if self.is_working_day(day))


def _days(start: date, end: date) -> Iterable[date]:
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)


async def load_calendar(uow: UnitOfWork) -> WorkCalendar:
    """The stored calendar, or the default (Mon–Fri, Russian holidays); inside `async with uow`."""
    return WorkCalendar.from_dict(await read_setting(uow, CALENDAR_KEY))


async def save_calendar(
    uow: UnitOfWork, calendar: WorkCalendar, updated_by: int | None = None
) -> WorkCalendar:
    """Store the calendar (commits) and return it as it will be read back."""
    async with uow:
        await write_setting(uow, CALENDAR_KEY, calendar.to_dict(), updated_by)
        await uow.commit()
    return calendar
