"""The databases' own fast paths for bulk reads and writes, under SQLAlchemy's transaction.

PostgreSQL: COPY through asyncpg — `COPY (query) TO STDOUT (FORMAT binary)` parsed by
numpy without a Python object per value, and `copy_records_to_table` to write.
SQLite: one cursor read in chunks into numpy, and one `executemany`. Both are reached
through the connection of the unit of work (`get_raw_connection().driver_connection`),
so they run in its transaction and commit or roll back with it.

`read_arrays` takes a Core `select()` whose columns are all non-NULL numbers (coalesce
NULLs to a sentinel in SQL): fixed-width rows are what makes the binary COPY free to
parse. `epoch_days` and `epoch_micros` turn dates and timestamps into such numbers on
either backend.
"""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    Integer,
    Numeric,
    Select,
    SmallInteger,
    Table,
    func,
    select,
    text,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeEngine

# Rows fetched from SQLite per round trip to its thread.
SQLITE_FETCH_ROWS = 200_000
# Bytes of binary COPY collected before they are parsed into arrays: bounds the
# buffer whatever the size of the result.
COPY_PARSE_BYTES = 32 * 1024 * 1024
# Rows per executemany on SQLite (one statement; chunks keep the tuples list small).
SQLITE_WRITE_ROWS = 100_000

_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_COPY_HEADER = len(_COPY_SIGNATURE) + 8
_COPY_TRAILER = b"\xff\xff"
_SQL_TYPES: dict[str, TypeEngine[Any]] = {
    "i2": SmallInteger(),
    "i4": Integer(),
    "i8": BigInteger(),
    "f8": Float(precision=53),
    "b1": Boolean(),
}


class epoch_days(FunctionElement[int]):
    """Days since 1970-01-01 of a DATE column, as an integer."""

    type = Integer()
    inherit_cache = True


class epoch_micros(FunctionElement[int]):
    """Microseconds since 1970-01-01 UTC of a timestamp column (stored as UTC on SQLite)."""

    type = BigInteger()
    inherit_cache = True


class cents(FunctionElement[int]):
    """A NUMERIC money column as whole cents (rounded half away from zero)."""

    type = BigInteger()
    inherit_cache = True


@compiles(cents, "postgresql")
def _cents_pg(element: cents, compiler: SQLCompiler, **kw: Any) -> str:
    # the cast to an integer rounds; round() first would cost another NUMERIC operation
    return f"CAST({compiler.process(element.clauses, **kw)} * 100 AS BIGINT)"


@compiles(cents, "sqlite")
def _cents_sqlite(element: cents, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps NUMERIC as REAL and its CAST truncates: round first
    return f"CAST(round({compiler.process(element.clauses, **kw)} * 100) AS INTEGER)"


@compiles(epoch_days, "postgresql")
def _epoch_days_pg(element: epoch_days, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


@compiles(epoch_days, "sqlite")
def _epoch_days_sqlite(element: epoch_days, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(epoch_micros, "postgresql")
def _epoch_micros_pg(element: epoch_micros, compiler: SQLCompiler, **kw: Any) -> str:
    return f"floor(extract(epoch FROM {compiler.process(element.clauses, **kw)}) * 1000000)"


@compiles(epoch_micros, "sqlite")
def _epoch_micros_sqlite(element: epoch_micros, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff" (the padding reads a shorter or
    # missing fraction right too). The seconds go through strftime without the
    # fraction: SQLite keeps milliseconds and would round .999999 up to the next second.
    value = compiler.process(element.clauses, **kw)
    return (
        f"(CAST(strftime('%s', substr({value}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({value} || '000000', 21, 6) AS INTEGER))"
    )


async def driver_connection(connection: AsyncConnection) -> Any:
    """The asyncpg / aiosqlite connection under `connection`, inside its transaction.

    A statement through SQLAlchemy first makes sure its transaction has begun, so
    what the driver does next belongs to the unit of work.
    """
    await connection.execute(text("SELECT 1"))
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def is_postgres(connection: AsyncConnection) -> bool:
    return connection.dialect.name == "postgresql"


def render(connection: AsyncConnection, statement: Any) -> str:
    """SQL text of a Core statement with its values inlined (for COPY and raw cursors)."""
    return str(
        statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    )


# --- reading ---------------------------------------------------------------------------


async def read_arrays(
    connection: AsyncConnection, statement: Select[Any], dtypes: Mapping[str, str]
) -> dict[str, np.ndarray]:
    """Run `statement` and return one numpy array per column (native byte order).

    `dtypes` maps each selected column's name, in order, to ``i2``, ``i4``, ``i8``,
    ``f8``, ``b1`` (non-NULL numbers), ``date`` (a DATE, as int64 days since
    1970-01-01), ``date?`` (the same, NULL as `NULL_DAY`) or ``timestamp`` (an aware
    timestamp, as int64 microseconds since 1970-01-01 UTC). Raises ``ValueError`` if
    a NULL arrives where none may.
    """
    names = list(dtypes)
    selected = [c.name for c in statement.selected_columns]
    if selected != names:
        raise ValueError(f"columns {selected} do not match the dtypes {names}")
    inner = statement.subquery("q")
    postgres = is_postgres(connection)
    columns = [_wire_column(inner.c[n], dtypes[n], postgres=postgres).label(n) for n in names]
    wire = {n: _WIRE[dtypes[n]] for n in names}
    driver = await driver_connection(connection)
    sql = render(connection, select(*columns))
    if postgres:
        data = await _copy_binary(driver, sql, names, wire)
    else:
        data = await _sqlite_arrays(driver, sql, names, wire)
    return {n: _from_wire(data[n], dtypes[n], postgres=postgres) for n in names}


# What each requested kind travels as: PostgreSQL's binary DATE is int4 days and its
# TIMESTAMPTZ int8 microseconds, both counted from 2000-01-01.
_WIRE = {"i2": "i2", "i4": "i4", "i8": "i8", "f8": "f8", "b1": "b1"} | {
    "date": "i4",
    "date?": "i4",
    "timestamp": "i8",
}
_PG_EPOCH_DAYS = 10_957
_PG_EPOCH_MICROS = _PG_EPOCH_DAYS * 86_400 * 1_000_000
_NO_DATE = date(1, 1, 1)  # stands for NULL on the wire (no sale is that old)
_NO_DATE_DAYS = (_NO_DATE - date(1970, 1, 1)).days
NULL_DAY = -(2**31)
"""`date?` columns read as this many days when NULL."""


def _wire_column(column: Any, kind: str, *, postgres: bool) -> Any:
    if kind in ("date", "date?"):
        value = func.coalesce(column, _NO_DATE) if kind == "date?" else column
        return sql_cast(value, Date()) if postgres else epoch_days(value)
    if kind == "timestamp":
        return column if postgres else epoch_micros(column)
    return sql_cast(column, _SQL_TYPES[kind]) if postgres else column


def _from_wire(values: np.ndarray, kind: str, *, postgres: bool) -> np.ndarray:
    if kind in ("date", "date?"):
        days = values.astype(np.int64) + (_PG_EPOCH_DAYS if postgres else 0)
        if kind == "date?":
            days[days == _NO_DATE_DAYS] = NULL_DAY
        return days
    if kind == "timestamp" and postgres:
        return values.astype(np.int64) + _PG_EPOCH_MICROS
    return values


def _row_dtype(names: Sequence[str], dtypes: Mapping[str, str]) -> np.dtype[Any]:
    fields: list[tuple[str, str]] = [("_n", ">i2")]
    for index, name in enumerate(names):
        fields.append((f"_l{index}", ">i4"))
        fields.append((name, ">" + dtypes[name] if dtypes[name] != "b1" else "?"))
    return np.dtype(fields)


async def _copy_binary(
    driver: Any, sql: str, names: Sequence[str], dtypes: Mapping[str, str]
) -> dict[str, np.ndarray]:
    row = _row_dtype(names, dtypes)
    widths = [np.dtype(dtypes[n] if dtypes[n] != "b1" else "?").itemsize for n in names]
    parts: dict[str, list[np.ndarray]] = {n: [] for n in names}
    pending = bytearray()
    state = {"header": False}

    def parse(final: bool) -> None:
        start = 0
        if not state["header"]:
            if len(pending) < _COPY_HEADER:
                if final:
                    raise ValueError("truncated COPY stream")
                return
            if bytes(pending[: len(_COPY_SIGNATURE)]) != _COPY_SIGNATURE:
                raise ValueError("not a binary COPY stream")
            extension = int.from_bytes(pending[15:19], "big")
            start = _COPY_HEADER + extension
            state["header"] = True
        body = len(pending) - start - (len(_COPY_TRAILER) if final else 0)
        count = body // row.itemsize
        if final and body != count * row.itemsize:
            raise ValueError("a NULL or a variable-width value in a fixed-width COPY")
        if count:
            block = np.frombuffer(pending, dtype=row, count=count, offset=start)
            if (block["_n"] != len(names)).any() or any(
                (block[f"_l{i}"] != width).any() for i, width in enumerate(widths)
            ):
                raise ValueError("a NULL or a variable-width value in a fixed-width COPY")
            for name in names:
                parts[name].append(block[name].astype(block[name].dtype.newbyteorder("=")))
            del block
        del pending[: start + count * row.itemsize]

    async def sink(chunk: bytes) -> None:
        pending.extend(chunk)
        if len(pending) >= COPY_PARSE_BYTES:
            parse(final=False)

    await driver.copy_from_query(sql, output=sink, format="binary")
    parse(final=True)
    if bytes(pending) != _COPY_TRAILER and pending:
        raise ValueError("unexpected bytes after the COPY rows")
    return {n: _concat(parts[n], dtypes[n]) for n in names}


def _concat(parts: list[np.ndarray], dtype: str) -> np.ndarray:
    native = np.dtype(dtype if dtype != "b1" else "?")
    if not parts:
        return np.zeros(0, dtype=native)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


async def _sqlite_arrays(
    driver: Any, sql: str, names: Sequence[str], dtypes: Mapping[str, str]
) -> dict[str, np.ndarray]:
    row = np.dtype([(n, dtypes[n] if dtypes[n] != "b1" else "?") for n in names])
    blocks: list[np.ndarray] = []
    cursor = await driver.execute(sql)
    try:
        while rows := await cursor.fetchmany(SQLITE_FETCH_ROWS):
            try:
                blocks.append(np.array(rows, dtype=row))
            except (TypeError, ValueError) as error:
                raise ValueError(f"a NULL or a non-number in a numeric read: {error}") from error
    finally:
        await cursor.close()
    table = np.concatenate(blocks) if blocks else np.zeros(0, dtype=row)
    return {n: np.ascontiguousarray(table[n]) for n in names}


# --- writing ---------------------------------------------------------------------------


def driver_values(
    values: pd.Series | np.ndarray | Sequence[Any], column_type: Any, *, postgres: bool
) -> list[Any]:
    """Python values for one column as the driver takes them, missing values as None.

    Dates may come as datetime64, date objects or NaT; money as floats or Decimals
    (rounded to the column's scale); JSON as Python lists/dicts or already-encoded text.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(column_type, Date):
        days = pd.to_datetime(series).to_numpy().astype("datetime64[D]")
        if postgres:
            return cast(list[Any], days.tolist())
        text_days = np.datetime_as_string(days).astype(object)
        text_days[np.isnat(days)] = None
        return cast(list[Any], text_days.tolist())
    if isinstance(column_type, Boolean):
        return cast(list[Any], series.astype(bool).tolist())
    if isinstance(column_type, Numeric | Float) and not isinstance(column_type, JSON):
        floats = pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64)
        if isinstance(column_type, Numeric) and not isinstance(column_type, Float):
            floats = np.round(floats, column_type.scale or 0)
        out = floats.astype(object)
        out[np.isnan(floats)] = None
        return cast(list[Any], out.tolist())
    if isinstance(column_type, Integer):
        if series.hasnans:
            return [None if _missing(v) else int(v) for v in series.tolist()]
        return cast(list[Any], series.astype(np.int64).tolist())
    if isinstance(column_type, JSON):
        encoded = series.to_numpy(dtype=object)
        if pd.api.types.infer_dtype(encoded, skipna=False) == "string":
            return cast(list[Any], encoded.tolist())
        return [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in encoded]
    return cast(list[Any], series.to_numpy(dtype=object, na_value=None).tolist())


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _tuples(columns: Sequence[list[Any]]) -> list[tuple[Any, ...]]:
    """Rows from columns. The cyclic garbage collector is paused meanwhile: a million new
    tuples would otherwise trigger full collections over everything the process holds
    (measured: 0.2 s of 0.25 s for 50,000 rows of 24 columns), and tuples of plain
    values never form cycles."""
    if not columns:
        return []
    paused = gc.isenabled()
    gc.disable()
    try:
        return list(zip(*columns, strict=True))
    finally:
        if paused:
            gc.enable()


def frame_rows(frame: pd.DataFrame, table: Table, *, postgres: bool) -> list[tuple[Any, ...]]:
    """Rows of `frame` (its columns named like `table`'s) as driver-ready tuples."""
    return _tuples(
        [
            driver_values(frame[name], table.c[name].type, postgres=postgres)
            for name in frame.columns
        ]
    )


def _cents(values: pd.Series) -> list[int | None]:
    """Money as integer cents: Decimals exactly, floats (the analytics' output) rounded."""
    if values.dtype == object and any(isinstance(v, Decimal) for v in values):
        return [
            None if _missing(v) else int((Decimal(v) * 100).to_integral_value(ROUND_HALF_EVEN))
            for v in values
        ]
    cents = np.rint(pd.to_numeric(values).to_numpy(dtype=np.float64) * 100)
    out = cents.astype(object)
    finite = ~np.isnan(cents)
    out[finite] = cents[finite].astype(np.int64).tolist()
    out[~finite] = None
    return cast(list[int | None], out.tolist())


def _is_money(column_type: Any) -> bool:
    return isinstance(column_type, Numeric) and not isinstance(column_type, Float)


@dataclass(frozen=True)
class Scratch:
    """A temporary copy of a table's columns to bulk-load rows into before one set-wise step.

    On PostgreSQL money travels as integer cents (asyncpg encodes a float as NUMERIC
    through its decimal text, several times slower than the rest of a row) and is
    turned back into NUMERIC exactly by `expression`.
    """

    name: str
    table: Table
    cents: frozenset[str]

    def rows(self, frame: pd.DataFrame, *, postgres: bool) -> list[tuple[Any, ...]]:
        columns = []
        for name in frame.columns:
            if name in self.cents:
                columns.append(_cents(frame[name]))
            else:
                columns.append(
                    driver_values(frame[name], self.table.c[name].type, postgres=postgres)
                )
        return _tuples(columns)

    @classmethod
    def of(cls, connection: AsyncConnection, name: str, table: Table) -> Scratch:
        """The description of a scratch table `create_scratch` made for `table`."""
        if not is_postgres(connection):
            return cls(name, table, frozenset())
        return cls(name, table, frozenset(c.name for c in table.columns if _is_money(c.type)))

    def expression(self, column: str, alias: str | None = None) -> str:
        """The SQL that reads `column` back in the table's own type."""
        name = f"{alias}.{column}" if alias else column
        return f"CAST({name} AS NUMERIC) / 100" if column in self.cents else name


async def create_scratch(connection: AsyncConnection, name: str, table: Table) -> Scratch:
    """An empty temporary table with `table`'s columns (see `create_scratch_columns`)."""
    scratch = Scratch.of(connection, name, table)
    if not is_postgres(connection):
        await drop_scratch_table(connection, name)
        await connection.execute(
            text(f"CREATE TEMPORARY TABLE {name} AS SELECT * FROM {table.name} WHERE 0")
        )
        return scratch
    types = {
        c.name: "BIGINT" if c.name in scratch.cents else c.type.compile(dialect=connection.dialect)
        for c in table.columns
    }
    await create_scratch_columns(connection, name, types)
    return scratch


async def write_rows(
    connection: AsyncConnection,
    table_name: str,
    columns: Sequence[str],
    rows: Iterable[tuple[Any, ...]],
) -> None:
    """Append `rows` to a table: COPY on PostgreSQL, executemany on SQLite."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return
    driver = await driver_connection(connection)
    if is_postgres(connection):
        await driver.copy_records_to_table(table_name, records=rows, columns=list(columns))
        return
    placeholders = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table_name} ({', '.join(columns)}) VALUES ({placeholders})"
    for start in range(0, len(rows), SQLITE_WRITE_ROWS):
        await driver.executemany(sql, rows[start : start + SQLITE_WRITE_ROWS])


def _temporary(connection: AsyncConnection, name: str) -> str:
    return f"pg_temp.{name}" if is_postgres(connection) else f"temp.{name}"


async def create_scratch_columns(
    connection: AsyncConnection, name: str, columns: Mapping[str, str]
) -> None:
    """A temporary table of the given `column: SQL type` pairs, replacing an earlier one.

    PostgreSQL drops it at commit or rollback; SQLite keeps temporary tables for the
    life of the connection, so callers drop it when done (`drop_scratch_table`).
    """
    await drop_scratch_table(connection, name)
    spec = ", ".join(f"{column} {sql_type}" for column, sql_type in columns.items())
    suffix = " ON COMMIT DROP" if is_postgres(connection) else ""
    await connection.execute(text(f"CREATE TEMPORARY TABLE {name} ({spec}){suffix}"))


async def drop_scratch_table(connection: AsyncConnection, name: str) -> None:
    await connection.execute(text(f"DROP TABLE IF EXISTS {_temporary(connection, name)}"))
