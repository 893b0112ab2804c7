"""The delivery ledger's exactly-once claims, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from services.db.models import Delivery, User
from services.delivery import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    RETRY_FAILED_AFTER,
    DeliveryKey,
    DeliveryKind,
    DeliveryStatus,
    claim,
    claim_daily_job,
    finish,
    finish_daily_job,
    ledger_rows,
    record_skipped,
    status_counts,
)
from services.uow import UnitOfWorkFactory
from tests.integration.services.push_seed import add_user

NOW = datetime(2026, 11, 5, 6, 0, tzinfo=UTC)
DAY = date(2026, 11, 5)


async def _key(uow_factory: UnitOfWorkFactory, ref: str = "") -> DeliveryKey:
    user_id = await add_user(uow_factory, "Анна", 2001)
    return DeliveryKey(user_id, DeliveryKind.MORNING_PUSH, DAY, ref)


async def _row(uow_factory: UnitOfWorkFactory) -> Delivery:
    async with uow_factory() as uow:
        return (await uow.session.scalars(select(Delivery))).one()


async def test_the_first_claim_wins_and_the_second_loses(uow_factory: UnitOfWorkFactory) -> None:
    key = await _key(uow_factory)
    first = await claim(uow_factory(), key, NOW)
    assert first is not None
    assert first.key == key
    assert await claim(uow_factory(), key, NOW) is None
    other_ref = DeliveryKey(key.recipient_id, key.kind, key.local_date, "42")
    assert await claim(uow_factory(), other_ref, NOW) is not None
    row = await _row_for(uow_factory, first.delivery_id)
    assert (row.status, row.attempts, row.claimed_at) == ("claimed", 0, NOW)


async def _row_for(uow_factory: UnitOfWorkFactory, delivery_id: int) -> Delivery:
    async with uow_factory() as uow:
        row = await uow.session.get(Delivery, delivery_id)
        assert row is not None
        return row


async def test_concurrent_claims_have_exactly_one_winner(uow_factory: UnitOfWorkFactory) -> None:
    key = await _key(uow_factory)
    results = await asyncio.gather(*(claim(uow_factory(), key, NOW) for _ in range(8)))
    assert sum(result is not None for result in results) == 1


async def test_a_sent_delivery_is_never_claimed_again(uow_factory: UnitOfWorkFactory) -> None:
    key = await _key(uow_factory)
    won = await claim(uow_factory(), key, NOW)
    assert won is not None
    await finish(
        uow_factory(), won, DeliveryStatus.SENT, attempts=2, now=NOW + timedelta(seconds=1)
    )
    row = await _row(uow_factory)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 2, NOW + timedelta(seconds=1))
    assert await claim(uow_factory(), key, NOW + timedelta(days=1)) is None


async def test_a_stale_claim_is_taken_over_once(uow_factory: UnitOfWorkFactory) -> None:
    key = await _key(uow_factory)
    assert await claim(uow_factory(), key, NOW) is not None
    # the process that claimed it died; before the lease ends nobody may take it
    assert await claim(uow_factory(), key, NOW + CLAIM_LEASE - timedelta(seconds=1)) is None
    later = NOW + CLAIM_LEASE + timedelta(seconds=1)
    results = await asyncio.gather(*(claim(uow_factory(), key, later) for _ in range(5)))
    assert sum(result is not None for result in results) == 1
    assert (await _row(uow_factory)).claimed_at == later


async def test_a_failed_delivery_is_retried_a_bounded_number_of_times(
    uow_factory: UnitOfWorkFactory,
) -> None:
    key = await _key(uow_factory)
    moment = NOW
    won = await claim(uow_factory(), key, moment)
    assert won is not None
    await finish(uow_factory(), won, DeliveryStatus.FAILED, attempts=1, error="502 Bad Gateway")
    assert await claim(uow_factory(), key, moment + RETRY_FAILED_AFTER / 2) is None
    tries = 1
    while True:
        moment += RETRY_FAILED_AFTER
        again = await claim(uow_factory(), key, moment)
        if again is None:
            break
        tries += 1
        await finish(
            uow_factory(), again, DeliveryStatus.FAILED, attempts=1, error="502 Bad Gateway"
        )
    assert tries == MAX_ATTEMPTS
    row = await _row(uow_factory)
    assert (row.status, row.attempts, row.error) == ("failed", MAX_ATTEMPTS, "502 Bad Gateway")


async def test_skipped_is_recorded_once_and_blocks_claims(uow_factory: UnitOfWorkFactory) -> None:
    key = await _key(uow_factory)
    assert await record_skipped(uow_factory(), key, NOW, "missed: too late") is True
    assert await record_skipped(uow_factory(), key, NOW, "missed: too late") is False
    assert await claim(uow_factory(), key, NOW + timedelta(days=2)) is None
    async with uow_factory() as uow:
        rows = await ledger_rows(uow, DeliveryKind.MORNING_PUSH, [DAY])
    assert rows[key].status is DeliveryStatus.SKIPPED
    assert await status_counts(uow_factory(), DeliveryKind.MORNING_PUSH, DAY) == {
        DeliveryStatus.SKIPPED: 1
    }


async def test_blocked_closes_the_delivery_and_deactivates_the_user(
    uow_factory: UnitOfWorkFactory,
) -> None:
    key = await _key(uow_factory)
    won = await claim(uow_factory(), key, NOW)
    assert won is not None
    await finish(
        uow_factory(),
        won,
        DeliveryStatus.BLOCKED,
        attempts=1,
        error="403: Forbidden: bot was blocked by the user",
    )
    async with uow_factory() as uow:
        user = await uow.session.get(User, key.recipient_id)
        assert user is not None
        assert user.is_active is False
    assert (await _row(uow_factory)).status == "blocked"
    assert await claim(uow_factory(), key, NOW + timedelta(hours=1)) is None


async def test_daily_job_runs_once_and_retries_after_a_failure(
    uow_factory: UnitOfWorkFactory,
) -> None:
    results = await asyncio.gather(
        *(claim_daily_job(uow_factory(), "recompute", DAY, NOW) for _ in range(4))
    )
    assert sorted(results) == [False, False, False, True]
    await finish_daily_job(uow_factory(), "recompute", DAY, NOW, ok=False)
    assert (
        await claim_daily_job(uow_factory(), "recompute", DAY, NOW + timedelta(minutes=5)) is False
    )
    later = NOW + timedelta(minutes=31)
    assert await claim_daily_job(uow_factory(), "recompute", DAY, later) is True
    await finish_daily_job(uow_factory(), "recompute", DAY, later, ok=True, details={"clients": 3})
    assert (
        await claim_daily_job(uow_factory(), "recompute", DAY, later + timedelta(hours=5)) is False
    )
    assert await claim_daily_job(uow_factory(), "recompute", DAY + timedelta(days=1), later)
