"""The process's one aiohttp application: health, readiness, metrics, the webhook, and more.

Built in one place by `build_web_app`; other parts of the product (a Mini App, a dashboard)
are mounted as aiohttp sub-applications under their own prefix through `mounts`.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from bot.runtime.health import Health
from bot.runtime.metrics import CONTENT_TYPE, Metrics
from bot.runtime.webhook import WebhookHandler

HEALTH_KEY = web.AppKey("health", Health)
METRICS_KEY = web.AppKey("metrics", Metrics)

Mount = tuple[str, web.Application]


async def healthz(request: web.Request) -> web.Response:
    ok, body = request.app[HEALTH_KEY].liveness()
    return web.json_response(body, status=200 if ok else 503)


async def readyz(request: web.Request) -> web.Response:
    ok, body = await request.app[HEALTH_KEY].readiness()
    return web.json_response(body, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS_KEY].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def build_web_app(
    health: Health,
    metrics_: Metrics,
    *,
    webhook: tuple[str, WebhookHandler] | None = None,
    mounts: Sequence[Mount] = (),
) -> web.Application:
    """`GET /healthz`, `GET /readyz`, `GET /metrics`, the webhook route, then the mounts."""
    app = web.Application(client_max_size=4 * 1024 * 1024)
    app[HEALTH_KEY] = health
    app[METRICS_KEY] = metrics_
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    if webhook is not None:
        path, handler = webhook
        handler.register(app, path=path)
    for prefix, sub_app in mounts:
        app.add_subapp(prefix, sub_app)
    return app
