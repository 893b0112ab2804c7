"""The head opens the dashboard from the sandbox's web chat in headless Chromium.

The real bot polls the sandbox and serves the dashboard on its own port, as `crmbot demo`
does; the web chat opens it beside the chat with `initData` signed for the head. The
figures are those of `tests.integration.services.dashboard_seed`.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.app import Application, create_application
from sandbox import LimitsConfig, Sandbox, SandboxConfig
from services.db.engine import make_engine, make_session_factory
from services.db.models import ClientSegment
from services.uow import UnitOfWorkFactory
from tests.e2e.bot_harness import make_settings
from tests.e2e.sandbox.test_webchat_browser import CHROMIUM, CHROMIUM_ARGS
from tests.integration.services.dashboard_seed import (
    ANNA_TG,
    HEAD_TG,
    TODAY,
    DashboardBase,
    seed_dashboard_base,
)

async_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)",
    ),
]
TOKEN = "123456:TEST-dashboard-browser"
SCREENSHOT = Path(__file__).resolve().parents[1] / "artifacts" / "dashboard.png"
IDENTITIES = [
    {"id": HEAD_TG, "first_name": "Ольга", "role": "head", "language_code": "ru"},
    {"id": ANNA_TG, "first_name": "Анна", "role": "manager", "language_code": "ru"},
]


@dataclass
class Running:
    sandbox: Sandbox
    app: Application
    dashboard_url: str
    base: DashboardBase
    segments: dict[str, int]  # what the database says: clients per segment


async def _wait_until_polling(sandbox: Sandbox, app: Application) -> None:
    bot_id = TOKEN.split(":", 1)[0]
    deadline = time.monotonic() + 10
    async with aiohttp.ClientSession() as http:
        while True:
            async with http.get(f"{sandbox.base_url}/sandbox/stats") as response:
                if (await response.json())["polls_by_bot"].get(bot_id, 0):
                    return
            if app.polling is not None and app.polling.done():
                await app.polling
            assert time.monotonic() < deadline, "the bot did not poll the sandbox"
            await asyncio.sleep(0.05)


@pytest.fixture
async def running(bot_db_url: str) -> AsyncIterator[Running]:
    engine = make_engine(bot_db_url)
    try:
        uow_factory = UnitOfWorkFactory(make_session_factory(engine))
        base = await seed_dashboard_base(uow_factory)
        async with uow_factory() as uow:
            rows = await uow.session.execute(
                select(ClientSegment.segment, func.count())
                .where(ClientSegment.as_of == TODAY)
                .group_by(ClientSegment.segment)
            )
            segments = {segment or "none": int(n) for segment, n in rows.all()}
    finally:
        await engine.dispose()
    config = SandboxConfig(identities=IDENTITIES, limits=LimitsConfig(rate_limit=False))
    async with Sandbox(config) as sandbox:
        sock = socket.create_server(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
        # the real clock: the web chat signs initData now
        app = await create_application(
            make_settings(bot_db_url), token=TOKEN, api_base=sandbox.base_url, dashboard_url=url
        )
        try:
            await app.serve_dashboard(sock=sock)
            await app.start_polling()
            await _wait_until_polling(sandbox, app)
            yield Running(sandbox, app, url, base, segments)
        finally:
            await app.close()


async def test_the_head_opens_the_dashboard_beside_the_chat(running: Running) -> None:
    sandbox_url, dashboard = running.sandbox.base_url, running.dashboard_url.rstrip("/")
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            foreign: list[str] = []
            page.on(
                "request",
                lambda request: (
                    None
                    if request.url.startswith((sandbox_url, dashboard))
                    else foreign.append(request.url)
                ),
            )
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            await page.goto(sandbox_url + "/")
            await page.wait_for_selector(f"#identity option[value='{HEAD_TG}']", state="attached")
            await page.select_option("#identity", str(HEAD_TG))
            await page.fill("#text", "/start")
            await page.press("#text", "Enter")

            # /start gives the head the dashboard as the chat's menu button
            menu = page.locator("#menu-web-app")
            await menu.wait_for(state="visible", timeout=10_000)
            assert await menu.inner_text() == "Дашборд"
            await menu.click()
            panel = page.locator("#webapp")
            await panel.wait_for(state="visible", timeout=5000)
            frame = page.frame_locator("#webapp-frame")

            # the matrix shows what the database holds
            cells = frame.locator("button.cell")
            await cells.first.wait_for(timeout=10_000)
            for segment in ("AX", "AY", "AZ", "BX", "BY", "BZ", "CX", "CY", "CZ"):
                count = frame.locator(f"button.cell[data-segment='{segment}'] .count")
                assert await count.inner_text() == str(running.segments.get(segment, 0)), segment
            assert await frame.locator("button.cell[data-segment='AX'] .share").inner_text() == (
                "73%"
            )
            assert "Всего 7 клиентов" in await frame.locator(".total").inner_text()
            width = await frame.locator("html").evaluate("e => [e.scrollWidth, e.clientWidth]")
            assert width[0] <= width[1] and 360 <= width[1] <= 420, width  # fits a phone
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT))

            # a cell opens its clients, the largest revenue first
            await frame.locator("button.cell[data-segment='AX']").click()
            names = frame.locator("ul.clients button.client .name")
            await names.first.wait_for(timeout=5000)
            assert await names.all_inner_texts() == ["Ромашка", "Клевер", "Лютик"]

            # a client opens as a card in the chat, and the dashboard closes
            await frame.locator("ul.clients button.client", has_text="Лютик").click()
            await panel.wait_for(state="hidden", timeout=5000)
            card = page.locator(".row.bot", has_text="Лютик")
            await card.wait_for(timeout=5000)
            assert "Записать звонок" in await card.inner_text()

            # the other pages, in the dark theme
            await page.click("#theme-toggle")
            await menu.click()
            await panel.wait_for(state="visible", timeout=5000)
            await frame.locator("button.cell").first.wait_for(timeout=10_000)
            background = await frame.locator("body").evaluate(
                "e => getComputedStyle(e).backgroundColor"
            )
            assert background == "rgb(33, 33, 33)"  # the dark theme's bg_color
            await frame.locator("#tabs button[data-tab='team']").click()
            anna = frame.locator("section.manager", has_text="Анна Смирнова")
            await anna.wait_for(timeout=5000)
            assert "Просрочено контактов: 1" in await anna.inner_text()
            await frame.locator("#tabs button[data-tab='trends']").click()
            await frame.locator("svg.chart").first.wait_for(timeout=5000)
            assert await frame.locator("svg.chart").count() == 2
            await frame.locator("#tabs button[data-tab='risk']").click()
            risky = frame.locator("ul.clients button.client .name")
            await risky.first.wait_for(timeout=5000)
            assert await risky.all_inner_texts() == ["Лютик", "Клевер", "Мак"]
            await page.click("#webapp-close")
            await panel.wait_for(state="hidden", timeout=5000)

            # the digest's button opens it too
            await page.fill("#text", "/digest")
            await page.press("#text", "Enter")
            button = page.locator(".row.bot .keyboard-button[data-web-app]", has_text="Дашборд")
            await button.wait_for(timeout=15_000)
            await button.click()
            await frame.locator("button.cell").first.wait_for(timeout=10_000)
        finally:
            await browser.close()
    assert foreign == []
    assert errors == []


async def test_a_manager_gets_no_dashboard(running: Running) -> None:
    """A manager has no menu button, and a forged attempt is refused by the API."""
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{running.sandbox.base_url}/sandbox/users/{ANNA_TG}/messages", json={"text": "/start"}
        ) as response:
            assert response.status == 200
        async with http.get(
            f"{running.sandbox.base_url}/sandbox/users/{ANNA_TG}/webapp_init_data",
            params={"url": running.dashboard_url},
        ) as response:
            init_data = (await response.json())["init_data"]
        async with http.get(
            running.dashboard_url + "api/matrix", headers={"Authorization": f"tma {init_data}"}
        ) as response:
            assert response.status == 403
        await asyncio.sleep(0.5)  # the greeting and whatever else /start does
        async with http.get(
            f"{running.sandbox.base_url}/sandbox/users/{ANNA_TG}/messages"
        ) as response:
            feed = await response.json()
    assert feed["menu_button"] in (None, {"type": "commands"}, {"type": "default"})
    assert feed["messages"], "the manager was greeted"
