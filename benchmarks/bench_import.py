"""How fast `crmbot import transactions` loads a 1C export, against the database's own bulk load.

Writes a 1C-style sales report: Windows-1251 (or UTF-8), ';'-separated, title lines
above the header ("Отчёт по продажам", the period, an empty line), amounts like
"12 345,50", dd.mm.yyyy dates, document numbers and an "Итого" row at the end; N
sales for N/20 clients. Then, for each database (SQLite, and PostgreSQL when
reachable), in a process of its own so the memory figures do not mix:

* imports the clients, then times `import_transactions` of the file into a freshly
  migrated database — parsing, matching, checks and writing, end to end;
* times the database's own bulk load of the very same rows (as the import stored
  them) into the same table of a second fresh database with the same clients:
  PostgreSQL `COPY transactions FROM STDIN` of the prepared CSV through asyncpg,
  SQLite one `executemany` of pre-parsed tuples in one transaction;
* prints rows/s of both and the ratio, the peak memory of the import, and the time
  of importing the same file again and of the same rows in another file.

Targets: ≥ 100,000 rows/s on PostgreSQL and ≥ 50,000 rows/s on SQLite, parsing included.

    python -m benchmarks.bench_import [--rows N] [--clients N] [--encoding cp1251|utf-8]
        [--backend sqlite|postgres|all] [--postgres-url URL] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from sqlalchemy import text
from sqlalchemy.engine import make_url

from services.db.engine import make_engine, make_session_factory
from services.db.schema import upgrade
from services.importing import BatchStatus, import_clients, import_transactions
from services.uow import UnitOfWorkFactory

DEFAULT_POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CATEGORIES = [
    "Крепеж",
    "Инструмент",
    "Электрика",
    "Сантехника",
    "Лакокрасочные материалы",
    "Сухие смеси",
    "Пиломатериалы",
    "Кровля",
    "Утеплитель",
    "Садовый инвентарь",
]
WRITE_CHUNK = 200_000
TODAY = date(2025, 1, 10)
COLUMNS = (
    "client_id",
    "date",
    "amount",
    "order_number",
    "category",
    "currency",
    "dedup_key",
    "dedup_hash",
    "import_batch_id",
)


def client_name(number: int) -> str:
    return f"ООО «Клиент {number:05d}»"


def write_clients(path: Path, count: int) -> None:
    numbers = range(1, count + 1)
    frame = pd.DataFrame(
        {
            "Код": [f"К-{n:06d}" for n in numbers],
            "Наименование": [client_name(n) for n in numbers],
            "ИНН": [f"77{n:08d}" for n in numbers],
            "Телефон": [
                f"8 (9{n % 100:02d}) {n % 1000:03d}-{n % 97:02d}-{n % 89:02d}" for n in numbers
            ],
            "Город": ["Москва" if n % 3 == 0 else "Тверь" for n in numbers],
        }
    )
    frame.to_csv(path, sep=";", index=False, encoding="cp1251")


def write_sales(
    path: Path, rows: int, clients: int, encoding: str = "cp1251", seed: int = 1
) -> None:
    """The sales report as 1C writes it, in chunks so generating it costs little memory."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01")
    total = 0
    with path.open("w", encoding=encoding, newline="") as stream:
        stream.write("Отчёт по продажам;;;;\r\n")
        stream.write("Период: 01.01.2023 - 31.12.2024;;;;\r\n")
        stream.write(";;;;\r\n")
        stream.write("Контрагент;Дата;Сумма;Номер документа;Номенклатурная группа\r\n")
        for offset in range(0, rows, WRITE_CHUNK):
            size = min(WRITE_CHUNK, rows - offset)
            client = rng.integers(1, clients + 1, size)
            days = rng.integers(0, 730, size)
            cents = rng.integers(-50_000, 5_000_000, size)
            total += int(cents.sum())
            category = rng.integers(0, len(CATEGORIES), size)
            dates = (start + pd.to_timedelta(days, unit="D")).strftime("%d.%m.%Y")
            lines = [
                f"{client_name(c)};{d};{_money(m)};РТ-{offset + i + 1:07d};{CATEGORIES[g]}\r\n"
                for i, (c, d, m, g) in enumerate(
                    zip(client.tolist(), dates, cents.tolist(), category.tolist(), strict=True)
                )
            ]
            stream.writelines(lines)
        stream.write(f"Итого;;{_money(total)};;\r\n")


def _money(cents: int) -> str:
    """1C's way: "-1 234,50"."""
    sign = "-" if cents < 0 else ""
    rubles, kopecks = divmod(abs(int(cents)), 100)
    return f"{sign}{rubles:,}".replace(",", " ") + f",{kopecks:02d}"


class PeakMemory:
    """The process's resident memory, sampled every 20 ms while a step runs."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._stop = threading.Event()
        self.peak = 0

    def __enter__(self) -> PeakMemory:
        self.start = self._process.memory_info().rss
        self.peak = self.start
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def mib(size: float) -> str:
    return f"{size / 2**20:,.0f} MiB"


# --- databases -------------------------------------------------------------------------------


async def _pg_admin(url: str, *statements: str) -> None:
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


class Databases:
    """Fresh, migrated databases of one backend, removed at the end."""

    def __init__(self, backend: str, workdir: Path, postgres_url: str) -> None:
        self.backend = backend
        self.workdir = workdir
        self.postgres_url = postgres_url
        self.created: list[str] = []

    async def fresh(self) -> str:
        if self.backend == "sqlite":
            url = f"sqlite+aiosqlite:///{self.workdir / f'{uuid.uuid4().hex[:8]}.sqlite3'}"
        else:
            name = f"crmbot_bench_{uuid.uuid4().hex[:10]}"
            await _pg_admin(self.postgres_url, f'CREATE DATABASE "{name}"')
            self.created.append(name)
            url = make_url(self.postgres_url).set(database=name).render_as_string(False)
        engine = make_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        return url

    async def drop_all(self) -> None:
        for name in self.created:
            await _pg_admin(self.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def load_clients(url: str, clients_csv: Path) -> None:
    engine = make_engine(url)
    try:
        report = await import_clients(
            UnitOfWorkFactory(make_session_factory(engine))(), clients_csv
        )
        if report.status != BatchStatus.DONE:
            sys.exit(f"clients were not imported: {report}")
    finally:
        await engine.dispose()


async def prepared_rows(url: str, target: Path) -> int:
    """The imported rows as the table holds them, written as CSV: the reference's input."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                raw = await connection.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                query = f"SELECT {', '.join(COLUMNS)} FROM transactions ORDER BY id"
                await driver.copy_from_query(query, output=str(target), format="csv")
            else:
                result = await connection.exec_driver_sql(
                    f"SELECT {', '.join(COLUMNS)} FROM transactions ORDER BY id"
                )
                with target.open("w", newline="", encoding="utf-8") as stream:
                    csv.writer(stream).writerows(result)
            count = (await connection.exec_driver_sql("SELECT count(*) FROM transactions")).scalar()
    finally:
        await engine.dispose()
    return int(count or 0)


async def reference_load(url: str, prepared: Path) -> float:
    """The database's own bulk load of the prepared rows; returns the seconds it took."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            # the batch row the prepared rows point to (ids start at 1 in a fresh database)
            await connection.exec_driver_sql(
                "INSERT INTO import_batches (id, kind, file_name, file_hash, status, rows_total,"
                " rows_imported, rows_duplicate, rows_rejected, errors, created_at) VALUES"
                " (2, 'transactions', 'reference', '', 'done', 0, 0, 0, 0, '[]',"
                " CURRENT_TIMESTAMP)"
            )
        if make_url(url).get_backend_name() == "postgresql":
            async with engine.begin() as connection:
                raw = await connection.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                started = time.perf_counter()
                await driver.copy_to_table(
                    "transactions", source=str(prepared), columns=list(COLUMNS), format="csv"
                )
            return time.perf_counter() - started
    finally:
        await engine.dispose()
    # SQLite: pre-parsed tuples, one executemany, one transaction (the sqlite3 module itself)
    database = make_url(url).database
    assert database is not None
    with prepared.open(newline="", encoding="utf-8") as stream:
        rows = [
            (int(c), d, float(a), o or None, g or None, cur, k, int(b))
            for c, d, a, o, g, cur, k, b in csv.reader(stream)
        ]
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA cache_size=-262144")
        marks = ", ".join("?" * len(COLUMNS))
        started = time.perf_counter()
        with connection:
            connection.executemany(
                f"INSERT INTO transactions ({', '.join(COLUMNS)}) VALUES ({marks})", rows
            )
        return time.perf_counter() - started
    finally:
        connection.close()


# --- one backend -------------------------------------------------------------------------------


async def run_backend(backend: str, workdir: Path, rows: int, postgres_url: str) -> None:
    clients_csv, sales_csv = workdir / "clients.csv", workdir / "sales.csv"
    databases = Databases(backend, workdir, postgres_url)
    try:
        url = await databases.fresh()
        await load_clients(url, clients_csv)
        engine = make_engine(url)
        try:
            uow_factory = UnitOfWorkFactory(make_session_factory(engine))
            with PeakMemory() as memory:
                started, cpu = time.perf_counter(), time.process_time()
                report = await import_transactions(uow_factory(), sales_csv, today=TODAY)
                took, cpu = time.perf_counter() - started, time.process_time() - cpu
            if report.rows_imported != rows:
                sys.exit(f"expected {rows} rows imported, got {report}")
            rate = rows / took
            print(f"  import:    {rows:,} rows in {took:5.1f} s = {rate:9,.0f} rows/s", end="")
            print(f"  (CPU of this process, all threads: {cpu:.1f} s)")
            print(
                f"  memory:    peak RSS {mib(memory.peak)} during the import, "
                f"{mib(memory.peak - memory.start)} above the {mib(memory.start)} before it; "
                f"process peak {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f}"
                " MiB"
            )
            print(
                f"  skipped:   {len(report.totals_rows)} totals row(s); header on row "
                f"{report.header_row}"
            )

            started = time.perf_counter()
            again = await import_transactions(uow_factory(), sales_csv, today=TODAY)
            print(f"  same file again: {again.status} in {time.perf_counter() - started:.2f} s")
            # other bytes, the same rows: every row goes through the duplicate check
            copy = workdir / f"sales-copy-{backend}.csv"
            copy.write_bytes(sales_csv.read_bytes() + b"\r\n")
            started = time.perf_counter()
            same = await import_transactions(uow_factory(), copy, today=TODAY)
            took_same = time.perf_counter() - started
            print(
                f"  same rows in another file: {same.rows_duplicate:,} duplicates, "
                f"{same.rows_imported} imported, in {took_same:.1f} s "
                f"({rows / took_same:,.0f} rows/s)"
            )
        finally:
            await engine.dispose()

        prepared = workdir / f"prepared-{backend}.csv"
        await prepared_rows(url, prepared)
        reference_url = await databases.fresh()
        await load_clients(reference_url, clients_csv)
        reference = await reference_load(reference_url, prepared)
        what = (
            "COPY transactions FROM STDIN (asyncpg)"
            if backend == "postgres"
            else "one executemany of pre-parsed tuples"
        )
        print(f"  reference: {what}: {reference:5.1f} s = {rows / reference:9,.0f} rows/s")
        print(f"  ratio:     the import takes {took / reference:.2f}× the database's own load")
    finally:
        await databases.drop_all()


async def postgres_reachable(url: str) -> str | None:
    try:
        await asyncio.wait_for(_pg_admin(url, "SELECT 1"), timeout=5)
    except Exception as error:  # any failure means "not reachable" here
        return f"{type(error).__name__}: {error}"
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=None, help="default: rows / 20")
    parser.add_argument("--encoding", default="cp1251", choices=["cp1251", "utf-8"])
    parser.add_argument("--backend", default="all", choices=["sqlite", "postgres", "all"])
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)  # a child process's
    args = parser.parse_args(argv)

    if args.workdir is not None:  # one backend, in the child process
        asyncio.run(run_backend(args.backend, args.workdir, args.rows, args.postgres_url))
        return

    clients = args.clients or max(args.rows // 20, 1)
    workdir = Path(tempfile.mkdtemp(prefix="crmbot-bench-"))
    try:
        started = time.perf_counter()
        write_clients(workdir / "clients.csv", clients)
        write_sales(workdir / "sales.csv", args.rows, clients, args.encoding)
        size = (workdir / "sales.csv").stat().st_size
        print(
            f"generated {args.rows:,} sales for {clients:,} clients ({mib(size)}, "
            f"{args.encoding}, 1C layout) in {time.perf_counter() - started:.1f} s"
        )
        backends = ["sqlite", "postgres"] if args.backend == "all" else [args.backend]
        failed = 0
        for backend in backends:
            if backend == "postgres":
                problem = asyncio.run(postgres_reachable(args.postgres_url))
                if problem:
                    print(f"\npostgres: skipped, not reachable at {args.postgres_url} ({problem})")
                    continue
            print(f"\n{backend}:", flush=True)
            command = [
                sys.executable,
                "-m",
                "benchmarks.bench_import",
                "--backend",
                backend,
                "--rows",
                str(args.rows),
                "--postgres-url",
                args.postgres_url,
                "--workdir",
                str(workdir),
            ]
            failed += subprocess.call(command) != 0
        if failed:
            sys.exit(1)
    finally:
        if args.keep:
            print(f"files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
