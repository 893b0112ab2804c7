"""How fast `recompute_segments` (`crmbot segment`, the nightly job) runs against a real base,
side by side with the database's own full scan of the sales, and how fast history grows.

On the demo base (`demo_data`, the project's generator and loader) of N clients:

- the reference: PostgreSQL `COPY (SELECT client_id, date, amount, category FROM
  transactions) TO STDOUT` drained; SQLite `SELECT client_id, date, sum(amount) FROM
  transactions GROUP BY client_id, date` drained through the sqlite3 module (best of 3);
- the nightly recompute: a run for the day before, then the measured run for the day
  (each in its own process, so the peak memory is the recompute's), and a re-run of
  that day; per phase (read, analytics, cross-sell, write, next due, the dashboard
  aggregates, the monthly model check) and the ratio to
  the reference. The target: within 10x on both databases;
- history growth: daily runs over the last `--days` days of the base (each sees only
  what was known that day) and the history rows they add, extrapolated to a year of
  1,000,000 clients.

`--big` adds the PostgreSQL run at 1,000,000 clients / 20,000,000 sales (the demo base
bulk-loaded with COPY and densified to the sales target): end to end <= 120 s with peak
memory <= 4 GB. Generated bases are kept (a SQLite file under var/bench/, a PostgreSQL
database per size) and reused until the schema changes or `--rebuild`.

    python -m benchmarks.bench_recompute [--clients 50000] [--backends sqlite,postgres]
        [--days 30] [--growth-on postgres] [--big] [--big-clients 1000000]
        [--big-sales 20000000] [--rebuild] [--drop]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import pandas as pd
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from demo_data import DEFAULT_SEED, DEMO_USERS, iter_demo_chunks, load_demo_base
from services.db.engine import make_engine, make_session_factory
from services.db.models import Client, SegmentHistory, Transaction
from services.db.schema import current_revision, head_revision, upgrade
from services.segmentation import recompute_segments
from services.uow import UnitOfWorkFactory

AS_OF = date(2026, 3, 2)  # fixed, so runs on different days compare
POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CACHE_DIR = Path(__file__).resolve().parent.parent / "var" / "bench"
PHASES = ("read", "analytics", "cross_sell", "write", "next_due", "aggregates", "model_check")
TARGET_RATIO = 10.0
BIG_TARGET_SECONDS = 120.0
BIG_TARGET_MEMORY_MB = 4096.0
DENSIFY_SHIFT_DAYS = 90
USER_COLUMNS = [
    "id",
    "telegram_id",
    "display_name",
    "role",
    "timezone",
    "language",
    "daily_call_plan",
    "is_active",
    "pushes_enabled",
    "created_at",
]


@dataclass(frozen=True)
class Base:
    backend: str  # "sqlite" or "postgres"
    url: str  # SQLAlchemy URL
    clients: int
    sales: int


# --- the bases -------------------------------------------------------------------------


def _pg_url(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(statement: str) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(POSTGRES_URL))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _ready(url: str, clients: int) -> bool:
    """The cached base is there, at the current schema, with its clients."""
    engine = make_engine(url)
    try:
        if await current_revision(engine) != head_revision():
            return False
        async with engine.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(Client))
        return count == clients
    except Exception:  # a missing database or file: build it
        return False
    finally:
        await engine.dispose()


async def _sales(url: str) -> int:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return int(await connection.scalar(select(func.count()).select_from(Transaction)) or 0)
    finally:
        await engine.dispose()


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def demo_base(backend: str, clients: int, rebuild: bool) -> Base:
    """The demo base of `clients` clients, loaded by the project's own loader."""
    if backend == "sqlite":
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        path = CACHE_DIR / f"recompute-{clients}.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        if rebuild or not await _ready(url, clients):
            _remove_sqlite(path)
            await _load_demo(url, clients)
    else:
        name = f"crmbot_bench_recompute_{clients}"
        url = _pg_url(name)
        if rebuild or not await _ready(url, clients):
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await _pg_admin(f'CREATE DATABASE "{name}"')
            await _load_demo(url, clients)
    return Base(backend, url, clients, await _sales(url))


async def _load_demo(url: str, clients: int) -> None:
    print(f"  building the demo base of {clients:,} clients ({url.split(':')[0]}) ...", flush=True)
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        await upgrade(engine)
        uow_factory = UnitOfWorkFactory(make_session_factory(engine))
        await load_demo_base(uow_factory(), as_of=AS_OF, seed=DEFAULT_SEED, clients=clients)
    finally:
        await engine.dispose()
    await _vacuum(url)
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


async def big_base(clients: int, sales: int, rebuild: bool) -> Base:
    """The demo base at `clients` clients, densified to about `sales` sales, through COPY."""
    name = f"crmbot_bench_recompute_{clients}_{sales}"
    url = _pg_url(name)
    if rebuild or not await _ready(url, clients):
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _pg_admin(f'CREATE DATABASE "{name}"')
        engine = make_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        started = time.perf_counter()
        print(f"  building {clients:,} clients / ~{sales:,} sales with COPY ...", flush=True)
        await _copy_demo(url, clients, sales)
        await _vacuum(url)
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    return Base("postgres", url, clients, await _sales(url))


def _csv(frame: pd.DataFrame) -> io.BytesIO:
    buffer = io.BytesIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="", date_format="%Y-%m-%d %H:%M:%S%z")
    buffer.seek(0)
    return buffer


def _densified(transactions: pd.DataFrame, factor: float, rng: np.random.Generator) -> pd.DataFrame:
    """More sales of the same clients: copies of their own sales on other days."""
    extra = round(len(transactions) * (factor - 1.0))
    if extra <= 0:
        return transactions
    picked = transactions.iloc[rng.integers(0, len(transactions), extra)].copy()
    shift = rng.integers(-DENSIFY_SHIFT_DAYS, DENSIFY_SHIFT_DAYS + 1, extra)
    days = picked["date"].to_numpy().astype("datetime64[D]") + shift.astype("timedelta64[D]")
    days = np.minimum(days, np.datetime64(AS_OF, "D"))
    picked["date"] = days.astype("datetime64[s]")
    picked["order_number"] = None
    return pd.concat([transactions, picked], ignore_index=True)


async def _copy_demo(url: str, clients: int, sales: int) -> None:
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        users = {u.telegram_id: index + 1 for index, u in enumerate(DEMO_USERS)}
        await connection.copy_records_to_table(
            "users",
            columns=USER_COLUMNS,
            records=[
                (
                    users[u.telegram_id],
                    u.telegram_id,
                    u.display_name,
                    u.role.value,
                    u.timezone,
                    u.language,
                    u.daily_call_plan,
                    True,
                    True,
                    pd.Timestamp("2020-01-01", tz="UTC").to_pydatetime(),
                )
                for u in DEMO_USERS
            ],
        )
        rng = np.random.default_rng(DEFAULT_SEED)
        factor: float | None = None
        written = 0
        for chunk in iter_demo_chunks(seed=DEFAULT_SEED, as_of=AS_OF, clients=clients):
            if factor is None:
                factor = max(1.0, sales / clients / (len(chunk.transactions) / len(chunk.clients)))
            await _copy_chunk(connection, chunk, users, _densified(chunk.transactions, factor, rng))
            written += len(chunk.clients)
            if written % 100_000 == 0 or written == clients:
                print(f"    {written:,} clients", flush=True)
        for table in ("users", "clients", "client_phones", "transactions", "interactions"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
    finally:
        await connection.close()


async def _copy_chunk(
    connection: Any, chunk: Any, users: dict[int, int], transactions: pd.DataFrame
) -> None:
    c = chunk.clients
    clients = pd.DataFrame(
        {
            "id": c["client_no"],
            "external_id": c["external_id"],
            "name": c["name"],
            "name_normalized": c["name_normalized"],
            "company": c["company"],
            "tax_id": c["tax_id"],
            "phones": c["phones"],
            "email": c["email"],
            "city": c["city"],
            "owner_id": c["owner_telegram_id"].map(users),
            "is_vip": c["is_vip"],
            "vip_reason": c["vip_reason"],
            "tags": [json.dumps(list(t), ensure_ascii=False) for t in c["tags"]],
            "next_due_on": c["next_due_on"].dt.strftime("%Y-%m-%d"),
            "created_at": c["created_at"],
        }
    )
    await connection.copy_to_table(
        "clients", source=_csv(clients), columns=list(clients.columns), format="csv"
    )
    phones = chunk.client_phones.rename(columns={"client_no": "client_id"})
    await connection.copy_to_table(
        "client_phones", source=_csv(phones), columns=["client_id", "phone"], format="csv"
    )
    sales = pd.DataFrame(
        {
            "client_id": transactions["client_no"],
            "date": transactions["date"].dt.strftime("%Y-%m-%d"),
            "amount": transactions["amount_kopecks"] / 100,
            "order_number": transactions["order_number"],
            "category": transactions["category"],
            "currency": "RUB",
        }
    )
    await connection.copy_to_table(
        "transactions", source=_csv(sales), columns=list(sales.columns), format="csv"
    )
    i = chunk.interactions
    calls = pd.DataFrame(
        {
            "client_id": i["client_no"],
            "user_id": i["user_telegram_id"].map(users),
            "occurred_at": i["occurred_at"],
            "channel": i["channel"],
            "outcome": i["outcome"],
            "comment": i["comment"],
            "next_contact_on": i["next_contact_on"].dt.strftime("%Y-%m-%d"),
            "next_contact_at": i["next_contact_at"],
            "created_at": i["occurred_at"],
        }
    )
    await connection.copy_to_table(
        "interactions", source=_csv(calls), columns=list(calls.columns), format="csv"
    )


async def _vacuum(url: str) -> None:
    """Fresh statistics and visibility (what autovacuum would have done by the night)."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        with sqlite3.connect(path) as connection:
            connection.execute("ANALYZE")
        return
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def reset_state(base: Base) -> None:
    """No runs yet: every measurement starts from the same state."""
    engine = make_engine(base.url)
    try:
        async with engine.begin() as connection:
            for table in ("segment_history", "client_segments", "segmentation_runs"):
                await connection.execute(text(f"DELETE FROM {table}"))
    finally:
        await engine.dispose()
    await _vacuum(base.url)


async def drop_cached(args: argparse.Namespace) -> None:
    """Remove the bases this benchmark keeps (they take a few GB at the big size)."""
    _remove_sqlite(CACHE_DIR / f"recompute-{args.clients}.sqlite3")
    for name in (
        f"crmbot_bench_recompute_{args.clients}",
        f"crmbot_bench_recompute_{args.big_clients}_{args.big_sales}",
    ):
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print("cached bases dropped")


# --- the reference scans ---------------------------------------------------------------


async def reference_scan(base: Base, repeats: int = 3) -> float:
    """Best-of time of the database's own full scan of the sales."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        if base.backend == "postgres":
            connection = await asyncpg.connect(_asyncpg_dsn(base.url))

            async def drain(_chunk: bytes) -> None:
                return None

            try:
                await connection.copy_from_query(
                    "SELECT client_id, date, amount, category FROM transactions", output=drain
                )
            finally:
                await connection.close()
        else:
            with sqlite3.connect(make_url(base.url).database) as connection:
                cursor = connection.execute(
                    "SELECT client_id, date, sum(amount) FROM transactions GROUP BY client_id, date"
                )
                while cursor.fetchmany(100_000):
                    pass
        best = min(best, time.perf_counter() - started)
    return best


# --- one recompute, in its own process --------------------------------------------------


async def _run_once(url: str, as_of: date) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        uow_factory = UnitOfWorkFactory(make_session_factory(engine))
        started = time.perf_counter()
        outcome = await recompute_segments(uow_factory(), as_of)
        total = time.perf_counter() - started
    finally:
        await engine.dispose()
    return {
        "total": total,
        "phases": outcome.phases,
        "clients": outcome.clients,
        "changed": outcome.changed,
        "migrations": len(outcome.migrations),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def recompute(base: Base, as_of: date) -> dict[str, Any]:
    """`recompute_segments` in a child process; its figures as a dict."""
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_recompute", "--child", base.url, str(as_of)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _phases(run: dict[str, Any]) -> str:
    return ", ".join(f"{name} {run['phases'].get(name, 0.0):.2f}" for name in PHASES)


def report_run(label: str, run: dict[str, Any], reference: float | None) -> None:
    ratio = f", {run['total'] / reference:.1f}x the scan" if reference else ""
    print(
        f"  {label:<28} {run['total']:6.2f} s{ratio}; {_phases(run)}; "
        f"{run['changed']:,} changed, peak {run['peak_mb']:,.0f} MB",
        flush=True,
    )


# --- history growth ----------------------------------------------------------------------


async def history_growth(base: Base, days: int) -> None:
    await reset_state(base)
    engine = make_engine(base.url)
    rows: list[int] = []
    try:
        uow_factory = UnitOfWorkFactory(make_session_factory(engine))
        for offset in range(days - 1, -1, -1):
            outcome = await recompute_segments(uow_factory(), AS_OF - timedelta(days=offset))
            rows.append(outcome.changed)
        async with engine.connect() as connection:
            stored = await connection.scalar(select(func.count()).select_from(SegmentHistory))
            size = None
            if base.backend == "postgres":
                size = await connection.scalar(
                    text("SELECT pg_total_relation_size('segment_history')")
                )
    finally:
        await engine.dispose()
    daily = np.array(rows[1:], dtype=np.float64)  # the first run writes everyone once
    share = daily.mean() / base.clients
    print(
        f"  {days} daily runs on {base.clients:,} clients: the first wrote {rows[0]:,} rows, "
        f"then {daily.mean():,.0f} rows a day on average (min {daily.min():,.0f}, "
        f"max {daily.max():,.0f}): {100 * share:.2f}% of the clients a day"
    )
    per_row = f", {size / stored:.0f} bytes a row with its indexes" if size else ""
    yearly = share * 365 * 1_000_000
    print(
        f"  a year at 1,000,000 clients: ~{yearly / 1e6:,.1f} M history rows "
        f"(+1 M for the first run) instead of 365 M snapshot rows{per_row}"
        + (f": ~{yearly * size / stored / 2**30:,.1f} GiB" if size else "")
    )


# --- main --------------------------------------------------------------------------------


async def bench(args: argparse.Namespace) -> int:
    failed = False
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    bases: dict[str, Base] = {}
    for backend in backends:
        base = await demo_base(backend, args.clients, args.rebuild)
        bases[backend] = base
        print(f"\n{backend}: {base.clients:,} clients, {base.sales:,} sales", flush=True)
        reference = await reference_scan(base)
        scan = "COPY (SELECT ...) TO STDOUT" if backend == "postgres" else "GROUP BY client, date"
        print(f"  reference: {scan}: {reference:.2f} s", flush=True)
        await reset_state(base)
        report_run("first run (day before)", recompute(base, AS_OF - timedelta(days=1)), reference)
        nightly = recompute(base, AS_OF)
        report_run("nightly run", nightly, reference)
        report_run("re-run of the same day", recompute(base, AS_OF), reference)
        ratio = nightly["total"] / reference
        verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
        print(f"  ratio {ratio:.1f}x (target <= {TARGET_RATIO:.0f}x): {verdict}", flush=True)
        failed |= ratio > TARGET_RATIO
    growth = bases.get(args.growth_on) or next(iter(bases.values()), None)
    if growth is not None and args.days > 1:
        print(f"\nhistory growth ({growth.backend}):", flush=True)
        await history_growth(growth, args.days)
    if args.big:
        base = await big_base(args.big_clients, args.big_sales, args.rebuild)
        print(f"\npostgres big: {base.clients:,} clients, {base.sales:,} sales", flush=True)
        reference = await reference_scan(base, repeats=1)
        print(f"  reference: COPY (SELECT ...) TO STDOUT: {reference:.2f} s", flush=True)
        await reset_state(base)
        report_run("first run (day before)", recompute(base, AS_OF - timedelta(days=1)), reference)
        nightly = recompute(base, AS_OF)
        report_run("nightly run", nightly, reference)
        ok = nightly["total"] <= BIG_TARGET_SECONDS and nightly["peak_mb"] <= BIG_TARGET_MEMORY_MB
        print(
            f"  end to end {nightly['total']:.0f} s (target <= {BIG_TARGET_SECONDS:.0f} s), "
            f"peak {nightly['peak_mb']:,.0f} MB (target <= {BIG_TARGET_MEMORY_MB:,.0f} MB): "
            f"{'ok' if ok else 'MISSED'}",
            flush=True,
        )
        failed |= not ok
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        print(json.dumps(asyncio.run(_run_once(argv[1], date.fromisoformat(argv[2])))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--days", type=int, default=30, help="daily runs for the history growth")
    parser.add_argument("--growth-on", default="postgres", help="the base for the growth runs")
    parser.add_argument("--big", action="store_true", help="also 1M clients / 20M sales (PG)")
    parser.add_argument("--big-clients", type=int, default=1_000_000)
    parser.add_argument("--big-sales", type=int, default=20_000_000)
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached bases")
    parser.add_argument("--drop", action="store_true", help="delete the cached bases and stop")
    args = parser.parse_args(argv)
    if args.drop:
        asyncio.run(drop_cached(args))
        return 0
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
