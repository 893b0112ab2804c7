"""`crmbot run` as real processes: the standalone sandbox (`crmbot sandbox`), a round-robin
proxy written here, and the bot exactly as deploy/ starts it.

- One process on SQLite in polling mode: the Bot API down at start and up 20 s later, a
  second process on the same file refused, another one giving up, SIGTERM during a handler.
- Two replicas in webhook mode on the real PostgreSQL and Redis behind the proxy: pushes and
  the nightly recompute once, a redelivered update once, forged requests refused, health and
  metrics, and one replica SIGKILLed in the middle of logging a call.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from services.db.engine import make_engine, make_session_factory
from services.db.models import (
    AppSetting,
    Delivery,
    Interaction,
    Role,
    SegmentationRun,
    User,
)
from services.uow import UnitOfWorkFactory
from tests.conftest import REDIS_URL, _flush_redis, _pg_admin, _pg_url, run_in_fresh_loop
from tests.e2e.bot_harness import (
    ADMIN,
    ANNA,
    HEAD,
    IDENTITIES,
    TOKEN,
    button_data,
    seed_small_base,
    text_of,
)
from tests.e2e.runtime_harness import (
    BotProcess,
    RoundRobinProxy,
    bot_process,
    free_port,
    get_status,
    metric,
    sandbox_process,
    wait_status,
    write_json,
)
from tests.e2e.sandbox_harness import SandboxClient

SECRET = "replicas-secret_0123456789abcdef"
MANAGERS = [3001 + number for number in range(50)]
API_DOWN_FOR = 20.0
STARTING = 120.0  # how long a process may take to start on a busy machine


async def _uow_factory(db_url: str) -> tuple[Any, UnitOfWorkFactory]:
    engine = make_engine(db_url)
    return engine, UnitOfWorkFactory(make_session_factory(engine))


def noon_zone(now: datetime) -> str:
    """A fixed-offset zone where it is about noon now: pushes are due, the night is over."""
    offset = (12 - now.hour + 12) % 24 - 12  # -12..11
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


async def _seed(
    db_url: str, zone: str, local_now: datetime, managers: list[int], *, pushes: bool
) -> None:
    """The small base plus `managers`; everyone's push (if on) due two minutes ago."""
    push_at = (local_now - timedelta(minutes=2)).time().replace(second=0, microsecond=0)
    engine, uow_factory = await _uow_factory(db_url)
    try:
        await seed_small_base(uow_factory)
        async with uow_factory() as uow:
            for telegram_id in managers:
                uow.session.add(
                    User(
                        telegram_id=telegram_id,
                        display_name=f"Менеджер {telegram_id}",
                        role=Role.MANAGER.value,
                        language="ru",
                    )
                )
            # Whatever day the suite runs on is a working day for these tests.
            uow.session.add(
                AppSetting(
                    key="calendar",
                    value={"extra_working_days": [local_now.date().isoformat()]},
                )
            )
            await uow.session.execute(
                User.__table__.update().values(
                    timezone=zone, push_time=push_at, pushes_enabled=pushes
                )
            )
            await uow.commit()
    finally:
        await engine.dispose()


# --- one process on SQLite, polling -----------------------------------------------------------


async def test_startup_waits_for_the_bot_api_gives_up_loudly_and_stops_gracefully(
    tmp_path: Path, sqlite_template: Path
) -> None:
    database = tmp_path / "bot.sqlite3"
    shutil.copyfile(sqlite_template, database)
    db_url = f"sqlite+aiosqlite:///{database}"
    zone = noon_zone(datetime.now(UTC))
    await _seed(db_url, zone, datetime.now(ZoneInfo(zone)), [], pushes=False)
    api_port, health_port = free_port(), free_port()
    common = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE": f"http://127.0.0.1:{api_port}",
        "DEFAULT_TIMEZONE": "Europe/Moscow",
        "RETRY_MAX_DELAY_S": "4",
    }
    patient = bot_process(
        "patient",
        tmp_path,
        DATABASE_URL=db_url,
        STARTUP_GIVE_UP_S="90",
        HEALTH_PORT=str(health_port),
        **common,
    )
    other = tmp_path / "other.sqlite3"
    shutil.copyfile(sqlite_template, other)
    impatient = bot_process(
        "impatient",
        tmp_path,
        DATABASE_URL=f"sqlite+aiosqlite:///{other}",
        STARTUP_GIVE_UP_S="3",
        **{**common, "RETRY_MAX_DELAY_S": "1"},
    )
    second = bot_process("second", tmp_path, DATABASE_URL=db_url, STARTUP_GIVE_UP_S="90", **common)
    sandbox: BotProcess | None = None
    patient.start()
    impatient.start()
    try:
        # (a loaded machine may take a while to import everything: the outage is timed
        # from the bot's first failed attempt, not from the process start)
        await patient.wait_log("the Bot API is not available (attempt 1)", within=STARTING)
        down_since = time.monotonic()
        # alive while it waits, not ready
        await wait_status(f"http://127.0.0.1:{health_port}/healthz", 200, within=5)
        status, body = await get_status(f"http://127.0.0.1:{health_port}/readyz")
        assert status == 503 and '"process": "starting"' in body

        # a second process on the same SQLite file is refused at once, with the reason
        second.start()
        assert await second.wait(within=STARTING) == 2
        assert "already running on" in second.log() and f"pid {patient.pid}" in second.log()

        # down for longer than the give-up time: exits non-zero, saying why
        assert await impatient.wait(within=STARTING) == 1
        assert "was not available for 3 s, giving up" in impatient.log()
        assert impatient.log().count("the Bot API is not available (attempt") >= 3

        # up 20 s later: the bot works within its backoff (at most 4 s apart here)
        await asyncio.sleep(max(0.0, down_since + API_DOWN_FOR - time.monotonic()))
        assert patient.running(), patient.tail()
        sandbox = sandbox_process(
            api_port, tmp_path, write_json(tmp_path / "people.json", IDENTITIES)
        )
        sandbox.start()
        await wait_status(f"http://127.0.0.1:{api_port}/sandbox/info", 200, within=STARTING)
        api_up = time.monotonic()
        await wait_status(f"http://127.0.0.1:{health_port}/readyz", 200, within=30)
        assert time.monotonic() - api_up < 4 * 1.1 + 10  # one backoff step and the startup
        assert "the Bot API is not available (attempt" in patient.log()
        async with SandboxClient(f"http://127.0.0.1:{api_port}") as chat:
            await chat.send(ADMIN, "/start")
            assert text_of(await chat.wait_for(ADMIN, lambda m: bool(text_of(m)), timeout=20))

            # SIGTERM while a handler runs: the handler finishes, then the process exits 0
            await chat.send(HEAD, "/digest")
            metrics_url = f"http://127.0.0.1:{health_port}/metrics"
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                status, page = await get_status(metrics_url)
                if metric(page, "crmbot_updates_in_flight") >= 1:
                    break
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the /digest handler was never seen in flight")
            patient.terminate()
            assert await patient.wait(within=40) == 0, patient.tail()
            digest = await chat.wait_messages(HEAD, wait=5, count=2)
            assert any(message.get("photo") for message in digest), digest
            assert "stopped" in patient.log() and "cut short" not in patient.log()
    finally:
        for process in (patient, impatient, second, sandbox):
            if process is not None:
                await process.stop()


# --- two replicas on PostgreSQL and Redis, webhook mode ---------------------------------------


@dataclass
class Cluster:
    db_url: str
    sandbox_url: str
    proxy: RoundRobinProxy
    replicas: list[BotProcess]
    health: list[str]  # http://127.0.0.1:PORT of each replica
    local_today: date

    async def metrics(self) -> list[str]:
        pages = []
        for base in self.health:
            status, page = await get_status(f"{base}/metrics")
            pages.append(page if status == 200 else "")
        return pages

    async def total(self, name: str, **labels: str) -> float:
        return sum(metric(page, name, **labels) for page in await self.metrics())

    async def scalar(self, statement: Any) -> Any:
        engine, uow_factory = await _uow_factory(self.db_url)
        try:
            async with uow_factory() as uow:
                return (await uow.session.execute(statement)).scalar()
        finally:
            await engine.dispose()


@pytest.fixture(scope="module")
def cluster_db(postgres_available: bool, postgres_template: str | None) -> Iterator[str]:
    from tests.conftest import _skip_without_postgres

    _skip_without_postgres(postgres_available)
    name = f"crmbot_rep_{uuid.uuid4().hex[:12]}"
    run_in_fresh_loop(_pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    yield _pg_url(name)
    run_in_fresh_loop(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def cluster_redis() -> Iterator[str]:
    from tests.conftest import REQUIRE_REDIS, _probe_redis

    problem = run_in_fresh_loop(_probe_redis())
    if problem:
        if REQUIRE_REDIS:
            pytest.fail(f"Redis is required (REQUIRE_REDIS=1) but unreachable: {problem}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {problem}")
    run_in_fresh_loop(_flush_redis())
    yield REDIS_URL
    run_in_fresh_loop(_flush_redis())


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(
    tmp_path_factory: pytest.TempPathFactory, cluster_db: str, cluster_redis: str
) -> AsyncIterator[Cluster]:
    workdir = tmp_path_factory.mktemp("replicas")
    zone = noon_zone(datetime.now(UTC))
    local_now = datetime.now(ZoneInfo(zone))
    local_today = local_now.date()
    await _seed(cluster_db, zone, local_now, MANAGERS, pushes=True)
    people = IDENTITIES + [
        {"id": telegram_id, "first_name": f"Менеджер {telegram_id}", "role": "manager"}
        for telegram_id in MANAGERS
    ]
    api_port = free_port()
    sandbox = sandbox_process(api_port, workdir, write_json(workdir / "people.json", people))
    sandbox.start()
    ports = [free_port(), free_port()]
    proxy = await RoundRobinProxy([f"http://127.0.0.1:{port}" for port in ports]).start()
    replicas = [
        bot_process(
            f"replica-{index}",
            workdir,
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE=f"http://127.0.0.1:{api_port}",
            DATABASE_URL=cluster_db,
            REDIS_URL=cluster_redis,
            WEBHOOK_URL=f"{proxy.url}/telegram",
            WEBHOOK_PORT=str(port),
            WEBHOOK_SECRET=SECRET,
            DEFAULT_TIMEZONE=zone,
            STARTUP_GIVE_UP_S="60",
            RETRY_MAX_DELAY_S="2",
        )
        for index, port in enumerate(ports)
    ]
    health = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        await wait_status(f"http://127.0.0.1:{api_port}/sandbox/info", 200, within=STARTING)
        for replica in replicas:
            replica.start()
        for base in health:
            await wait_status(f"{base}/readyz", 200, within=STARTING)
        yield Cluster(
            cluster_db, f"http://127.0.0.1:{api_port}", proxy, replicas, health, local_today
        )
    finally:
        for replica in replicas:
            await replica.stop()
        await proxy.stop()
        await sandbox.stop()


pytestmark_module = pytest.mark.asyncio(loop_scope="module")


@pytestmark_module
async def test_both_replicas_are_healthy_and_count_updates(cluster: Cluster) -> None:
    for base in cluster.health:
        assert (await get_status(f"{base}/healthz"))[0] == 200
        assert (await get_status(f"{base}/readyz"))[0] == 200
    before = await cluster.total("crmbot_updates", outcome="handled")
    async with SandboxClient(cluster.sandbox_url) as chat:
        for _ in range(2):  # round robin: one to each replica
            await chat.send(ADMIN, "/help")
            await chat.wait_for(ADMIN, lambda m: bool(text_of(m)), timeout=20)
    assert await cluster.total("crmbot_updates", outcome="handled") == before + 2
    pages = await cluster.metrics()
    assert all(metric(page, "crmbot_ready") == 1 for page in pages)


@pytestmark_module
async def test_the_morning_push_reaches_each_of_50_managers_once(cluster: Cluster) -> None:
    async with SandboxClient(cluster.sandbox_url) as chat:
        deadline = time.monotonic() + 60
        counts: dict[int, int] = {}
        while time.monotonic() < deadline:
            counts = {
                manager: len(await chat.wait_messages(manager, after=0, wait=0, count=10))
                for manager in MANAGERS
            }
            if all(counts.values()):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # a late duplicate would show up now
        counts = {
            manager: len(await chat.wait_messages(manager, after=0, wait=0, count=10))
            for manager in MANAGERS
        }
    assert counts == dict.fromkeys(MANAGERS, 1)
    sent = await cluster.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.kind == "morning_push", Delivery.status == "sent"
        )
    )
    assert sent == len(MANAGERS) + 2  # and Anna and John
    assert await cluster.total("crmbot_pushes", kind="morning_push", outcome="sent") == sent


@pytestmark_module
async def test_the_nightly_recompute_runs_once(cluster: Cluster) -> None:
    deadline = time.monotonic() + 30
    runs, job = 0, None
    while time.monotonic() < deadline:
        runs = await cluster.scalar(
            select(func.count(SegmentationRun.id)).where(
                SegmentationRun.as_of == cluster.local_today
            )
        )
        job = await cluster.scalar(
            select(AppSetting.value).where(
                AppSetting.key == f"job.recompute.{cluster.local_today.isoformat()}"
            )
        )
        if job and job.get("state") == "done":
            break
        await asyncio.sleep(0.3)
    assert job is not None and job["state"] == "done", job
    assert runs == 1
    logs = [replica.log().count("recomputing segments as of") for replica in cluster.replicas]
    assert sorted(logs) == [0, 1]
    pages = await cluster.metrics()
    timestamps = [metric(page, "crmbot_recompute_last_timestamp_seconds") for page in pages]
    assert sorted(value > 0 for value in timestamps) == [False, True]


@pytestmark_module
async def test_a_redelivered_update_is_handled_once_across_replicas(cluster: Cluster) -> None:
    async with SandboxClient(cluster.sandbox_url) as chat:
        sent = await chat.send(ADMIN, "/help")
        await chat.wait_for(ADMIN, lambda m: bool(text_of(m)), timeout=20)
        before = len(await chat.wait_messages(ADMIN, after=0, wait=0.5, count=100))
        duplicates = await cluster.total("crmbot_updates", outcome="duplicate")
        await chat.redeliver(int(sent["update_id"]))
        deadline = time.monotonic() + 10
        while await cluster.total("crmbot_updates", outcome="duplicate") == duplicates:
            assert time.monotonic() < deadline, "the redelivered update never arrived"
            await asyncio.sleep(0.1)
        assert len(await chat.wait_messages(ADMIN, after=0, wait=1.0, count=100)) == before


@pytestmark_module
async def test_forged_webhook_requests_are_refused_and_nothing_is_handled(
    cluster: Cluster,
) -> None:
    import aiohttp

    forged = {
        "update_id": 880001,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": ADMIN, "type": "private"},
            "from": {"id": ADMIN, "is_bot": False, "first_name": "Mallory"},
            "text": "/users",
        },
    }
    before = await cluster.total("crmbot_updates")
    async with SandboxClient(cluster.sandbox_url) as chat, aiohttp.ClientSession() as session:
        replies = len(await chat.wait_messages(ADMIN, after=0, wait=0, count=100))
        for headers, status in (
            ({}, 401),
            ({"X-Telegram-Bot-Api-Secret-Token": "guess"}, 403),
            ({"X-Telegram-Bot-Api-Secret-Token": SECRET[:-1]}, 403),
        ):
            for _ in cluster.replicas:  # through the proxy, so each replica is asked
                async with session.post(
                    f"{cluster.proxy.url}/telegram", json=forged, headers=headers
                ) as response:
                    assert response.status == status
        await asyncio.sleep(0.5)
        assert len(await chat.wait_messages(ADMIN, after=0, wait=0, count=100)) == replies
    assert await cluster.total("crmbot_updates") == before


@pytestmark_module
async def test_a_replica_killed_mid_flow_the_call_is_logged_once_by_the_other(
    cluster: Cluster,
) -> None:
    interactions = select(func.count(Interaction.id))
    before = await cluster.scalar(interactions)
    async with SandboxClient(cluster.sandbox_url) as chat:
        await chat.send(ANNA, "/log Лютик")
        prompt = await chat.wait_for(ANNA, lambda m: "Как прошёл звонок?" in text_of(m), timeout=20)
        await chat.press(ANNA, prompt["message_id"], button_data(prompt, "Дозвонился"))
        step = await chat.wait_for(
            ANNA,
            lambda m: m["message_id"] == prompt["message_id"] and "Когда связаться" in text_of(m),
            timeout=10,
        )

        # halfway through, between two taps (the edit is out, the handler done): one machine
        # is gone. (A replica killed inside a handler would leave that chat's lock in Redis
        # until it expires: aiogram's RedisEventIsolation holds it for 60 s at most.)
        deadline = time.monotonic() + 10
        while await cluster.total("crmbot_updates_in_flight") > 0:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        cluster.replicas[1].kill()
        assert await cluster.replicas[1].wait(within=10) == -9

        await chat.press(ANNA, step["message_id"], button_data(step, "Завтра"))
        step = await chat.wait_for(
            ANNA,
            lambda m: m["message_id"] == step["message_id"] and "Комментарий?" in text_of(m),
            timeout=20,
        )
        await chat.press(ANNA, step["message_id"], button_data(step, "Без комментария"))
        await chat.wait_for(ANNA, lambda m: "Звонок сохранён" in text_of(m), timeout=20)
        # a double tap on the last button (stale now) stores nothing more
        await chat.press(ANNA, step["message_id"], button_data(step, "Без комментария"), force=True)
        await asyncio.sleep(1)
    assert await cluster.scalar(interactions) == before + 1
    assert any(status == 0 for _, status in cluster.proxy.forwarded)  # it did hit the dead one
    # still exactly one morning push each, after all this
    async with SandboxClient(cluster.sandbox_url) as chat:
        for manager in MANAGERS[:5]:
            assert len(await chat.wait_messages(manager, after=0, wait=0, count=10)) == 1
