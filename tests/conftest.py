"""Database fixtures: every database test runs on SQLite and on a real PostgreSQL.

The schema always comes from the Alembic migrations. A migrated template is
built once per session (a file for SQLite, a template database for PostgreSQL)
and each test gets a fresh copy of it.

PostgreSQL comes from `TEST_POSTGRES_URL` (default the local server). When it is
unreachable the PostgreSQL half is skipped with a visible reason, unless
`REQUIRE_POSTGRES=1` (set by `.ci/run`), in which case it is a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services.db.engine import make_engine, make_session_factory
from services.db.schema import upgrade
from services.uow import UnitOfWorkFactory

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS") == "1"
TEMPLATE_DB = f"crmbot_tpl_{os.getpid()}"
T = TypeVar("T")

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def run_in_fresh_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion, even when called under a running event loop.

    Session fixtures may first be requested from inside an async test.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _pg_url(database: str) -> str:
    return make_url(POSTGRES_URL).set(database=database).render_as_string(hide_password=False)


async def _pg_admin(*statements: str) -> None:
    engine = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


async def _probe_postgres() -> str | None:
    try:
        await asyncio.wait_for(_pg_admin("SELECT 1"), timeout=5)
    except Exception as error:  # any failure means "not reachable" here
        return f"{type(error).__name__}: {error}"
    return None


@pytest.fixture(scope="session")
def postgres_available() -> Iterator[bool]:
    problem = run_in_fresh_loop(_probe_postgres())
    if problem and REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL is required (REQUIRE_POSTGRES=1) but unreachable: {problem}")
    yield problem is None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"

    async def build() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        await upgrade(engine)
        async with engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        await engine.dispose()

    run_in_fresh_loop(build())
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_available: bool) -> Iterator[str | None]:
    if not postgres_available:
        yield None
        return

    async def build() -> None:
        await _pg_admin(
            f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"', f'CREATE DATABASE "{TEMPLATE_DB}"'
        )
        engine = make_engine(_pg_url(TEMPLATE_DB))
        await upgrade(engine)
        await engine.dispose()

    run_in_fresh_loop(build())
    yield TEMPLATE_DB
    run_in_fresh_loop(_pg_admin(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)'))


def _skip_without_postgres(available: bool) -> None:
    if not available:
        pytest.skip(
            f"PostgreSQL not reachable at {POSTGRES_URL}: PostgreSQL half skipped "
            "(start it, or set TEST_POSTGRES_URL)"
        )


@pytest.fixture(params=BACKENDS)
async def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of a new, empty database (no schema) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    _skip_without_postgres(request.getfixturevalue("postgres_available"))
    name = f"crmbot_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A URL of a new database already migrated to the newest schema, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    _skip_without_postgres(request.getfixturevalue("postgres_available"))
    template = request.getfixturevalue("postgres_template")
    name = f"crmbot_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(name)
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def uow_factory(engine: AsyncEngine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(make_session_factory(engine))


async def _probe_redis() -> str | None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await asyncio.wait_for(client.ping(), timeout=5)
    except Exception as error:  # any failure means "not reachable" here
        return f"{type(error).__name__}: {error}"
    finally:
        await client.aclose()
    return None


async def _flush_redis() -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """An empty Redis database (`TEST_REDIS_URL`, default db 15 on the local server).

    A plain fixture, so async fixtures can request it with `getfixturevalue`.
    """
    problem = run_in_fresh_loop(_probe_redis())
    if problem:
        if REQUIRE_REDIS:
            pytest.fail(f"Redis is required (REQUIRE_REDIS=1) but unreachable: {problem}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}: Redis test skipped ({problem})")
    run_in_fresh_loop(_flush_redis())
    yield REDIS_URL
    run_in_fresh_loop(_flush_redis())
