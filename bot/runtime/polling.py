"""Long polling that never idles silently.

aiogram's own loop retries `getUpdates` forever, whatever the error: a revoked token (401)
or a webhook set by another deployment (409) would leave a process that looks alive and
does nothing. This loop backs off the same way, but counts the failures in a
`FailureStreak` that gives up after `STARTUP_GIVE_UP_S` (the process then exits non-zero),
stops at once on 401, and waits instead of fetching while the database is down (the updates
stay with Telegram rather than failing one by one). Each update is handled in its own task
(`InFlight`), so a slow or failing handler never stops the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update

from bot.runtime.backoff import FailureStreak
from bot.runtime.updates import InFlight

log = logging.getLogger(__name__)

DEFAULT_POLLING_TIMEOUT = 10
CONFIRM_TIMEOUT = 5


class BotApiRejected(RuntimeError):
    """The Bot API refuses this bot for good (wrong or revoked token, wrong server)."""


TOKEN_HINT = "Check BOT_TOKEN (from @BotFather) and TELEGRAM_API_BASE."


def rejected(error: TelegramAPIError, hint: str | None = None) -> BotApiRejected:
    return BotApiRejected(
        f"the Bot API refused {error.method.__api_method__} "
        f"({type(error).__name__}: {error.message}). {hint or TOKEN_HINT}"
    )


async def process_update(dispatcher: Dispatcher, bot: Bot, update: Update, **data: Any) -> None:
    """Feed one update to the Dispatcher; a method returned by a handler is called."""
    response = await dispatcher.feed_update(bot, update, **data)
    if isinstance(response, TelegramMethod):
        await dispatcher.silent_call_request(bot=bot, result=response)


class Poller:
    """`getUpdates` in a loop until `stop()`; raises `GaveUp` or `BotApiRejected` instead."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        in_flight: InFlight,
        streak: FailureStreak,
        *,
        polling_timeout: int = DEFAULT_POLLING_TIMEOUT,
        wait_for_database: Callable[[], Awaitable[None]] | None = None,
        on_answer: Callable[[], None] | None = None,
    ) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._in_flight = in_flight
        self._streak = streak
        self._timeout = polling_timeout
        self._wait_for_database = wait_for_database
        self._on_answer = on_answer
        self._offset: int | None = None
        self._stopping = asyncio.Event()
        self._request: asyncio.Task[list[Update]] | None = None

    async def run(self) -> None:
        allowed = self._dispatcher.resolve_used_update_types()
        log.info("polling for updates (%s)", ", ".join(allowed))
        while not self._stopping.is_set():
            if self._wait_for_database is not None:
                await self._wait_for_database()
            try:
                updates = await self._fetch(allowed)
            except asyncio.CancelledError:
                if self._stopping.is_set():
                    break
                raise
            except (TelegramUnauthorizedError, TelegramNotFound) as error:
                raise rejected(error) from error
            except TelegramRetryAfter as error:
                log.warning("getUpdates: flood control, waiting %s s", error.retry_after)
                await self._pause(float(error.retry_after))
                continue
            except (TelegramAPIError, ClientDecodeError, OSError, TimeoutError) as error:
                await self._pause(self._streak.failed(error))
                continue
            self._streak.succeeded()
            if self._on_answer is not None:
                self._on_answer()
            for update in updates:
                self._offset = update.update_id + 1
                self._in_flight.submit(
                    process_update(self._dispatcher, self._bot, update),
                    name=f"update-{update.update_id}",
                )
        await self._confirm()

    async def _fetch(self, allowed: list[str]) -> list[Update]:
        method = GetUpdates(offset=self._offset, timeout=self._timeout, allowed_updates=allowed)
        timeout = int((self._bot.session.timeout or 60) + self._timeout)
        self._request = asyncio.ensure_future(self._bot(method, request_timeout=timeout))
        try:
            return await self._request
        finally:
            self._request = None

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def stop(self) -> None:
        """Take no more updates: the long poll in progress is dropped."""
        self._stopping.set()
        if self._request is not None:
            self._request.cancel()

    async def _confirm(self) -> None:
        """Tell Telegram the updates taken so far are ours, so no one gets them again.

        `getUpdates` confirms everything below its offset; without this last call the
        updates of the final batch would be delivered again to the next process.
        """
        if self._offset is None:
            return
        method = GetUpdates(offset=self._offset, timeout=0, limit=1)
        try:
            await asyncio.wait_for(self._bot(method), timeout=CONFIRM_TIMEOUT)
        except (TelegramAPIError, ClientDecodeError, OSError, TimeoutError) as error:
            log.warning("could not confirm the last updates: %s", error)
