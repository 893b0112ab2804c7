"""The one web application: health routes plus whatever is mounted beside them."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.runtime.backoff import RetryPolicy
from bot.runtime.health import Health
from bot.runtime.http import build_web_app
from bot.runtime.metrics import Metrics


async def test_sub_applications_are_served_beside_health_and_metrics() -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="dashboard")

    dashboard = web.Application()
    dashboard.router.add_get("/", hello)
    metrics = Metrics()
    health = Health(metrics, RetryPolicy())
    app = build_web_app(health, metrics, mounts=[("/dashboard", dashboard)])
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")  # no database yet: not ready, and it says why
        assert ready.status == 503
        assert (await ready.json())["checks"]["process"] == "starting"
        page = await client.get("/metrics")
        assert page.status == 200 and "crmbot_updates_in_flight" in await page.text()
        assert await (await client.get("/dashboard/")).text() == "dashboard"
        assert (await client.post("/telegram")).status in (404, 405)  # no webhook in polling
