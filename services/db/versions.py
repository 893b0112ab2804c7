"""Version stamps of data that processes cache: a writer bumps, readers compare.

One row per name in `data_versions`. Whoever changes client names, companies or owners
calls `clients_changed` in the same transaction, so every bot process's search index
(`services.search.index.SearchIndexStore`) notices within seconds, whichever process
(the bot, an import on the command line, the scheduler) made the change.
"""

from __future__ import annotations

from sqlalchemy import select, update

from services.db.models import DataVersion
from services.db.types import utcnow
from services.uow import UnitOfWork

CLIENTS = "clients"


async def read_version(uow: UnitOfWork, name: str) -> int:
    """The current stamp (inside `async with uow`); 0 before anything was written."""
    value = await uow.session.scalar(select(DataVersion.version).where(DataVersion.name == name))
    return int(value or 0)


async def bump_version(uow: UnitOfWork, name: str) -> None:
    """Move the stamp on (inside the writer's transaction; the writer commits)."""
    await uow.session.execute(
        update(DataVersion)
        .where(DataVersion.name == name)
        .values(version=DataVersion.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def clients_changed(uow: UnitOfWork) -> None:
    """Client names, companies or owners changed in this transaction."""
    await bump_version(uow, CLIENTS)
