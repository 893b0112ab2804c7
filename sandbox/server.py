"""The sandbox as an aiohttp application and as a server that starts and stops in-process."""

from __future__ import annotations

import logging
from importlib import resources
from types import TracebackType
from typing import Self

from aiohttp import web

from sandbox import bot_api, control
from sandbox.bot_api import STATE_KEY
from sandbox.config import SandboxConfig
from sandbox.logs import RedactingAccessLogger, install_token_redaction
from sandbox.state import SandboxState
from sandbox.webhook import WebhookDelivery

_STATIC = resources.files("sandbox") / "static"


def create_app(
    config: SandboxConfig | None = None, state: SandboxState | None = None
) -> web.Application:
    """Build the sandbox application: Bot API, control API and the web chat.

    Run it with ``web.run_app(create_app(config), host=..., port=...,
    access_log_class=RedactingAccessLogger)`` or use :class:`Sandbox`.
    """
    config = config or (state.config if state else SandboxConfig())
    state = state or SandboxState(config)
    install_token_redaction()
    # Uploads up to Telegram's 50 MB plus room for the multipart envelope.
    app = web.Application(
        client_max_size=config.max_upload_bytes + 1024 * 1024,
        middlewares=[control.control_errors],
    )
    app[STATE_KEY] = state
    bot_api.add_routes(app)
    control.add_routes(app)
    app.router.add_get("/", _index)
    app.router.add_static("/static/", str(_STATIC), append_version=False)

    async def release_long_polls(_: web.Application) -> None:
        # Held getUpdates and message polls would otherwise keep shutdown waiting.
        state.close()

    delivery = WebhookDelivery(state)

    async def start_delivery(_: web.Application) -> None:
        await delivery.start()

    async def stop_delivery(_: web.Application) -> None:
        await delivery.stop()

    app.on_startup.append(start_delivery)
    app.on_shutdown.append(release_long_polls)
    app.on_cleanup.append(stop_delivery)
    return app


async def _index(_: web.Request) -> web.StreamResponse:
    return web.FileResponse(str(_STATIC / "index.html"), headers={"Cache-Control": "no-cache"})


class Sandbox:
    """A local Telegram Bot API server for demos, the web chat and end-to-end tests.

    >>> sandbox = Sandbox(SandboxConfig(port=0))
    >>> await sandbox.start()
    >>> session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.base_url))
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.state = SandboxState(self.config)
        self.app = create_app(self.config, self.state)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._used = False

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the sandbox is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``, for ``TelegramAPIServer.from_base`` and the control API."""
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        if self._used:
            # An aiohttp application runs once; a fresh Sandbox is cheap.
            raise RuntimeError("a Sandbox can be started only once; create a new one")
        self._used = True
        # handler_cancellation: a client that gave up (a stopped poller) frees its request at
        # once instead of holding a long poll until its timeout.
        access_log = logging.getLogger("aiohttp.access") if self.config.access_log else None
        runner = web.AppRunner(
            self.app,
            handle_signals=False,
            access_log=access_log,
            access_log_class=RedactingAccessLogger,
            handler_cancellation=True,
            shutdown_timeout=5.0,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        self.state.close()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
