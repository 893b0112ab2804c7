"""Helpers for end-to-end tests against the local Bot API sandbox.

``SandboxClient`` plays the people (control API over HTTP); ``run_polling`` runs an aiogram
Dispatcher with long polling against the sandbox, exactly as production polls Telegram, and
``run_webhook`` serves it with aiogram's webhook integration instead.

    async with run_polling(dp, sandbox.base_url) as runner:
        sent = await sandbox_client.send(ANN, "/start")
        reply = await sandbox_client.wait_for(ANN, lambda m: "Welcome" in m["text"])
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import struct
import time
import zlib
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

import aiohttp
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

DEFAULT_TOKEN = "123456:TEST-sandbox-token"

Message = dict[str, Any]
Predicate = Callable[[Message], bool]


class SandboxTimeout(AssertionError):
    """Nothing the test waited for arrived in time (an AssertionError, so pytest shows it)."""


class SandboxClient:
    """Async client of the sandbox control API.

    It remembers, per person, where the chat stood at that person's last action (``send``,
    ``press``, uploads), so ``wait_for`` and ``wait_messages`` look at what the bot did since.
    """

    def __init__(self, base_url: str, session: aiohttp.ClientSession | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._last_cursor: dict[int, int] = {}
        self._last_message_id: dict[int, int] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self.session.request(method, self.base_url + path, **kwargs) as response:
            body = await response.json()
            if response.status >= 400:
                raise AssertionError(f"{method} {path} -> {response.status}: {body}")
            return body

    def _remember(self, user_id: int, cursor: int, message_id: int) -> None:
        self._last_cursor[user_id] = cursor
        self._last_message_id[user_id] = message_id

    # People's actions ---------------------------------------------------------------------

    async def send(self, user_id: int, text: str, **profile: Any) -> Message:
        """Send ``text`` from ``user_id`` (first_name, username, language_code optional)."""
        created = await self._request(
            "POST", f"/sandbox/users/{user_id}/messages", json={"text": text, **profile}
        )
        self._remember(user_id, created["cursor"], created["message_id"])
        return created

    async def press(
        self, user_id: int, message_id: int, data: str, *, force: bool = False
    ) -> dict[str, Any]:
        """Press the inline button with ``data`` under the bot's message ``message_id``.

        The sandbox refuses data that no button of that message carries unless ``force``.
        """
        pressed = await self._request(
            "POST",
            f"/sandbox/users/{user_id}/callbacks",
            json={"message_id": message_id, "data": data, "force": force},
        )
        self._remember(user_id, pressed["cursor"], pressed["last_message_id"])
        return pressed

    async def upload_document(
        self,
        user_id: int,
        name: str,
        data: bytes,
        caption: str | None = None,
        content_type: str | None = None,
    ) -> Message:
        # Raw UTF-8 file names, as browsers and aiogram send them (not percent-encoded).
        form = aiohttp.FormData(quote_fields=False)
        form.add_field("file", data, filename=name, content_type=content_type)
        if caption is not None:
            form.add_field("caption", caption)
        created = await self._request("POST", f"/sandbox/users/{user_id}/documents", data=form)
        self._remember(user_id, created["cursor"], created["message_id"])
        return created

    async def upload_voice(
        self, user_id: int, data: bytes, duration: int = 1, name: str = "voice.ogg"
    ) -> Message:
        form = aiohttp.FormData(quote_fields=False)
        form.add_field("file", data, filename=name, content_type="audio/ogg")
        form.add_field("duration", str(duration))
        created = await self._request("POST", f"/sandbox/users/{user_id}/voice", data=form)
        self._remember(user_id, created["cursor"], created["message_id"])
        return created

    async def upload_photo(self, user_id: int, data: bytes, name: str = "photo.png") -> Message:
        form = aiohttp.FormData(quote_fields=False)
        form.add_field("file", data, filename=name, content_type="image/png")
        created = await self._request("POST", f"/sandbox/users/{user_id}/photos", data=form)
        self._remember(user_id, created["cursor"], created["message_id"])
        return created

    async def block(self, user_id: int, blocked: bool | None = True) -> bool:
        """Make the person block (True) or unblock (False) the bot; None toggles."""
        body = {} if blocked is None else {"blocked": blocked}
        answer = await self._request("POST", f"/sandbox/users/{user_id}/block", json=body)
        return bool(answer["blocked"])

    # What the bot did ---------------------------------------------------------------------

    async def messages(
        self,
        user_id: int,
        *,
        after: int | None = None,
        cursor: int | None = None,
        wait: float = 0.0,
        include_user: bool = False,
    ) -> dict[str, Any]:
        """The raw chat feed: ``{"messages": [...], "cursor": N, "deleted": [...], ...}``."""
        params: dict[str, str] = {"wait": str(wait)}
        if after is not None:
            params["after"] = str(after)
        if cursor is not None:
            params["cursor"] = str(cursor)
        if include_user:
            params["include_user"] = "1"
        return await self._request("GET", f"/sandbox/users/{user_id}/messages", params=params)

    async def wait_messages(
        self,
        user_id: int,
        after: int | None = None,
        wait: float = 5.0,
        predicate: Predicate | None = None,
        count: int = 1,
    ) -> list[Message]:
        """The bot's messages with ids above ``after``, once at least ``count`` match.

        ``after`` defaults to the chat's last message at this person's last action. Edits
        update the returned messages in place. Returns what matched when ``wait`` runs out
        (possibly an empty list); use :meth:`wait_for` to fail instead.
        """
        if after is None:
            after = self._last_message_id.get(user_id, 0)
        deadline = time.monotonic() + wait
        feed = await self.messages(user_id, after=after)
        seen = {message["message_id"]: message for message in feed["messages"]}
        while True:
            matching = [
                message
                for message_id, message in sorted(seen.items())
                if predicate is None or predicate(message)
            ]
            remaining = deadline - time.monotonic()
            if len(matching) >= count or remaining <= 0:
                return matching
            feed = await self.messages(
                user_id, after=after, cursor=feed["cursor"], wait=min(remaining, 30.0)
            )
            if feed["reset"]:
                seen.clear()
            seen.update((message["message_id"], message) for message in feed["messages"])
            for message_id in feed["deleted"]:
                seen.pop(message_id, None)

    async def wait_for(
        self,
        user_id: int,
        predicate: Predicate,
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for the whole wait, not one call
        *,
        since: int | None = None,
    ) -> Message:
        """The first bot message, new or edited since ``since``, that satisfies ``predicate``.

        ``since`` is a feed cursor and defaults to this person's last action, so an edit of an
        old message counts too: ``wait_for(ANN, lambda m: m["message_id"] == 5 and m["edited"])``.
        """
        cursor = self._last_cursor.get(user_id, 0) if since is None else since
        deadline = time.monotonic() + timeout
        seen: list[Message] = []
        while True:
            remaining = deadline - time.monotonic()
            feed = await self.messages(user_id, cursor=cursor, wait=max(min(remaining, 30.0), 0))
            for message in feed["messages"]:
                seen.append(message)
                if predicate(message):
                    return message
            cursor = feed["cursor"]
            if deadline - time.monotonic() <= 0:
                shown = [_summary(message) for message in seen[-10:]]
                raise SandboxTimeout(
                    f"no bot message to user {user_id} matched within {timeout}s; "
                    f"the bot's messages and edits meanwhile: {shown}"
                )

    async def download(self, url: str) -> bytes:
        async with self.session.get(url) as response:
            response.raise_for_status()
            return await response.read()

    # Sandbox controls ---------------------------------------------------------------------

    async def fault(
        self,
        method: str,
        error: int | str,
        times: int = 1,
        *,
        retry_after: int | None = None,
        hold: float | None = None,
        chat_id: int | None = None,
        description: str | None = None,
    ) -> list[dict[str, Any]]:
        """Make the next ``times`` calls of ``method`` fail (429, 500, 502, 403, "timeout")."""
        body: dict[str, Any] = {"method": method, "error": error, "times": times}
        optional = {
            "retry_after": retry_after,
            "hold": hold,
            "chat_id": chat_id,
            "description": description,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        answer = await self._request("POST", "/sandbox/faults", json=body)
        return list(answer["faults"])

    async def clear_faults(self) -> None:
        await self._request("DELETE", "/sandbox/faults")

    async def stats(self) -> dict[str, Any]:
        return dict(await self._request("GET", "/sandbox/stats"))

    async def reset(self, *, chats: bool = False) -> None:
        await self._request("POST", "/sandbox/reset", json={"chats": chats})

    async def users(self) -> list[dict[str, Any]]:
        return list((await self._request("GET", "/sandbox/users"))["users"])

    async def commands(self, user_id: int | None = None) -> list[dict[str, Any]]:
        """Commands the person sees (by scope precedence) or, without a user, all scopes."""
        path = "/sandbox/commands" if user_id is None else f"/sandbox/users/{user_id}/commands"
        return list((await self._request("GET", path))["commands"])

    async def callback_answer(self, callback_query_id: str) -> dict[str, Any]:
        return dict(await self._request("GET", f"/sandbox/callbacks/{callback_query_id}"))

    # Webhooks and Mini Apps ---------------------------------------------------------------

    async def webhook(self) -> dict[str, Any]:
        """Webhook state: ``{"active", "info" (getWebhookInfo), "in_flight", "stats", ...}``."""
        return dict(await self._request("GET", "/sandbox/webhook"))

    async def redeliver(self, update_id: int) -> dict[str, Any]:
        """Send an already delivered update again, with the same ``update_id``."""
        return dict(await self._request("POST", f"/sandbox/updates/{update_id}/redeliver"))

    async def menu_button(self, user_id: int) -> dict[str, Any]:
        return dict(await self._request("GET", f"/sandbox/users/{user_id}/menu_button"))

    async def webapp_init_data(
        self,
        user_id: int,
        url: str | None = None,
        *,
        source: str = "menu",
        theme: str = "light",
        auth_date: int | None = None,
        bot_id: int | None = None,
    ) -> dict[str, Any]:
        """Signed ``initData`` for ``user_id`` (``["init_data"]``), and ``["launch_url"]``."""
        params = {"source": source, "theme": theme}
        optional = {"url": url, "auth_date": auth_date, "bot_id": bot_id}
        params.update({key: str(value) for key, value in optional.items() if value is not None})
        return dict(
            await self._request("GET", f"/sandbox/users/{user_id}/webapp_init_data", params=params)
        )

    async def send_web_app_data(
        self, user_id: int, data: str, button_text: str, *, force: bool = False
    ) -> Message:
        """What ``Telegram.WebApp.sendData(data)`` sends from a reply keyboard's web_app button."""
        created = await self._request(
            "POST",
            f"/sandbox/users/{user_id}/web_app_data",
            json={"data": data, "button_text": button_text, "force": force},
        )
        self._remember(user_id, created["cursor"], created["message_id"])
        return created


def _summary(message: Mapping[str, Any]) -> str:
    text = message.get("plain_text") or ("<photo>" if message.get("photo") else "<document>")
    edited = " (edited)" if message.get("edited") else ""
    return f"#{message['message_id']}{edited}: {text[:80]!r}"


class LoopbackSession(AiohttpSession):
    """aiogram's own AiohttpSession, minus the 250 ms its ``close`` waits for TLS connections.

    The sandbox is plain HTTP on loopback, and that wait, paid by every test that stops a bot,
    adds seconds to the suite. Requests go through aiogram's code unchanged.
    """

    async def close(self) -> None:
        client = getattr(self, "_session", None)
        if not isinstance(client, aiohttp.ClientSession):
            await super().close()  # aiogram's internals changed: fall back to its own close
            return
        if not client.closed:
            await client.close()


def make_bot(base_url: str, token: str = DEFAULT_TOKEN, **bot_kwargs: Any) -> Bot:
    """A Bot whose aiogram session talks to the sandbox instead of Telegram."""
    session = LoopbackSession(api=TelegramAPIServer.from_base(base_url))
    return Bot(token, session=session, **bot_kwargs)


class _AiogramErrors(logging.Handler):
    """Collects exceptions aiogram logs while handling updates (they never reach the test)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.errors.append(record.exc_info[1])


class PollingRunner:
    """Runs ``dp.start_polling(bot)`` in a background task for the duration of a ``with``.

    On entry it waits until the bot really polls the sandbox; on exit it stops polling
    cleanly and, with ``raise_handler_errors``, fails the test if a handler raised.
    """

    def __init__(
        self,
        dp: Dispatcher,
        base_url: str,
        *,
        bot: Bot | None = None,
        token: str = DEFAULT_TOKEN,
        polling_timeout: int = 1,
        raise_handler_errors: bool = True,
        startup_timeout: float = 5.0,
        **polling_kwargs: Any,
    ) -> None:
        self.dp = dp
        self.base_url = base_url
        self.bot = bot or make_bot(base_url, token)
        self.polling_timeout = polling_timeout
        self.raise_handler_errors = raise_handler_errors
        self.startup_timeout = startup_timeout
        self.polling_kwargs = polling_kwargs
        self._task: asyncio.Task[None] | None = None
        self._errors = _AiogramErrors()

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised by handlers so far."""
        return list(self._errors.errors)

    async def __aenter__(self) -> Self:
        logging.getLogger("aiogram.event").addHandler(self._errors)
        async with aiohttp.ClientSession() as session:
            polls_before = await self._polls(session)
            self._task = asyncio.create_task(
                self.dp.start_polling(
                    self.bot,
                    polling_timeout=self.polling_timeout,
                    handle_signals=False,
                    **self.polling_kwargs,
                )
            )
            deadline = time.monotonic() + self.startup_timeout
            while await self._polls(session) <= polls_before:
                if self._task.done():
                    await self._task  # re-raises why polling could not start
                    raise RuntimeError("polling stopped before it reached the sandbox")
                if time.monotonic() > deadline:
                    await self._stop()
                    raise SandboxTimeout(f"the bot did not poll within {self.startup_timeout}s")
                await asyncio.sleep(0.01)
        return self

    async def _polls(self, session: aiohttp.ClientSession) -> int:
        async with session.get(f"{self.base_url}/sandbox/stats") as response:
            stats = await response.json()
        return int(stats["polls_by_bot"].get(str(self.bot.id), 0))

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        try:
            if not task.done():
                await self.dp.stop_polling()
            await asyncio.wait_for(task, timeout=10)
        finally:
            logging.getLogger("aiogram.event").removeHandler(self._errors)
            # start_polling closes the session itself; this covers a task that failed early.
            with contextlib.suppress(Exception):
                await self.bot.session.close()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._stop()
        if exc is None and self.raise_handler_errors and self._errors.errors:
            raise AssertionError(
                f"handlers raised {len(self._errors.errors)} error(s); the first: "
                f"{self._errors.errors[0]!r}"
            ) from self._errors.errors[0]


def run_polling(dp: Dispatcher, base_url: str, **kwargs: Any) -> PollingRunner:
    """``async with run_polling(dp, sandbox.base_url) as runner:`` – see :class:`PollingRunner`."""
    return PollingRunner(dp, base_url, **kwargs)


class WebhookRunner:
    """Serves ``dp`` with aiogram's own webhook integration and points the sandbox at it.

    ``SimpleRequestHandler`` + ``setup_application`` on a free loopback port, then
    ``setWebhook(url, secret_token=...)`` with the update kinds the Dispatcher handles; on exit
    the webhook is deleted and the server stopped. ``handle_in_background=False`` makes aiogram
    put a handler's returned method into the webhook answer.
    """

    def __init__(
        self,
        dp: Dispatcher,
        base_url: str,
        *,
        bot: Bot | None = None,
        token: str = DEFAULT_TOKEN,
        secret_token: str | None = "sandbox-webhook-secret",
        handle_in_background: bool = True,
        path: str = "/telegram",
        raise_handler_errors: bool = True,
        **set_webhook_kwargs: Any,
    ) -> None:
        self.dp = dp
        self.bot = bot or make_bot(base_url, token)
        self.secret_token = secret_token
        self.handle_in_background = handle_in_background
        self.path = path
        self.raise_handler_errors = raise_handler_errors
        self.set_webhook_kwargs = set_webhook_kwargs
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._errors = _AiogramErrors()

    @property
    def errors(self) -> list[BaseException]:
        return list(self._errors.errors)

    async def __aenter__(self) -> Self:
        logging.getLogger("aiogram.event").addHandler(self._errors)
        app = web.Application()
        SimpleRequestHandler(
            dispatcher=self.dp,
            bot=self.bot,
            secret_token=self.secret_token,
            handle_in_background=self.handle_in_background,
        ).register(app, path=self.path)
        setup_application(app, self.dp, bot=self.bot)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}{self.path}"
        kwargs = {"allowed_updates": self.dp.resolve_used_update_types(), **self.set_webhook_kwargs}
        await self.bot.set_webhook(self.url, secret_token=self.secret_token, **kwargs)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            with contextlib.suppress(Exception):
                await self.bot.delete_webhook()
            if self._runner is not None:
                await self._runner.cleanup()  # also closes the bot's session
        finally:
            logging.getLogger("aiogram.event").removeHandler(self._errors)
            with contextlib.suppress(Exception):
                await self.bot.session.close()
        if exc is None and self.raise_handler_errors and self._errors.errors:
            raise AssertionError(
                f"handlers raised {len(self._errors.errors)} error(s); the first: "
                f"{self._errors.errors[0]!r}"
            ) from self._errors.errors[0]


def run_webhook(dp: Dispatcher, base_url: str, **kwargs: Any) -> WebhookRunner:
    """``async with run_webhook(dp, sandbox.base_url) as runner:`` – see :class:`WebhookRunner`."""
    return WebhookRunner(dp, base_url, **kwargs)


def check_init_data(init_data: str, bot_token: str) -> dict[str, str]:
    """Telegram's documented check of Mini App ``initData``, written apart from the sandbox.

    https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app
    Returns the fields when the hash is right; raises AssertionError when it is not.
    """
    fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=True))
    received = fields.pop("hash", "")
    check_string = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret_key = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret_key, check_string.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(received, expected):
        raise AssertionError("initData hash does not match the bot token")
    return fields


def tiny_png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (40, 120, 200)) -> bytes:
    """A valid PNG image made in memory, for sendPhoto tests."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )
