"""Writing the demo base to the database, wiping it, and summing it up.

Rows go in through SQLAlchemy Core `insert()` with executemany in batches, not
through ORM objects: a million clients bring tens of millions of rows, and the
unit of work's identity map would hold every one of them (see `_insert_many` for
the SQLite path). The whole load is one
transaction, committed once, so an interrupted load leaves nothing behind.

The demo's rows are recognised by their marks, not by a flag the schema lacks:
clients by the external id prefix `DEMO-`, their transactions, calls and phones
through them, and users by the fixed demo Telegram ids.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, ColumnElement, Table, delete, func, insert, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from demo_data.generator import (
    DEFAULT_CLIENTS,
    DEFAULT_SEED,
    EXTERNAL_ID_PREFIX,
    DemoChunk,
    iter_demo_chunks,
)
from demo_data.vocabulary import DEMO_TELEGRAM_IDS, DEMO_USERS
from services.db.models import (
    Client,
    ClientPhone,
    ClientSegment,
    Interaction,
    Role,
    SegmentationRun,
    SegmentHistory,
    Transaction,
    User,
)
from services.db.versions import clients_changed
from services.errors import DemoDataConflict
from services.uow import UnitOfWork

# Rows per executemany call: large enough to amortise the round trip, small enough
# that the parameter dicts of one batch stay a few megabytes.
INSERT_BATCH_ROWS = 20_000

Progress = Callable[[int, int], None]  # (clients written so far, clients in total)


@dataclass(frozen=True)
class DemoSummary:
    """What the demo base in the database holds (demo rows only)."""

    users_by_role: Mapping[str, int] = field(default_factory=dict)
    clients: int = 0
    vip_clients: int = 0
    transactions: int = 0
    returns: int = 0
    first_date: date | None = None
    last_date: date | None = None
    revenue_total: Decimal = Decimal("0.00")  # net of returns, RUB
    interactions: int = 0
    # Agreed next contacts before / on or after `as_of`; None when no date was given.
    follow_ups_overdue: int | None = None
    follow_ups_planned: int | None = None

    @property
    def present(self) -> bool:
        return self.clients > 0


@dataclass(frozen=True)
class DemoLoadResult:
    loaded: bool  # False: the demo base was already there and nothing was written
    wiped: bool  # an earlier demo base was deleted first (--reset)
    summary: DemoSummary


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


def _demo_client() -> ColumnElement[bool]:
    return Client.external_id.like(f"{EXTERNAL_ID_PREFIX}%")


def _demo_client_ids() -> Any:
    return select(Client.id).where(_demo_client()).scalar_subquery()


async def load_demo_base(
    uow: UnitOfWork,
    *,
    as_of: date,
    seed: int = DEFAULT_SEED,
    clients: int = DEFAULT_CLIENTS,
    reset: bool = False,
    progress: Progress | None = None,
) -> DemoLoadResult:
    """Load the demo users and a generated base of `clients` clients; opens `uow`, commits.

    Does nothing when a demo base is already there, unless `reset`, which first
    deletes the earlier demo base and anyone holding a demo Telegram id.
    Raises `DemoDataConflict` when a non-demo user holds a demo Telegram id.
    """
    if clients < 1:
        raise ValueError("clients must be at least 1")
    async with uow:
        session = uow.session
        present = await session.scalar(select(Client.id).where(_demo_client()).limit(1))
        if present is not None and not reset:
            return DemoLoadResult(False, False, await _summary(session, as_of))
        wiped = await _wipe(session) if reset else False
        taken = (
            await session.scalars(
                select(User.telegram_id).where(User.telegram_id.in_(DEMO_TELEGRAM_IDS))
            )
        ).all()
        if taken:
            raise DemoDataConflict(sorted(t for t in taken if t is not None))

        connection = await session.connection()
        user_ids = await _insert_users(connection)
        written = 0
        for chunk in iter_demo_chunks(seed=seed, as_of=as_of, clients=clients):
            await _insert_chunk(connection, chunk, user_ids)
            written += len(chunk.clients)
            if progress is not None:
                progress(written, clients)
        await clients_changed(uow)
        await uow.commit()
        return DemoLoadResult(True, wiped, await _summary(session, as_of))


async def wipe_demo_base(uow: UnitOfWork) -> bool:
    """Delete the demo base; True if there was anything to delete; opens `uow`, commits."""
    async with uow:
        wiped = await _wipe(uow.session)
        await clients_changed(uow)
        await uow.commit()
    return wiped


async def demo_summary(uow: UnitOfWork, *, as_of: date | None = None) -> DemoSummary:
    """Counts of the demo base as it is in the database; opens `uow`, read only.

    `as_of` (the business date, e.g. today in the company's time zone) splits the
    agreed next contacts into overdue and planned.
    """
    async with uow:
        return await _summary(uow.session, as_of)


# --- writing -------------------------------------------------------------------


async def _insert_users(connection: AsyncConnection) -> dict[int, int]:
    now = datetime.now(UTC)
    rows = [
        {
            "telegram_id": u.telegram_id,
            "display_name": u.display_name,
            "role": u.role.value,
            "timezone": u.timezone,
            "language": u.language,
            "daily_call_plan": u.daily_call_plan,
            "is_active": True,
            "pushes_enabled": True,
            "created_at": now,
        }
        for u in DEMO_USERS
    ]
    users = _table(User)
    result = await connection.execute(
        insert(users).returning(users.c.id, users.c.telegram_id, sort_by_parameter_order=True),
        rows,
    )
    return {telegram_id: user_id for user_id, telegram_id in result}


def _objects(series: pd.Series) -> list[Any]:
    """Python values with None for missing ones (pandas gives NaN for missing strings)."""
    return cast(list[Any], series.to_numpy(dtype=object, na_value=None).tolist())


def _day_list(series: pd.Series) -> list[date | None]:
    return cast(list[date | None], series.to_numpy().astype("datetime64[D]").tolist())


def _utc_list(series: pd.Series) -> list[datetime | None]:
    naive = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
    return [
        None if moment is None else moment.replace(tzinfo=UTC)
        for moment in naive.astype("datetime64[us]").tolist()
    ]


def _money(kopecks: np.ndarray) -> list[Decimal]:
    return [Decimal(k).scaleb(-2) for k in kopecks.tolist()]


def _lookup(keys: np.ndarray, mapping: Mapping[int, int]) -> np.ndarray:
    known = np.array(sorted(mapping), dtype=np.int64)
    values = np.array([mapping[k] for k in known.tolist()], dtype=np.int64)
    return values[np.searchsorted(known, keys)]


def _rows(columns: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


async def _execute_batches(
    connection: AsyncConnection,
    table: Table,
    frame: pd.DataFrame,
    to_columns: Callable[[pd.DataFrame], Mapping[str, Sequence[Any]]],
) -> None:
    for start in range(0, len(frame), INSERT_BATCH_ROWS):
        batch = frame.iloc[start : start + INSERT_BATCH_ROWS]
        await _insert_many(connection, table, to_columns(batch))


async def _insert_many(
    connection: AsyncConnection, table: Table, columns: Mapping[str, Sequence[Any]]
) -> None:
    """`insert(table)` executemany: Core's on PostgreSQL, a leaner path on SQLite.

    On SQLite, Core's per-row parameter handling costs more than SQLite's own work
    (measured: 2.3x slower for transactions). There the same Core statement is
    compiled once, each column goes through its type's own bind processor (so
    dates, UTC timestamps, money and JSON are stored exactly as Core stores them)
    and the driver's executemany gets plain tuples. Python-side column defaults
    do not apply on this path: callers pass every NOT NULL column.
    """
    dialect = connection.dialect
    if dialect.name != "sqlite":
        await connection.execute(insert(table), _rows(columns))
        return
    names = list(columns)
    compiled = insert(table).compile(dialect=dialect, column_keys=names)
    processed: dict[str, Sequence[Any]] = {}
    for name in names:
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        values = columns[name]
        processed[name] = [process(value) for value in values] if process else values
    order = compiled.positiontup or names
    rows = list(zip(*(processed[name] for name in order), strict=True))
    await connection.exec_driver_sql(str(compiled), rows)


async def _insert_chunk(
    connection: AsyncConnection, chunk: DemoChunk, user_ids: Mapping[int, int]
) -> None:
    clients = chunk.clients
    owner_ids = _lookup(clients["owner_telegram_id"].to_numpy(), user_ids)
    table = _table(Client)
    client_ids = np.empty(len(clients), dtype=np.int64)
    # Ids come back paired with the external id rather than in parameter order: SQLite
    # can only keep that order by inserting one row per statement.
    returning = insert(table).returning(table.c.id, table.c.external_id)
    for start in range(0, len(clients), INSERT_BATCH_ROWS):
        batch = clients.iloc[start : start + INSERT_BATCH_ROWS]
        columns = {
            "external_id": _objects(batch["external_id"]),
            "name": _objects(batch["name"]),
            "name_normalized": _objects(batch["name_normalized"]),
            "company": _objects(batch["company"]),
            "tax_id": _objects(batch["tax_id"]),
            "phones": _objects(batch["phones"]),
            "email": _objects(batch["email"]),
            "city": _objects(batch["city"]),
            "owner_id": owner_ids[start : start + len(batch)].tolist(),
            "is_vip": batch["is_vip"].tolist(),
            "vip_reason": _objects(batch["vip_reason"]),
            "tags": [list(tags) for tags in batch["tags"]],
            "next_due_on": _day_list(batch["next_due_on"]),
            "created_at": _utc_list(batch["created_at"]),
        }
        result = (await connection.execute(returning, _rows(columns))).all()
        returned = pd.Index([external_id for _, external_id in result])
        ids = np.array([client_id for client_id, _ in result], dtype=np.int64)
        client_ids[start : start + len(batch)] = ids[returned.get_indexer(columns["external_id"])]

    first_no = int(clients["client_no"].iloc[0])

    def client_id(frame: pd.DataFrame) -> list[int]:
        return cast(list[int], client_ids[frame["client_no"].to_numpy() - first_no].tolist())

    await _execute_batches(
        connection,
        _table(ClientPhone),
        chunk.client_phones,
        lambda b: {"client_id": client_id(b), "phone": _objects(b["phone"])},
    )
    await _execute_batches(
        connection,
        _table(Transaction),
        chunk.transactions,
        lambda b: {
            "client_id": client_id(b),
            "date": _day_list(b["date"]),
            "amount": _money(b["amount_kopecks"].to_numpy()),
            "order_number": _objects(b["order_number"]),
            "category": _objects(b["category"].astype(object)),
            "currency": ["RUB"] * len(b),
        },
    )

    def interaction_columns(b: pd.DataFrame) -> Mapping[str, Sequence[Any]]:
        occurred = _utc_list(b["occurred_at"])
        return {
            "client_id": client_id(b),
            "user_id": _lookup(b["user_telegram_id"].to_numpy(), user_ids).tolist(),
            "occurred_at": occurred,
            "channel": _objects(b["channel"]),
            "outcome": _objects(b["outcome"]),
            "comment": _objects(b["comment"]),
            "next_contact_on": _day_list(b["next_contact_on"]),
            "next_contact_at": _utc_list(b["next_contact_at"]),
            "created_at": occurred,  # logged right after the call
        }

    await _execute_batches(connection, _table(Interaction), chunk.interactions, interaction_columns)


# --- wiping and summing up ------------------------------------------------------------


async def _wipe(session: AsyncSession) -> bool:
    demo_ids = _demo_client_ids()
    # Segmentation runs that only ever covered demo clients go too, or the bot
    # would show the last run with its segments gone.
    runs = (
        await session.scalars(
            select(ClientSegment.run_id).where(ClientSegment.client_id.in_(demo_ids)).distinct()
        )
    ).all()
    for model in (Transaction, Interaction, ClientPhone, ClientSegment, SegmentHistory):
        table = _table(model)
        await session.execute(delete(table).where(table.c.client_id.in_(demo_ids)))
    runs = [run for run in runs if run is not None]
    if runs:
        still_used = (
            select(ClientSegment.run_id)
            .where(ClientSegment.run_id.is_not(None))
            .distinct()
            .scalar_subquery()
        )
        runs_table = _table(SegmentationRun)
        await session.execute(
            delete(runs_table).where(
                runs_table.c.id.in_(list(runs)), runs_table.c.id.not_in(still_used)
            )
        )
    clients = await session.execute(delete(_table(Client)).where(_demo_client()))
    users_table = _table(User)
    users = await session.execute(
        delete(users_table).where(users_table.c.telegram_id.in_(DEMO_TELEGRAM_IDS))
    )
    return bool(_rowcount(clients) or _rowcount(users))


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _summary(session: AsyncSession, as_of: date | None) -> DemoSummary:
    roles = await session.execute(
        select(User.role, func.count())
        .where(User.telegram_id.in_(DEMO_TELEGRAM_IDS))
        .group_by(User.role)
    )
    users_by_role = {role.value: 0 for role in Role} | {role: count for role, count in roles}
    clients_row = (
        await session.execute(
            select(func.count(), func.count().filter(Client.is_vip.is_(True))).where(_demo_client())
        )
    ).one()
    demo_ids = _demo_client_ids()
    # Sum whole kopecks: exact on both backends (SQLite keeps NUMERIC as floating point).
    kopecks = func.sum(sql_cast(func.round(Transaction.amount * 100), BigInteger))
    tx = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Transaction.amount < 0),
                func.min(Transaction.date),
                func.max(Transaction.date),
                kopecks,
            ).where(Transaction.client_id.in_(demo_ids))
        )
    ).one()
    interactions = (
        await session.scalar(select(func.count()).where(Interaction.client_id.in_(demo_ids)))
    ) or 0
    overdue = planned = None
    if as_of is not None:
        follow_ups = (
            await session.execute(
                select(
                    func.count().filter(Interaction.next_contact_on < as_of),
                    func.count().filter(Interaction.next_contact_on >= as_of),
                ).where(Interaction.client_id.in_(demo_ids))
            )
        ).one()
        overdue, planned = follow_ups[0], follow_ups[1]
    return DemoSummary(
        users_by_role=users_by_role,
        clients=clients_row[0],
        vip_clients=clients_row[1],
        transactions=tx[0],
        returns=tx[1],
        first_date=tx[2],
        last_date=tx[3],
        revenue_total=Decimal(int(tx[4] or 0)).scaleb(-2),
        interactions=interactions,
        follow_ups_overdue=overdue,
        follow_ups_planned=planned,
    )
