"""The composition root: settings, engine, Bot, Dispatcher and scheduler are built here only.

Long-lived objects go into the Dispatcher's data (the company rules, the unit-of-work
factory, the clock, the search index); per-update ones come from `ContextMiddleware`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.middlewares import ContextMiddleware
from bot.runtime.backoff import FailureStreak, RetryPolicy
from bot.runtime.metrics import BotApiMetrics, Metrics
from bot.runtime.polling import Poller
from bot.runtime.retry import RetryRequests
from bot.runtime.updates import InFlight, UpdateDeduplicator, UpdateGuard, build_deduplicator
from bot.storage import DatabaseStorage
from handlers import build_routers
from handlers.calls import DraftGuard
from scheduler.runner import PushScheduler
from services.access import CompanyPolicy
from services.clock import Clock, SystemClock
from services.db.engine import make_engine, make_session_factory
from services.db.schema import ensure_schema
from services.import_desk import ImportDesk
from services.inbox import InboxWatcher
from services.search import SearchIndexStore
from services.uow import UnitOfWorkFactory
from webapp import DashboardConfig, create_dashboard_app

log = logging.getLogger(__name__)

POLLING_STOP_TIMEOUT = 15.0
# Process tests only: SIGKILL the bot right after a logged call is committed, before any
# reply (what a crash at the worst moment leaves behind).
KILL_AFTER_CALL_COMMIT = "CRMBOT_TEST_KILL_AFTER_CALL_COMMIT"


def _die_now() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


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


def build_event_isolation(redis_url: str) -> BaseEventIsolation:
    """One chat's updates one at a time: across every replica with Redis, else in-process."""
    if redis_url:
        from aiogram.fsm.storage.redis import DefaultKeyBuilder, RedisEventIsolation

        return RedisEventIsolation.from_url(
            redis_url, key_builder=DefaultKeyBuilder(with_destiny=True)
        )
    return SimpleEventIsolation()


def build_dispatcher(
    company: CompanyPolicy,
    uow_factory: UnitOfWorkFactory,
    storage: BaseStorage,
    clock: Clock,
    search_index: SearchIndexStore,
    dashboard_url: str | None = None,
    *,
    events_isolation: BaseEventIsolation | None = None,
    update_guard: BaseMiddleware | None = None,
) -> Dispatcher:
    dispatcher = Dispatcher(
        storage=storage,
        events_isolation=events_isolation or SimpleEventIsolation(),
        company=company,
        uow_factory=uow_factory,
        clock=clock,
        search_index=search_index,
        dashboard_url=dashboard_url,  # the Mini App's public URL: buttons that open it
    )
    if update_guard is not None:  # drops redeliveries before any work is done for them
        dispatcher.update.outer_middleware(update_guard)
    dispatcher.update.outer_middleware(ContextMiddleware(uow_factory, company, clock))
    dispatcher.message.outer_middleware(DraftGuard())  # an open call log ends visibly
    dispatcher.callback_query.outer_middleware(DraftGuard())
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
    metrics: Metrics
    deduplicator: UpdateDeduplicator
    scheduler: PushScheduler | None = None
    in_flight: InFlight = field(init=False)
    _poller: Poller | None = field(default=None, repr=False)
    _polling: asyncio.Task[None] | None = field(default=None, repr=False)
    _started: bool = field(default=False, repr=False)
    dashboard_url: str | None = None
    _dashboard: web.AppRunner | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.in_flight = InFlight(self.metrics)
        self.dispatcher.startup.register(self._on_startup)

    async def _on_startup(self) -> None:
        self.search_index.start()

    @property
    def polling(self) -> asyncio.Task[None] | None:
        """The background polling task while `start_polling` runs it."""
        return self._polling

    def retry_policy(self) -> RetryPolicy:
        runtime = self.settings.runtime
        return RetryPolicy(give_up=runtime.startup_give_up_s, cap=runtime.retry_max_delay_s)

    async def startup(self) -> None:
        """The Dispatcher's startup hooks (menus, scheduler, search index), once."""
        if self._started:
            return
        self._started = True
        await self.dispatcher.emit_startup(
            bot=self.bot,
            bots=[self.bot],
            dispatcher=self.dispatcher,
            **self.dispatcher.workflow_data,
        )

    def build_dashboard(self) -> web.Application:
        """The dashboard (page + JSON API) of this bot, to serve or to mount."""
        config = DashboardConfig(
            bot_token=self.bot.token,
            company=self.settings.company.policy(),
            auth_max_age=timedelta(seconds=self.settings.webapp.auth_max_age),
        )
        return create_dashboard_app(
            uow_factory=self.uow_factory, bot=self.bot, config=config, clock=self.clock
        )

    async def serve_dashboard(
        self, *, host: str = "127.0.0.1", port: int = 0, sock: socket.socket | None = None
    ) -> int:
        """Serve the dashboard on its own port (polling mode); returns the port bound.

        `sock`: an already bound socket, so the URL is known before the bot is built.
        """
        runner = web.AppRunner(self.build_dashboard(), handle_signals=False, access_log=None)
        await runner.setup()
        site = web.SockSite(runner, sock) if sock else web.TCPSite(runner, host, port)
        await site.start()
        self._dashboard = runner
        bound = runner.addresses[0]
        log.info("dashboard served on %s", bound)
        return int(bound[1])

    async def shutdown(self) -> None:
        """The Dispatcher's shutdown hooks (the scheduler stops), if it was started."""
        if not self._started:
            return
        self._started = False
        await self.dispatcher.emit_shutdown(
            bot=self.bot,
            bots=[self.bot],
            dispatcher=self.dispatcher,
            **self.dispatcher.workflow_data,
        )

    async def start_polling(
        self,
        streak: FailureStreak | None = None,
        poller: Callable[[Application], Poller] | None = None,
    ) -> None:
        """Start up and long-poll in the background (returns at once)."""
        if poller is not None:
            self._poller = poller(self)
        else:
            self._poller = Poller(
                self.dispatcher,
                self.bot,
                self.in_flight,
                streak
                or FailureStreak(
                    "the Bot API",
                    self.retry_policy(),
                    on_retry=lambda _: self.metrics.retried("bot_api"),
                ),
            )
        running = self._poller

        async def serve() -> None:
            await self.startup()
            await running.run()

        self._polling = asyncio.create_task(serve(), name="polling")

    def attach_poller(self, poller: Poller, task: asyncio.Task[None]) -> None:
        """A poller started by the runtime: `stop_polling` and `close` stop it too."""
        self._poller, self._polling = poller, task

    async def stop_polling(self) -> None:
        """Take no more updates; returns when the polling task has ended."""
        poller, task = self._poller, self._polling
        self._poller = self._polling = None
        if poller is not None:
            await poller.stop()
        if task is None:
            return
        try:
            await asyncio.wait_for(task, timeout=POLLING_STOP_TIMEOUT)
        except TimeoutError:
            log.warning("polling did not stop within %.0f s", POLLING_STOP_TIMEOUT)
        except Exception:  # its failure was reported by whoever ran it
            log.debug("polling had failed", exc_info=True)

    async def close(self, drain_timeout: float | None = None) -> None:
        """Stop taking updates, let handlers in flight finish (bounded), stop, disconnect."""
        if self._dashboard is not None:
            await self._dashboard.cleanup()
            self._dashboard = None
        await self.stop_polling()
        if drain_timeout is None:
            drain_timeout = self.settings.runtime.shutdown_timeout_s
        await self.in_flight.drain(drain_timeout)
        try:
            await self.shutdown()
        finally:
            with contextlib.suppress(Exception):
                await self.deduplicator.close()
            await self.search_index.close()
            await self.dispatcher.storage.close()
            await self.dispatcher.fsm.events_isolation.close()
            await self.bot.session.close()
            await self.engine.dispose()


def attach_scheduler(app: Application) -> PushScheduler:
    """The push scheduler, started and stopped with the Dispatcher."""
    company = app.settings.company
    inbox_folder = app.settings.importing.inbox
    inbox = None
    if inbox_folder is not None:
        inbox = (InboxWatcher(inbox_folder), app.dispatcher["import_desk"])
    push_scheduler = PushScheduler(
        app.bot,
        app.uow_factory,
        app.clock,
        default_timezone=company.default_timezone,
        default_language=company.default_language,
        on_tick=app.metrics.observe_tick,
        dashboard_url=app.dashboard_url,
        inbox=inbox,
    )
    app.metrics.watch_sender(push_scheduler.context.sender.stats)
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
    check_schema: bool = True,
    dashboard_url: str | None = None,
) -> Application:
    """Wire the bot; by default first check that the database is reachable and migrated.

    With `scheduler=True` the push scheduler starts and stops with the Dispatcher;
    tests leave it off and call `scheduler.jobs.tick` with their own clock.
    `check_schema=False` touches no network at all (the runtime then waits for the
    database itself, with backoff).
    `dashboard_url` (default `WEBAPP_URL`) is where Telegram opens the dashboard: the
    menu button of heads and admins and the digest's button lead there.
    """
    dashboard_url = dashboard_url or settings.webapp.public_url()
    engine = make_engine(settings.database.url)
    if check_schema:
        try:
            await ensure_schema(engine)
        except BaseException:
            await engine.dispose()
            raise
    uow_factory = UnitOfWorkFactory(make_session_factory(engine))
    clock = clock or SystemClock()
    bot = build_bot(token, settings.telegram.api_base if api_base is None else api_base)
    metrics = Metrics()
    bot.session.middleware(BotApiMetrics(metrics))
    bot.session.middleware(RetryRequests())  # every reply delivered: 429, 5xx, timeouts
    deduplicator = build_deduplicator(settings.redis.url, bot.id)
    storage = build_storage(settings.redis.url, uow_factory)
    search_index = SearchIndexStore(uow_factory)
    dispatcher = build_dispatcher(
        settings.company.policy(),
        uow_factory,
        storage,
        clock,
        search_index,
        dashboard_url,
        events_isolation=build_event_isolation(settings.redis.url),
        update_guard=UpdateGuard(deduplicator, metrics),
    )
    importing = settings.importing
    dispatcher["import_desk"] = ImportDesk(
        importing.upload_dir,
        max_future_days=importing.max_future_days,
        timezone=settings.company.default_timezone,
        progress_every=importing.progress_every_s,
    )
    app = Application(
        settings,
        engine,
        uow_factory,
        bot,
        dispatcher,
        clock,
        search_index,
        metrics=metrics,
        deduplicator=deduplicator,
        dashboard_url=dashboard_url,
    )
    if scheduler:
        app.scheduler = attach_scheduler(app)
    if os.environ.get(KILL_AFTER_CALL_COMMIT) == "1":
        dispatcher["after_call_commit"] = _die_now
    if configure is not None:
        configure(app)
    return app
