"""Keyboards of /settings: pure functions of the settings DTO and the translator."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.languages import LANGUAGES
from services.user_settings import (
    COMMON_TIMEZONES,
    PUSH_TIME_PRESETS,
    MuteOption,
    UserSettingsDTO,
)
from ui.callbacks import SettingsAction, SettingsCb
from ui.formatting import format_time
from ui.i18n import Translator


def _button(text: str, action: str, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=SettingsCb(action=action, value=value).pack()
    )


def _back(tr: Translator) -> list[InlineKeyboardButton]:
    return [_button(tr("settings.button.back"), SettingsAction.MENU)]


def settings_menu_keyboard(settings: UserSettingsDTO, tr: Translator) -> InlineKeyboardMarkup:
    pushes = (
        _button(tr("settings.button.pushes_off"), SettingsAction.SET_PUSHES, "0")
        if settings.pushes_enabled
        else _button(tr("settings.button.pushes_on"), SettingsAction.SET_PUSHES, "1")
    )
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(tr("settings.button.language"), SettingsAction.LANGUAGE),
                _button(tr("settings.button.push_time"), SettingsAction.PUSH_TIME),
            ],
            [
                _button(tr("settings.button.timezone"), SettingsAction.TIMEZONE),
                _button(tr("settings.button.mute"), SettingsAction.MUTE),
            ],
            [pushes],
        ]
    )


def language_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    # Each language is named in itself, so a person who picked the wrong one can find theirs.
    row = [
        _button(
            Translator(code)(f"settings.language_name.{code}").capitalize(),
            SettingsAction.SET_LANGUAGE,
            code,
        )
        for code in LANGUAGES
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row, _back(tr)])


def push_time_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    row = [
        _button(format_time(preset), SettingsAction.SET_PUSH_TIME, preset.strftime("%H%M"))
        for preset in PUSH_TIME_PRESETS
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row, _back(tr)])


def utc_offset(zone: str, now: datetime) -> str:
    """ "UTC+3", "UTC+5:30" for the zone at the moment `now`."""
    offset = now.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def timezone_label(zone: str, now: datetime, tr: Translator) -> str:
    key = f"settings.zone.{zone}"
    name = tr(key) if tr.has(key) else zone
    return f"{name} ({utc_offset(zone, now)})"


def timezone_keyboard(now: datetime, tr: Translator) -> InlineKeyboardMarkup:
    buttons = [
        _button(timezone_label(zone, now, tr), SettingsAction.SET_TIMEZONE, str(index))
        for index, zone in enumerate(COMMON_TIMEZONES)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return InlineKeyboardMarkup(inline_keyboard=[*rows, _back(tr)])


def mute_keyboard(tr: Translator) -> InlineKeyboardMarkup:
    options = [
        (MuteOption.TOMORROW, "settings.button.mute_tomorrow"),
        (MuteOption.THREE_DAYS, "settings.button.mute_3d"),
        (MuteOption.WEEK, "settings.button.mute_week"),
    ]
    row = [_button(tr(key), SettingsAction.SET_MUTE, option.value) for option, key in options]
    off = [_button(tr("settings.button.mute_off"), SettingsAction.SET_MUTE, MuteOption.OFF.value)]
    return InlineKeyboardMarkup(inline_keyboard=[row, off, _back(tr)])
