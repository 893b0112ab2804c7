"""A person's own settings: language, push time, time zone, mute and pushes on/off."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from services.db.models import User
from services.errors import InvalidPushTime, InvalidValue, UnknownTimezone
from services.languages import LANGUAGES
from services.uow import UnitOfWork
from services.users import load_active_actor

# Offered as buttons; anything else zoneinfo knows can be typed.
COMMON_TIMEZONES = (
    "Europe/Kaliningrad",
    "Europe/Moscow",
    "Europe/Samara",
    "Asia/Yekaterinburg",
    "Asia/Omsk",
    "Asia/Novosibirsk",
    "Asia/Krasnoyarsk",
    "Asia/Irkutsk",
    "Asia/Vladivostok",
)
PUSH_TIME_PRESETS = (time(8, 0), time(9, 0), time(10, 0))
_TIME_PATTERN = re.compile(r"^\s*(\d{1,2})\s*[:.\-h ]\s*(\d{2})\s*$")


class MuteOption(StrEnum):
    TOMORROW = "tomorrow"
    THREE_DAYS = "3d"
    WEEK = "week"
    OFF = "off"


MUTE_DAYS = {MuteOption.TOMORROW: 1, MuteOption.THREE_DAYS: 3, MuteOption.WEEK: 7}


@dataclass(frozen=True)
class UserSettingsDTO:
    """Stored choices; None means "not chosen": the caller applies the defaults."""

    user_id: int
    language: str | None
    timezone: str | None
    push_time: time | None
    pushes_enabled: bool
    muted_until: datetime | None

    def is_muted(self, now: datetime) -> bool:
        return self.muted_until is not None and self.muted_until > now


def parse_push_time(value: str) -> time:
    """`9:30`, `09:30`, `09.30` -> 09:30; anything else raises InvalidPushTime."""
    match = _TIME_PATTERN.match(value)
    if match is None:
        raise InvalidPushTime(value)
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        raise InvalidPushTime(value)
    return time(hours, minutes)


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_timezone(value: str) -> str:
    """The canonical IANA name for `value` (case-insensitive); raises UnknownTimezone."""
    name = value.strip()
    if not name or len(name) > 64:
        raise UnknownTimezone(value)
    canonical = _zones_by_lower_name().get(name.lower(), name)
    try:
        ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownTimezone(value) from None
    return canonical


def mute_until(option: MuteOption, *, now: datetime, timezone: str) -> datetime | None:
    """Local midnight `days` ahead in the person's zone, in UTC; None for OFF.

    "Until tomorrow" means the pushes come back tomorrow morning.
    """
    if option is MuteOption.OFF:
        return None
    zone = ZoneInfo(timezone)
    local_day = now.astimezone(zone).date() + timedelta(days=MUTE_DAYS[option])
    return datetime.combine(local_day, time(0, 0), tzinfo=zone).astimezone(UTC)


async def get_user_settings(uow: UnitOfWork, *, user_id: int) -> UserSettingsDTO:
    async with uow:
        user = await load_active_actor(uow, user_id)
        return _dto(user)


def _dto(user: User) -> UserSettingsDTO:
    return UserSettingsDTO(
        user_id=user.id,
        language=user.language,
        timezone=user.timezone,
        push_time=user.push_time,
        pushes_enabled=user.pushes_enabled,
        muted_until=user.muted_until,
    )


async def set_language(uow: UnitOfWork, *, user_id: int, language: str) -> UserSettingsDTO:
    code = language.strip().lower()
    if code not in LANGUAGES:
        raise InvalidValue("language", language, f"expected one of: {', '.join(LANGUAGES)}")
    async with uow:
        user = await load_active_actor(uow, user_id)
        user.language = code
        result = _dto(user)
        await uow.commit()
    return result


async def set_push_time(uow: UnitOfWork, *, user_id: int, value: str | time) -> UserSettingsDTO:
    """Set the time of the morning push from a preset or typed `HH:MM`; commits."""
    push_time = value if isinstance(value, time) else parse_push_time(value)
    async with uow:
        user = await load_active_actor(uow, user_id)
        user.push_time = push_time.replace(second=0, microsecond=0, tzinfo=None)
        result = _dto(user)
        await uow.commit()
    return result


async def set_timezone(uow: UnitOfWork, *, user_id: int, value: str) -> UserSettingsDTO:
    zone = parse_timezone(value)
    async with uow:
        user = await load_active_actor(uow, user_id)
        user.timezone = zone
        result = _dto(user)
        await uow.commit()
    return result


async def set_mute(
    uow: UnitOfWork,
    *,
    user_id: int,
    option: MuteOption | str,
    now: datetime,
    default_timezone: str,
) -> UserSettingsDTO:
    """Silence pushes until a local midnight (`tomorrow`, `3d`, `week`) or unmute (`off`)."""
    try:
        choice = MuteOption(option)
    except ValueError:
        raise InvalidValue("mute", option, "expected tomorrow, 3d, week or off") from None
    async with uow:
        user = await load_active_actor(uow, user_id)
        user.muted_until = mute_until(choice, now=now, timezone=user.timezone or default_timezone)
        result = _dto(user)
        await uow.commit()
    return result


async def set_pushes_enabled(uow: UnitOfWork, *, user_id: int, enabled: bool) -> UserSettingsDTO:
    async with uow:
        user = await load_active_actor(uow, user_id)
        user.pushes_enabled = enabled
        result = _dto(user)
        await uow.commit()
    return result
