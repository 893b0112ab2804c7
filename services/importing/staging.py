"""Loading sales rows in bulk: a staging table, then one `INSERT ... SELECT`.

PostgreSQL gets the rows through `COPY` (asyncpg's `copy_records_to_table`, on the
connection of the unit of work, so inside its transaction); SQLite through one
`executemany` per chunk. Checks that need the whole file (a row repeated within it)
run in SQL on the staging table, and the final insert is idempotent:
`ON CONFLICT (dedup_key) DO NOTHING` skips what an earlier import already added.

The staging table lives in the session's temporary schema and is dropped at the
end (PostgreSQL: at commit or rollback) whatever happens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

STAGE = "import_stage"
CLIENT_MAP = "import_client_map"
# sheet_row: the spreadsheet row; client_id: negative for clients still to be created;
# day: days since 1970-01-01; key_suffix: the dedup key without the client id.
STAGE_COLUMNS = (
    "sheet_row",
    "client_id",
    "day",
    "cents",
    "order_number",
    "category",
    "currency",
    "key_suffix",
)
Record = tuple[int, int, int, int, str | None, str | None, str, str]

SQLITE_CACHE_KIB = 256 * 1024
LOOKUP_CHUNK = 5_000

_PG_STAGE = f"""
CREATE TEMPORARY TABLE {STAGE} (
    sheet_row integer NOT NULL,
    client_id bigint NOT NULL,
    day integer NOT NULL,
    cents bigint NOT NULL,
    order_number text,
    category text,
    currency text NOT NULL,
    key_suffix text NOT NULL
) ON COMMIT DROP
"""
_SQLITE_STAGE = f"""
CREATE TEMPORARY TABLE {STAGE} (
    sheet_row INTEGER NOT NULL,
    client_id INTEGER NOT NULL,
    day INTEGER NOT NULL,
    cents INTEGER NOT NULL,
    order_number TEXT,
    category TEXT,
    currency TEXT NOT NULL,
    key_suffix TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class InFileDuplicate:
    row: int
    first_row: int
    order_number: str | None


class Staging:
    """The staging table of one import, on the unit of work's connection."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.rows = 0

    async def write(self, records: Sequence[Record]) -> None:
        if not records:
            return
        if self.postgres:
            driver = await _asyncpg_connection(self.connection)
            await driver.copy_records_to_table(STAGE, records=records, columns=STAGE_COLUMNS)
        else:
            marks = ", ".join("?" * len(STAGE_COLUMNS))
            await self.connection.exec_driver_sql(
                f"INSERT INTO {STAGE} VALUES ({marks})", list(records)
            )
        self.rows += len(records)

    async def in_file_duplicates(self) -> list[InFileDuplicate]:
        """Rows whose client and key repeat an earlier row of the same file."""
        if not self.rows:
            return []
        result = await self.connection.exec_driver_sql(
            f"SELECT s.sheet_row, f.first_row, s.order_number FROM {STAGE} s JOIN ("
            f" SELECT client_id, key_suffix, MIN(sheet_row) AS first_row FROM {STAGE}"
            " GROUP BY client_id, key_suffix HAVING COUNT(*) > 1"
            ") f ON s.client_id = f.client_id AND s.key_suffix = f.key_suffix"
            " WHERE s.sheet_row <> f.first_row ORDER BY s.sheet_row"
        )
        rows: list[Any] = list(result)
        return [InFileDuplicate(int(row[0]), int(row[1]), row[2]) for row in rows]

    async def discard_rows(self, rows: Sequence[int]) -> None:
        statement = text(f"DELETE FROM {STAGE} WHERE sheet_row IN :rows").bindparams(
            bindparam("rows", expanding=True)
        )
        for start in range(0, len(rows), LOOKUP_CHUNK):
            chunk = [int(row) for row in rows[start : start + LOOKUP_CHUNK]]
            await self.connection.execute(statement, {"rows": chunk})
        self.rows -= len(rows)

    async def insert_transactions(self, batch_id: int, real_ids: Mapping[int, int]) -> int:
        """Move the staged rows into `transactions`; returns how many were new."""
        if not self.rows:
            return 0
        client = "s.client_id"
        join = ""
        if real_ids:
            await self._write_client_map(real_ids)
            client = "COALESCE(m.real_id, s.client_id)"
            join = f" LEFT JOIN {CLIENT_MAP} m ON m.provisional = s.client_id"
        if self.postgres:
            day, amount = "DATE '1970-01-01' + s.day", "s.cents::numeric / 100"
            order = ""
        else:
            # dates as ISO text and amounts as REAL: how SQLAlchemy stores them on SQLite;
            # grouped by client the inserts touch few pages of both indexes at a time
            day, amount = "date(s.day * 86400, 'unixepoch')", "s.cents / 100.0"
            order = " ORDER BY s.client_id, s.day"
        sql = (
            "INSERT INTO transactions (client_id, date, amount, order_number, category,"
            " currency, dedup_key, import_batch_id)"
            f" SELECT {client}, {day}, {amount}, s.order_number, s.category, s.currency,"
            f" CAST({client} AS TEXT) || s.key_suffix, {int(batch_id)}"
            f" FROM {STAGE} s{join} WHERE 1 = 1{order}"
            " ON CONFLICT (dedup_key) DO NOTHING"
        )
        async with _sqlite_cache(self.connection):
            result = await self.connection.exec_driver_sql(sql)
        return int(result.rowcount)

    async def _write_client_map(self, real_ids: Mapping[int, int]) -> None:
        pairs = [(int(provisional), int(real)) for provisional, real in real_ids.items()]
        if self.postgres:
            await self.connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {CLIENT_MAP} (provisional bigint PRIMARY KEY,"
                " real_id bigint NOT NULL) ON COMMIT DROP"
            )
            driver = await _asyncpg_connection(self.connection)
            await driver.copy_records_to_table(
                CLIENT_MAP, records=pairs, columns=("provisional", "real_id")
            )
            return
        await self.connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE {CLIENT_MAP} (provisional INTEGER PRIMARY KEY,"
            " real_id INTEGER NOT NULL)"
        )
        await self.connection.exec_driver_sql(f"INSERT INTO {CLIENT_MAP} VALUES (?, ?)", pairs)


@asynccontextmanager
async def staging(connection: AsyncConnection) -> AsyncIterator[Staging]:
    """A fresh staging table for one import, dropped when the block ends."""
    stage = Staging(connection)
    if stage.postgres:
        await connection.exec_driver_sql(_PG_STAGE)
        # ON COMMIT DROP removes both tables; a rollback never created them
        yield stage
        return
    await _drop_sqlite_tables(connection)
    await connection.exec_driver_sql(_SQLITE_STAGE)
    try:
        yield stage
    finally:
        # a temporary table outlives the transaction on SQLite: the pooled connection
        # would carry it into the next import
        await _drop_sqlite_tables(connection)


async def _drop_sqlite_tables(connection: AsyncConnection) -> None:
    if connection.closed or connection.invalidated:
        return
    for table in (STAGE, CLIENT_MAP):
        await connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{table}")


async def _asyncpg_connection(connection: AsyncConnection) -> Any:
    """The asyncpg connection under SQLAlchemy's, in the same transaction."""
    raw = await connection.get_raw_connection()
    return raw.driver_connection


@asynccontextmanager
async def _sqlite_cache(connection: AsyncConnection) -> AsyncIterator[None]:
    """A big page cache for one bulk step: the default 2 MB thrashes on a million rows."""
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = (await connection.exec_driver_sql("PRAGMA cache_size")).scalar()
    await connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        await connection.exec_driver_sql(f"PRAGMA cache_size={int(previous or -2000)}")
