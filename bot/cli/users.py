"""`crmbot users add|list`: manage who may use the bot."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bot.cli.common import EXIT_OK, EXIT_USAGE, CommandError, SubParsers, open_database, run_command
from bot.config import Settings
from services.db.models import Role
from services.errors import DomainError, InvalidValue, UserAlreadyExists
from services.users import UserDTO, add_user, list_users


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("users", help="add and list the people who use the bot")
    actions = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="register a person by Telegram id")
    add.add_argument("--telegram-id", type=int, required=True, help="numeric Telegram user id")
    # Roles and languages are checked by the service, so a typo gets the same
    # clear message (and exit code) wherever it comes from.
    add.add_argument("--role", required=True, help=f"one of: {', '.join(r.value for r in Role)}")
    add.add_argument("--name", required=True, help='display name, e.g. "Анна Смирнова"')
    add.add_argument("--timezone", help="IANA time zone (default: the company's, DEFAULT_TIMEZONE)")
    add.add_argument("--language", help="ru or en (default: the company's)")
    add.add_argument("--plan", type=int, help="daily call plan (default 20)")
    add.set_defaults(handler=handle_add)

    list_ = actions.add_parser("list", help="show everyone registered")
    list_.set_defaults(handler=handle_list)


def handle_add(args: argparse.Namespace) -> int:
    async def main(settings: Settings) -> int:
        async with open_database(settings) as database:
            try:
                user = await add_user(
                    database.uow_factory(),
                    args.telegram_id,
                    args.role,
                    args.name,
                    timezone=args.timezone,
                    language=args.language,
                    daily_call_plan=args.plan,
                )
            except (InvalidValue, UserAlreadyExists) as error:
                raise CommandError(str(error), EXIT_USAGE) from error
            except DomainError as error:
                raise CommandError(str(error)) from error
        print(f"Added {user.role.value} {user.display_name} (Telegram id {user.telegram_id}).")
        return EXIT_OK

    return run_command(main)


def handle_list(args: argparse.Namespace) -> int:
    async def main(settings: Settings) -> int:
        async with open_database(settings) as database:
            users = await list_users(database.uow_factory())
        print(format_users(users, default_timezone=settings.company.default_timezone))
        return EXIT_OK

    return run_command(main)


def format_users(users: Sequence[UserDTO], *, default_timezone: str) -> str:
    if not users:
        return "No users yet. Add one with `crmbot users add`."
    header = ("telegram id", "role", "name", "timezone", "lang", "plan", "active")
    rows = [
        (
            str(user.telegram_id or "-"),
            user.role.value,
            user.display_name,
            user.timezone or f"({default_timezone})",
            user.language or "-",
            str(user.daily_call_plan),
            "yes" if user.is_active else "no",
        )
        for user in users
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )
