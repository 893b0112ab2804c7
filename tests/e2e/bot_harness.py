"""The real bot, end to end: the application from `bot.app` long-polls the local sandbox.

Usage (fixtures come from tests/e2e/conftest.py):

    async def test_today(bot_app: BotHarness, seed: SeedIds, chat: SandboxClient) -> None:
        await chat.send(ANNA, "/today")                       # ANNA = 2001, a manager
        msg = await chat.wait_for(ANNA, lambda m: "Ромашка" in m["plain_text"])
        await chat.press(ANNA, msg["message_id"], button_data(msg, "Записать"))

* `seed` – ids of a small known base (`SeedIds`): admin 1000, head 1001, managers 2001
  (Анна Смирнова, ru) and 2002 (John Carter, en), clients of each incl. a VIP, a few
  transactions and interactions, segment snapshots for `SNAPSHOT_AS_OF`.
* `bot_app` – the running application (`BotHarness`): `.app` (bot.app.Application),
  `.uow_factory`, `.clock` (a FixedClock at `NOW`: move it with `.clock.advance(...)`),
  `.settings`, `await bot_app.restart()` (stop and start on the same database, same
  sandbox), `bot_app.expect_errors()` (a test that provokes an unexpected error).
  Unless told to expect them, errors logged by handlers fail the test at teardown.
* `chat` – the SandboxClient (tests/e2e/sandbox_harness.py): `send`, `press`, `wait_for`,
  `wait_messages`, `commands`, `callback_answer`, `upload_document`, ...
  `m["plain_text"]` is the text as the person sees it (HTML removed); `m["text"]` is what
  the bot sent (with tags). Helpers here: `buttons(msg)`, `button_data(msg, "label part")`.
* The database is a fresh migrated SQLite copy per test; run a test on PostgreSQL with
  `@pytest.mark.parametrize("bot_db_url", ["postgres"], indirect=True)`, or all of them
  with `E2E_DATABASE=postgres`.
* Stubs of Telegram's rate limits are off in these tests (length and button checks stay
  on); pass `LimitsConfig(...)` through `@pytest.mark.sandbox_limits(...)` to change that.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pandas as pd
import pytest

from bot.app import Application, create_application
from bot.config import Settings, load_settings
from sandbox import LimitsConfig, Sandbox, SandboxConfig
from services.clock import FixedClock
from services.dashboard import refresh_aggregates
from services.db.engine import make_engine, make_session_factory
from services.db.models import (
    Channel,
    Client,
    ClientPhone,
    Interaction,
    Outcome,
    Role,
    SegmentationRun,
    Transaction,
    User,
)
from services.normalize import normalize_name
from services.segment_state import store_states
from services.uow import UnitOfWorkFactory
from tests.e2e.sandbox_harness import SandboxClient, SandboxTimeout

TOKEN = "123456:TEST"
BOT_USERNAME = "crm_sandbox_bot"
# Monday 2 March 2026, 09:00 in Moscow: a working morning.
NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
SNAPSHOT_AS_OF = date(2026, 3, 1)

ADMIN = 1000
HEAD = 1001
ANNA = 2001
JOHN = 2002
STRANGER = 900000001  # the sandbox's "unknown person" (language en)

_LOGGERS = ("aiogram.event", "aiogram.dispatcher", "handlers.errors", "bot.runtime.updates")


# --- The small known base ---------------------------------------------------------------


@dataclass(frozen=True)
class SeedIds:
    """Database ids of the seeded base; Telegram ids are the module constants."""

    admin: int
    head: int
    anna: int
    john: int
    anna_clients: tuple[int, ...]  # the first one is Anna's VIP
    john_clients: tuple[int, ...]
    vip: int
    as_of: date

    @property
    def user_ids(self) -> dict[int, int]:
        """Telegram id -> user id."""
        return {ADMIN: self.admin, HEAD: self.head, ANNA: self.anna, JOHN: self.john}


IDENTITIES: list[dict[str, Any]] = [
    {"id": ADMIN, "first_name": "Админ", "role": "admin", "language_code": "ru"},
    {
        "id": HEAD,
        "first_name": "Ольга",
        "last_name": "Петрова",
        "role": "head",
        "language_code": "ru",
    },
    {
        "id": ANNA,
        "first_name": "Анна",
        "last_name": "Смирнова",
        "role": "manager",
        "language_code": "ru",
    },
    {
        "id": JOHN,
        "first_name": "John",
        "last_name": "Carter",
        "role": "manager",
        "language_code": "en",
    },
]

_CLIENTS: list[dict[str, Any]] = [
    # owner, name, phone, tax id, vip, category, city
    {
        "owner": ANNA,
        "name": "ООО «Ромашка»",
        "phone": "+7 916 123-45-67",
        "tax_id": "7701234567",
        "vip": True,
        "category": "Кофе",
        "city": "Москва",
    },
    {
        "owner": ANNA,
        "name": "ИП Васильев",
        "phone": "8 (903) 555-01-02",
        "tax_id": "500100732259",
        "vip": False,
        "category": "Чай",
        "city": "Тверь",
    },
    {
        "owner": ANNA,
        "name": "ООО «Лютик»",
        "phone": "+7 495 111-22-33",
        "tax_id": "7702345678",
        "vip": False,
        "category": "Кофе",
        "city": "Москва",
    },
    {
        "owner": JOHN,
        "name": "АО «Василёк»",
        "phone": "+7 812 444-55-66",
        "tax_id": "7803456789",
        "vip": False,
        "category": "Сиропы",
        "city": "Санкт-Петербург",
    },
    {
        "owner": JOHN,
        "name": "ООО «Одуванчик»",
        "phone": "+7 343 777-88-99",
        "tax_id": "6604567890",
        "vip": False,
        "category": "Кофе",
        "city": "Екатеринбург",
    },
]


async def seed_small_base(
    uow_factory: UnitOfWorkFactory, *, as_of: date = SNAPSHOT_AS_OF
) -> SeedIds:
    """Insert the small known base (see the module docstring) and return its ids."""
    async with uow_factory() as uow:
        session = uow.session
        people = {
            ADMIN: User(telegram_id=ADMIN, display_name="Админ Системы", role=Role.ADMIN.value),
            HEAD: User(telegram_id=HEAD, display_name="Ольга Петрова", role=Role.HEAD.value),
            ANNA: User(
                telegram_id=ANNA,
                display_name="Анна Смирнова",
                role=Role.MANAGER.value,
                language="ru",
            ),
            JOHN: User(
                telegram_id=JOHN, display_name="John Carter", role=Role.MANAGER.value, language="en"
            ),
        }
        session.add_all(people.values())
        await uow.flush()

        clients: list[Client] = []
        for number, spec in enumerate(_CLIENTS, start=1):
            client = Client(
                external_id=f"SEED-{number}",
                name=spec["name"],
                name_normalized=normalize_name(spec["name"]),
                tax_id=spec["tax_id"],
                phones=spec["phone"],
                city=spec["city"],
                owner_id=people[spec["owner"]].id,
                is_vip=spec["vip"],
                vip_reason="Ключевой клиент" if spec["vip"] else None,
                next_due_on=as_of + timedelta(days=number - 2),
            )
            digits = "".join(ch for ch in spec["phone"] if ch.isdigit())
            phone = "7" + digits[1:] if digits.startswith("8") else digits
            client.phone_numbers.append(ClientPhone(phone=phone))
            clients.append(client)
        session.add_all(clients)
        await uow.flush()

        for index, client in enumerate(clients):
            spec = _CLIENTS[index]
            for months_ago in (1, 2, 4):
                session.add(
                    Transaction(
                        client_id=client.id,
                        date=as_of - timedelta(days=30 * months_ago + index),
                        amount=Decimal("10000.00") * (len(clients) - index) + Decimal("0.50"),
                        order_number=f"SEED-{client.id}-{months_ago}",
                        category=spec["category"],
                    )
                )
            owner = people[spec["owner"]]
            session.add(
                Interaction(
                    client_id=client.id,
                    user_id=owner.id,
                    occurred_at=NOW - timedelta(days=10 + index),
                    channel=Channel.CALL.value,
                    outcome=Outcome.REACHED.value,
                    comment="Обсудили новый прайс",
                    next_contact_on=as_of + timedelta(days=index),
                )
            )

        run = SegmentationRun(as_of=as_of, n_clients=len(clients))
        session.add(run)
        await uow.flush()
        segments = ["AX", "BY", "CZ", "AY", "BZ"]
        states = pd.DataFrame(
            [
                {
                    "client_id": client.id,
                    "abc": segments[index][0],
                    "xyz": segments[index][1],
                    "segment": segments[index],
                    "status": "active" if index != 2 else "dormant",
                    "revenue": Decimal("30000.00") * (len(clients) - index),
                    "p_alive": 0.9 - 0.15 * index,
                    # the analysis' band of that P(alive) (>= 0.8 low, >= 0.5 medium)
                    "risk": ["low", "medium", "medium", "high", "high"][index],
                    "churn_probability": 0.1 + 0.15 * index,
                    "cadence_days": 14 + 7 * index,
                    "next_due": client.next_due_on,
                    # one model: the dormant client to win back is not also at risk
                    "reactivation": index == 2,
                    "at_risk": index == 1,
                    "revenue_at_risk": Decimal("15000.00") if index == 1 else Decimal(0),
                    "upsell": index == 0,
                    "cross_sell": ["Чай"] if _CLIENTS[index]["category"] == "Кофе" else [],
                }
                for index, client in enumerate(clients)
            ]
        )
        await store_states(session, run, states)
        ids = SeedIds(
            admin=people[ADMIN].id,
            head=people[HEAD].id,
            anna=people[ANNA].id,
            john=people[JOHN].id,
            anna_clients=tuple(
                c.id for c, s in zip(clients, _CLIENTS, strict=True) if s["owner"] == ANNA
            ),
            john_clients=tuple(
                c.id for c, s in zip(clients, _CLIENTS, strict=True) if s["owner"] == JOHN
            ),
            vip=clients[0].id,
            as_of=as_of,
        )
        await uow.commit()
    await refresh_aggregates(uow_factory(), as_of)  # what a segment recompute does last
    return ids


# --- Reading what the bot showed ----------------------------------------------------------


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline buttons of a feed message, row by row, flattened."""
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def button_data(message: dict[str, Any], label_part: str) -> str:
    """The callback data of the first button whose text contains `label_part`."""
    for button in buttons(message):
        if label_part in button["text"] and "callback_data" in button:
            return str(button["callback_data"])
    labels = [button["text"] for button in buttons(message)]
    raise AssertionError(f"no button with {label_part!r} in {labels}")


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("plain_text") or "")


async def wait_answer(
    chat: SandboxClient, user_id: int, pressed: dict[str, Any], wait: float = 5.0
) -> dict[str, Any]:
    """The bot's answerCallbackQuery to a `chat.press(...)`: `{"text", "show_alert", ...}`.

    An answer with text is a chat change (a toast), so this waits on the feed, not a sleep.
    """
    deadline = time.monotonic() + wait
    cursor = int(pressed["cursor"])
    while True:
        record = await chat.callback_answer(str(pressed["callback_query_id"]))
        if record["answered"]:
            return dict(record["answer"])
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SandboxTimeout(f"callback query of user {user_id} not answered in {wait}s")
        feed = await chat.messages(user_id, cursor=cursor, wait=min(remaining, 1.0))
        cursor = int(feed["cursor"])


# --- The running application ----------------------------------------------------------------


class _ErrorLog(logging.Handler):
    """Errors the bot logged (handler exceptions, the error router's "unexpected")."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for tests, by variable name (`REDIS_URL=...`); `.env` is not read."""
    values: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "TELEGRAM_API_BASE": "",
        "DEFAULT_LANGUAGE": "ru",
        "DEFAULT_TIMEZONE": "Europe/Moscow",
        "VISIBILITY": "own",
        "MANAGERS_CAN_SET_VIP": False,
        **overrides,
    }
    return load_settings(env_file=None, **values)


class BotHarness:
    """The bot application polling the sandbox; restartable on the same database."""

    def __init__(self, sandbox: Sandbox, settings: Settings, clock: FixedClock) -> None:
        self.sandbox = sandbox
        self.settings = settings
        self.clock = clock
        self._app: Application | None = None
        self._errors = _ErrorLog()
        self._expect_errors = False

    @property
    def app(self) -> Application:
        if self._app is None:
            raise RuntimeError("the bot is not running")
        return self._app

    @property
    def uow_factory(self) -> UnitOfWorkFactory:
        return self.app.uow_factory

    def expect_errors(self) -> None:
        """This test provokes unexpected errors on purpose: do not fail it for them."""
        self._expect_errors = True

    @property
    def errors(self) -> list[logging.LogRecord]:
        return list(self._errors.records)

    async def start(self) -> None:
        if self._app is not None:
            raise RuntimeError("the bot is already running")
        for name in _LOGGERS:
            logging.getLogger(name).addHandler(self._errors)
        app = await create_application(
            self.settings, token=TOKEN, api_base=self.sandbox.base_url, clock=self.clock
        )
        polls_before = await self._polls()
        await app.start_polling()
        self._app = app
        deadline = time.monotonic() + 10
        # Ready when the bot polls: startup hooks (menus) have run by then.
        while await self._polls() <= polls_before:
            if app.polling is not None and app.polling.done():
                await app.polling  # re-raises why polling could not start
                raise RuntimeError("polling stopped before it reached the sandbox")
            if time.monotonic() > deadline:
                raise SandboxTimeout("the bot did not poll the sandbox within 10 s")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        app, self._app = self._app, None
        if app is not None:
            await app.close()
        for name in _LOGGERS:
            logging.getLogger(name).removeHandler(self._errors)

    async def restart(self) -> None:
        """Stop the bot and start a new one on the same database (a process restart)."""
        await self.stop()
        await self.start()

    async def _polls(self) -> int:
        bot_id = TOKEN.split(":", 1)[0]
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.sandbox.base_url}/sandbox/stats") as response,
        ):
            stats = await response.json()
        return int(stats["polls_by_bot"].get(bot_id, 0))

    def check_errors(self) -> None:
        if self._expect_errors or not self._errors.records:
            return
        first = self._errors.records[0]
        raise AssertionError(
            f"the bot logged {len(self._errors.records)} error(s); the first: {first.getMessage()}",
        ) from (first.exc_info[1] if first.exc_info else None)


# --- Fixtures (imported by tests/e2e/conftest.py) ---------------------------------------------


@pytest.fixture(params=[os.environ.get("E2E_DATABASE", "sqlite")])
async def bot_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database for the bot: a copy of the SQLite template, or PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "bot.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    from tests.conftest import _pg_admin, _pg_url, _skip_without_postgres

    _skip_without_postgres(request.getfixturevalue("postgres_available"))
    template = request.getfixturevalue("postgres_template")
    name = f"crmbot_e2e_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(name)
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def seed(bot_db_url: str) -> SeedIds:
    """The small known base, written before the bot starts."""
    engine = make_engine(bot_db_url)
    try:
        return await seed_small_base(UnitOfWorkFactory(make_session_factory(engine)))
    finally:
        await engine.dispose()


def _limits(request: pytest.FixtureRequest) -> LimitsConfig:
    marker = request.node.get_closest_marker("sandbox_limits")
    if marker is not None:
        return marker.args[0] if marker.args else LimitsConfig(**marker.kwargs)
    return LimitsConfig(rate_limit=False)


@pytest.fixture
async def bot_sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    """A sandbox that knows the seeded people; rate limits off unless a test asks."""
    config = SandboxConfig(
        port=0, bot_username=BOT_USERNAME, identities=IDENTITIES, limits=_limits(request)
    )
    async with Sandbox(config) as running:
        yield running


@pytest.fixture
async def bot_app(
    request: pytest.FixtureRequest,
    bot_sandbox: Sandbox,
    bot_db_url: str,
    seed: SeedIds,
    tmp_path: Path,
) -> AsyncIterator[BotHarness]:
    """The real application, seeded, polling the sandbox; stopped cleanly afterwards.

    `@pytest.mark.redis_fsm` keeps the conversation state in Redis instead of the database.
    """
    # files sent to the bot wait in the test's own folder; progress edits come quickly
    overrides: dict[str, Any] = {
        "IMPORT_UPLOAD_DIR": str(tmp_path / "uploads"),
        "IMPORT_PROGRESS_EVERY_S": 0.05,
    }
    if request.node.get_closest_marker("redis_fsm") is not None:
        overrides["REDIS_URL"] = request.getfixturevalue("redis_url")
    harness = BotHarness(bot_sandbox, make_settings(bot_db_url, **overrides), FixedClock(NOW))
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
    harness.check_errors()


@pytest.fixture
async def chat(bot_sandbox: Sandbox) -> AsyncIterator[SandboxClient]:
    """The people: send messages and press buttons as any Telegram id."""
    async with SandboxClient(bot_sandbox.base_url) as client:
        yield client


def messages_text(messages: Iterable[dict[str, Any]]) -> list[str]:
    return [text_of(message) for message in messages]
