"""How fast the demo base is generated and loaded into SQLite.

Migrates a fresh SQLite database in a temporary directory, times the pure
generation of N clients (numpy, no database), then times `load_demo_base`
(generation + Core executemany inserts, one transaction), and prints rows,
rows per second, peak memory and the database size.

    python -m benchmarks.bench_demo_data [--clients N] [--seed N] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from demo_data import DEFAULT_SEED, iter_demo_chunks, load_demo_base
from services.db.engine import make_engine, make_session_factory
from services.db.schema import upgrade
from services.uow import UnitOfWorkFactory

DEFAULT_BENCH_CLIENTS = 100_000
AS_OF = date(2026, 6, 30)  # fixed, so runs on different days compare


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_generation(clients: int, seed: int) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    rows = {"clients": 0, "client_phones": 0, "transactions": 0, "interactions": 0}
    for chunk in iter_demo_chunks(seed=seed, as_of=AS_OF, clients=clients):
        for name in rows:
            rows[name] += len(getattr(chunk, name))
    return time.perf_counter() - started, rows


async def time_load(path: Path, clients: int, seed: int) -> float:
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(engine)
        uow_factory = UnitOfWorkFactory(make_session_factory(engine))
        started = time.perf_counter()
        last_report = started

        def progress(done: int, total: int) -> None:
            nonlocal last_report
            now = time.perf_counter()
            if now - last_report >= 10 or done == total:
                last_report = now
                print(f"  {done:>10,} / {total:,} clients, {now - started:7.1f} s", flush=True)

        result = await load_demo_base(
            uow_factory(), as_of=AS_OF, seed=seed, clients=clients, progress=progress
        )
        elapsed = time.perf_counter() - started
        assert result.loaded and result.summary.clients == clients
        return elapsed
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=DEFAULT_BENCH_CLIENTS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--keep", action="store_true", help="keep the database file")
    args = parser.parse_args(argv)

    print(f"demo base, {args.clients:,} clients, seed {args.seed}, as of {AS_OF}")
    generation, rows = time_generation(args.clients, args.seed)
    total_rows = sum(rows.values())
    print(
        f"generate: {generation:8.2f} s  "
        + ", ".join(f"{name} {count:,}" for name, count in rows.items())
        + f"  ({total_rows / generation:,.0f} rows/s)"
    )

    directory = Path(tempfile.mkdtemp(prefix="crmbot-bench-demo-"))
    path = directory / "demo.sqlite3"
    try:
        load = asyncio.run(time_load(path, args.clients, args.seed))
        size_mb = sum(p.stat().st_size for p in directory.iterdir()) / 2**20
        print(
            f"generate + load into SQLite: {load:8.2f} s  "
            f"({total_rows / load:,.0f} rows/s, {args.clients / load:,.0f} clients/s)"
        )
        print(f"peak memory: {_peak_rss_mb():,.0f} MB; database: {size_mb:,.0f} MB")
        if args.keep:
            print(f"database kept at {path}")
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
