"""Mini App support: web_app buttons, the menu button, signed initData and sendData."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonCommands,
    MenuButtonDefault,
    MenuButtonWebApp,
    Message,
    ReplyKeyboardMarkup,
    WebAppInfo,
)

from sandbox import LimitsConfig, Sandbox, SandboxConfig
from tests.e2e.sandbox_harness import (
    DEFAULT_TOKEN,
    SandboxClient,
    check_init_data,
    make_bot,
    run_polling,
)

ANN, BORIS = 101, 102
DASHBOARD = "http://127.0.0.1:8090/webapp/"
PEOPLE = [
    {"id": ANN, "first_name": "Ann", "username": "ann_sales", "role": "manager"},
    {"id": BORIS, "first_name": "Борис", "role": "head", "language_code": "ru"},
]

World = tuple[Sandbox, SandboxClient, Bot]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    config = SandboxConfig(identities=PEOPLE, limits=LimitsConfig(rate_limit=False))
    async with Sandbox(config) as sandbox, SandboxClient(sandbox.base_url) as client:
        bot = make_bot(sandbox.base_url)
        try:
            yield sandbox, client, bot
        finally:
            await bot.session.close()


async def test_menu_button_per_chat_and_default(world: World) -> None:
    _, client, bot = world
    assert isinstance(await bot.get_chat_menu_button(), MenuButtonCommands)

    default = MenuButtonWebApp(text="Дашборд", web_app=WebAppInfo(url=DASHBOARD))
    assert await bot.set_chat_menu_button(menu_button=default) is True
    mine = MenuButtonWebApp(text="KPI", web_app=WebAppInfo(url=DASHBOARD + "kpi"))
    assert await bot.set_chat_menu_button(chat_id=BORIS, menu_button=mine) is True

    boris = await bot.get_chat_menu_button(chat_id=BORIS)
    ann = await bot.get_chat_menu_button(chat_id=ANN)
    assert isinstance(boris, MenuButtonWebApp) and boris.text == "KPI"
    assert isinstance(ann, MenuButtonWebApp) and ann.web_app.url == DASHBOARD
    assert (await client.messages(BORIS))["menu_button"]["text"] == "KPI"

    await bot.set_chat_menu_button(chat_id=BORIS, menu_button=MenuButtonDefault())
    assert (await client.menu_button(BORIS))["text"] == "Дашборд"
    await bot.set_chat_menu_button(menu_button=MenuButtonCommands())
    assert (await client.menu_button(ANN)) == {"type": "commands"}


@pytest.mark.parametrize(
    "button",
    [
        {"type": "web_app", "text": "Open", "web_app": {"url": "javascript:alert(1)"}},
        {"type": "web_app", "text": "", "web_app": {"url": DASHBOARD}},
        {"type": "web_app", "text": "Open"},
        {"type": "sparkles"},
    ],
)
async def test_a_bad_menu_button_is_refused(world: World, button: dict[str, object]) -> None:
    _, client, bot = world
    await bot.get_me()
    async with client.session.post(
        f"{client.base_url}/bot{DEFAULT_TOKEN}/setChatMenuButton",
        json={"menu_button": json.dumps(button)},
    ) as response:
        body = await response.json()
    assert response.status == 400 and body["ok"] is False
    assert (await client.menu_button(ANN)) == {"type": "commands"}


async def test_web_app_buttons_are_kept_and_bad_urls_refused(world: World) -> None:
    _, client, bot = world
    inline = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Дашборд", web_app=WebAppInfo(url=DASHBOARD))]]
    )
    sent = await bot.send_message(ANN, "Your day", reply_markup=inline)
    assert sent.reply_markup is not None
    web_app = sent.reply_markup.inline_keyboard[0][0].web_app
    assert web_app is not None and web_app.url == DASHBOARD
    feed = await client.messages(ANN)
    assert feed["messages"][0]["reply_markup"]["inline_keyboard"][0][0]["web_app"] == {
        "url": DASHBOARD
    }

    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Report", web_app=WebAppInfo(url=DASHBOARD))]]
    )
    await bot.send_message(ANN, "Tap Report", reply_markup=keyboard)
    assert (await client.messages(ANN))["reply_keyboard"]["keyboard"][0][0]["web_app"]["url"]

    bad = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", web_app=WebAppInfo(url="file:///etc"))]]
    )
    with pytest.raises(TelegramBadRequest, match="Web App URL"):
        await bot.send_message(ANN, "no", reply_markup=bad)
    bad_keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="x", web_app=WebAppInfo(url="tg://resolve"))]]
    )
    with pytest.raises(TelegramBadRequest, match="Web App URL"):
        await bot.send_message(ANN, "no", reply_markup=bad_keyboard)


async def test_init_data_is_signed_with_the_token_the_bot_used(world: World) -> None:
    _, client, bot = world
    with pytest.raises(AssertionError, match=r"409.*token"):
        await client.webapp_init_data(BORIS, DASHBOARD)
    await bot.get_me()  # the sandbox learns the token from the bot's own request

    before = int(time.time())
    launch = await client.webapp_init_data(BORIS, DASHBOARD, theme="dark")

    fields = check_init_data(launch["init_data"], DEFAULT_TOKEN)
    user = json.loads(fields["user"])
    assert (user["id"], user["first_name"], user["language_code"]) == (BORIS, "Борис", "ru")
    assert before <= int(fields["auth_date"]) <= int(time.time())
    assert fields["query_id"]
    assert launch["launch_url"].startswith(DASHBOARD + "#tgWebAppData=")
    assert launch["theme_params"]["bg_color"] == "#212121"
    with pytest.raises(AssertionError):
        check_init_data(launch["init_data"], "123456:another-token-of-the-same-bot")


async def test_init_data_for_a_chosen_bot_date_and_source(world: World) -> None:
    sandbox, client, bot = world
    other = make_bot(sandbox.base_url, "777:second-bot-token")
    try:
        await bot.get_me()
        await other.get_me()
        launch = await client.webapp_init_data(
            ANN, source="keyboard", auth_date=1_600_000_000, bot_id=123456
        )
        latest = await client.webapp_init_data(ANN)
    finally:
        await other.session.close()

    fields = check_init_data(launch["init_data"], DEFAULT_TOKEN)
    assert fields["auth_date"] == "1600000000" and "query_id" not in fields
    assert launch["launch_url"] is None
    check_init_data(latest["init_data"], "777:second-bot-token")
    with pytest.raises(AssertionError, match="404"):
        await client.webapp_init_data(ANN, bot_id=999)
    with pytest.raises(AssertionError, match="400"):
        await client.webapp_init_data(ANN, url="javascript:alert(1)")


def web_app_router() -> Router:
    router = Router(name="web-app-data")

    @router.message(F.web_app_data)
    async def got_data(message: Message) -> None:
        assert message.web_app_data is not None
        await message.answer(
            f"got {message.web_app_data.data} from {message.web_app_data.button_text}"
        )

    return router


async def test_send_data_from_a_keyboard_button_reaches_the_bot(world: World) -> None:
    sandbox, client, bot = world
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Report", web_app=WebAppInfo(url=DASHBOARD))]]
    )
    await bot.send_message(ANN, "Tap Report", reply_markup=keyboard)
    dp = Dispatcher()
    dp.include_router(web_app_router())

    async with run_polling(dp, sandbox.base_url):
        await client.send_web_app_data(ANN, '{"calls": 3}', "Report")
        reply = await client.wait_for(ANN, lambda m: m["text"].startswith("got"))

    assert reply["text"] == 'got {"calls": 3} from Report'
    with pytest.raises(AssertionError, match="no web_app button"):
        await client.send_web_app_data(ANN, "x", "Forged")
    with pytest.raises(AssertionError, match="1-4096 bytes"):
        await client.send_web_app_data(ANN, "я" * 2049, "Report")
