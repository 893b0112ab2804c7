"""Texts shared by /start, invite links and /help: pure functions of a user DTO."""

from __future__ import annotations

from html import escape

from services.db.models import Role
from services.users import UserDTO
from ui.i18n import Translator
from ui.menus import command_names


def role_name(role: Role, tr: Translator) -> str:
    return tr(f"menu.role.{role.value}")


def main_commands(role: Role, tr: Translator) -> str:
    lines = [tr("access.main_commands")]
    lines += [f"/{name} — {tr(f'menu.commands.{name}')}" for name in command_names(role)]
    return "\n".join(lines)


def greeting(user: UserDTO, tr: Translator) -> str:
    hello = tr("access.greeting", name=escape(user.display_name), role=role_name(user.role, tr))
    return f"{hello}\n\n{main_commands(user.role, tr)}"


def welcome(user: UserDTO, tr: Translator, *, returning: bool) -> str:
    key = "access.welcome_back" if returning else "access.welcome"
    hello = tr(key, name=escape(user.display_name), role=role_name(user.role, tr))
    return f"{hello}\n\n{main_commands(user.role, tr)}"


def help_text(role: Role, tr: Translator) -> str:
    parts = [tr("help.title"), tr("help.manager"), tr("help.search")]
    if role in (Role.HEAD, Role.ADMIN):
        parts.append(tr("help.head"))
    if role is Role.ADMIN:
        parts.append(tr("help.admin"))
    parts.append(main_commands(role, tr))
    return "\n\n".join(parts)
