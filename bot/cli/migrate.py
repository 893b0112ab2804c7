"""`crmbot migrate`: bring the database to the newest schema."""

from __future__ import annotations

import argparse

from bot.cli.common import EXIT_OK, SubParsers, open_database, run_command
from bot.config import Settings
from services.db.schema import current_revision, head_revision, upgrade


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser("migrate", help="create or upgrade the database schema")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    return run_command(migrate)


async def migrate(settings: Settings) -> int:
    async with open_database(settings, require_schema=False) as database:
        before = await current_revision(database.engine)
        await upgrade(database.engine)
        url = database.engine.url.render_as_string(hide_password=True)
    if before == head_revision():
        print(f"Database {url} is already at the newest schema ({before}).")
    else:
        print(f"Database {url} migrated: {before or 'empty'} -> {head_revision()}.")
    return EXIT_OK
