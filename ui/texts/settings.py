"""The /settings screen: pure functions of the settings DTO and the translator."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardMarkup

from services.user_settings import UserSettingsDTO
from services.zones import resolve_zone
from ui.formatting import format_moment, format_time
from ui.i18n import Translator
from ui.keyboards.settings import settings_menu_keyboard


def muted_until_text(moment: datetime, zone: str, tr: Translator) -> str:
    return format_moment(moment, resolve_zone(zone), tr)


def render_settings(
    dto: UserSettingsDTO, tr: Translator, *, language: str, default_timezone: str, now: datetime
) -> str:
    zone = dto.timezone or default_timezone
    push_time = format_time(dto.push_time) if dto.push_time else tr("settings.default_value")
    if not dto.pushes_enabled:
        pushes = tr("settings.pushes_off")
    elif dto.muted_until is not None and dto.is_muted(now):
        pushes = tr("settings.pushes_muted", until=muted_until_text(dto.muted_until, zone, tr))
    else:
        pushes = tr("settings.pushes_on")
    timezone = zone if dto.timezone else f"{zone} ({tr('settings.default_value')})"
    return "\n".join(
        [
            tr("settings.title"),
            tr("settings.language_line", value=tr(f"settings.language_name.{language}")),
            tr("settings.push_time_line", value=push_time),
            tr("settings.timezone_line", value=timezone),
            tr("settings.pushes_line", value=pushes),
        ]
    )


def settings_screen(
    dto: UserSettingsDTO,
    tr: Translator,
    default_timezone: str,
    now: datetime,
    saved: str | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The settings summary and its buttons, under what was just saved (if anything)."""
    text = render_settings(
        dto, tr, language=dto.language or tr.language, default_timezone=default_timezone, now=now
    )
    if saved is not None:
        text = f"{saved}\n\n{text}"
    return text, settings_menu_keyboard(dto, tr)
