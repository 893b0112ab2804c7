"""One `crmbot run` per SQLite file: an OS lock on a file next to the database.

SQLite is the embedded, single-process setup: two bot processes on one file would both
poll (Telegram answers the second with 409) and both run the scheduler. The lock is an
`flock` on `<database>.lock`, held for the life of the process; the kernel releases it when
the process ends, however it ends (SIGKILL included), so a stale file never blocks a start.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class AlreadyRunning(RuntimeError):
    """Another bot process holds the database's lock."""


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextlib.contextmanager
def single_instance(database: Path) -> Iterator[Path]:
    """Hold the lock of `database` for the duration, or raise `AlreadyRunning` at once."""
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise AlreadyRunning(
                f"another crmbot process (pid {holder}) is already running on {database}. "
                "SQLite serves one bot process: stop the other one first, or use PostgreSQL "
                "(DATABASE_URL) and Redis (REDIS_URL) to run several replicas."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
