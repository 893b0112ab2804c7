"""The delivery ledger: each scheduled message goes out once per recipient, kind, day and ref.

A sender first *claims* the key (recipient, kind, local date, ref) with an INSERT that does
nothing on conflict with the unique key, commits, and sends only if its insert made the row.
Two schedulers (or two bot processes) racing for the same push therefore send it once, and
a restart does not repeat what the ledger already holds. After sending it marks the row
`sent` (or `failed`/`blocked`).

Rows that never reach `sent` are not lost: a claim left `claimed` by a crashed process is
taken over after a lease, and a `failed` one is retried a bounded number of times; both by
a compare-and-set UPDATE, so again only one process wins. A crash between sending and
marking can therefore repeat that one message, never more (see scheduler/README.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from services.db.models import AppSetting, Delivery, User
from services.uow import UnitOfWork

# A claim older than this that is still "claimed" belongs to a process that died.
CLAIM_LEASE = timedelta(minutes=10)
# A failed delivery is tried again by later ticks until it has had this many tries in all
# (the sender makes up to 5 per round, so about three rounds)...
MAX_ATTEMPTS = 15
# ...and not sooner than this after the previous try.
RETRY_FAILED_AFTER = timedelta(minutes=2)
ERROR_MAX_LENGTH = 2000
REF_MAX_LENGTH = 64


class DeliveryKind(StrEnum):
    MORNING_PUSH = "morning_push"
    DIGEST = "digest"
    REMINDER = "reminder"


class DeliveryStatus(StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"  # the user blocked the bot: no retries
    SKIPPED = "skipped"  # missed beyond the catch-up window, recorded and logged


@dataclass(frozen=True)
class DeliveryKey:
    recipient_id: int
    kind: DeliveryKind
    local_date: date
    ref: str = ""


@dataclass(frozen=True)
class Claim:
    """A won claim: this process, and no other, sends the message now."""

    delivery_id: int
    key: DeliveryKey
    previous_attempts: int


@dataclass(frozen=True)
class LedgerRow:
    key: DeliveryKey
    status: DeliveryStatus
    attempts: int
    claimed_at: datetime


def _insert(uow: UnitOfWork) -> type[sqlite.Insert] | type[postgresql.Insert]:
    dialect = uow.session.get_bind().dialect.name
    return postgresql.Insert if dialect == "postgresql" else sqlite.Insert


def _insert_ledger_row(
    uow: UnitOfWork, key: DeliveryKey, status: DeliveryStatus, now: datetime, error: str | None
) -> Any:
    """INSERT the key's row unless it exists (the unique key decides), RETURNING its id."""
    statement = _insert(uow)(Delivery).values(
        recipient_id=key.recipient_id,
        kind=key.kind.value,
        local_date=key.local_date,
        ref=key.ref,
        status=status.value,
        attempts=0,
        error=error[:ERROR_MAX_LENGTH] if error else None,
        claimed_at=now,
    )
    return statement.on_conflict_do_nothing(
        index_elements=["recipient_id", "kind", "local_date", "ref"]
    ).returning(Delivery.id)


def _key_filter(key: DeliveryKey) -> ColumnElement[bool]:
    return and_(
        Delivery.recipient_id == key.recipient_id,
        Delivery.kind == key.kind.value,
        Delivery.local_date == key.local_date,
        Delivery.ref == key.ref,
    )


def _may_take_over(status: str, attempts: int, claimed_at: datetime, now: datetime) -> bool:
    if status == DeliveryStatus.CLAIMED:
        return claimed_at < now - CLAIM_LEASE
    if status == DeliveryStatus.FAILED:
        return attempts < MAX_ATTEMPTS and claimed_at <= now - RETRY_FAILED_AFTER
    return False


async def claim(uow: UnitOfWork, key: DeliveryKey, now: datetime) -> Claim | None:
    """Claim `key` for sending now (commits); None when someone else has it or it is done.

    A new key is claimed by INSERT ... ON CONFLICT DO NOTHING; an existing row is taken over
    only when its claim went stale or it failed and may be retried, by an UPDATE that matches
    the row as it was read, so two processes never both win.
    """
    if len(key.ref) > REF_MAX_LENGTH:
        raise ValueError(f"delivery ref longer than {REF_MAX_LENGTH} characters")
    async with uow:
        statement = _insert_ledger_row(uow, key, DeliveryStatus.CLAIMED, now, None)
        new_id = (await uow.session.execute(statement)).scalar()
        if new_id is not None:
            await uow.commit()
            return Claim(int(new_id), key, 0)

        row = (await uow.session.execute(select(Delivery).where(_key_filter(key)))).scalar()
        if row is None or not _may_take_over(row.status, row.attempts, row.claimed_at, now):
            return None
        taken = await uow.session.execute(
            update(Delivery)
            .where(
                Delivery.id == row.id,
                Delivery.status == row.status,
                Delivery.claimed_at == row.claimed_at,
            )
            .values(status=DeliveryStatus.CLAIMED.value, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        await uow.commit()
        return Claim(row.id, key, row.attempts)


async def record_skipped(uow: UnitOfWork, key: DeliveryKey, now: datetime, reason: str) -> bool:
    """Record that `key` was missed for good (commits); False when the ledger already had it."""
    async with uow:
        statement = _insert_ledger_row(uow, key, DeliveryStatus.SKIPPED, now, reason)
        inserted = (await uow.session.execute(statement)).scalar()
        await uow.commit()
    return inserted is not None


async def finish(
    uow: UnitOfWork,
    claim_: Claim,
    status: DeliveryStatus,
    *,
    attempts: int = 0,
    error: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record how a claimed delivery ended (commits).

    `sent` records `now` as the moment it went out; `failed` may be retried by a later
    tick; `blocked` also deactivates the recipient, in the same transaction; `skipped`
    means there was nothing to send after all.
    """
    values: dict[str, Any] = {
        "status": status.value,
        "attempts": claim_.previous_attempts + attempts,
        "error": error[:ERROR_MAX_LENGTH] if error else None,
    }
    if status is DeliveryStatus.SENT:
        values["sent_at"] = now
    async with uow:
        await uow.session.execute(
            update(Delivery)
            .where(Delivery.id == claim_.delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if status is DeliveryStatus.BLOCKED:
            await uow.session.execute(
                update(User)
                .where(User.id == claim_.key.recipient_id)
                .values(is_active=False)
                .execution_options(synchronize_session=False)
            )
        await uow.commit()


async def ledger_rows(
    uow: UnitOfWork, kind: DeliveryKind, local_dates: Iterable[date]
) -> dict[DeliveryKey, LedgerRow]:
    """Every ledger row of `kind` on the given local dates, by key (inside `async with uow`)."""
    dates = sorted(set(local_dates))
    if not dates:
        return {}
    rows = (
        await uow.session.execute(
            select(
                Delivery.recipient_id,
                Delivery.local_date,
                Delivery.ref,
                Delivery.status,
                Delivery.attempts,
                Delivery.claimed_at,
            ).where(Delivery.kind == kind.value, Delivery.local_date.in_(dates))
        )
    ).all()
    result: dict[DeliveryKey, LedgerRow] = {}
    for recipient_id, local_date, ref, status, attempts, claimed_at in rows:
        key = DeliveryKey(recipient_id, kind, local_date, ref)
        result[key] = LedgerRow(key, DeliveryStatus(status), attempts, claimed_at)
    return result


def may_retry(row: LedgerRow, now: datetime) -> bool:
    """Whether a claim on an existing row could win now (so the tick should try)."""
    return _may_take_over(row.status, row.attempts, row.claimed_at, now)


async def status_counts(
    uow: UnitOfWork, kind: DeliveryKind, local_date: date
) -> dict[DeliveryStatus, int]:
    """How many deliveries of `kind` on `local_date` are in each status (reports, benchmark)."""
    async with uow:
        rows = (
            await uow.session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.kind == kind.value, Delivery.local_date == local_date)
                .group_by(Delivery.status)
            )
        ).all()
    return {DeliveryStatus(status): int(count) for status, count in rows}


# --- daily system jobs (the nightly recomputation) ------------------------------------------
# They have no recipient, so their ledger is a row per job and day in `app_settings`
# (key "job.<name>.<date>"), claimed the same way: insert-or-nothing, then compare-and-set.

JOB_LEASE = timedelta(hours=2)
JOB_RETRY_AFTER = timedelta(minutes=30)
JOB_MAX_ATTEMPTS = 3


class JobState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def job_key(name: str, local_date: date) -> str:
    return f"job.{name}.{local_date.isoformat()}"


def _insert_setting_if_absent(
    uow: UnitOfWork, key: str, value: dict[str, Any], now: datetime
) -> Any:
    insert_class = _insert(uow)
    return (
        insert_class(AppSetting)
        .values(key=key, value=value, updated_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(AppSetting.key)
    )


async def claim_daily_job(uow: UnitOfWork, name: str, local_date: date, now: datetime) -> bool:
    """Claim today's run of a system job (commits); False if it ran, runs or gave up."""
    key = job_key(name, local_date)
    async with uow:
        value = {"state": JobState.RUNNING.value, "attempts": 1}
        inserted = (
            await uow.session.execute(_insert_setting_if_absent(uow, key, value, now))
        ).scalar()
        if inserted is not None:
            await uow.commit()
            return True
        row = await uow.session.get(AppSetting, key)
        if row is None:
            return False
        state, attempts = row.value.get("state"), int(row.value.get("attempts", 1))
        stale = state == JobState.RUNNING and row.updated_at < now - JOB_LEASE
        retry = (
            state == JobState.FAILED
            and attempts < JOB_MAX_ATTEMPTS
            and row.updated_at <= now - JOB_RETRY_AFTER
        )
        if not (stale or retry):
            return False
        taken = await uow.session.execute(
            update(AppSetting)
            .where(AppSetting.key == key, AppSetting.updated_at == row.updated_at)
            .values(
                value={"state": JobState.RUNNING.value, "attempts": attempts + 1}, updated_at=now
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await uow.commit()
        return True


async def finish_daily_job(
    uow: UnitOfWork,
    name: str,
    local_date: date,
    now: datetime,
    *,
    ok: bool,
    details: dict[str, Any] | None = None,
) -> None:
    """Record how a claimed job ended (commits); a failed one is retried later, a few times."""
    key = job_key(name, local_date)
    async with uow:
        row = await uow.session.get(AppSetting, key)
        attempts = int(row.value.get("attempts", 1)) if row is not None else 1
        state = JobState.DONE if ok else JobState.FAILED
        await uow.session.execute(
            update(AppSetting)
            .where(AppSetting.key == key)
            .values(
                value={"state": state.value, "attempts": attempts, **(details or {})},
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        await uow.commit()
