"""Advisory locks: one holder at a time across processes (PostgreSQL) or in the process."""

from __future__ import annotations

import asyncio

from services.db.engine import make_engine, make_session_factory
from services.db.locks import advisory_lock, lock_key
from services.uow import UnitOfWorkFactory


def test_keys_are_stable_and_distinct() -> None:
    assert lock_key("recompute") == lock_key("recompute")
    assert lock_key("recompute") != lock_key("import-inbox")
    assert -(2**63) <= lock_key("recompute") < 2**63


async def test_one_holder_at_a_time_and_released_after(
    db_url: str, uow_factory: UnitOfWorkFactory
) -> None:
    # on PostgreSQL a second engine stands for another process (its own connections)
    other_engine = make_engine(db_url)
    other = UnitOfWorkFactory(make_session_factory(other_engine))
    try:
        async with advisory_lock(uow_factory(), "recompute") as first:
            assert first
            async with advisory_lock(other(), "recompute") as again:
                assert not again
            async with advisory_lock(other(), "another job") as unrelated:
                assert unrelated
        async with advisory_lock(other(), "recompute") as after:
            assert after
    finally:
        await other_engine.dispose()


async def test_concurrent_takers_one_wins(uow_factory: UnitOfWorkFactory) -> None:
    wins: list[bool] = []
    gate, all_tried = asyncio.Event(), asyncio.Event()

    async def taker() -> None:
        async with advisory_lock(uow_factory(), "nightly") as acquired:
            wins.append(acquired)
            if len(wins) == 5:
                all_tried.set()
            if acquired:
                await gate.wait()

    tasks = [asyncio.create_task(taker()) for _ in range(5)]
    await asyncio.wait_for(all_tried.wait(), timeout=10)
    gate.set()
    await asyncio.gather(*tasks)
    assert sorted(wins) == [False, False, False, False, True]
