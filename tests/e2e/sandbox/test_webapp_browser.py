"""A Mini App opened from the web chat in headless Chromium: beside the chat, signed, closable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import CommandStart
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonWebApp,
    Message,
    ReplyKeyboardMarkup,
    WebAppInfo,
)
from aiohttp import web

from sandbox import LimitsConfig, Sandbox, SandboxConfig
from tests.e2e.sandbox.test_webchat_browser import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.sandbox_harness import DEFAULT_TOKEN, check_init_data, run_polling

async_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)",
    ),
]
SCREENSHOT = Path(__file__).resolve().parents[2] / "artifacts" / "webchat_mini_app.png"
BORIS = 102
PEOPLE = [
    {"id": 101, "first_name": "Ann", "role": "manager"},
    {"id": BORIS, "first_name": "Борис", "role": "head", "language_code": "ru"},
]

# What a Mini App built on telegram-web-app.js sees: initData from the URL fragment, events
# to the parent window as JSON strings.
MINI_APP = """<!doctype html>
<html><head><meta charset="utf-8"><title>Test Mini App</title></head>
<body>
<h1 id="user">?</h1>
<p id="signature">checking</p>
<p id="theme"></p>
<button id="send" type="button">Send report</button>
<button id="close" type="button">Close</button>
<script>
  const post = (eventType, eventData = {}) =>
    window.parent.postMessage(JSON.stringify({ eventType, eventData }), "*");
  const launch = new URLSearchParams(location.hash.slice(1));
  const initData = launch.get("tgWebAppData") || "";
  const user = JSON.parse(new URLSearchParams(initData).get("user") || "{}");
  const theme = JSON.parse(launch.get("tgWebAppThemeParams") || "{}");
  document.getElementById("user").textContent = `${user.first_name} ${user.id}`;
  document.getElementById("theme").textContent = theme.bg_color || "";
  document.body.style.background = theme.bg_color || "";
  document.body.style.color = theme.text_color || "";
  fetch("verify", { method: "POST", body: initData })
    .then((response) => response.text())
    .then((text) => { document.getElementById("signature").textContent = text; });
  document.getElementById("close").onclick = () => post("web_app_close");
  document.getElementById("send").onclick =
    () => post("web_app_data_send", { data: JSON.stringify({ calls: 7 }) });
  post("web_app_expand");
  post("web_app_ready");
</script>
</body></html>
"""


@asynccontextmanager
async def mini_app_server() -> AsyncIterator[str]:
    """The Mini App on its own origin, as the bot's web server would serve it."""

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=MINI_APP, content_type="text/html")

    async def verify(request: web.Request) -> web.Response:
        try:
            check_init_data(await request.text(), DEFAULT_TOKEN)
        except (AssertionError, ValueError):
            return web.Response(text="forged")
        return web.Response(text="valid")

    app = web.Application()
    app.router.add_get("/app/", page)
    app.router.add_post("/app/verify", verify)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def build_router(url: str) -> Router:
    router = Router(name="mini-app-demo")

    @router.message(CommandStart())
    async def start(message: Message, bot: Bot) -> None:
        await bot.set_chat_menu_button(
            chat_id=message.chat.id,
            menu_button=MenuButtonWebApp(text="Дашборд", web_app=WebAppInfo(url=url)),
        )
        await message.answer(
            "Your team today",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text="Open dashboard", web_app=WebAppInfo(url=url))]
                ]
            ),
        )
        await message.answer(
            "Or send a report",
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[[KeyboardButton(text="Report", web_app=WebAppInfo(url=url))]],
                resize_keyboard=True,
            ),
        )

    @router.message(F.web_app_data)
    async def report(message: Message) -> None:
        assert message.web_app_data is not None
        await message.answer(f"Report received: {message.web_app_data.data}")

    return router


async def test_mini_app_opens_beside_the_chat_signed_for_the_person() -> None:
    config = SandboxConfig(identities=PEOPLE, limits=LimitsConfig(rate_limit=False))
    async with (
        mini_app_server() as origin,
        Sandbox(config) as sandbox,
        async_api.async_playwright() as playwright,
    ):
        dp = Dispatcher()
        dp.include_router(build_router(f"{origin}/app/"))
        async with run_polling(dp, sandbox.base_url):
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            try:
                await _walk_through(browser, sandbox.base_url, origin)
            finally:
                await browser.close()


async def _walk_through(browser: object, base_url: str, origin: str) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith((base_url, origin)) else foreign.append(request.url)
        ),
    )
    await page.goto(base_url + "/")
    await page.wait_for_selector(f"#identity option[value='{BORIS}']", state="attached")
    await page.select_option("#identity", str(BORIS))
    await page.fill("#text", "/start")
    await page.press("#text", "Enter")

    # An inline web_app button: the panel opens beside the chat with Boris's signed initData.
    await page.locator(".row.bot .keyboard-button[data-web-app]").click(timeout=5000)
    panel = page.locator("#webapp")
    await panel.wait_for(state="visible", timeout=5000)
    frame = page.frame_locator("#webapp-frame")
    await frame.locator("#user", has_text="Борис 102").wait_for(timeout=5000)
    await frame.locator("#signature", has_text="valid").wait_for(timeout=5000)
    assert await frame.locator("#theme").inner_text() == "#ffffff"
    await page.locator("#webapp-status:empty").wait_for(state="attached", timeout=5000)
    assert "expanded" in (await panel.get_attribute("class") or "")
    chat_box = await page.locator(".app").bounding_box()
    panel_box = await panel.bounding_box()
    assert chat_box is not None and panel_box is not None
    assert panel_box["x"] >= chat_box["x"] + chat_box["width"], "the panel is beside the chat"
    assert 360 <= panel_box["width"] <= 420, "phone-sized"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT))

    await frame.locator("#close").click()
    await panel.wait_for(state="hidden", timeout=5000)

    # The menu button, in the dark theme: theme params follow the web chat.
    await page.click("#theme-toggle")
    menu = page.locator("#menu-web-app")
    await menu.wait_for(state="visible", timeout=5000)
    assert await menu.inner_text() == "Дашборд"
    await menu.click()
    await frame.locator("#theme", has_text="#212121").wait_for(timeout=5000)
    await page.click("#webapp-close")
    await panel.wait_for(state="hidden", timeout=5000)

    # A reply keyboard web_app button: sendData becomes a web_app_data message to the bot.
    await page.locator("#reply-keyboard .keyboard-button[data-web-app]").click(timeout=5000)
    await frame.locator("#signature", has_text="valid").wait_for(timeout=5000)
    await frame.locator("#send").click()
    await panel.wait_for(state="hidden", timeout=5000)
    await page.locator(".row.bot", has_text='Report received: {"calls":7}').wait_for(timeout=5000)
    await page.locator(".row.service", has_text="Report").wait_for(timeout=5000)
    assert foreign == []
