"""A real aiogram Dispatcher, long polling the sandbox over loopback, talks to people."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from sandbox import Sandbox
from tests.e2e.sandbox_harness import PollingRunner, SandboxClient, run_polling, tiny_png

ANN = 101
STRANGER = 555
MANAGERS = {ANN: "Ann <Sales>"}
CHART = tiny_png(3, 2)


def build_router() -> Router:
    router = Router(name="sandbox-flows")

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        assert message.from_user is not None
        name = MANAGERS.get(message.from_user.id)
        if name is None:
            await message.answer("Sorry, you are not registered.")
            return
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[
                [InlineKeyboardButton(text="👍 Like", callback_data="like")],
                [InlineKeyboardButton(text="Docs", url="https://example.org/docs")],
            ]
        )
        await message.answer(
            f"Welcome back, <b>{html.escape(name)}</b>!", parse_mode="HTML", reply_markup=keyboard
        )

    @router.message(Command("echo"))
    async def echo(message: Message, command: CommandObject) -> None:
        await message.answer(f"echo: {command.args}")

    @router.callback_query(F.data == "like")
    async def like(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Liked ✅")
        await query.answer("Saved")

    @router.message(Command("photo"))
    async def photo(message: Message) -> None:
        await message.answer_photo(BufferedInputFile(CHART, "chart.png"), caption="Pipeline")

    @router.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        assert message.document is not None
        file = await bot.get_file(message.document.file_id)
        assert file.file_path is not None
        content = await bot.download_file(file.file_path)
        assert content is not None
        size = len(content.getvalue())
        await message.answer(f"Got {message.document.file_name}: {size} bytes")

    @router.message(F.voice)
    async def voice(message: Message) -> None:
        assert message.voice is not None
        await message.answer(f"Voice note, {message.voice.duration} s")

    @router.message(F.photo)
    async def photo_received(message: Message) -> None:
        assert message.photo
        size = message.photo[-1]
        await message.answer(f"Photo {size.width}x{size.height}")

    return router


@pytest.fixture
async def polling(sandbox: Sandbox) -> AsyncIterator[PollingRunner]:
    dp = Dispatcher()
    dp.include_router(build_router())
    async with run_polling(dp, sandbox.base_url) as runner:
        yield runner


async def test_start_greets_a_known_manager(
    polling: PollingRunner, sandbox_client: SandboxClient
) -> None:
    await sandbox_client.send(ANN, "/start", first_name="Ann")

    reply = await sandbox_client.wait_for(ANN, lambda m: "Welcome" in m["plain_text"])

    assert reply["text"] == "Welcome back, <b>Ann &lt;Sales&gt;</b>!"
    assert reply["plain_text"] == "Welcome back, Ann <Sales>!"
    assert reply["parse_mode"] == "HTML"
    buttons = [row[0] for row in reply["reply_markup"]["inline_keyboard"]]
    assert buttons[0]["callback_data"] == "like"
    assert buttons[1]["url"] == "https://example.org/docs"


async def test_start_turns_away_an_unknown_person(
    polling: PollingRunner, sandbox_client: SandboxClient
) -> None:
    await sandbox_client.send(STRANGER, "/start")

    reply = await sandbox_client.wait_for(STRANGER, lambda m: True)

    assert reply["text"] == "Sorry, you are not registered."
    assert await sandbox_client.wait_messages(ANN, after=0, wait=0) == []


async def test_command_with_bot_mention_and_arguments(
    polling: PollingRunner, sandbox_client: SandboxClient
) -> None:
    await sandbox_client.send(ANN, "/echo@crm_sandbox_bot hello world")

    replies = await sandbox_client.wait_messages(ANN)

    assert [reply["text"] for reply in replies] == ["echo: hello world"]


async def test_button_press_edits_the_message(
    polling: PollingRunner, sandbox_client: SandboxClient
) -> None:
    await sandbox_client.send(ANN, "/start")
    greeting = await sandbox_client.wait_for(ANN, lambda m: "Welcome" in m["plain_text"])
    await sandbox_client.send(ANN, "/echo later")
    later = await sandbox_client.wait_for(ANN, lambda m: m["text"] == "echo: later")

    pressed = await sandbox_client.press(ANN, greeting["message_id"], "like")
    edited = await sandbox_client.wait_for(
        ANN, lambda m: m["message_id"] == greeting["message_id"] and m["edited"]
    )

    assert edited["text"] == "Liked ✅"
    # editMessageText without reply_markup drops the keyboard, as on Telegram.
    assert edited["reply_markup"] is None
    assert later["message_id"] > greeting["message_id"]
    answer = await sandbox_client.callback_answer(pressed["callback_query_id"])
    assert answer["answered"] is True
    assert answer["answer"]["text"] == "Saved"


async def test_photo_is_stored_and_downloadable(
    polling: PollingRunner, sandbox_client: SandboxClient
) -> None:
    await sandbox_client.send(ANN, "/photo")

    reply = await sandbox_client.wait_for(ANN, lambda m: m["photo"] is not None)

    assert reply["caption"] == "Pipeline"
    assert await sandbox_client.download(reply["photo"]) == CHART


async def test_bot_downloads_a_document_the_person_uploaded(
    polling: PollingRunner, sandbox_client: SandboxClient
) -> None:
    content = "name,phone\nАнна,+7 900 000-00-00\n".encode()
    await sandbox_client.upload_document(ANN, "leads.csv", content, caption="import")

    reply = await sandbox_client.wait_for(ANN, lambda m: m["text"].startswith("Got"))

    assert reply["text"] == f"Got leads.csv: {len(content)} bytes"
    uploaded = (await sandbox_client.messages(ANN, include_user=True))["messages"][0]
    assert (uploaded["document"]["name"], uploaded["caption"]) == ("leads.csv", "import")
    assert await sandbox_client.download(uploaded["document"]["url"]) == content


async def test_voice_note_reaches_the_bot(
    polling: PollingRunner, sandbox_client: SandboxClient
) -> None:
    await sandbox_client.upload_voice(ANN, b"OggS-not-really-opus", duration=3)

    reply = await sandbox_client.wait_for(ANN, lambda m: "Voice" in m["text"])

    assert reply["text"] == "Voice note, 3 s"


async def test_a_photo_reaches_the_bot_sized_and_a_non_image_is_refused(
    polling: PollingRunner, sandbox_client: SandboxClient
) -> None:
    await sandbox_client.upload_photo(ANN, tiny_png(3, 2))

    reply = await sandbox_client.wait_for(ANN, lambda m: m["text"].startswith("Photo"))

    assert reply["text"] == "Photo 3x2"
    with pytest.raises(AssertionError, match="400"):
        await sandbox_client.upload_photo(ANN, b"not an image")
