"""`crmbot run` as a process: start with backoff, serve, and stop cleanly or fail loudly.

1. The HTTP server comes up first (`/healthz` answers while the rest starts; `/readyz` says
   "starting"): on the webhook port in webhook mode, on `HEALTH_PORT` in polling mode.
2. The database, then the Bot API (`getMe`), are retried with capped exponential backoff,
   each attempt logged; after `STARTUP_GIVE_UP_S` the process exits 1.
3. The Dispatcher starts (menus, scheduler, search index), then the webhook is registered
   (`setWebhook` with the secret) or polling begins.
4. While serving, the database is probed and, in webhook mode, the webhook checked; either
   dependency failing for longer than the give-up time, polling giving up, or the Bot API
   rejecting the token ends the process non-zero.
5. SIGTERM or SIGINT: stop taking updates (webhook requests get 503, polling stops), let the
   handlers in flight finish (at most `SHUTDOWN_TIMEOUT_S`), stop the scheduler (it finishes
   its current sends), close the database; exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiohttp import web

from bot.app import Application
from bot.runtime.backoff import GaveUp, retry
from bot.runtime.health import DATABASE_ERRORS, Health
from bot.runtime.http import Mount, build_web_app
from bot.runtime.polling import BotApiRejected, Poller, rejected
from bot.runtime.webhook import WebhookHandler, check_webhook, register_webhook
from services.db.schema import ensure_schema

log = logging.getLogger(__name__)

# What an unreachable, restarting or overloaded Bot API raises: worth waiting for.
TRANSIENT_BOT_API_ERRORS: tuple[type[BaseException], ...] = (
    TelegramNetworkError,
    TelegramServerError,
    TelegramRetryAfter,
    ClientDecodeError,
    OSError,
    TimeoutError,
)
# Anything the Bot API may answer, while serving.
BOT_API_ERRORS: tuple[type[BaseException], ...] = (TelegramAPIError, *TRANSIENT_BOT_API_ERRORS)
WEBHOOK_CHECK_INTERVAL = 60.0
SERVER_SHUTDOWN_TIMEOUT = 5.0


class Stopped(Exception):
    """A stop signal arrived while starting."""


class BotRuntime:
    """Runs one `Application` until a signal (exit 0) or a failure it cannot outwait."""

    def __init__(
        self,
        app: Application,
        *,
        mounts: Sequence[Mount] = (),
        polling_timeout: int = 10,
    ) -> None:
        self.app = app
        self.settings = app.settings
        self.webhook = app.settings.webhook
        self.policy = app.retry_policy()
        scheduler = app.scheduler
        self.health = Health(
            app.metrics,
            self.policy,
            scheduler_running=(lambda: scheduler.running) if scheduler is not None else None,
        )
        self.health.engine = app.engine
        self._polling_timeout = polling_timeout
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._runner: web.AppRunner | None = None
        handler = None
        if self.webhook.enabled:
            secret = self.webhook.secret_token()
            assert secret is not None, "checked by WebhookSettings.problems()"
            handler = WebhookHandler(
                app.dispatcher,
                app.bot,
                secret_token=secret,
                in_flight=app.in_flight,
                accepting=lambda: self.health.serving and self.health.database_up,
            )
        self.web_app = build_web_app(
            self.health,
            app.metrics,
            webhook=(self.webhook.path, handler) if handler is not None else None,
            mounts=mounts,
        )

    @property
    def mode(self) -> str:
        return "webhook" if self.webhook.enabled else "polling"

    def stop(self) -> None:
        """Begin a graceful stop (what SIGTERM and SIGINT do)."""
        if not self._stop.is_set():
            log.info("stopping: no new updates; finishing the ones in flight")
        self._stop.set()

    async def run(self) -> None:
        """Serve until `stop()`; raises `GaveUp` or `BotApiRejected` when it cannot go on."""
        failure: BaseException | None = None
        try:
            await self._start_server()
            await self._until_stopped(self._start())
            self.health.serving = True
            log.info("serving in %s mode", self.mode)
            await self._until_stopped(self._stop.wait())
        except Stopped:
            pass
        except (GaveUp, BotApiRejected) as error:
            failure = error
        finally:
            await self._shutdown()
        if failure is not None:
            raise failure

    async def _until_stopped(self, work: Awaitable[Any]) -> None:
        """Run `work` until it is done, a stop is asked, or a background task fails."""
        job: asyncio.Future[Any] = asyncio.ensure_future(work)
        stop = asyncio.ensure_future(self._stop.wait())
        waiting: set[asyncio.Future[Any]] = {job, stop, *self._tasks}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            for task in self._tasks:  # a watcher or the poller ended: that is a failure
                if task.done():
                    task.result()  # raises GaveUp / BotApiRejected
                    raise GaveUp(task.get_name(), 0, RuntimeError("stopped unexpectedly"))
            if job.done():
                job.result()
                return
            raise Stopped()
        finally:
            for future in (job, stop):
                if not future.done():
                    future.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await future

    # --- starting ------------------------------------------------------------------------

    async def _start_server(self) -> None:
        self._background(self.health.heartbeat(), "heartbeat")
        if self.webhook.enabled:
            host, port = self.webhook.host, self.webhook.port
        elif self.settings.runtime.health_port is not None:
            host, port = self.settings.runtime.health_host, self.settings.runtime.health_port
        else:
            return
        runner = web.AppRunner(
            self.web_app, access_log=None, shutdown_timeout=SERVER_SHUTDOWN_TIMEOUT
        )
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            await runner.cleanup()
            raise OSError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
        self._runner = runner
        log.info("listening on http://%s:%s (/healthz, /readyz, /metrics)", host, port)

    async def _start(self) -> None:
        app = self.app
        await retry(
            lambda: ensure_schema(app.engine), self.health.database, retry_on=DATABASE_ERRORS
        )
        self.health.database_reachable()
        me = await self._bot_api(app.bot.me)
        log.info("connected to the Bot API as @%s (id %s)", me.username, me.id)
        await app.startup()
        self._background(self._watch_database(), "database watch")
        allowed = app.dispatcher.resolve_used_update_types()
        if self.webhook.enabled:
            await self._bot_api(
                lambda: register_webhook(app.bot, self.webhook, allowed),
                hint="Check WEBHOOK_URL (Telegram needs HTTPS on port 443, 80, 88 or 8443).",
            )
            self._background(self._watch_webhook(allowed), "webhook watch")
        else:
            await self._bot_api(self._leave_webhook)
            poller = Poller(
                app.dispatcher,
                app.bot,
                app.in_flight,
                self.health.bot_api,
                polling_timeout=self._polling_timeout,
                wait_for_database=self.health.wait_for_database,
                on_answer=self.health.bot_api_answered,
            )
            app.attach_poller(poller, self._background(poller.run(), "polling"))

    async def _bot_api(self, call: Callable[[], Awaitable[Any]], hint: str | None = None) -> Any:
        """A Bot API call at startup: retried while the API is unreachable; a refusal is fatal."""
        try:
            result = await retry(call, self.health.bot_api, retry_on=TRANSIENT_BOT_API_ERRORS)
        except TelegramAPIError as error:
            raise rejected(error, hint) from error
        self.health.bot_api_answered()
        return result

    async def _leave_webhook(self) -> None:
        """Polling needs no webhook: Telegram answers getUpdates with 409 while one is set."""
        info = await self.app.bot.get_webhook_info()
        if info.url:
            log.warning("a webhook is set (%s); removing it to poll for updates", info.url)
            await self.app.bot.delete_webhook(drop_pending_updates=False)

    def _background(self, work: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        task.set_name(name)
        if name != "heartbeat":
            self._tasks.append(task)
        return task

    # --- watching ------------------------------------------------------------------------

    async def _watch_database(self) -> None:
        while True:
            delay = await self.health.probe_database()
            await asyncio.sleep(delay)

    async def _watch_webhook(self, allowed: list[str]) -> None:
        """Every minute: the Bot API answers, and the webhook is still ours."""
        last_error: list[str] = []
        while True:
            await asyncio.sleep(WEBHOOK_CHECK_INTERVAL)
            try:
                await check_webhook(self.app.bot, self.webhook, allowed, last_error)
            except (TelegramUnauthorizedError, TelegramNotFound) as error:
                raise rejected(error) from error
            except BOT_API_ERRORS as error:
                await asyncio.sleep(self.health.bot_api.failed(error))
                continue
            self.health.bot_api_answered()

    # --- stopping ------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        self.health.serving = False
        self.health.stopping = True
        app = self.app
        await app.stop_polling()
        drained = await app.in_flight.drain(self.settings.runtime.shutdown_timeout_s)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await app.shutdown()  # the scheduler finishes its current sends and stops
        finally:
            if self._runner is not None:
                await self._runner.cleanup()
            await app.close(drain_timeout=0)
        log.info("stopped%s", "" if drained else " (some updates were cut short)")


async def run_until_signal(runtime: BotRuntime) -> None:
    """`runtime.run()` with SIGTERM and SIGINT mapped to a graceful stop."""
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, runtime.stop)
    try:
        await runtime.run()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
