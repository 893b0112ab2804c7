"""The control API that tests and the web chat use: feeds, cursors, people, faults, stats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot

from sandbox import Sandbox, SandboxConfig
from tests.e2e.sandbox_harness import SandboxClient, make_bot

ANN = 101


async def load_people() -> list[dict[str, Any]]:
    return [
        {"id": ANN, "first_name": "Ann", "username": "ann_sales", "role": "manager"},
        {"id": 7, "first_name": "Olga", "role": "admin", "language_code": "ru"},
    ]


@pytest.fixture
async def world() -> AsyncIterator[tuple[Sandbox, SandboxClient, Bot]]:
    async with (
        Sandbox(SandboxConfig(identities=load_people)) as sandbox,
        SandboxClient(sandbox.base_url) as client,
    ):
        bot = make_bot(sandbox.base_url)
        try:
            yield sandbox, client, bot
        finally:
            await bot.session.close()


async def test_users_come_from_the_async_provider_plus_the_unknown_person(
    world: tuple[Sandbox, SandboxClient, Bot],
) -> None:
    _, client, _ = world

    users = await client.users()

    assert [(u["id"], u["role"]) for u in users] == [
        (ANN, "manager"),
        (7, "admin"),
        (900000001, "unknown"),
    ]
    assert users[0]["username"] == "ann_sales" and users[0]["blocked"] is False


async def test_sent_message_uses_the_identity_and_marks_commands(
    world: tuple[Sandbox, SandboxClient, Bot],
) -> None:
    _, client, bot = world

    created = await client.send(7, "hi /help@crm_sandbox_bot now")
    updates = await bot.get_updates()

    assert (created["message_id"], created["update_id"]) == (1, updates[0].update_id)
    message = updates[0].message
    assert message is not None and message.from_user is not None
    assert (message.from_user.first_name, message.from_user.language_code) == ("Olga", "ru")
    assert message.entities is not None
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 3, 21)]


async def test_cursor_returns_an_edit_of_an_older_message_after_does_not(
    world: tuple[Sandbox, SandboxClient, Bot],
) -> None:
    _, client, bot = world
    for text in ("one", "two", "three"):
        await bot.send_message(ANN, text)
    first = await client.messages(ANN)
    assert [m["message_id"] for m in first["messages"]] == [1, 2, 3]

    poll = asyncio.create_task(client.messages(ANN, cursor=first["cursor"], wait=5))
    await asyncio.sleep(0.05)  # let the long poll start waiting before the edit happens
    assert not poll.done()
    await bot.edit_message_text("two, edited", chat_id=ANN, message_id=2)
    changed = await asyncio.wait_for(poll, 2)

    assert [(m["message_id"], m["text"], m["edited"]) for m in changed["messages"]] == [
        (2, "two, edited", True)
    ]
    assert changed["cursor"] > first["cursor"]
    assert (await client.messages(ANN, after=3))["messages"] == []
    # The harness helper waits on the cursor too, so "wait for the edit of message 2" works.
    edited = await client.wait_for(
        ANN, lambda m: m["message_id"] == 2 and m["edited"], since=first["cursor"]
    )
    assert edited["text"] == "two, edited"


async def test_after_long_polls_until_a_newer_message_or_the_wait_ends(
    world: tuple[Sandbox, SandboxClient, Bot],
) -> None:
    _, client, bot = world
    await bot.send_message(ANN, "first")

    empty = await client.messages(ANN, after=1, wait=0.2)
    waiting = asyncio.create_task(client.messages(ANN, after=1, wait=5))
    await asyncio.sleep(0.05)
    await bot.send_message(ANN, "second")
    newer = await asyncio.wait_for(waiting, 2)

    assert empty["messages"] == []
    assert [m["text"] for m in newer["messages"]] == ["second"]


async def test_feed_shows_deletions_toasts_typing_and_reply_keyboard(
    world: tuple[Sandbox, SandboxClient, Bot],
) -> None:
    _, client, bot = world
    from aiogram.types import (
        InlineKeyboardButton,
        InlineKeyboardMarkup,
        KeyboardButton,
        ReplyKeyboardMarkup,
    )

    menu = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="📞 Calls")]], resize_keyboard=True)
    await bot.send_message(ANN, "menu", reply_markup=menu)
    card = await bot.send_message(
        ANN,
        "card",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Done", callback_data="done")]]
        ),
    )
    start = await client.messages(ANN)
    pressed = await client.press(ANN, card.message_id, "done")
    await bot.answer_callback_query(pressed["callback_query_id"], text="Saved", show_alert=True)
    await bot.delete_message(ANN, 1)
    await bot.send_chat_action(ANN, "typing")

    feed = await client.messages(ANN, cursor=start["cursor"], include_user=True)

    assert feed["deleted"] == [1]
    assert [(t["text"], t["show_alert"]) for t in feed["toasts"]] == [("Saved", True)]
    assert feed["chat_action"] == "typing"
    assert feed["reply_keyboard"]["keyboard"] == [[{"text": "📞 Calls"}]]
    everything = await client.messages(ANN)
    assert [m["text"] for m in everything["messages"]] == ["card"]


async def test_press_checks_the_buttons_unless_forced(
    world: tuple[Sandbox, SandboxClient, Bot],
) -> None:
    _, client, bot = world
    await bot.send_message(ANN, "no buttons")

    with pytest.raises(AssertionError, match="no inline button"):
        await client.press(ANN, 1, "ghost")
    with pytest.raises(AssertionError, match="404"):
        await client.press(ANN, 99, "ghost")
    forced = await client.press(ANN, 1, "ghost", force=True)

    assert forced["callback_query_id"]


async def test_block_toggles_and_a_new_message_unblocks(
    world: tuple[Sandbox, SandboxClient, Bot],
) -> None:
    _, client, _ = world

    assert await client.block(ANN, None) is True
    assert [u["blocked"] for u in await client.users() if u["id"] == ANN] == [True]
    assert await client.block(ANN, None) is False
    assert await client.block(ANN) is True
    await client.send(ANN, "/start")

    assert (await client.messages(ANN))["blocked"] is False


async def test_faults_stats_and_reset(world: tuple[Sandbox, SandboxClient, Bot]) -> None:
    _, client, bot = world
    faults = await client.fault("sendDocument", 500, times=2)
    assert faults[0]["method"] == "sendDocument" and faults[0]["times"] == 2
    await bot.send_message(ANN, "hello")

    stats = await client.stats()
    assert stats["calls"]["sendMessage"] == 1
    assert stats["messages_sent"] == 1
    assert len(stats["faults"]) == 1

    await client.reset()
    cleared = await client.stats()
    assert (cleared["calls"], cleared["faults"], cleared["messages_sent"]) == ({}, [], 0)
    # A plain reset keeps the chats; reset(chats=True) forgets them as well.
    assert len((await client.messages(ANN))["messages"]) == 1
    await client.reset(chats=True)
    assert (await client.messages(ANN))["messages"] == []


async def test_control_api_rejects_bad_input_with_json_errors(
    world: tuple[Sandbox, SandboxClient, Bot],
) -> None:
    sandbox, _, _ = world
    async with aiohttp.ClientSession(sandbox.base_url) as session:
        async with session.post("/sandbox/users/101/messages", json={"text": ""}) as response:
            empty = (response.status, await response.json())
        async with session.post("/sandbox/faults", json={"method": "x", "error": 418}) as response:
            teapot = response.status
        async with session.post("/sandbox/users/abc/block") as response:
            not_a_user = response.status
        async with session.get("/") as response:
            page = await response.text()

    assert empty == (400, {"error": "text must be a non-empty string"})
    assert teapot == 400
    assert not_a_user == 400
    assert "<title>" in page
