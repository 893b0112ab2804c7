"""Jobs that must run once per occasion across every bot process: advisory locks.

On PostgreSQL `advisory_lock` takes `pg_try_advisory_xact_lock` in a transaction of its
own, held while the block runs and released when it ends — also when the process dies,
since the server drops the connection's locks with it. It never waits: the process that
gets the lock runs the job, the others skip it. On SQLite there is one bot process per
database file (`crmbot run` refuses a second), so a lock inside the process is enough.

The lock keeps two processes from running the job *at the same time*; a ledger (e.g.
`services.delivery.claim_daily_job`) still decides whether it has run already.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from services.uow import UnitOfWork

# Names held by this process: the lock on SQLite, where one process owns the database.
_held: set[str] = set()


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (PostgreSQL's advisory lock key space)."""
    digest = hashlib.blake2b(f"crmbot:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@asynccontextmanager
async def advisory_lock(uow: UnitOfWork, name: str) -> AsyncIterator[bool]:
    """`async with advisory_lock(uow_factory(), "recompute") as acquired:` — skip if False.

    `uow` must not be open yet: the lock lives in its transaction, which stays open (and
    commits nothing) for the duration of the block.
    """
    async with uow:
        if uow.session.get_bind().dialect.name != "postgresql":
            if name in _held:
                yield False
                return
            _held.add(name)
            try:
                yield True
            finally:
                _held.discard(name)
            return
        acquired = bool(
            (
                await uow.session.execute(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(name)}
                )
            ).scalar()
        )
        yield acquired
