"""Loading sales rows in bulk: through a staging table, then `INSERT ... SELECT`.

Each chunk of parsed rows goes into a staging table (PostgreSQL: `COPY` through
asyncpg's `copy_records_to_table` on the unit of work's own connection, so inside
its transaction; SQLite: one `executemany`), and from there into `transactions` in
one statement, `ON CONFLICT (client_id, dedup_hash) DO NOTHING`, so what an earlier
import added is skipped. The database inserts a chunk while the next one is parsed.
The keys of every row are kept for the checks that need the whole file (a row
repeated within it); if the file turns out to be rejected the caller rolls back.

The staging tables live in the session's temporary schema and are dropped at the
end (PostgreSQL: at commit or rollback) whatever happens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

CHUNK = "import_chunk"  # the rows of the chunk being loaded
STAGE = "import_stage"  # the keys of every row loaded so far
# sheet_row: the spreadsheet row; day: days since 1970-01-01;
# key_suffix: the dedup key without the client id in front.
STAGE_COLUMNS = (
    "sheet_row",
    "client_id",
    "day",
    "cents",
    "order_number",
    "category",
    "currency",
    "key_suffix",
    "key_hash",
)
Record = tuple[int, int, int, int, str | None, str | None, str, str, int]

SQLITE_CACHE_KIB = 256 * 1024
LOOKUP_CHUNK = 5_000

_CHUNK_COLUMNS_SQL = {
    "postgresql": (
        "sheet_row integer NOT NULL, client_id bigint NOT NULL, day integer NOT NULL,"
        " cents bigint NOT NULL, order_number text, category text, currency text NOT NULL,"
        " key_suffix text NOT NULL, key_hash bigint NOT NULL"
    ),
    "sqlite": (
        "sheet_row INTEGER NOT NULL, client_id INTEGER NOT NULL, day INTEGER NOT NULL,"
        " cents INTEGER NOT NULL, order_number TEXT, category TEXT, currency TEXT NOT NULL,"
        " key_suffix TEXT NOT NULL, key_hash INTEGER NOT NULL"
    ),
}
_STAGE_COLUMNS_SQL = {
    "postgresql": (
        "sheet_row integer NOT NULL, client_id bigint NOT NULL, key_suffix text NOT NULL,"
        " order_number text"
    ),
    "sqlite": (
        "sheet_row INTEGER NOT NULL, client_id INTEGER NOT NULL, key_suffix TEXT NOT NULL,"
        " order_number TEXT"
    ),
}


@dataclass(frozen=True)
class InFileDuplicate:
    row: int
    first_row: int
    order_number: str | None


class Staging:
    """The staging tables of one import, on the unit of work's connection."""

    def __init__(self, connection: AsyncConnection, batch_id: int) -> None:
        self.connection = connection
        self.batch_id = int(batch_id)
        self.postgres = connection.dialect.name == "postgresql"
        self.rows = 0  # rows staged
        self.inserted = 0  # of which new in `transactions`
        if self.postgres:
            day, amount = "DATE '1970-01-01' + c.day", "c.cents::numeric / 100"
        else:
            # dates as ISO text and amounts as REAL: how SQLAlchemy stores them on SQLite
            day, amount = "date(c.day * 86400, 'unixepoch')", "c.cents / 100.0"
        # grouped by client the inserts touch few pages of the indexes (and of `clients`,
        # for the foreign key check) at a time: a quarter less work for either database
        order = " ORDER BY c.client_id, c.day"
        self._insert = (
            "INSERT INTO transactions (client_id, date, amount, order_number, category,"
            " currency, dedup_key, dedup_hash, import_batch_id)"
            f" SELECT c.client_id, {day}, {amount}, c.order_number, c.category, c.currency,"
            f" CAST(c.client_id AS TEXT) || c.key_suffix, c.key_hash, {self.batch_id}"
            f" FROM {CHUNK} c WHERE 1 = 1{order}"
            " ON CONFLICT (client_id, dedup_hash) DO NOTHING"
        )
        self._keep_keys = (
            f"INSERT INTO {STAGE} (sheet_row, client_id, key_suffix, order_number)"
            f" SELECT sheet_row, client_id, key_suffix, order_number FROM {CHUNK}"
        )
        self._clear = f"TRUNCATE {CHUNK}" if self.postgres else f"DELETE FROM {CHUNK}"

    async def load(self, records: Sequence[Record]) -> int:
        """Stage a chunk and insert its new rows into `transactions`; returns how many."""
        if not records:
            return 0
        if self.postgres:
            driver = await _asyncpg_connection(self.connection)
            await driver.copy_records_to_table(CHUNK, records=records, columns=STAGE_COLUMNS)
        else:
            marks = ", ".join("?" * len(STAGE_COLUMNS))
            await self.connection.exec_driver_sql(
                f"INSERT INTO {CHUNK} VALUES ({marks})", list(records)
            )
        async with _sqlite_cache(self.connection):
            inserted = int((await self.connection.exec_driver_sql(self._insert)).rowcount)
        await self.connection.exec_driver_sql(self._keep_keys)
        await self.connection.exec_driver_sql(self._clear)
        self.rows += len(records)
        self.inserted += inserted
        return inserted

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


@asynccontextmanager
async def staging(connection: AsyncConnection, batch_id: int) -> AsyncIterator[Staging]:
    """Fresh staging tables for one import into batch `batch_id`, dropped at the end."""
    stage = Staging(connection, batch_id)
    dialect = "postgresql" if stage.postgres else "sqlite"
    if stage.postgres:
        for table, columns in ((CHUNK, _CHUNK_COLUMNS_SQL), (STAGE, _STAGE_COLUMNS_SQL)):
            await connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {table} ({columns[dialect]}) ON COMMIT DROP"
            )
        # ON COMMIT DROP removes the tables; a rollback never created them
        yield stage
        return
    await _drop_sqlite_tables(connection)
    for table, columns in ((CHUNK, _CHUNK_COLUMNS_SQL), (STAGE, _STAGE_COLUMNS_SQL)):
        await connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {table} ({columns[dialect]})")
    try:
        yield stage
    finally:
        # a temporary table outlives the transaction on SQLite: the pooled connection
        # would carry it into the next import
        await _drop_sqlite_tables(connection)


async def _drop_sqlite_tables(connection: AsyncConnection) -> None:
    if connection.closed or connection.invalidated:
        return
    for table in (CHUNK, STAGE):
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
