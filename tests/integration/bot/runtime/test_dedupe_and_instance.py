"""Redelivery marks shared through Redis; the SQLite single-process lock across processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.runtime.instance import AlreadyRunning, lock_path, single_instance
from bot.runtime.updates import RedisDeduplicator


async def test_two_replicas_sharing_redis_handle_an_update_once(redis_url: str) -> None:
    first, second = RedisDeduplicator(redis_url, 42), RedisDeduplicator(redis_url, 42)
    other_bot = RedisDeduplicator(redis_url, 43)
    try:
        results = await asyncio.gather(
            *(replica.first_delivery(1001) for replica in (first, second) * 5)
        )
        assert results.count(True) == 1
        assert not await first.first_delivery(1001)
        assert await second.first_delivery(1002)
        assert await other_bot.first_delivery(1001)  # another bot's ids are its own
    finally:
        for replica in (first, second, other_bot):
            await replica.close()


def _holder(database: Path) -> subprocess.Popen[bytes]:
    code = (
        "import sys, time; from pathlib import Path;"
        "from bot.runtime.instance import single_instance\n"
        f"with single_instance(Path({str(database)!r})):\n"
        "    print('locked', flush=True); time.sleep(60)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == b"locked"
    return holder


def test_a_second_process_is_refused_until_the_first_is_gone_even_by_sigkill(
    tmp_path: Path,
) -> None:
    database = tmp_path / "crm.sqlite3"
    holder = _holder(database)
    try:
        with (
            pytest.raises(AlreadyRunning, match=f"pid {holder.pid}") as refused,
            single_instance(database),
        ):
            pass
        assert "PostgreSQL" in str(refused.value)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
    deadline = time.monotonic() + 5
    while True:  # the kernel released the lock with the process
        try:
            with single_instance(database) as path:
                assert path == lock_path(database)
                assert path.read_text().strip() == str(os.getpid())
            break
        except AlreadyRunning:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    with single_instance(database):  # and our own release works too
        pass
