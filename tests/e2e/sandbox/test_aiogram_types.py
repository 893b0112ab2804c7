"""Every answer of the sandbox parses as the aiogram type Telegram's answer would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    Document,
    File,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
    Update,
    User,
)

from sandbox import LimitsConfig, Sandbox, SandboxConfig
from tests.e2e.sandbox_harness import DEFAULT_TOKEN, SandboxClient, make_bot, tiny_png

ANN = 101
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Open", callback_data="open:1")]]
)


@pytest.fixture
async def sandbox_with_ann() -> AsyncIterator[Sandbox]:
    people = [{"id": ANN, "first_name": "Ann", "username": "ann", "role": "manager"}]
    # Many calls to one chat in a row: flood control would get in the way of what is tested.
    config = SandboxConfig(identities=people, limits=LimitsConfig(rate_limit=False))
    async with Sandbox(config) as running:
        yield running


@pytest.fixture
async def bot(sandbox_with_ann: Sandbox) -> AsyncIterator[Bot]:
    bot = make_bot(sandbox_with_ann.base_url)
    yield bot
    await bot.session.close()


async def test_bot_methods_return_aiogram_types(bot: Bot, sandbox_with_ann: Sandbox) -> None:
    me = await bot.get_me()
    assert isinstance(me, User) and me.id == 123456 and me.username == "crm_sandbox_bot"
    assert await bot.delete_webhook(drop_pending_updates=True) is True

    commands = [BotCommand(command="start", description="Main menu")]
    assert await bot.set_my_commands(commands) is True
    assert await bot.set_my_commands(
        [BotCommand(command="report", description="Report")], scope=BotCommandScopeChat(chat_id=ANN)
    )
    assert [c.model_dump() for c in await bot.get_my_commands()] == [
        c.model_dump() for c in commands
    ]

    text = await bot.send_message(
        ANN,
        "<i>Call</i> <a href='https://example.org'>ACME</a>",
        parse_mode="HTML",
        reply_markup=KEYBOARD,
    )
    assert isinstance(text, Message) and text.chat.id == ANN and text.text == "Call ACME"
    assert text.entities is not None and [e.type for e in text.entities] == ["italic", "text_link"]
    assert text.reply_markup is not None
    assert text.reply_markup.model_dump() == KEYBOARD.model_dump()
    assert text.html_text == '<i>Call</i> <a href="https://example.org">ACME</a>'

    menu = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Today's calls")]])
    reply = await bot.send_message(
        ANN, "menu", reply_markup=menu, reply_parameters=ReplyParameters(message_id=1)
    )
    assert reply.reply_to_message is not None and reply.reply_to_message.message_id == 1
    assert (await bot.send_message(ANN, "x", reply_markup=ReplyKeyboardRemove())).message_id == 3
    assert (await bot.send_message(ANN, "y", reply_markup=ForceReply())).message_id == 4

    photo = await bot.send_photo(ANN, BufferedInputFile(tiny_png(4, 3), "p.png"), caption="c")
    assert photo.photo is not None and (photo.photo[-1].width, photo.photo[-1].height) == (4, 3)
    again = await bot.send_photo(ANN, photo.photo[-1].file_id)
    assert again.photo is not None and again.photo[0].file_id == photo.photo[-1].file_id

    document = await bot.send_document(
        ANN,
        BufferedInputFile(b"id;name\n1;ACME\n", "clients.csv"),
        caption="<b>export</b>",
        parse_mode="HTML",
    )
    assert isinstance(document.document, Document)
    assert document.document.file_name == "clients.csv"
    assert document.document.mime_type == "text/csv"
    assert document.caption == "export"

    file = await bot.get_file(document.document.file_id)
    assert isinstance(file, File) and file.file_size == 15 and file.file_path
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.getvalue() == b"id;name\n1;ACME\n"

    assert await bot.send_chat_action(ANN, "typing") is True
    edited = await bot.edit_message_text(
        "Call ACME today", chat_id=ANN, message_id=1, reply_markup=KEYBOARD
    )
    assert isinstance(edited, Message) and edited.edit_date is not None
    assert edited.reply_markup is not None
    assert edited.reply_markup.model_dump() == KEYBOARD.model_dump()
    unmarked = await bot.edit_message_reply_markup(chat_id=ANN, message_id=1)
    assert isinstance(unmarked, Message) and unmarked.reply_markup is None
    captioned = await bot.edit_message_caption(
        chat_id=ANN, message_id=photo.message_id, caption="new caption"
    )
    assert isinstance(captioned, Message) and captioned.caption == "new caption"
    assert await bot.delete_message(ANN, 2) is True

    async with SandboxClient(sandbox_with_ann.base_url) as client:
        pressed = await client.press(ANN, text.message_id, "open:1", force=True)
        assert await bot.answer_callback_query(pressed["callback_query_id"], text="ok") is True
        assert await client.commands(ANN) == [{"command": "report", "description": "Report"}]


async def _raw(session: aiohttp.ClientSession, base_url: str, method: str, **kw: Any) -> Any:
    async with session.post(f"{base_url}/bot{DEFAULT_TOKEN}/{method}", **kw) as response:
        return await response.json()


async def test_updates_validate_as_aiogram_updates(sandbox_with_ann: Sandbox) -> None:
    base_url = sandbox_with_ann.base_url
    async with SandboxClient(base_url) as client, aiohttp.ClientSession() as session:
        bot_message = await _raw(
            session,
            base_url,
            "sendMessage",
            json={"chat_id": ANN, "text": "card", "reply_markup": KEYBOARD.model_dump()},
        )
        await client.send(ANN, "/start deal_42", first_name="Ann", language_code="ru")
        await client.press(ANN, bot_message["result"]["message_id"], "open:1")
        await client.upload_document(ANN, "отчёт.xlsx", b"PK\x03\x04", caption="Q3")
        await client.upload_voice(ANN, b"OggS", duration=2)
        await client.block(ANN)
        # Opted-in update types only: all of them here, including my_chat_member.
        body = await _raw(
            session,
            base_url,
            "getUpdates",
            data={
                "timeout": "0",
                "allowed_updates": '["message","callback_query","my_chat_member"]',
            },
        )

    assert body["ok"] is True
    updates = [Update.model_validate(raw) for raw in body["result"]]
    assert [update.event_type for update in updates] == [
        "message",
        "callback_query",
        "message",
        "message",
        "my_chat_member",
    ]
    start, press, document, voice, blocked = updates
    assert start.message is not None and start.message.text == "/start deal_42"
    assert start.message.entities is not None
    assert (start.message.entities[0].type, start.message.entities[0].length) == ("bot_command", 6)
    assert start.message.from_user is not None and start.message.from_user.language_code == "ru"
    assert press.callback_query is not None and press.callback_query.data == "open:1"
    assert isinstance(press.callback_query.message, Message)
    assert document.message is not None and document.message.document is not None
    assert document.message.document.file_name == "отчёт.xlsx"
    assert document.message.caption == "Q3"
    assert voice.message is not None and voice.message.voice is not None
    assert voice.message.voice.duration == 2
    assert blocked.my_chat_member is not None
    assert blocked.my_chat_member.new_chat_member.status == "kicked"


async def test_requests_in_every_encoding(sandbox_with_ann: Sandbox) -> None:
    base_url = sandbox_with_ann.base_url
    url = f"{base_url}/bot{DEFAULT_TOKEN}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{url}/sendMessage", params={"chat_id": ANN, "text": "q"}) as r:
            by_query = await r.json()
        async with session.post(f"{url}/sendmessage", data={"chat_id": ANN, "text": "f"}) as r:
            by_form = await r.json()
        async with session.post(f"{url}/sendMessage", json={"chat_id": ANN, "text": "j"}) as r:
            by_json = await r.json()
        form = aiohttp.FormData()
        form.add_field("chat_id", str(ANN))
        form.add_field("document", b"raw", filename="notes.txt")
        async with session.post(f"{url}/sendDocument", data=form) as r:
            by_multipart = await r.json()
        async with session.post(f"{url}/noSuchMethod") as r:
            unknown = (r.status, await r.json())
        async with session.post(f"{base_url}/botnot-a-token/getMe") as r:
            bad_token = r.status

    assert [b["result"]["text"] for b in (by_query, by_form, by_json)] == ["q", "f", "j"]
    assert by_multipart["result"]["document"]["file_name"] == "notes.txt"
    assert unknown == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert bad_token == 401
