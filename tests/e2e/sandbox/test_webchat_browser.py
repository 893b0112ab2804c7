"""A person uses the web chat in headless Chromium while a real bot polls the sandbox."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from aiogram import Dispatcher, F, Router
from aiogram.filters import CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from sandbox import Sandbox, SandboxConfig
from tests.e2e.sandbox_harness import SandboxClient, run_polling, tiny_png

async_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)",
    ),
]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(__file__).resolve().parents[2] / "artifacts" / "webchat.png"
ANN = 101
PEOPLE = [
    {"id": ANN, "first_name": "Ann", "username": "ann_sales", "role": "manager"},
    {"id": 102, "first_name": "Boris", "role": "head"},
]


def build_router() -> Router:
    router = Router(name="webchat-demo")

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        assert message.from_user is not None
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="🔥 Hot leads", callback_data="segment:hot")],
                [InlineKeyboardButton(text="Open CRM docs", url="https://example.org/crm")],
            ]
        )
        await message.answer(
            f"Hello, <b>{html.escape(message.from_user.first_name)}</b>! "
            "Pick a segment, or try /help.\n<i>&lt;script&gt; stays text</i>",
            parse_mode="HTML",
            reply_markup=keyboard,
        )

    @router.callback_query(F.data == "segment:hot")
    async def hot(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        call_list = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(text="📞 Call list", callback_data="calls:hot"),
                    InlineKeyboardButton(text="Back", callback_data="segments"),
                ]
            ]
        )
        await query.message.edit_text(
            "<b>Hot leads</b>: 3 clients to call today", parse_mode="HTML", reply_markup=call_list
        )
        await query.answer("Segment loaded")
        await query.message.answer_photo(
            BufferedInputFile(tiny_png(240, 120), "funnel.png"), caption="Funnel this week"
        )

    return router


async def test_person_chats_with_the_bot_in_the_browser() -> None:
    dp = Dispatcher()
    dp.include_router(build_router())
    async with (
        Sandbox(SandboxConfig(identities=PEOPLE)) as sandbox,
        run_polling(dp, sandbox.base_url),
        SandboxClient(sandbox.base_url) as client,
        async_api.async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 480, "height": 820})
            # Only the sandbox may be reached: anything else would be a leak of the page.
            foreign: list[str] = []
            page.on(
                "request",
                lambda request: (
                    None
                    if request.url.startswith(sandbox.base_url)
                    else foreign.append(request.url)
                ),
            )
            await page.goto(sandbox.base_url + "/")
            await page.wait_for_selector("#identity option[value='101']", state="attached")
            await page.select_option("#identity", str(ANN))

            await page.fill("#text", "/start")
            await page.press("#text", "Enter")
            button = page.locator(".row.bot .keyboard-button[data-callback='segment:hot']")
            await button.wait_for(timeout=5000)
            greeting = page.locator(".row.bot").first
            assert await greeting.locator("b").inner_text() == "Ann"
            assert "<script> stays text" in await greeting.inner_text()
            assert await page.locator(".messages script").count() == 0
            link = page.locator(".row.bot a.keyboard-button")
            assert await link.get_attribute("href") == "https://example.org/crm"

            await button.click()
            edited = page.locator(".row.bot", has=page.locator(".edited"))
            await edited.wait_for(timeout=5000)
            assert "Hot leads: 3 clients to call today" in await edited.inner_text()
            await page.locator(".row.bot img.photo").wait_for(timeout=5000)
            await page.locator("#toast", has_text="Segment loaded").wait_for(timeout=5000)

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT))
        finally:
            await browser.close()

        answers = (await client.stats())["callback_answers"]

    assert [answer["text"] for answer in answers] == ["Segment loaded"]
    assert foreign == []
