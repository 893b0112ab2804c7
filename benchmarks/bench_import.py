"""How fast `crmbot import transactions` loads a large 1C-style export into SQLite.

Writes a Windows-1251, ';'-separated CSV (decimal commas, spaces in thousands,
dd.mm.yyyy dates) of N sales for N/20 clients into a temporary directory,
imports the clients, then times the import of the sales into a freshly migrated
SQLite database. The target: 1,000,000 rows in at most 60 s on 2 cores.

    python -m benchmarks.bench_import [--rows N] [--clients N] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from services.db.engine import make_engine, make_session_factory
from services.db.schema import upgrade
from services.importing import import_clients, import_transactions
from services.uow import UnitOfWorkFactory

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


def write_sales(path: Path, rows: int, clients: int, seed: int = 1) -> None:
    """The sales file, written in chunks so generating it does not inflate the memory figure."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2023-01-01")
    with path.open("w", encoding="cp1251", newline="") as stream:
        stream.write("Контрагент;Дата;Сумма;Номер документа;Номенклатурная группа\r\n")
        for offset in range(0, rows, WRITE_CHUNK):
            size = min(WRITE_CHUNK, rows - offset)
            client = rng.integers(1, clients + 1, size)
            days = rng.integers(0, 730, size)
            cents = rng.integers(-50_000, 5_000_000, size)
            category = rng.integers(0, len(CATEGORIES), size)
            dates = (start + pd.to_timedelta(days, unit="D")).strftime("%d.%m.%Y")
            lines = [
                f"{client_name(c)};{d};{_money(m)};РТ-{offset + i + 1:07d};{CATEGORIES[g]}\r\n"
                for i, (c, d, m, g) in enumerate(
                    zip(client.tolist(), dates, cents.tolist(), category.tolist(), strict=True)
                )
            ]
            stream.writelines(lines)


def _money(cents: int) -> str:
    """1C's way: "-1 234,50"."""
    sign = "-" if cents < 0 else ""
    rubles, kopecks = divmod(abs(int(cents)), 100)
    return f"{sign}{rubles:,}".replace(",", " ") + f",{kopecks:02d}"


def peak_rss_mib() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(rows: int, clients: int, workdir: Path) -> None:
    clients_csv, sales_csv = workdir / "clients.csv", workdir / "sales.csv"
    started = time.perf_counter()
    write_clients(clients_csv, clients)
    write_sales(sales_csv, rows, clients)
    size_mib = sales_csv.stat().st_size / 2**20
    took = time.perf_counter() - started
    print(f"generated {rows:,} sales for {clients:,} clients ({size_mib:.0f} MiB) in {took:.1f} s")

    engine = make_engine(f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}")
    try:
        await upgrade(engine)
        uow_factory = UnitOfWorkFactory(make_session_factory(engine))

        started = time.perf_counter()
        report = await import_clients(uow_factory(), clients_csv)
        took = time.perf_counter() - started
        print(f"clients: {report.rows_imported:,} imported in {took:.1f} s")

        memory_before = peak_rss_mib()
        started, cpu = time.perf_counter(), time.process_time()
        report = await import_transactions(uow_factory(), sales_csv)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        if report.rows_imported != rows:
            sys.exit(f"expected {rows} rows imported, got {report}")
        rate = rows / took
        print(f"transactions: {report.rows_imported:,} rows in {took:.1f} s = {rate:,.0f} rows/s")
        # wall time depends on what else the machine runs; CPU time much less so
        print(f"  CPU time of the import (all threads): {cpu:.1f} s")
        print(
            f"peak memory (RSS of the process): {peak_rss_mib():,.0f} MiB "
            f"(before the sales import: {memory_before:,.0f} MiB)"
        )

        started = time.perf_counter()
        report = await import_transactions(uow_factory(), sales_csv, file_name="again.csv")
        took = time.perf_counter() - started
        print(f"same file again: {report.status} in {took:.2f} s")

        # other bytes, the same rows: every row goes through the duplicate check
        copy = workdir / "sales-copy.csv"
        copy.write_bytes(sales_csv.read_bytes() + b"\r\n")
        started = time.perf_counter()
        report = await import_transactions(uow_factory(), copy)
        took = time.perf_counter() - started
        print(
            f"same rows in another file: {report.rows_duplicate:,} duplicates, "
            f"{report.rows_imported} imported, in {took:.1f} s"
        )
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=None, help="default: rows / 20")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args(argv)
    clients = args.clients or max(args.rows // 20, 1)
    workdir = Path(tempfile.mkdtemp(prefix="crmbot-bench-"))
    try:
        asyncio.run(run(args.rows, clients, workdir))
    finally:
        if args.keep:
            print(f"files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
