"""Telegram's errors and limits, as aiogram's exceptions raised in a real bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import Command, CommandObject
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from sandbox import LimitsConfig, Sandbox, SandboxConfig
from tests.e2e.sandbox_harness import SandboxClient, make_bot, run_polling

ANN = 101
BOB = 102
PEOPLE = [
    {"id": ANN, "first_name": "Ann", "role": "manager"},
    {"id": BOB, "first_name": "Bob", "role": "manager"},
]


@pytest.fixture
async def people_sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(SandboxConfig(identities=PEOPLE)) as running:
        yield running


@pytest.fixture
async def bot(people_sandbox: Sandbox) -> AsyncIterator[Bot]:
    bot = make_bot(people_sandbox.base_url)
    yield bot
    await bot.session.close()


@pytest.fixture
async def client(people_sandbox: Sandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(people_sandbox.base_url) as client:
        yield client


def build_relay_router(caught: list[Exception]) -> Router:
    """``/tell ID TEXT`` forwards TEXT to another manager and reports what Telegram said."""
    router = Router(name="relay")

    @router.message(Command("tell"))
    async def tell(message: Message, command: CommandObject, bot: Bot) -> None:
        target, _, text = (command.args or "").partition(" ")
        try:
            await bot.send_message(int(target), text)
        except (TelegramRetryAfter, TelegramForbiddenError) as error:
            caught.append(error)
            await message.answer(f"not delivered: {type(error).__name__}")
            return
        await message.answer("delivered")

    return router


async def test_fault_429_raises_retry_after_in_a_handler(
    people_sandbox: Sandbox, client: SandboxClient
) -> None:
    caught: list[Exception] = []
    dp = Dispatcher()
    dp.include_router(build_relay_router(caught))
    async with run_polling(dp, people_sandbox.base_url):
        await client.fault("sendMessage", 429, retry_after=7, chat_id=BOB)
        await client.send(ANN, f"/tell {BOB} call the client")

        reply = await client.wait_for(ANN, lambda m: True)

    assert reply["text"] == "not delivered: TelegramRetryAfter"
    assert isinstance(caught[0], TelegramRetryAfter)
    assert caught[0].retry_after == 7
    stats = await client.stats()
    assert stats["errors"] == {"429": 1}
    assert stats["rate_limited"] == 1
    assert stats["faults"] == []


async def test_fault_403_and_a_real_block_raise_forbidden(
    people_sandbox: Sandbox, client: SandboxClient
) -> None:
    caught: list[Exception] = []
    dp = Dispatcher()
    dp.include_router(build_relay_router(caught))
    async with run_polling(dp, people_sandbox.base_url):
        await client.fault("sendMessage", 403, chat_id=BOB)
        await client.send(ANN, f"/tell {BOB} hello")
        first = await client.wait_for(ANN, lambda m: True)

        assert await client.block(BOB) is True
        await client.send(ANN, f"/tell {BOB} hello again")
        second = await client.wait_for(ANN, lambda m: True)

        assert await client.block(BOB, False) is False
        await client.send(ANN, f"/tell {BOB} third time")
        third = await client.wait_for(ANN, lambda m: True)

    assert [first["text"], second["text"], third["text"]] == [
        "not delivered: TelegramForbiddenError",
        "not delivered: TelegramForbiddenError",
        "delivered",
    ]
    assert all(error.message == "Forbidden: bot was blocked by the user" for error in caught)
    assert [m["text"] for m in await client.wait_messages(BOB, after=0, wait=0)] == ["third time"]


async def test_text_over_4096_characters_is_rejected(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ANN, "x" * 4097)

    # Telegram counts characters after entity parsing: markup does not count.
    sent = await bot.send_message(ANN, "<b>" + "я" * 4096 + "</b>", parse_mode="HTML")
    assert sent.text is not None and len(sent.text) == 4096


async def test_caption_over_1024_characters_is_rejected(bot: Bot) -> None:
    from aiogram.types import BufferedInputFile

    from tests.e2e.sandbox_harness import tiny_png

    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(ANN, BufferedInputFile(tiny_png(), "a.png"), caption="c" * 1025)


async def test_callback_data_over_64_bytes_is_rejected(bot: Bot) -> None:
    # 33 Cyrillic letters are 66 bytes: the limit is in bytes, not characters.
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Open", callback_data="к" * 33)]]
    )

    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ANN, "Client card", reply_markup=keyboard)

    keyboard.inline_keyboard[0][0].callback_data = "к" * 32
    assert (await bot.send_message(ANN, "Client card", reply_markup=keyboard)).message_id == 1


async def test_editing_to_the_same_content_is_not_modified(bot: Bot) -> None:
    sent = await bot.send_message(ANN, "<b>Deal</b> won", parse_mode="HTML")

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "<b>Deal</b> won", chat_id=ANN, message_id=sent.message_id, parse_mode="HTML"
        )
    edited = await bot.edit_message_text("Deal won", chat_id=ANN, message_id=sent.message_id)
    assert edited.edit_date is not None


async def test_unknown_chat_and_bad_html_are_bad_requests(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "hello")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "br"'):
        await bot.send_message(ANN, "line<br>line", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(ANN, "ACME <b>Ltd", parse_mode="HTML")


async def test_server_errors_and_dropped_connections(bot: Bot, client: SandboxClient) -> None:
    await client.fault("sendMessage", 502, times=2)
    await client.fault("getFile", "timeout", hold=0.1)

    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_message(ANN, "report")
    with pytest.raises(TelegramNetworkError):
        await bot.get_file("whatever")

    assert (await bot.send_message(ANN, "report")).text == "report"
    stats = await client.stats()
    assert stats["errors_by_method"]["sendMessage"] == {"502": 2}
    assert stats["faults_injected"] == 3


async def test_per_chat_rate_limit_gives_429_after_the_burst() -> None:
    # One token per 5 s after a burst of 3: ten quick sends are 3 successes whatever the load.
    limits = LimitsConfig(chat_burst=3, chat_rate=0.2, global_burst=100, global_rate=100)
    async with Sandbox(SandboxConfig(identities=PEOPLE, limits=limits)) as sandbox:
        bot = make_bot(sandbox.base_url)
        try:
            outcomes = []
            for number in range(10):
                try:
                    await bot.send_message(ANN, f"reminder {number}")
                    outcomes.append("sent")
                except TelegramRetryAfter as error:
                    outcomes.append(f"retry after {error.retry_after}")
            other_chat = await bot.send_message(BOB, "a different chat has its own bucket")
            edit_refused = False
            try:
                await bot.edit_message_text("edited", chat_id=ANN, message_id=1)
            except TelegramRetryAfter:
                edit_refused = True
        finally:
            await bot.session.close()
        async with SandboxClient(sandbox.base_url) as client:
            stats = await client.stats()

    assert outcomes[:3] == ["sent"] * 3
    assert all(outcome.startswith("retry after ") for outcome in outcomes[3:])
    assert all(1 <= int(outcome.rsplit(" ", 1)[1]) <= 5 for outcome in outcomes[3:])
    assert other_chat.message_id == 1
    assert edit_refused, "edits take a token from the chat's bucket"
    assert stats["rate_limited"] == 8
    assert stats["messages_sent"] == 4


async def test_global_rate_limit_spans_chats() -> None:
    limits = LimitsConfig(global_burst=2, global_rate=0.2, chat_burst=10)
    async with Sandbox(SandboxConfig(identities=PEOPLE, limits=limits)) as sandbox:
        bot = make_bot(sandbox.base_url)
        try:
            await bot.send_message(ANN, "one")
            await bot.send_message(BOB, "two")
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(ANN, "three")
        finally:
            await bot.session.close()


async def test_limits_can_be_switched_off() -> None:
    limits = LimitsConfig(enabled=False, chat_burst=1)
    async with Sandbox(SandboxConfig(identities=PEOPLE, limits=limits)) as sandbox:
        bot = make_bot(sandbox.base_url)
        try:
            for _ in range(3):
                await bot.send_message(ANN, "x" * 5000)
        finally:
            await bot.session.close()
