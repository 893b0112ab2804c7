"""How fast the head's digest and the dashboard's pages answer on a distributor-sized base.

Run: ``python -m benchmarks.bench_dashboard [--clients 100000] [--database-url URL] [--keep]``
(``--clients 1000000`` for the large case; ``--keep`` keeps the loaded database for the
next run, which then skips the load).

Loads the demo base (``crmbot demo-data --clients N``) into a PostgreSQL database of its
own, then times, side by side:

- the segment recompute that feeds everything (``recompute_segments``, which ends with
  ``refresh_aggregates``; run for the day before too, as last night's run) and the
  aggregation alone;
- for reference, the database's own scan of the sales (``count`` and ``sum`` over
  ``transactions``) and the accounting as the digest used to do it on every request
  (all sales read, ``monthly_accounting``);
- ``/digest`` as the bot answers it (``build_digest`` + rendering the charts and the text)
  on a Monday, when it also holds the past week;
- every page of the dashboard's JSON API over HTTP, as the Mini App calls it (signed
  ``initData``): median and worst of five calls.

Targets: the digest and every page within 2 s at 100,000 clients, 5 s at 1,000,000.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pandas as pd
from aiogram import Bot
from aiohttp import web
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from demo_data import load_demo_base
from demo_data.vocabulary import DEMO_HEAD
from sandbox.webapp import encode_init_data, init_data_fields
from services.access import CompanyPolicy
from services.analytics import monthly_accounting
from services.clock import FixedClock
from services.dashboard import refresh_aggregates
from services.db.engine import make_engine, make_session_factory
from services.db.models import Transaction, User
from services.db.schema import upgrade
from services.digest import build_digest
from services.segmentation import recompute_segments
from services.settings_store import load_segmentation_settings
from services.uow import UnitOfWorkFactory
from ui.i18n import Translator
from ui.texts.digest import digest_parts
from webapp import DashboardConfig, create_dashboard_app

AS_OF = date(2026, 6, 29)  # a Monday: the digest holds the past week too
NOW = datetime(2026, 6, 29, 6, 0, tzinfo=UTC)  # 09:00 in Moscow
TOKEN = "777001:BENCH-dashboard"
ZONE = "Europe/Moscow"
DEFAULT_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
CALLS = 5


def target_seconds(clients: int) -> float:
    return 2.0 if clients <= 100_000 else 5.0


async def _admin(url: str, statement: str) -> None:
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _exists(url: str, name: str) -> bool:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            return found is not None
    finally:
        await engine.dispose()


async def timed(what: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await what()
    return time.perf_counter() - started, result


def line(label: str, seconds: float, note: str = "") -> None:
    print(f"  {label:<44} {seconds:8.2f} s  {note}", flush=True)


async def old_accounting(uow_factory: UnitOfWorkFactory) -> int:
    """What /digest did on every request before the aggregates: all sales, then accounting."""
    async with uow_factory() as uow:
        rows = (
            await uow.session.execute(
                select(Transaction.client_id, Transaction.date, Transaction.amount).where(
                    Transaction.date <= AS_OF
                )
            )
        ).all()
        settings = await load_segmentation_settings(uow)
    frame = pd.DataFrame(rows, columns=["client_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    return len(monthly_accounting(frame, AS_OF, settings, months=2))


async def bench_api(uow_factory: UnitOfWorkFactory, clients: int) -> list[tuple[str, float, float]]:
    bot = Bot(TOKEN)  # never sends: opening a card is not timed
    config = DashboardConfig(bot_token=TOKEN, company=CompanyPolicy(default_timezone=ZONE))
    app = create_dashboard_app(
        uow_factory=uow_factory, bot=bot, config=config, clock=FixedClock(NOW)
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    head = {"id": DEMO_HEAD.telegram_id, "first_name": DEMO_HEAD.display_name}
    init_data = encode_init_data(
        init_data_fields(head, TOKEN, auth_date=int(NOW.timestamp()), query_id="AAbench")
    )
    headers = {"Authorization": f"tma {init_data}"}
    results = []
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            matrix = await (await http.get("/api/matrix", headers=headers)).json()
            biggest = max(matrix["cells"], key=lambda c: c["clients"])["segment"]
            managers = (await (await http.get("/api/managers", headers=headers)).json())["managers"]
            pages = [
                ("/api/me", {}),
                ("/api/matrix", {}),
                ("/api/matrix", {"manager": managers[0]["id"]}),
                (f"/api/matrix/{biggest}", {}),
                (f"/api/matrix/{biggest}", {"page": 50}),
                ("/api/managers", {}),
                ("/api/trends", {}),
                ("/api/risk", {}),
                ("/api/risk", {"manager": managers[0]["id"]}),
            ]
            for path, params in pages:
                times = []
                for _ in range(CALLS):
                    started = time.perf_counter()
                    async with http.get(path, headers=headers, params=params) as response:
                        await response.read()
                        assert response.status == 200, (path, response.status)
                    times.append(time.perf_counter() - started)
                label = path + (f"?{next(iter(params))}=…" if params else "")
                results.append((label, statistics.median(times), max(times)))
    finally:
        await runner.cleanup()
        await bot.session.close()
    return results


async def run(args: argparse.Namespace) -> int:
    name = f"crmbot_bench_dashboard_{args.clients}"
    url = make_url(args.database_url).set(database=name).render_as_string(hide_password=False)
    reuse = await _exists(args.database_url, name)
    if not reuse:
        await _admin(args.database_url, f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    clients = args.clients
    limit = target_seconds(clients)
    failures = 0
    try:
        await upgrade(engine)
        uow_factory = UnitOfWorkFactory(make_session_factory(engine))
        print(f"dashboard benchmark, {clients:,} clients, PostgreSQL {name}, as of {AS_OF}")
        seconds, loaded = await timed(
            lambda: load_demo_base(uow_factory(), as_of=AS_OF, clients=clients)
        )
        line("demo base load", seconds, "(kept from an earlier run)" if not loaded.loaded else "")
        async with uow_factory() as uow:
            head = await uow.session.scalar(
                select(User.id).where(User.telegram_id == DEMO_HEAD.telegram_id)
            )
            sales = await uow.session.scalar(select(func.count()).select_from(Transaction))
        print(f"  ({sales:,} sales rows)")

        print("what feeds the figures (once a night, and after each import):")
        # last night's run first, so the digest has migrations between two runs to show
        seconds, _ = await timed(
            lambda: recompute_segments(uow_factory(), AS_OF - timedelta(days=1), timezone=ZONE)
        )
        line("recompute_segments of the day before", seconds)
        seconds, _ = await timed(lambda: recompute_segments(uow_factory(), AS_OF, timezone=ZONE))
        line("recompute_segments (incl. the aggregates)", seconds)
        seconds, refresh = await timed(lambda: refresh_aggregates(uow_factory(), AS_OF))
        line("  refresh_aggregates alone", seconds, f"({refresh.day_rows} day rows)")

        print("references:")

        async def scan() -> Any:
            async with uow_factory() as uow:
                return (
                    await uow.session.execute(select(func.count(), func.sum(Transaction.amount)))
                ).one()

        seconds, _ = await timed(scan)
        line("the database's own scan of the sales", seconds)
        seconds, _ = await timed(lambda: old_accounting(uow_factory))
        line("accounting from raw sales (the old /digest)", seconds)

        print(f"what a head waits for (target {limit:.0f} s each):")
        tr = Translator("ru")

        async def digest() -> Any:
            built = await build_digest(uow_factory(), head, NOW, default_timezone=ZONE)
            return await asyncio.to_thread(digest_parts, built, tr, "https://example.org/")

        times = []
        for _ in range(3):
            seconds, parts = await timed(digest)
            times.append(seconds)
        worst = max(times)
        failures += worst > limit
        line(
            "/digest (figures + charts + text)",
            worst,
            f"worst of 3, median {statistics.median(times):.2f} s, {len(parts)} messages",
        )
        for label, median, worst in await bench_api(uow_factory, clients):
            failures += worst > limit
            line(f"GET {label}", worst, f"worst of {CALLS}, median {median:.2f} s")
        print("all within target" if not failures else f"{failures} over target")
        return 1 if failures else 0
    finally:
        await engine.dispose()
        if not args.keep:
            await _admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument(
        "--database-url",
        default=DEFAULT_URL,
        help="a PostgreSQL server (its database is only used to create the benchmark's own)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    args = parser.parse_args(argv)
    if make_url(args.database_url).get_backend_name() != "postgresql":
        parser.error("the benchmark runs on PostgreSQL (the size of a real distributor)")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
