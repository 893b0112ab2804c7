"""The composition root: settings, engine, Bot, Dispatcher and scheduler are built here only.

Long-lived objects go into the Dispatcher's data (the company rules, the unit-of-work
factory, the clock, the search index); per-update ones come from `ContextMiddleware`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.middlewares import ContextMiddleware
from bot.storage import DatabaseStorage
from handlers import build_routers
from scheduler.runner import PushScheduler
from services.access import CompanyPolicy
from services.clock import Clock, SystemClock
from services.db.engine import make_engine, make_session_factory
from services.db.schema import ensure_schema
from services.search import SearchIndexStore
from services.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

POLLING_STOP_TIMEOUT = 15.0


def build_bot(token: str, api_base: str = "") -> Bot:
    """A Bot for official Telegram, or for the Bot API server at `api_base`."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else None
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def build_storage(redis_url: str, uow_factory: UnitOfWorkFactory) -> BaseStorage:
    """Conversation state in Redis when configured, otherwise in the database."""
    if redis_url:
        from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisStorage

        return RedisStorage.from_url(redis_url, key_builder=DefaultKeyBuilder(with_destiny=True))
    return DatabaseStorage(uow_factory.session_factory)


def build_dispatcher(
    company: CompanyPolicy,
    uow_factory: UnitOfWorkFactory,
    storage: BaseStorage,
    clock: Clock,
    search_index: SearchIndexStore,
) -> Dispatcher:
    dispatcher = Dispatcher(
        storage=storage,
        company=company,
        uow_factory=uow_factory,
        clock=clock,
        search_index=search_index,
    )
    dispatcher.update.outer_middleware(ContextMiddleware(uow_factory, company, clock))
    dispatcher.include_routers(*build_routers())
    return dispatcher


@dataclass
class Application:
    """Everything one running bot process owns; built by `create_application`."""

    settings: Settings
    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    bot: Bot
    dispatcher: Dispatcher
    clock: Clock
    search_index: SearchIndexStore
    scheduler: PushScheduler | None = None
    _polling: asyncio.Task[None] | None = field(default=None, repr=False)
    _polling_started: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def __post_init__(self) -> None:
        self.dispatcher.startup.register(self._on_startup)

    async def _on_startup(self) -> None:
        self._polling_started.set()
        self.search_index.start()

    @property
    def polling(self) -> asyncio.Task[None] | None:
        """The background polling task while `start_polling` runs it."""
        return self._polling

    async def start_polling(self) -> None:
        """Start long polling in the background (returns at once)."""
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot, polling_timeout=10, handle_signals=False, close_bot_session=False
            )
        )

    async def close(self) -> None:
        if self._polling is not None:
            if self._polling_started.is_set() and not self._polling.done():
                await self.dispatcher.stop_polling()
            try:
                await asyncio.wait_for(self._polling, timeout=POLLING_STOP_TIMEOUT)
            except (TimeoutError, asyncio.CancelledError):
                self._polling.cancel()
            self._polling = None
        await self.search_index.close()
        await self.dispatcher.storage.close()
        await self.bot.session.close()
        await self.engine.dispose()


def attach_scheduler(app: Application) -> PushScheduler:
    """The push scheduler, started and stopped with the Dispatcher."""
    company = app.settings.company
    push_scheduler = PushScheduler(
        app.bot,
        app.uow_factory,
        app.clock,
        default_timezone=company.default_timezone,
        default_language=company.default_language,
    )
    app.dispatcher.startup.register(push_scheduler.start)
    app.dispatcher.shutdown.register(push_scheduler.stop)
    app.dispatcher["push_scheduler"] = push_scheduler
    return push_scheduler


async def create_application(
    settings: Settings,
    *,
    token: str,
    api_base: str | None = None,
    clock: Clock | None = None,
    configure: Callable[[Application], None] | None = None,
    scheduler: bool = False,
) -> Application:
    """Connect to the database (it must be migrated) and wire the bot.

    With `scheduler=True` the push scheduler starts and stops with the Dispatcher (polling);
    tests leave it off and call `scheduler.jobs.tick` with their own clock.
    """
    engine = make_engine(settings.database.url)
    await ensure_schema(engine)
    uow_factory = UnitOfWorkFactory(make_session_factory(engine))
    clock = clock or SystemClock()
    bot = build_bot(token, settings.telegram.api_base if api_base is None else api_base)
    storage = build_storage(settings.redis.url, uow_factory)
    search_index = SearchIndexStore(uow_factory)
    dispatcher = build_dispatcher(
        settings.company.policy(), uow_factory, storage, clock, search_index
    )
    app = Application(settings, engine, uow_factory, bot, dispatcher, clock, search_index)
    if scheduler:
        app.scheduler = attach_scheduler(app)
    if configure is not None:
        configure(app)
    return app
