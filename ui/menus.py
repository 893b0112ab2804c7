"""Command menus (setMyCommands): one per role and language, and a default for everyone else.

Registered people get their own menu in their chat (`BotCommandScopeChat`), set on /start
and after a language change; strangers see the default menu, which only offers /start.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    MenuButtonDefault,
    MenuButtonWebApp,
    WebAppInfo,
)

from services.db.models import Role
from ui.i18n import LANGUAGES, Translator

log = logging.getLogger(__name__)

_WORK = ("today", "week", "reactivate", "risk", "client", "log")
_COMMON = ("settings", "help", "cancel")
MENUS: dict[Role, tuple[str, ...]] = {
    Role.MANAGER: (*_WORK, "export", *_COMMON),
    Role.HEAD: (*_WORK, "digest", "users", "invite", "export", *_COMMON),
    Role.ADMIN: (*_WORK, "digest", "users", "invite", "export", *_COMMON),
}
DEFAULT_MENU = ("start",)
DASHBOARD_ROLES = frozenset({Role.HEAD, Role.ADMIN})


def command_names(role: Role | None) -> tuple[str, ...]:
    """The commands in the menu of `role`; None is someone the bot does not know."""
    return MENUS[role] if role is not None else DEFAULT_MENU


def commands_for(role: Role | None, language: str) -> list[BotCommand]:
    tr = Translator(language)
    return [
        BotCommand(command=name, description=tr(f"menu.commands.{name}"))
        for name in command_names(role)
    ]


async def set_user_commands(
    bot: Bot, chat_id: int, role: Role, language: str, dashboard_url: str | None = None
) -> None:
    """Give one person the menu of their role in their language; a failure only logs.

    With `dashboard_url`, heads and admins also get the menu button that opens the
    dashboard (a Mini App) beside the message field.
    """
    try:
        await bot.set_my_commands(
            commands_for(role, language), scope=BotCommandScopeChat(chat_id=chat_id)
        )
    except TelegramAPIError as error:
        # The menu is a convenience: the reply the person waits for matters more.
        log.warning("could not set the command menu of chat %s: %s", chat_id, error)
    if dashboard_url and role in DASHBOARD_ROLES:
        await set_dashboard_button(bot, chat_id, language, dashboard_url)


async def set_dashboard_button(bot: Bot, chat_id: int, language: str, dashboard_url: str) -> None:
    """The chat's menu button opens the dashboard; a failure only logs."""
    button = MenuButtonWebApp(
        text=Translator(language)("menu.dashboard_button"), web_app=WebAppInfo(url=dashboard_url)
    )
    try:
        await bot.set_chat_menu_button(chat_id=chat_id, menu_button=button)
    except TelegramAPIError as error:
        log.warning("could not set the dashboard button of chat %s: %s", chat_id, error)


async def reset_user_commands(bot: Bot, chat_id: int) -> None:
    """Back to the default menu (and menu button), e.g. after the person was deactivated."""
    try:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=chat_id))
        await bot.set_chat_menu_button(chat_id=chat_id, menu_button=MenuButtonDefault())
    except TelegramAPIError as error:
        log.warning("could not reset the command menu of chat %s: %s", chat_id, error)


async def set_default_commands(bot: Bot, default_language: str) -> None:
    """The menu of everyone without their own: in `default_language`, plus each other language."""
    try:
        await bot.set_my_commands(
            commands_for(None, default_language), scope=BotCommandScopeDefault()
        )
        for language in LANGUAGES:
            await bot.set_my_commands(
                commands_for(None, language),
                scope=BotCommandScopeDefault(),
                language_code=language,
            )
    except TelegramAPIError as error:
        log.warning("could not set the default command menu: %s", error)
