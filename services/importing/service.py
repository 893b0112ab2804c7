"""Importing clients and sales from spreadsheets through the unit of work.

One run is one database transaction: by default a file with any bad row writes
nothing but its `ImportBatch` record; with `skip_invalid` exactly the good rows
are written. Parsing runs in a worker thread so a bot stays responsive meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Executable,
    String,
    Table,
    any_,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from services.db.models import Client, ClientPhone, ImportBatch, Transaction, User
from services.db.versions import clients_changed
from services.importing.columns import CLIENT_COLUMNS, TRANSACTION_COLUMNS
from services.importing.errors import ErrorCode, RowError
from services.importing.matching import ClientIndex, KnownClient
from services.importing.progress import ProgressBar, ProgressFactory, no_progress
from services.importing.reader import (
    FileInfo,
    ManagerDirectory,
    ParsedClients,
    ParsedTransactions,
    RawTable,
    cents_to_decimal,
    first_rows,
    inspect_file,
    read_table,
    validate_clients,
    validate_transactions,
)
from services.uow import UnitOfWork

# Errors kept in ImportBatch.errors; the counts stay exact, the full list goes to --errors-csv.
MAX_STORED_ERRORS = 1_000
# Rows per INSERT batch: big enough to amortise the round trip, small enough to show progress.
SQLITE_WRITE_CHUNK = 50_000
SQLITE_CACHE_KIB = 256 * 1024
WRITE_CHUNK = 5_000
# Bound parameters per IN (...) lookup, well under SQLite's and asyncpg's limits.
LOOKUP_CHUNK = 5_000
PG_LOOKUP_CHUNK = 50_000

CLIENT_FIELDS = (
    "external_id",
    "name",
    "name_normalized",
    "company",
    "tax_id",
    "phones",
    "email",
    "city",
    "owner_id",
    "is_vip",
    "vip_reason",
    "tags",
)


class ImportKind(StrEnum):
    CLIENTS = "clients"
    TRANSACTIONS = "transactions"


class BatchStatus(StrEnum):
    DONE = "done"  # every row imported (or already there)
    PARTIAL = "partial"  # good rows imported, bad rows skipped
    REJECTED = "rejected"  # bad rows found, nothing written
    SKIPPED = "skipped"  # the very same file was imported before


COMMITTED = (BatchStatus.DONE, BatchStatus.PARTIAL)


@dataclass(frozen=True)
class ImportReport:
    """The outcome of one import run, for the command line or a bot message to render."""

    kind: str
    file_name: str
    file_hash: str
    file_format: str
    status: str
    batch_id: int | None = None
    rows_read: int = 0
    rows_imported: int = 0  # new clients, or new transactions
    rows_updated: int = 0  # existing clients whose fields changed
    rows_duplicate: int = 0  # already in the database as the file has them: nothing to do
    rows_rejected: int = 0
    clients_created: int = 0  # transactions only, with create_clients
    errors: tuple[RowError, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()  # canonical name, header it was read from
    encoding: str | None = None
    separator: str | None = None
    already_imported_at: datetime | None = None
    previous_batch_id: int | None = None

    @property
    def committed(self) -> bool:
        return self.status in COMMITTED

    @property
    def rows_valid(self) -> int:
        return self.rows_read - self.rows_rejected


async def import_clients(
    uow: UnitOfWork,
    path: Path,
    *,
    file_name: str | None = None,
    column_map: Mapping[str, str] | None = None,
    skip_invalid: bool = False,
    progress: ProgressFactory = no_progress,
) -> ImportReport:
    """Create or update clients from a CSV/XLSX file; raises `ImportFileError` if unreadable."""
    info = await asyncio.to_thread(inspect_file, path)
    name = file_name or path.name
    async with uow:
        session = uow.session
        skipped = await _skip_if_imported(uow, ImportKind.CLIENTS, name, info)
        if skipped is not None:
            return skipped
        users = [
            (row[0], row[1]) for row in await session.execute(select(User.id, User.display_name))
        ]
        managers = ManagerDirectory.from_users(users)
        table = await asyncio.to_thread(
            read_table, path, CLIENT_COLUMNS, column_map, info=info, progress=progress
        )
        parsed = await asyncio.to_thread(validate_clients, table, managers)
        source = _source(table)
        connection = await session.connection()
        known = await _load_clients(connection)
        phones = await _load_phones(connection)
        plan = await asyncio.to_thread(_plan_clients, parsed, known, phones)
        errors = _merge_errors(parsed.errors, plan.errors)
        rejected = len({error.row for error in errors})
        base = _report_base(ImportKind.CLIENTS, name, info, source, parsed.rows_read, errors)
        if rejected and not skip_invalid:
            report = ImportReport(**base, status=BatchStatus.REJECTED, rows_rejected=rejected)
            return await _finish(uow, report)

        bar = progress("Writing", len(plan.new) + len(plan.updates))
        try:
            new_ids = await _insert_clients(connection, plan.new)
            bar.update(len(plan.new))
            await _update_clients(connection, plan.updates)
            bar.update(len(plan.updates))
            await _sync_phones(connection, plan, new_ids, phones)
        finally:
            bar.close()
        written = len(plan.new) + plan.updated + plan.unchanged
        report = ImportReport(
            **base,
            status=_final_status(rejected, written),
            rows_imported=len(plan.new),
            rows_updated=plan.updated,
            rows_duplicate=plan.unchanged,
            rows_rejected=rejected,
        )
        return await _finish(uow, report)


async def import_transactions(
    uow: UnitOfWork,
    path: Path,
    *,
    file_name: str | None = None,
    column_map: Mapping[str, str] | None = None,
    skip_invalid: bool = False,
    create_clients: bool = False,
    progress: ProgressFactory = no_progress,
) -> ImportReport:
    """Add sales from a CSV/XLSX file, skipping those already imported (by `dedup_key`)."""
    info = await asyncio.to_thread(inspect_file, path)
    name = file_name or path.name
    async with uow:
        skipped = await _skip_if_imported(uow, ImportKind.TRANSACTIONS, name, info)
        if skipped is not None:
            return skipped
        table = await asyncio.to_thread(
            read_table, path, TRANSACTION_COLUMNS, column_map, info=info, progress=progress
        )
        parsed = await asyncio.to_thread(validate_transactions, table)
        source = _source(table)
        # a million rows of raw text is worth freeing before the next copies are made
        del table
        rows_read = parsed.rows_read
        connection = await uow.session.connection()
        index = ClientIndex(await _load_client_keys(connection))
        plan = await asyncio.to_thread(_plan_transactions, parsed, index, create_clients)
        del parsed
        errors = _merge_errors(plan.parse_errors, plan.errors)
        rejected = len({error.row for error in errors})
        base = _report_base(ImportKind.TRANSACTIONS, name, info, source, rows_read, errors)
        if rejected and not skip_invalid:
            report = ImportReport(**base, status=BatchStatus.REJECTED, rows_rejected=rejected)
            return await _finish(uow, report)

        frame = plan.frame
        existing = await _existing_keys(connection, frame)
        is_duplicate = frame["key"].isin(existing)
        fresh = frame[~is_duplicate].reset_index(drop=True)
        created = await _create_clients_for(connection, plan.new_clients, fresh)
        if created:
            fresh = await asyncio.to_thread(_apply_real_ids, fresh, created)
        duplicates = int(is_duplicate.sum())
        report = ImportReport(
            **base,
            status=_final_status(rejected, len(fresh) + duplicates),
            rows_imported=len(fresh),
            rows_duplicate=duplicates,
            rows_rejected=rejected,
            clients_created=len(created),
        )
        # the batch row comes first: every transaction points to it
        batch_id = await _record_batch(uow, report)
        await _insert_transactions(connection, fresh, batch_id, progress)
        if created:
            await clients_changed(uow)
        await uow.commit()
    return replace(report, batch_id=batch_id)


# --- shared --------------------------------------------------------------------------------


async def _skip_if_imported(
    uow: UnitOfWork, kind: ImportKind, name: str, info: FileInfo
) -> ImportReport | None:
    """The very same bytes were imported before: record the attempt and do nothing else."""
    previous = (
        await uow.session.execute(
            select(ImportBatch.id, ImportBatch.created_at)
            .where(
                ImportBatch.kind == kind,
                ImportBatch.file_hash == info.sha256,
                ImportBatch.status.in_(list(COMMITTED)),
            )
            .order_by(ImportBatch.created_at, ImportBatch.id)
            .limit(1)
        )
    ).first()
    if previous is None:
        return None
    report = ImportReport(
        kind=kind,
        file_name=name,
        file_hash=info.sha256,
        file_format=info.format,
        status=BatchStatus.SKIPPED,
        encoding=info.encoding,
        already_imported_at=previous.created_at,
        previous_batch_id=previous.id,
    )
    return await _finish(uow, report)


def _source(table: RawTable) -> dict[str, Any]:
    """What the report tells about how the file was read."""
    return {
        "encoding": table.encoding,
        "separator": table.separator,
        "columns": tuple(table.columns.items()),
    }


def _report_base(
    kind: ImportKind,
    name: str,
    info: FileInfo,
    source: Mapping[str, Any],
    rows_read: int,
    errors: tuple[RowError, ...],
) -> dict[str, Any]:
    return {
        "kind": kind,
        "file_name": name,
        "file_hash": info.sha256,
        "file_format": info.format,
        **source,
        "rows_read": rows_read,
        "errors": errors,
    }


async def _record_batch(uow: UnitOfWork, report: ImportReport) -> int:
    batch = ImportBatch(
        kind=report.kind,
        file_name=report.file_name[:300],
        file_hash=report.file_hash,
        status=report.status,
        rows_total=report.rows_read,
        # the batch has one "imported" count: created and updated clients both changed the base
        rows_imported=report.rows_imported + report.rows_updated,
        rows_duplicate=report.rows_duplicate,
        rows_rejected=report.rows_rejected,
        errors=[error.as_dict() for error in report.errors[:MAX_STORED_ERRORS]],
    )
    uow.session.add(batch)
    await uow.flush()
    return batch.id


async def _finish(uow: UnitOfWork, report: ImportReport) -> ImportReport:
    """Record the run and commit: the last step of every outcome."""
    batch_id = await _record_batch(uow, report)
    if report.kind == "clients" and report.rows_imported + report.rows_updated:
        await clients_changed(uow)  # the search index must see new and renamed clients
    await uow.commit()
    return replace(report, batch_id=batch_id)


def _merge_errors(*groups: Sequence[RowError]) -> tuple[RowError, ...]:
    merged = [error for group in groups for error in group]
    return tuple(sorted(merged, key=lambda error: error.row))


def _final_status(rejected: int, written: int) -> BatchStatus:
    if not rejected:
        return BatchStatus.DONE
    return BatchStatus.PARTIAL if written else BatchStatus.REJECTED


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _clients_table() -> Table:
    table = Client.__table__
    assert isinstance(table, Table)
    return table


def _transactions_table() -> Table:
    table = Transaction.__table__
    assert isinstance(table, Table)
    return table


def _phones_table() -> Table:
    table = ClientPhone.__table__
    assert isinstance(table, Table)
    return table


# --- clients -------------------------------------------------------------------------------


@dataclass
class _NewClient:
    provisional_id: int
    values: dict[str, Any]
    phones: tuple[str, ...]


@dataclass
class _ClientPlan:
    new: list[_NewClient] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)  # full records with "id"
    phones: dict[int, tuple[str, ...]] = field(default_factory=dict)  # existing id -> new set
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


async def _load_clients(connection: AsyncConnection) -> dict[int, dict[str, Any]]:
    clients = _clients_table()
    columns = [clients.c.id, *(clients.c[name] for name in CLIENT_FIELDS)]
    rows = (await connection.execute(select(*columns))).mappings().all()
    return {row["id"]: dict(row) for row in rows}


async def _load_phones(connection: AsyncConnection) -> dict[int, dict[str, int]]:
    """Each client's phone rows: phone -> row id."""
    phones = _phones_table()
    result = await connection.execute(select(phones.c.id, phones.c.client_id, phones.c.phone))
    by_client: dict[int, dict[str, int]] = {}
    for phone_id, client_id, phone in result:
        by_client.setdefault(client_id, {})[phone] = phone_id
    return by_client


def _plan_clients(
    parsed: ParsedClients,
    known: Mapping[int, Mapping[str, Any]],
    phones: Mapping[int, Mapping[str, int]],
) -> _ClientPlan:
    """Decide per valid row: a new client, an update, nothing to change, or a conflict.

    Empty cells keep what the database has, so a partial export never wipes data.
    """
    index = ClientIndex(
        KnownClient(cid, row["external_id"], row["tax_id"], row["name_normalized"])
        for cid, row in known.items()
    )
    plan = _ClientPlan()
    claimed: dict[int, int] = {}  # client id (negative: planned) -> the row that claimed it
    for record in parsed.frame.to_dict("records"):
        row = int(record["row"])
        match = index.find(record["external_id"], record["tax_id"], record["name_normalized"])
        if match.ambiguous:
            plan.errors.append(RowError(row, "name", ErrorCode.AMBIGUOUS_CLIENT, record["name"]))
            continue
        client_id = match.client_id
        if client_id is not None and client_id in claimed:
            detail = f"same client as row {claimed[client_id]}"
            plan.errors.append(
                RowError(row, "name", ErrorCode.DUPLICATE_IN_FILE, record["name"], detail)
            )
            continue
        values = {name: _db_value(record[name]) for name in CLIENT_FIELDS}
        given = {name: value for name, value in values.items() if value is not None}
        new_phones: tuple[str, ...] = tuple(record["phone_list"])
        if client_id is None:
            client_id = -(len(plan.new) + 1)
            defaults = {name: None for name in CLIENT_FIELDS} | {"is_vip": False, "tags": []}
            plan.new.append(_NewClient(client_id, defaults | given, new_phones))
        else:
            current = known[client_id]
            changes = {name: value for name, value in given.items() if current[name] != value}
            if "name_normalized" not in changes:
                # "ЗАО  «Лютик»" for "ЗАО Лютик" is the same name; rewriting it on every
                # import of another export would make re-imports report changes forever
                changes.pop("name", None)
            phones_change = bool(new_phones) and set(new_phones) != set(phones.get(client_id, {}))
            if changes:
                plan.updates.append({**current, **changes})
            if phones_change:
                plan.phones[client_id] = new_phones
            if changes or phones_change:
                plan.updated += 1
            else:
                plan.unchanged += 1
        claimed[client_id] = row
        index.remember(
            KnownClient(
                client_id, record["external_id"], record["tax_id"], record["name_normalized"]
            )
        )
    return plan


def _db_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value


async def _insert_clients(connection: AsyncConnection, new: Sequence[_NewClient]) -> dict[int, int]:
    """Insert planned clients; returns provisional id -> real id."""
    if not new:
        return {}
    clients = _clients_table()
    identity = (clients.c.name_normalized, clients.c.external_id, clients.c.tax_id)
    # To return ids in parameter order SQLite needs one INSERT per row (50k clients: ~10 s).
    # Planned clients never share an identity (the index would have matched them), so on
    # SQLite the ids are paired up by it instead.
    ordered = connection.dialect.name != "sqlite"
    statement = insert(clients).returning(clients.c.id, *identity, sort_by_parameter_order=ordered)
    real_ids: dict[int, int] = {}
    for chunk in _chunks(new, WRITE_CHUNK):
        rows = (await connection.execute(statement, [client.values for client in chunk])).all()
        if ordered:
            real_ids.update(
                (client.provisional_id, row[0]) for client, row in zip(chunk, rows, strict=True)
            )
            continue
        by_identity = {tuple(row[1:]): row[0] for row in rows}
        if len(by_identity) != len(chunk):
            raise RuntimeError("planned clients share an identity; cannot pair up their ids")
        for client in chunk:
            key = tuple(client.values[column.name] for column in identity)
            real_ids[client.provisional_id] = by_identity[key]
    return real_ids


async def _update_clients(connection: AsyncConnection, updates: Sequence[dict[str, Any]]) -> None:
    if not updates:
        return
    clients = _clients_table()
    statement = (
        update(clients)
        .where(clients.c.id == bindparam("client_id"))
        .values({name: bindparam(f"new_{name}") for name in CLIENT_FIELDS})
    )
    params = [
        {"client_id": record["id"], **{f"new_{name}": record[name] for name in CLIENT_FIELDS}}
        for record in updates
    ]
    for chunk in _chunks(params, WRITE_CHUNK):
        await connection.execute(statement, chunk)


async def _sync_phones(
    connection: AsyncConnection,
    plan: _ClientPlan,
    new_ids: Mapping[int, int],
    existing: Mapping[int, Mapping[str, int]],
) -> None:
    """Make each client's phone rows the numbers its row lists (when it lists any)."""
    table = _phones_table()
    to_add = [
        {"client_id": new_ids[client.provisional_id], "phone": phone}
        for client in plan.new
        for phone in client.phones
    ]
    to_delete: list[int] = []
    for client_id, wanted in plan.phones.items():
        have = existing.get(client_id, {})
        to_add.extend({"client_id": client_id, "phone": p} for p in wanted if p not in have)
        to_delete.extend(phone_id for phone, phone_id in have.items() if phone not in wanted)
    for ids in _chunks(to_delete, LOOKUP_CHUNK):
        await connection.execute(delete(table).where(table.c.id.in_(ids)))
    for chunk in _chunks(to_add, WRITE_CHUNK):
        await connection.execute(insert(table), chunk)


# --- transactions --------------------------------------------------------------------------


@dataclass
class _TransactionPlan:
    frame: pd.DataFrame  # valid rows with "client_id" (negative: to create) and "key"
    new_clients: dict[int, dict[str, Any]]  # provisional id -> client values
    errors: list[RowError]
    parse_errors: tuple[RowError, ...]


async def _load_client_keys(connection: AsyncConnection) -> list[KnownClient]:
    clients = _clients_table()
    result = await connection.execute(
        select(clients.c.id, clients.c.external_id, clients.c.tax_id, clients.c.name_normalized)
    )
    return [KnownClient(*row) for row in result]


def _plan_transactions(
    parsed: ParsedTransactions, index: ClientIndex, create_clients: bool
) -> _TransactionPlan:
    """Find each row's client (once per distinct client cell) and its deduplication key."""
    frame = parsed.frame
    identity = frame["client_name_normalized"]
    for column in ("client_external_id", "client_tax_id"):
        # most exports have only a name column; skip concatenating a million empty strings
        if column in parsed.columns:
            identity = frame[column] + "\x1f" + identity
    first = ~identity.duplicated()
    client_of: dict[str, int | None] = {}
    failure_of: dict[str, ErrorCode] = {}
    new_clients: dict[int, dict[str, Any]] = {}
    columns = ["client_external_id", "client_tax_id", "client_name_normalized", "client"]
    for key, (external_id, tax_id, name_normalized, name) in zip(
        identity[first].tolist(), frame.loc[first, columns].itertuples(index=False), strict=True
    ):
        match = index.find(external_id or None, tax_id or None, name_normalized)
        if match.ambiguous:
            client_of[key], failure_of[key] = None, ErrorCode.AMBIGUOUS_CLIENT
        elif match.client_id is not None:
            client_of[key] = match.client_id
        elif create_clients and name_normalized:
            provisional = -(len(new_clients) + 1)
            new_clients[provisional] = {
                "name": name,
                "name_normalized": name_normalized,
                "external_id": external_id or None,
                "tax_id": tax_id or None,
            }
            index.remember(KnownClient(provisional, external_id, tax_id, name_normalized))
            client_of[key] = provisional
        else:
            client_of[key], failure_of[key] = None, ErrorCode.UNKNOWN_CLIENT
    client_ids = identity.map(client_of)
    errors: list[RowError] = []
    unresolved = client_ids.isna()
    if unresolved.any():
        for row, key, name in zip(
            frame.loc[unresolved, "row"].tolist(),
            identity[unresolved].tolist(),
            frame.loc[unresolved, "client"].tolist(),
            strict=True,
        ):
            errors.append(RowError(int(row), "client", failure_of[key], name or None))
    frame = frame[~unresolved].copy()
    frame["client_id"] = client_ids[~unresolved].astype("int64")
    frame["key"] = dedup_keys(frame)
    repeated = frame["key"].duplicated()
    if repeated.any():
        origin = first_rows(frame["row"], frame["key"])
        has_order = frame["order_number"] != ""
        for row, of, ordered, number in zip(
            frame.loc[repeated, "row"].tolist(),
            origin[repeated].tolist(),
            has_order[repeated].tolist(),
            frame.loc[repeated, "order_number"].tolist(),
            strict=True,
        ):
            column, value = ("order_number", number) if ordered else ("row", None)
            errors.append(
                RowError(int(row), column, ErrorCode.DUPLICATE_IN_FILE, value, f"same as row {of}")
            )
        frame = frame[~repeated]
    return _TransactionPlan(frame.reset_index(drop=True), new_clients, errors, parsed.errors)


def dedup_keys(frame: pd.DataFrame) -> pd.Series:
    """`client_id|order|category`; without an order number the row's content stands in.

    The content key makes re-importing an export without document numbers
    idempotent too, at the price of treating two identical rows as one sale.
    """
    keys = [
        f"{client}|{order}|{category}"
        for client, order, category in zip(
            frame["client_id"].tolist(),
            frame["order_number"].tolist(),
            frame["category"].tolist(),
            strict=True,
        )
    ]
    result = pd.Series(keys, index=frame.index, dtype=object)
    no_order = (frame["order_number"] == "").to_numpy()
    if no_order.any():
        subset = frame[no_order]
        result[no_order] = [
            f"{client}|@{day}|{cents_to_decimal(cents)}|{category}"
            for client, day, cents, category in zip(
                subset["client_id"].tolist(),
                subset["date"].dt.strftime("%Y-%m-%d").tolist(),
                subset["amount_cents"].tolist(),
                subset["category"].tolist(),
                strict=True,
            )
        ]
    return result


async def _existing_keys(connection: AsyncConnection, frame: pd.DataFrame) -> set[str]:
    """The rows' keys already in the database: one lookup per chunk, not per row.

    Clients without any sales are ruled out first, so a first import of a big file
    costs a few queries instead of one per few thousand rows.
    """
    table = _transactions_table()
    client_ids = [int(cid) for cid in frame.loc[frame["client_id"] > 0, "client_id"].unique()]
    with_sales: set[int] = set()
    for ids in _chunks(client_ids, LOOKUP_CHUNK):
        result = await connection.execute(
            select(table.c.client_id).where(table.c.client_id.in_(ids)).distinct()
        )
        with_sales.update(result.scalars().all())
    if not with_sales:
        return set()
    candidates = frame.loc[frame["client_id"].isin(with_sales), "key"].tolist()
    found: set[str] = set()
    if connection.dialect.name == "postgresql":
        # one array parameter instead of thousands of bound values
        statement = select(table.c.dedup_key).where(
            table.c.dedup_key == any_(bindparam("keys", type_=postgresql.ARRAY(String)))
        )
        for keys in _chunks(candidates, PG_LOOKUP_CHUNK):
            result = await connection.execute(statement, {"keys": list(keys)})
            found.update(result.scalars().all())
        return found
    # Core would render and bind thousands of IN parameters per query in Python;
    # a prepared "?, ?, ..." string costs nothing
    sql = f"SELECT dedup_key FROM {table.name} WHERE dedup_key IN ({{marks}})"
    full = sql.format(marks=", ".join("?" * LOOKUP_CHUNK))
    # sorted keys walk the unique index from left to right instead of jumping around it
    candidates.sort()
    async with _sqlite_cache(connection):
        for keys in _chunks(candidates, LOOKUP_CHUNK):
            marks = ", ".join("?" * len(keys))
            query = full if len(keys) == LOOKUP_CHUNK else sql.format(marks=marks)
            result = await connection.exec_driver_sql(query, tuple(keys))
            found.update(row[0] for row in result)
    return found


@asynccontextmanager
async def _sqlite_cache(connection: AsyncConnection) -> AsyncIterator[None]:
    """A big page cache for one bulk step: the default 2 MB thrashes on a million rows."""
    previous = (await connection.exec_driver_sql("PRAGMA cache_size")).scalar()
    await connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        await connection.exec_driver_sql(f"PRAGMA cache_size={int(previous or -2000)}")


async def _create_clients_for(
    connection: AsyncConnection, planned: Mapping[int, Mapping[str, Any]], rows: pd.DataFrame
) -> dict[int, int]:
    """Create the planned clients that still have rows to import; provisional id -> real id."""
    needed = sorted(set(rows.loc[rows["client_id"] < 0, "client_id"].tolist()), reverse=True)
    new = [
        _NewClient(
            provisional,
            {name: None for name in CLIENT_FIELDS}
            | {"is_vip": False, "tags": []}
            | dict(planned[provisional]),
            (),
        )
        for provisional in needed
    ]
    return await _insert_clients(connection, new)


def _apply_real_ids(frame: pd.DataFrame, real_ids: Mapping[int, int]) -> pd.DataFrame:
    frame = frame.copy()
    planned = frame["client_id"] < 0
    frame.loc[planned, "client_id"] = frame.loc[planned, "client_id"].map(real_ids)
    frame["key"] = dedup_keys(frame)
    return frame


async def _insert_transactions(
    connection: AsyncConnection, frame: pd.DataFrame, batch_id: int, progress: ProgressFactory
) -> None:
    if frame.empty:
        return
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Grouped by client the inserts hit few B-tree pages of both indexes at a time
        # (dedup keys start with the client id): about 40% less work for SQLite.
        order = np.lexsort((frame["date"].to_numpy(), frame["client_id"].to_numpy()))
        frame = frame.iloc[order]
    names = ["client_id", "date", "amount", "order_number", "category", "currency", "dedup_key"]
    client_ids = frame["client_id"].tolist()
    orders = [value or None for value in frame["order_number"].tolist()]
    categories = [value or None for value in frame["category"].tolist()]
    currencies = frame["currency"].tolist()
    keys = frame["key"].tolist()
    bar = progress("Writing", len(frame))
    try:
        if sqlite:
            # The driver's executemany with prepared tuples is twice as fast as Core here:
            # no per-row bind processing. Dates as ISO text, the way SQLAlchemy stores them;
            # amounts as floats, because SQLite keeps NUMERIC as REAL whatever is bound.
            dates = frame["date"].dt.strftime("%Y-%m-%d").tolist()
            amounts = (frame["amount_cents"] / 100).tolist()
            values = (client_ids, dates, amounts, orders, categories, currencies, keys)
            rows = list(zip(*values, repeat(batch_id, len(frame)), strict=True))
            await _sqlite_executemany(connection, names, rows, bar)
            return
        dates_py = frame["date"].dt.date.tolist()
        amounts_py = [cents_to_decimal(cents) for cents in frame["amount_cents"].tolist()]
        params = [
            dict(zip(names, values, strict=True)) | {"import_batch_id": batch_id}
            for values in zip(
                client_ids, dates_py, amounts_py, orders, categories, currencies, keys, strict=True
            )
        ]
        table = _transactions_table()
        statement: Executable = insert(table)
        if connection.dialect.name == "postgresql":
            statement = postgresql.insert(table).on_conflict_do_nothing(
                index_elements=["dedup_key"]
            )
        for chunk in _chunks(params, WRITE_CHUNK):
            await connection.execute(statement, list(chunk))
            bar.update(len(chunk))
    finally:
        bar.close()


async def _sqlite_executemany(
    connection: AsyncConnection, names: Sequence[str], rows: list[tuple[Any, ...]], bar: ProgressBar
) -> None:
    table = _transactions_table()
    columns = ", ".join([*names, "import_batch_id"])
    marks = ", ".join("?" * (len(names) + 1))
    sql = (
        f"INSERT INTO {table.name} ({columns}) VALUES ({marks}) ON CONFLICT (dedup_key) DO NOTHING"
    )
    async with _sqlite_cache(connection):
        for chunk in _chunks(rows, SQLITE_WRITE_CHUNK):
            await connection.exec_driver_sql(sql, list(chunk))
            bar.update(len(chunk))


__all__ = [
    "BatchStatus",
    "ImportKind",
    "ImportReport",
    "dedup_keys",
    "import_clients",
    "import_transactions",
]
