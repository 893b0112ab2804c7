"""What the subcommands share: settings, the database, clear failures."""

from __future__ import annotations

import asyncio
import sys
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings, load_settings
from services.db.engine import make_engine, make_session_factory
from services.db.schema import SchemaNotReady, ensure_schema
from services.uow import UnitOfWorkFactory
from services.zones import resolve_zone

if TYPE_CHECKING:  # the analytics package brings pandas and SciPy: only where used
    from services.analytics.settings import SegmentationSettings

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

SubParsers = Any  # argparse's private _SubParsersAction


class CommandError(Exception):
    """A failure to report in one line, without a traceback."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Database:
    settings: Settings
    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory


@asynccontextmanager
async def open_database(
    settings: Settings, *, require_schema: bool = True
) -> AsyncIterator[Database]:
    """Connect to `DATABASE_URL`; by default insist the schema is migrated."""
    engine = make_engine(settings.database.url)
    try:
        if require_schema:
            try:
                await ensure_schema(engine)
            except SchemaNotReady as error:
                raise CommandError(str(error), EXIT_USAGE) from error
        yield Database(settings, engine, UnitOfWorkFactory(make_session_factory(engine)))
    finally:
        await engine.dispose()


def company_today(settings: Settings) -> date:
    """Today in the company's time zone: what "as of today" means on the command line."""
    return datetime.now(resolve_zone(settings.company.default_timezone)).date()


def run_command(main: Callable[[Settings], Awaitable[int]]) -> int:
    """Run an async subcommand; known failures become one line on stderr."""
    try:
        return asyncio.run(main(load_settings()))
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED


def read_segmentation_config(path: Path) -> SegmentationSettings:
    """Settings at the top level of the file or under [segmentation]."""
    from services.analytics.settings import SegmentationSettings

    try:
        with path.open("rb") as file:
            table = "segmentation" if "segmentation" in tomllib.load(file) else None
        return SegmentationSettings.from_toml(path, table)
    except (OSError, tomllib.TOMLDecodeError, ValueError) as error:
        raise CommandError(f"{path}: {error}", EXIT_USAGE) from error
