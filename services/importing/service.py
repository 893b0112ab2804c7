"""Importing clients and sales from spreadsheets through the unit of work.

One run is one database transaction: by default a file with any bad row writes
nothing but its `ImportBatch` record; with `skip_invalid` exactly the good rows
are written. Parsing runs in a worker thread so a bot stays responsive meanwhile.
Sales go through a staging table (`services.importing.staging`): COPY on
PostgreSQL, `executemany` on SQLite, then one idempotent `INSERT ... SELECT`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.db.models import Client, ClientPhone, ImportBatch, User
from services.db.versions import clients_changed
from services.importing.columns import CLIENT_COLUMNS, TRANSACTION_COLUMNS
from services.importing.errors import ErrorCode, RowError
from services.importing.matching import ClientIndex, KnownClient, known_client
from services.importing.progress import ProgressFactory, no_progress
from services.importing.reader import (
    CSV_CHUNK_ROWS,
    DEFAULT_MAX_FUTURE_DAYS,
    FileInfo,
    ManagerDirectory,
    ParsedClients,
    ParsedTransactions,
    RawTable,
    TableReader,
    cents_to_decimal,
    inspect_file,
    open_table,
    read_table,
    validate_clients,
    validate_transactions,
)
from services.importing.staging import InFileDuplicate, Record, staging
from services.uow import UnitOfWork

# Errors kept in ImportBatch.errors; the counts stay exact, the full list goes to --errors-csv.
MAX_STORED_ERRORS = 1_000
# Rows per INSERT batch of clients and phones.
WRITE_CHUNK = 5_000
# Bound parameters per IN (...) lookup, well under SQLite's and asyncpg's limits.
LOOKUP_CHUNK = 5_000

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
    header_row: int | None = None  # where the header was found (title lines above it)
    totals_rows: tuple[int, ...] = ()  # "Итого" rows, skipped (not errors)

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
        base["totals_rows"] = parsed.totals
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
    today: date,
    file_name: str | None = None,
    column_map: Mapping[str, str] | None = None,
    skip_invalid: bool = False,
    create_clients: bool = False,
    max_future_days: int = DEFAULT_MAX_FUTURE_DAYS,
    progress: ProgressFactory = no_progress,
    chunk_rows: int = CSV_CHUNK_ROWS,
) -> ImportReport:
    """Add sales from a CSV/XLSX file, skipping those already imported (by client and key hash).

    The file is read in chunks of `chunk_rows` and each chunk goes straight to a
    staging table, so memory does not grow with the file; the next chunk is parsed
    in a worker thread while the database takes the current one. Dates more than
    `max_future_days` after `today` are rejected.
    """
    info = await asyncio.to_thread(inspect_file, path)
    name = file_name or path.name
    async with uow:
        skipped = await _skip_if_imported(uow, ImportKind.TRANSACTIONS, name, info)
        if skipped is not None:
            return skipped
        reader = await asyncio.to_thread(
            open_table, path, TRANSACTION_COLUMNS, column_map, info=info, chunk_rows=chunk_rows
        )
        with reader:
            connection = await uow.session.connection()
            planner = _TransactionPlanner(
                ClientIndex(await _load_client_keys(connection)), create_clients
            )

            names: dict[str, str] = {}

            def next_chunk() -> _PlannedChunk | None:
                table = reader.next_chunk()
                if table is None:
                    return None
                parsed = validate_transactions(
                    table, today=today, max_future_days=max_future_days, names=names
                )
                return planner.plan(parsed)

            # the batch row comes first: every transaction points to it
            started = _report_base(ImportKind.TRANSACTIONS, name, info, {}, 0, ())
            batch = await _add_batch(uow, ImportReport(**started, status=BatchStatus.DONE))
            created: dict[int, int] = {}
            bar = progress("Importing", reader.total_rows)
            try:
                async with staging(connection, batch.id) as stage:
                    pending = asyncio.ensure_future(asyncio.to_thread(next_chunk))
                    try:
                        while (chunk := await pending) is not None:
                            # the next chunk is parsed while the database takes this one
                            pending = asyncio.ensure_future(asyncio.to_thread(next_chunk))
                            created |= await _create_planned_clients(connection, chunk.new_clients)
                            await stage.load(chunk.records(created))
                            bar.update(chunk.rows_read + len(chunk.totals))
                    finally:
                        # a failed load leaves a chunk being parsed: let it end quietly
                        await asyncio.wait([pending])
                        if not pending.cancelled():
                            pending.exception()
                    duplicates_in_file = await stage.in_file_duplicates()
            finally:
                bar.close()
            errors = _merge_errors(planner.errors, _duplicate_errors(duplicates_in_file))
            rejected = len({error.row for error in errors})
            base = _report_base(
                ImportKind.TRANSACTIONS, name, info, _source_of(reader), planner.rows_read, errors
            )
            base["totals_rows"] = tuple(planner.totals)
            if rejected and not skip_invalid:
                # nothing of this file stays: not its sales, not the clients it created
                await uow.session.rollback()
                report = ImportReport(**base, status=BatchStatus.REJECTED, rows_rejected=rejected)
                return await _finish(uow, report)
            report = ImportReport(
                **base,
                status=_final_status(rejected, stage.rows),
                batch_id=batch.id,
                rows_imported=stage.inserted,
                rows_duplicate=stage.rows - stage.inserted - len(duplicates_in_file),
                rows_rejected=rejected,
                clients_created=len(created),
            )
            _fill_batch(batch, report)
            if created:
                await clients_changed(uow)  # the search index must see the new clients
            await uow.commit()
    return report


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
        "header_row": table.header_row,
    }


def _source_of(reader: TableReader) -> dict[str, Any]:
    return {
        "encoding": reader.encoding,
        "separator": reader.separator,
        "columns": tuple(reader.columns.items()),
        "header_row": reader.header_row,
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


async def _add_batch(uow: UnitOfWork, report: ImportReport) -> ImportBatch:
    batch = ImportBatch(kind=report.kind, file_name=report.file_name[:300])
    _fill_batch(batch, report)
    uow.session.add(batch)
    await uow.flush()
    return batch


def _fill_batch(batch: ImportBatch, report: ImportReport) -> None:
    batch.file_hash = report.file_hash
    batch.status = report.status
    batch.rows_total = report.rows_read
    # the batch has one "imported" count: created and updated clients both changed the base
    batch.rows_imported = report.rows_imported + report.rows_updated
    batch.rows_duplicate = report.rows_duplicate
    batch.rows_rejected = report.rows_rejected
    batch.errors = [error.as_dict() for error in report.errors[:MAX_STORED_ERRORS]]


async def _record_batch(uow: UnitOfWork, report: ImportReport) -> int:
    return (await _add_batch(uow, report)).id


async def _finish(uow: UnitOfWork, report: ImportReport) -> ImportReport:
    """Record the run and commit: the last step of every outcome."""
    batch_id = await _record_batch(uow, report)
    if report.kind == ImportKind.CLIENTS and report.rows_imported + report.rows_updated:
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
        known_client(cid, row["external_id"], row["tax_id"], row["name_normalized"])
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
class _PlannedChunk:
    """One chunk's rows for the staging table, column by column, and its new clients."""

    rows: list[int]
    client_ids: np.ndarray  # negative: a client to create (see new_clients)
    days: list[int]
    cents: list[int]
    orders: list[str | None]
    categories: list[str | None]
    currencies: list[str]
    suffixes: list[str]
    hashes: list[int]  # key_hashes(suffixes): what the unique index compares
    new_clients: dict[int, dict[str, Any]]  # first seen in this chunk
    rows_read: int
    totals: tuple[int, ...]

    def records(self, real_ids: Mapping[int, int]) -> list[Record]:
        client_ids = self.client_ids
        planned = client_ids < 0
        if planned.any():
            client_ids = client_ids.copy()
            client_ids[planned] = [real_ids[cid] for cid in client_ids[planned].tolist()]
        columns = (self.orders, self.categories, self.currencies, self.suffixes, self.hashes)
        return list(
            zip(self.rows, client_ids.tolist(), self.days, self.cents, *columns, strict=True)
        )


class _TransactionPlanner:
    """Turns validated chunks into staging records: the client of each row and its key.

    Clients are looked up once per distinct client cell across the whole file; with
    `create_clients` an unknown client gets a provisional (negative) id, the same for
    all its rows, and is created only if the import goes ahead.
    """

    def __init__(self, index: ClientIndex, create_clients: bool) -> None:
        self.index = index
        self.create_clients = create_clients
        self.new_clients: dict[int, dict[str, Any]] = {}
        self.errors: list[RowError] = []
        self.totals: list[int] = []
        self.rows_read = 0
        self._client_of: dict[str, int | None] = {}
        self._failure_of: dict[str, ErrorCode] = {}

    def plan(self, parsed: ParsedTransactions) -> _PlannedChunk:
        self.rows_read += parsed.rows_read
        self.totals.extend(parsed.totals)
        self.errors.extend(parsed.errors)
        known_new = set(self.new_clients)
        frame = parsed.frame
        identity = frame["client_name_normalized"]
        for column in ("client_external_id", "client_tax_id"):
            # most exports have only a name column; skip concatenating a million empty strings
            if column in parsed.columns:
                identity = frame[column] + "\x1f" + identity
        self._resolve(frame, identity)
        client_ids = identity.map(self._client_of)
        unresolved = client_ids.isna()
        if unresolved.any():
            for row, key, client in zip(
                frame.loc[unresolved, "row"].tolist(),
                identity[unresolved].tolist(),
                frame.loc[unresolved, "client"].tolist(),
                strict=True,
            ):
                self.errors.append(
                    RowError(int(row), "client", self._failure_of[key], client or None)
                )
            frame = frame[~unresolved]
            client_ids = client_ids[~unresolved]
        days = frame["date"].to_numpy().astype("datetime64[D]").astype("int64")
        orders = frame["order_number"]
        categories = frame["category"]
        suffixes = key_suffixes(frame)
        return _PlannedChunk(
            rows=frame["row"].tolist(),
            client_ids=client_ids.to_numpy(dtype="int64"),
            days=days.tolist(),
            cents=frame["amount_cents"].tolist(),
            orders=orders.where(orders != "", None).tolist(),
            categories=categories.where(categories != "", None).tolist(),
            currencies=frame["currency"].tolist(),
            suffixes=suffixes.tolist(),
            hashes=key_hashes(suffixes).tolist(),
            new_clients={k: v for k, v in self.new_clients.items() if k not in known_new},
            rows_read=parsed.rows_read,
            totals=parsed.totals,
        )

    def _resolve(self, frame: pd.DataFrame, identity: pd.Series) -> None:
        first = ~identity.duplicated() & ~identity.isin(self._client_of.keys())
        columns = ["client_external_id", "client_tax_id", "client_name_normalized", "client"]
        for key, (external_id, tax_id, name_normalized, name) in zip(
            identity[first].tolist(), frame.loc[first, columns].itertuples(index=False), strict=True
        ):
            match = self.index.find(external_id or None, tax_id or None, name_normalized)
            if match.ambiguous:
                self._client_of[key], self._failure_of[key] = None, ErrorCode.AMBIGUOUS_CLIENT
            elif match.client_id is not None:
                self._client_of[key] = match.client_id
            elif self.create_clients and name_normalized:
                provisional = -(len(self.new_clients) + 1)
                self.new_clients[provisional] = {
                    "name": name,
                    "name_normalized": name_normalized,
                    "external_id": external_id or None,
                    "tax_id": tax_id or None,
                }
                self.index.remember(
                    KnownClient(provisional, external_id or None, tax_id or None, name_normalized)
                )
                self._client_of[key] = provisional
            else:
                self._client_of[key], self._failure_of[key] = None, ErrorCode.UNKNOWN_CLIENT


def key_suffixes(frame: pd.DataFrame) -> pd.Series:
    """The dedup key after the client id: `|order|category`, or the row's content.

    Without an order number the date, amount and category stand in, which makes
    re-importing an export without document numbers idempotent too, at the price of
    treating two identical rows as one sale.
    """
    result = "|" + frame["order_number"] + "|" + frame["category"]
    no_order = (frame["order_number"] == "").to_numpy()
    if no_order.any():
        subset = frame[no_order]
        codes, days = pd.factorize(subset["date"])
        day_texts = np.asarray(pd.DatetimeIndex(days).strftime("%Y-%m-%d"), dtype=object)[codes]
        amounts = [str(cents_to_decimal(cents)) for cents in subset["amount_cents"].tolist()]
        result[no_order] = (
            "|@"
            + day_texts
            + "|"
            + np.asarray(amounts, dtype=object)
            + "|"
            + (subset["category"].to_numpy(dtype=object))
        )
    return result


def key_hashes(suffixes: pd.Series) -> np.ndarray:
    """A 64-bit hash of each key suffix: `transactions.dedup_hash`, unique per client.

    The unique index compares 16 bytes (client id, hash) instead of a 30-60 character
    text key, which is what made loading a million sales slow. The hash is pandas'
    SipHash-2-4 of the text with its fixed key, the same in every process;
    `tests/unit/services/test_import_keys.py` pins known values, since a change of it would
    make re-imports add what is already there. Per client, a collision of two different
    sales is about one in 10^19 per pair.
    """
    values = np.asarray(suffixes.to_numpy(dtype=object), dtype=object)
    return pd.util.hash_array(values, categorize=False).view(np.int64)


def dedup_keys(frame: pd.DataFrame) -> pd.Series:
    """`client_id|order|category` (or the content key): what `transactions.dedup_key` holds."""
    return frame["client_id"].astype(str) + key_suffixes(frame)


def _duplicate_errors(duplicates: Sequence[InFileDuplicate]) -> list[RowError]:
    errors = []
    for duplicate in duplicates:
        detail = f"same as row {duplicate.first_row}"
        if duplicate.order_number:
            errors.append(
                RowError(
                    duplicate.row,
                    "order_number",
                    ErrorCode.DUPLICATE_IN_FILE,
                    duplicate.order_number,
                    detail,
                )
            )
        else:
            errors.append(RowError(duplicate.row, "row", ErrorCode.DUPLICATE_IN_FILE, None, detail))
    return errors


async def _load_client_keys(connection: AsyncConnection) -> list[KnownClient]:
    clients = _clients_table()
    result = await connection.execute(
        select(clients.c.id, clients.c.external_id, clients.c.tax_id, clients.c.name_normalized)
    )
    return [known_client(*row) for row in result]


async def _create_planned_clients(
    connection: AsyncConnection, planned: Mapping[int, Mapping[str, Any]]
) -> dict[int, int]:
    """Create the clients a sales file introduced; provisional id -> real id."""
    new = [
        _NewClient(
            provisional,
            {name: None for name in CLIENT_FIELDS}
            | {"is_vip": False, "tags": []}
            | dict(planned[provisional]),
            (),
        )
        for provisional in sorted(planned, reverse=True)
    ]
    return await _insert_clients(connection, new)


__all__ = [
    "BatchStatus",
    "ImportKind",
    "ImportReport",
    "dedup_keys",
    "import_clients",
    "import_transactions",
    "key_hashes",
    "key_suffixes",
]
