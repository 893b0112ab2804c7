"""Webhook mode: aiogram's aiohttp request handler, with the checks a public endpoint needs.

Telegram POSTs each update to `WEBHOOK_URL` (a reverse proxy forwards it to
`WEBHOOK_HOST:WEBHOOK_PORT` + `WEBHOOK_PATH`) with the secret in a header. The request is
answered at once and the update handled in the background (in `InFlight`, so a graceful stop
waits for it). A request without the header gets 401, a wrong secret 403, a body that is
not an update 400 — and nothing is handled. While the process is starting or stopping, or
the database is down, updates get 503: Telegram keeps them and delivers them again later,
possibly to another replica.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.config import WebhookSettings
from bot.runtime.polling import process_update
from bot.runtime.updates import InFlight

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RETRY_AFTER_SECONDS = "5"
MAX_UPDATE_BYTES = 2 * 1024 * 1024


class WebhookHandler(SimpleRequestHandler):
    """`SimpleRequestHandler` with `secret_token`, answering at once, handling in background."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        secret_token: str,
        in_flight: InFlight,
        accepting: Callable[[], bool],
    ) -> None:
        super().__init__(dispatcher, bot, handle_in_background=True, secret_token=secret_token)
        self._in_flight = in_flight
        self._accepting = accepting

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            log.warning("webhook request from %s without the secret header", request.remote)
            return web.Response(status=401, text="Unauthorized")
        if not self.verify_secret(given, bot):
            log.warning("webhook request from %s with a wrong secret", request.remote)
            return web.Response(status=403, text="Forbidden")
        if not self._accepting():
            return web.Response(
                status=503, text="Not ready", headers={"Retry-After": RETRY_AFTER_SECONDS}
            )
        if (request.content_length or 0) > MAX_UPDATE_BYTES:
            return web.Response(status=413, text="Too large")
        try:
            payload = await request.json(loads=bot.session.json_loads)
            update = Update.model_validate(payload, context={"bot": bot})
        except (ValueError, ValidationError):
            log.warning("webhook request from %s is not a Telegram update", request.remote)
            return web.Response(status=400, text="Not an update")
        self._in_flight.submit(
            process_update(self.dispatcher, bot, update, **self.data),
            name=f"update-{update.update_id}",
        )
        return web.json_response({})

    async def close(self) -> None:
        """Nothing: the application owns the Bot session and closes it last."""


async def register_webhook(bot: Bot, settings: WebhookSettings, allowed_updates: list[str]) -> None:
    """`setWebhook` with the secret; every replica registers the same URL (idempotent).

    Pending updates are kept (never `drop_pending_updates`): they are people's messages.
    """
    url = settings.url.strip()
    await bot.set_webhook(
        url,
        secret_token=settings.secret_token(),
        allowed_updates=allowed_updates,
        drop_pending_updates=False,
    )
    log.info("webhook registered: %s", url)


async def check_webhook(
    bot: Bot, settings: WebhookSettings, allowed_updates: list[str], last_error: list[str]
) -> None:
    """Re-register the webhook if it was removed or changed; log Telegram's delivery errors."""
    info = await bot.get_webhook_info()
    url = settings.url.strip()
    if info.url != url:
        log.warning("the webhook is %r, not %r: registering it again", info.url or None, url)
        await register_webhook(bot, settings, allowed_updates)
    message = info.last_error_message or ""
    if message and message not in last_error:
        log.warning(
            "Telegram could not deliver updates to the webhook: %s (%s pending)",
            message,
            info.pending_update_count,
        )
    last_error[:] = [message]
