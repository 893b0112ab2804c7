"""Bringing a database to the newest schema, and checking that it is there."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).parent


class SchemaNotReady(RuntimeError):
    """The database has no schema, or an older one than this code needs."""


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Run the migrations up to `revision` (Alembic upgrade)."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(read)


async def ensure_schema(engine: AsyncEngine) -> None:
    """Raise a clear `SchemaNotReady` unless the database is at the newest revision."""
    current = await current_revision(engine)
    head = head_revision()
    if current is None:
        raise SchemaNotReady(
            "The database has no schema yet. Run `crmbot migrate` first "
            f"(database: {engine.url.render_as_string(hide_password=True)})."
        )
    if current != head:
        raise SchemaNotReady(
            f"The database schema is at revision {current}, this version needs {head}. "
            "Run `crmbot migrate`."
        )
