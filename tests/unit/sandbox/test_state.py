"""The sandbox's in-memory world without HTTP: updates, feeds, people and files."""

from __future__ import annotations

import asyncio

import pytest

from sandbox.config import SandboxConfig
from sandbox.errors import ApiError, ControlError
from sandbox.media import image_size
from sandbox.state import Content, SandboxState, command_entities

TOKEN = "42:secret"


def text(value: str) -> Content:
    return Content(source=value, plain=value, entities=command_entities(value))


@pytest.fixture
def state() -> SandboxState:
    return SandboxState(SandboxConfig(identities=[{"id": 5, "first_name": "Ann", "role": "x"}]))


async def poll(state: SandboxState, offset: int | None = None, hold: float = 0.0) -> list[int]:
    updates = await state.get_updates(
        TOKEN, offset=offset, limit=100, hold=hold, allowed_updates=None
    )
    return [update["update_id"] for update in updates]


def test_command_entities_anywhere_in_text_with_utf16_offsets() -> None:
    assert command_entities("/start") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert command_entities("📞 /call@crm_bot 42 and /x") == [
        {"type": "bot_command", "offset": 3, "length": 13},
        {"type": "bot_command", "offset": 24, "length": 2},
    ]
    assert command_entities("a/b http://x/y") == []


async def test_updates_stay_until_confirmed_by_offset(state: SandboxState) -> None:
    for word in ("a", "b", "c"):
        await state.add_user_message(5, text=text(word))

    assert await poll(state) == [1, 2, 3]
    assert await poll(state) == [1, 2, 3], "unconfirmed updates are answered again"
    assert await poll(state, offset=3) == [3]
    assert await poll(state, offset=-1) == [3]
    assert await poll(state, offset=4) == []


async def test_long_poll_wakes_when_an_update_arrives(state: SandboxState) -> None:
    waiting = asyncio.create_task(poll(state, hold=5))
    await asyncio.sleep(0)
    await state.add_user_message(5, text=text("hi"))

    assert await asyncio.wait_for(waiting, 1) == [1]


async def test_a_second_poller_ends_the_first_with_409(state: SandboxState) -> None:
    first = asyncio.create_task(poll(state, hold=5))
    await asyncio.sleep(0)
    second = asyncio.create_task(poll(state, hold=0.01))

    with pytest.raises(ApiError) as conflict:
        await asyncio.wait_for(first, 1)
    assert conflict.value.code == 409
    assert await second == []


async def test_allowed_updates_drop_other_kinds(state: SandboxState) -> None:
    await state.add_user_message(5, text=text("hi"))
    state.set_blocked(5, True)

    only_messages = await state.get_updates(
        TOKEN, offset=None, limit=100, hold=0, allowed_updates=["message"]
    )

    assert [next(iter(set(u) - {"update_id"})) for u in only_messages] == ["message"]
    assert len(state.updates) == 1, "the my_chat_member update is discarded, as on Telegram"


async def test_unknown_chats_are_refused_unless_strict_chats_is_off(state: SandboxState) -> None:
    with pytest.raises(ApiError, match="chat not found"):
        await state.chat_for_bot(77)
    assert (await state.chat_for_bot(5)).user["first_name"] == "Ann"

    lenient = SandboxState(SandboxConfig(strict_chats=False))
    assert (await lenient.chat_for_bot(77)).id == 77


async def test_person_prefers_given_fields_then_identity(state: SandboxState) -> None:
    assert (await state.person(5))["first_name"] == "Ann"
    assert (await state.person(5, {"first_name": "Anna", "username": None}))["first_name"] == "Anna"
    assert (await state.person(9))["first_name"] == "User 9"
    with pytest.raises(ControlError):
        await state.person(0)


async def test_feed_cursor_sees_edits_and_deletions(state: SandboxState) -> None:
    chat = await state.chat_for_bot(5)
    bot = state.bot_for_token(TOKEN)
    first = state.add_message(chat, bot, from_bot=True, text=text("one"))
    second = state.add_message(chat, bot, from_bot=True, text=text("two"))
    cursor = state.feed(5, origin="", after=None, cursor=None, include_user=False)["cursor"]

    first.text = text("one!")
    state.edited(chat, first)
    state.delete_message(chat, second)
    feed = state.feed(5, origin="", after=None, cursor=cursor, include_user=False)

    assert [(m["message_id"], m["edited"]) for m in feed["messages"]] == [(1, True)]
    assert feed["deleted"] == [2]
    stale = state.feed(5, origin="", after=None, cursor=feed["cursor"] + 10, include_user=False)
    assert stale["reset"] is True and [m["message_id"] for m in stale["messages"]] == [1]


async def test_identities_provider_may_be_async_and_is_normalised() -> None:
    async def provider() -> list[dict[str, object]]:
        return [{"id": "3", "first_name": "Oleg"}]

    people = await SandboxState(SandboxConfig(identities=provider)).identities()

    assert people[0] == {"id": 3, "first_name": "Oleg", "role": "user"}
    assert people[-1]["role"] == "unknown"


def test_image_size_reads_png_gif_and_jpeg_headers() -> None:
    png = (
        b"\x89PNG\r\n\x1a\n"
        + b"\x00\x00\x00\rIHDR"
        + (640).to_bytes(4, "big")
        + (480).to_bytes(4, "big")
    )
    gif = b"GIF89a" + (10).to_bytes(2, "little") + (20).to_bytes(2, "little")
    jpeg = (
        b"\xff\xd8"
        + b"\xff\xe0\x00\x04ab"
        + b"\xff\xc0\x00\x11\x08"
        + (300).to_bytes(2, "big")
        + (200).to_bytes(2, "big")
        + b"\x03" * 10
    )

    assert image_size(png) == (640, 480)
    assert image_size(gif) == (10, 20)
    assert image_size(jpeg) == (200, 300)
    assert image_size(b"not an image") is None
