"""Benchmark of the morning push through the sandbox with Telegram's limits on.

Run: ``python -m benchmarks.bench_pushes [--managers 1000 --clients-per-manager 200]``.

Loads a synthetic base (SQLAlchemy Core bulk inserts) into a fresh SQLite database (or
``--database-url``), starts the local Bot API sandbox in a separate process with its flood
limits on (30/s overall, 1/s per chat with bursts of 5), and runs the scheduler's tick at
09:00 in Moscow on a working day: every manager is due their morning push. It prints the
total time, messages, 429s received, and compares what each chat received with the delivery
ledger: lost (a manager with no push) and duplicated (more than one).

A second run, on the next working day, injects faults through ``POST /sandbox/faults``:
about 10% of sends answer 5xx and bursts of 429 arrive every few seconds. Deliveries that
exhausted the sender's retries are left to later ticks, as in production (one every
minute; here the clock is moved three minutes per extra tick).

Targets: run 1 within 1.15 x (messages / 25 per second), no 429s, none lost, none
duplicated; run 2 none lost, none duplicated.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import random
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select

from scheduler.jobs import JobContext, tick
from scheduler.sender import GLOBAL_RATE, Sender
from services.clock import FixedClock
from services.db.engine import make_engine, make_session_factory
from services.db.models import (
    Client,
    ClientSegment,
    Delivery,
    Role,
    SegmentationRun,
    User,
)
from services.db.schema import upgrade
from services.uow import UnitOfWorkFactory

TOKEN = "777000:BENCH"
FIRST_TELEGRAM_ID = 5_000_000
RUN_1 = datetime(2026, 11, 5, 6, 0, tzinfo=UTC)  # Thursday 09:00 in Moscow
RUN_2 = datetime(2026, 11, 6, 6, 0, tzinfo=UTC)  # Friday 09:00 in Moscow
CHUNK = 5_000
TARGET_FACTOR = 1.15
BURST_EVERY_CALLS = 125


# --- the sandbox, in its own process (Telegram is not in ours either) ----------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve_sandbox(port: int, managers: int) -> None:
    from aiohttp import web

    from sandbox import LimitsConfig, SandboxConfig, create_app

    identities = [
        {"id": FIRST_TELEGRAM_ID + i, "first_name": f"Менеджер {i}", "role": "manager"}
        for i in range(managers)
    ]
    config = SandboxConfig(port=port, identities=identities, limits=LimitsConfig())
    web.run_app(
        create_app(config), host="127.0.0.1", port=port, print=None, handler_cancellation=True
    )


async def _wait_for_sandbox(base_url: str) -> None:
    deadline = time.monotonic() + 30
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"{base_url}/sandbox/info") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not start")
            await asyncio.sleep(0.1)


# --- the synthetic base ---------------------------------------------------------------------------


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


async def load_base(url: str, managers: int, per_manager: int, seed: int = 7) -> float:
    """Migrate and fill the database; returns the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(seed)
    engine = make_engine(url)
    await upgrade(engine)
    today = RUN_1.date()
    as_of = today - timedelta(days=1)
    async with engine.begin() as connection:
        await connection.execute(
            insert(User),
            [
                {
                    "id": i + 1,
                    "telegram_id": FIRST_TELEGRAM_ID + i,
                    "display_name": f"Менеджер {i}",
                    "role": Role.MANAGER.value,
                    "is_active": True,
                    "daily_call_plan": 20,
                    "pushes_enabled": True,
                    "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                }
                for i in range(managers)
            ],
        )
        await connection.execute(
            insert(SegmentationRun), [{"id": 1, "as_of": as_of, "model": {}, "settings": {}}]
        )
        clients: list[dict[str, Any]] = []
        snapshots: list[dict[str, Any]] = []
        client_id = 0
        for owner in range(1, managers + 1):
            for _ in range(per_manager):
                client_id += 1
                abc = rng.choices("ABC", weights=(2, 3, 5))[0]
                xyz = rng.choices("XYZ", weights=(3, 3, 4))[0]
                roll = rng.random()
                # ~10% due today or overdue, the rest spread over the next two months
                due = today - timedelta(days=rng.randint(0, 20)) if roll < 0.1 else None
                due = due or today + timedelta(days=rng.randint(1, 60))
                revenue = Decimal(rng.randint(10_000, 5_000_000)) / 100
                at_risk = rng.random() < 0.03
                clients.append(
                    {
                        "id": client_id,
                        "name": f"ООО «Клиент {client_id}»",
                        "name_normalized": f"клиент {client_id}",
                        "owner_id": owner,
                        "is_vip": rng.random() < 0.01,
                        "tags": [],
                        "next_due_on": due,
                        "created_at": datetime(2025, 1, 1, tzinfo=UTC),
                    }
                )
                snapshots.append(
                    {
                        "run_id": 1,
                        "client_id": client_id,
                        "as_of": as_of,
                        "abc": abc,
                        "xyz": xyz,
                        "segment": abc + xyz,
                        "status": "active",
                        "revenue": revenue,
                        "p_alive": rng.random(),
                        "cadence_days": 30,
                        "next_due": due,
                        "reactivation": rng.random() < 0.05,
                        "at_risk": at_risk,
                        "revenue_at_risk": revenue / 2 if at_risk else Decimal(0),
                        "upsell": False,
                        "cross_sell": [],
                    }
                )
        for rows in _chunks(clients):
            await connection.execute(insert(Client), rows)
        for rows in _chunks(snapshots):
            await connection.execute(insert(ClientSegment), rows)
    await engine.dispose()
    return time.perf_counter() - started


# --- faults ---------------------------------------------------------------------------------------


async def _inject_faults(base_url: str, stop: asyncio.Event) -> None:
    """One sendMessage call in ten answers 5xx; every 125 calls (5 s at full pace) a burst
    of three 429s.

    The faults follow the traffic: the injector watches the sandbox's call counter.
    """
    injected = 0
    bursts = 0
    async with aiohttp.ClientSession() as session:
        while not stop.is_set():
            async with session.get(f"{base_url}/sandbox/stats") as response:
                stats = await response.json()
            calls = int(stats["calls"].get("sendMessage", 0))
            wanted = calls // 10 + 1 - injected
            if wanted > 0 and not stats["faults"]:
                error = random.choice([500, 502, 503])
                body = {"method": "sendMessage", "error": error, "times": 1}
                async with session.post(f"{base_url}/sandbox/faults", json=body) as response:
                    response.raise_for_status()
                injected += 1
            if calls // BURST_EVERY_CALLS > bursts:
                bursts += 1
                burst = {"method": "sendMessage", "error": 429, "times": 3, "retry_after": 1}
                async with session.post(f"{base_url}/sandbox/faults", json=burst) as response:
                    response.raise_for_status()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.05)
        await session.delete(f"{base_url}/sandbox/faults")


# --- counting -------------------------------------------------------------------------------


async def _received(base_url: str, managers: int) -> dict[int, int]:
    """Bot messages per manager chat, read back through the control API."""
    counts: dict[int, int] = {}
    async with aiohttp.ClientSession() as session:

        async def one(chat_id: int) -> None:
            url = f"{base_url}/sandbox/users/{chat_id}/messages"
            async with session.get(url) as response:
                feed = await response.json()
            counts[chat_id] = sum(1 for m in feed["messages"] if m["from_bot"])

        ids = [FIRST_TELEGRAM_ID + i for i in range(managers)]
        for start in range(0, len(ids), 50):
            await asyncio.gather(*(one(chat_id) for chat_id in ids[start : start + 50]))
    return counts


async def _stats(base_url: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base_url}/sandbox/stats") as response,
    ):
        return dict(await response.json())


async def _ledger_sent(uow_factory: UnitOfWorkFactory, day: date) -> dict[int, int]:
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(User.telegram_id, func.count())
            .join(Delivery, Delivery.recipient_id == User.id)
            .where(Delivery.local_date == day, Delivery.status == "sent")
            .group_by(User.telegram_id)
        )
        return {int(telegram_id or 0): int(count) for telegram_id, count in rows.all()}


@dataclass
class RunResult:
    seconds: float
    messages: int
    flood_waits: int
    sandbox_429: int
    faults: int
    lost: int
    duplicated: int
    ledger_mismatch: int
    extra_ticks: int

    def show(self, title: str, managers: int, *, timed: bool) -> None:
        budget = self.messages / GLOBAL_RATE * TARGET_FACTOR
        target = f"  (target <= {budget:.1f} s)" if timed else "  (no time target)"
        print(f"\n{title}")
        print(f"  total time        {self.seconds:8.1f} s{target}")
        print(f"  messages          {self.messages:8d}  ({self.messages / self.seconds:.1f}/s)")
        print(f"  429s received     {self.flood_waits:8d}  (sandbox counted {self.sandbox_429})")
        print(f"  faults injected   {self.faults:8d}")
        print(f"  lost              {self.lost:8d}  of {managers}")
        print(f"  duplicated        {self.duplicated:8d}")
        print(f"  ledger mismatch   {self.ledger_mismatch:8d}")
        if self.extra_ticks:
            print(f"  extra ticks       {self.extra_ticks:8d}  (retries of failed deliveries)")


async def _run(
    url: str,
    base_url: str,
    managers: int,
    moment: datetime,
    before: dict[int, int],
    *,
    faults: bool,
) -> tuple[RunResult, dict[int, int]]:
    from aiogram import Bot
    from aiogram.client.default import DefaultBotProperties
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.enums import ParseMode

    engine = make_engine(url)
    uow_factory = UnitOfWorkFactory(make_session_factory(engine))
    bot = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(base_url), limit=100),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    clock = FixedClock(moment)
    sender = Sender(bot)
    context = JobContext(uow_factory, clock, sender, recompute_at=None)
    stop = asyncio.Event()
    injector = asyncio.create_task(_inject_faults(base_url, stop)) if faults else None
    started = time.perf_counter()
    report = await tick(context)
    seconds = time.perf_counter() - started
    stop.set()
    if injector is not None:
        await injector
    extra = 0
    failed = report.morning.failed
    while failed and extra < 10:  # later ticks retry what ran out of retries
        extra += 1
        clock.advance(timedelta(minutes=3))
        failed = (await tick(context)).morning.failed
    stats = await _stats(base_url)
    after = await _received(base_url, managers)
    ledger = await _ledger_sent(uow_factory, moment.date())
    await bot.session.close()
    await engine.dispose()

    got = {chat: after.get(chat, 0) - before.get(chat, 0) for chat in after}
    result = RunResult(
        seconds=seconds,
        messages=sum(got.values()),
        flood_waits=sender.stats.flood_waits,
        sandbox_429=int(stats.get("errors", {}).get("429", 0)),
        faults=int(stats.get("faults_injected", 0)),
        lost=sum(1 for count in got.values() if count == 0),
        duplicated=sum(1 for count in got.values() if count > 1),
        ledger_mismatch=sum(1 for chat, count in got.items() if ledger.get(chat, 0) != count),
        extra_ticks=extra,
    )
    return result, after


async def main_async(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    workdir = Path(tempfile.mkdtemp(prefix="bench_pushes_"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    print(f"database: {url}")
    loaded = await load_base(url, args.managers, args.clients_per_manager)
    print(
        f"loaded {args.managers} managers, {args.managers * args.clients_per_manager} clients "
        f"and their snapshots in {loaded:.1f} s"
    )
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = multiprocessing.get_context("spawn").Process(
        target=_serve_sandbox, args=(port, args.managers), daemon=True
    )
    process.start()
    try:
        await _wait_for_sandbox(base_url)
        first, seen = await _run(url, base_url, args.managers, RUN_1, {}, faults=False)
        first.show("run 1: limits on, no faults", args.managers, timed=True)
        async with aiohttp.ClientSession() as session:
            await session.post(f"{base_url}/sandbox/reset", json={})  # stats and buckets
        second, _ = await _run(url, base_url, args.managers, RUN_2, seen, faults=True)
        second.show("run 2: 10% 5xx and bursts of 429", args.managers, timed=False)
    finally:
        process.terminate()
        process.join(5)
    budget = first.messages / GLOBAL_RATE * TARGET_FACTOR
    ok = (
        first.seconds <= budget
        and first.flood_waits == 0
        and first.lost == first.duplicated == 0
        and second.lost == second.duplicated == 0
    )
    print("\nall targets met" if ok else "\nTARGETS MISSED")
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--managers", type=int, default=1000)
    parser.add_argument("--clients-per-manager", type=int, default=200)
    parser.add_argument("--database-url", default="", help="default: a new SQLite file")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
