"""Webhook delivery: updates POSTed to the bot's URL the way Telegram sends them.

One update per chat at a time (the next update of a chat goes only after the previous one was
answered with a 2xx), chats in parallel up to ``max_connections``. A non-2xx answer, a refused
connection or no answer within ``SandboxConfig.webhook_timeout`` leaves the update pending and
the chat retries after a capped exponential backoff; a 2xx is final. The answer may carry one
Bot API method (JSON, form or multipart, as aiogram's ``SimpleRequestHandler`` writes it).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
from collections.abc import Hashable
from typing import Any
from urllib.parse import parse_qsl

import aiohttp

from sandbox.bot_api import Upload, run_method_from_webhook_answer
from sandbox.logs import redact
from sandbox.state import SandboxState, Webhook

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_IDLE_WAKE = 3600.0


class WebhookDelivery:
    """The loop that POSTs pending updates while a webhook is set; one per sandbox."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        # No connection limit here: max_connections is enforced per webhook by the state.
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
        self._task = asyncio.create_task(self._run(), name="sandbox-webhook")

    async def stop(self) -> None:
        tasks = [task for task in (self._task, *self._deliveries) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        state = self.state
        while not state.closed:
            due, wake_at = state.due_deliveries()
            webhook = state.webhook
            if webhook is not None:
                for key, update in due:
                    task = asyncio.create_task(self._deliver(webhook, key, update))
                    self._deliveries.add(task)
                    task.add_done_callback(self._deliveries.discard)
            wait = _IDLE_WAKE if wake_at is None else max(wake_at - state.clock(), 0.0)
            await state.updates_changed.wait(wait)

    async def _deliver(self, webhook: Webhook, key: Hashable, update: dict[str, Any]) -> None:
        try:
            await self._post(webhook, key, update)
        except Exception as exc:
            # A bug here must not leave the chat stuck "in flight" for good.
            logger.exception("sandbox webhook: delivery of update %s failed", update["update_id"])
            self._failed(key, update, None, f"sandbox error: {type(exc).__name__}")

    async def _post(self, webhook: Webhook, key: Hashable, update: dict[str, Any]) -> None:
        state = self.state
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers[SECRET_HEADER] = webhook.secret_token
        timeout = aiohttp.ClientTimeout(total=state.config.webhook_timeout)
        try:
            async with self._session.post(
                webhook.url,
                data=json.dumps(update, ensure_ascii=False).encode(),
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                if not 200 <= status < 300:
                    reason = response.reason or ""
                    error = f"Wrong response from the webhook: {status} {reason}".strip()
                    self._failed(key, update, status, error)
                    return
                answer = await _read_method(response)
        except TimeoutError:
            self._failed(key, update, None, "Read timeout expired")
            return
        except aiohttp.ClientConnectorError as exc:
            os_error = getattr(exc, "os_error", None)
            refused = getattr(os_error, "errno", None) == errno.ECONNREFUSED
            self._failed(key, update, None, "Connection refused" if refused else str(exc))
            return
        except aiohttp.ClientError as exc:
            self._failed(key, update, None, str(exc) or type(exc).__name__)
            return
        # The bot's reply in the answer is sent before the chat's next update goes out; whatever
        # happens to it, the 2xx stands and the update is never sent again.
        if answer is not None:
            try:
                await run_method_from_webhook_answer(state, webhook.token, *answer)
            except Exception:
                logger.exception("sandbox webhook: the method in the answer to %s failed", key)
        state.delivery_succeeded(key, update, status)

    def _failed(
        self, key: Hashable, update: dict[str, Any], status: int | None, error: str
    ) -> None:
        delay = self.state.delivery_failed(key, update, status, error)
        logger.info(
            "sandbox webhook: update %s not delivered (%s); retry in %.2f s",
            update["update_id"],
            redact(error),
            delay,
        )


async def _read_method(
    response: aiohttp.ClientResponse,
) -> tuple[dict[str, Any], dict[str, Upload]] | None:
    """The Bot API method in a webhook answer, if any; a malformed answer is ignored, as on
    Telegram (the update was delivered either way)."""
    values: dict[str, Any] = {}
    uploads: dict[str, Upload] = {}
    try:
        if response.content_type == "application/json":
            body = await response.json(content_type=None)
            if isinstance(body, dict):
                values = body
        elif response.content_type == "application/x-www-form-urlencoded":
            values = dict(parse_qsl(await response.text(), keep_blank_values=True))
        elif response.content_type.startswith("multipart/"):
            reader = aiohttp.MultipartReader(response.headers, response.content)
            while (part := await reader.next()) is not None:
                if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                    continue
                data = await part.read(decode=True)
                if part.filename:
                    content_type = part.headers.get(aiohttp.hdrs.CONTENT_TYPE)
                    uploads[part.name] = Upload(bytes(data), part.filename, content_type)
                else:
                    values[part.name] = data.decode(part.get_charset("utf-8"))
    except (aiohttp.ClientError, ValueError, UnicodeDecodeError, TimeoutError) as exc:
        logger.info("sandbox webhook: unreadable answer body ignored (%s)", exc)
        return None
    if not values.get("method"):
        return None
    return values, uploads
