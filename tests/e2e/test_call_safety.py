"""A hurried manager logging calls: one call saved once, on the right client, every reply out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select

from sandbox import LimitsConfig
from services.db.models import Client, Interaction
from tests.e2e.bot_harness import (
    ANNA,
    HEAD,
    JOHN,
    BotHarness,
    SeedIds,
    button_data,
    buttons,
    text_of,
    wait_answer,
)
from tests.e2e.sandbox_harness import SandboxClient, tiny_png

BOTH_DATABASES = pytest.mark.parametrize("bot_db_url", ["sqlite", "postgres"], indirect=True)


async def _count(bot_app: BotHarness, client_id: int) -> int:
    async with bot_app.uow_factory() as uow:
        query = select(func.count(Interaction.id)).where(Interaction.client_id == client_id)
        return int(await uow.session.scalar(query) or 0)


async def _press(
    chat: SandboxClient, user: int, message: dict[str, Any], label: str, expect: str
) -> dict[str, Any]:
    await chat.press(user, message["message_id"], button_data(message, label))
    return await chat.wait_for(
        user, lambda m: m["message_id"] == message["message_id"] and expect in text_of(m)
    )


async def _up_to_the_comment(chat: SandboxClient, query: str = "Лютик") -> dict[str, Any]:
    """`/log <query>` -> Дозвонился -> Через неделю: the comment prompt is open."""
    await chat.send(ANNA, f"/log {query}")
    prompt = await chat.wait_for(ANNA, lambda m: "Как прошёл звонок?" in text_of(m))
    step = await _press(chat, ANNA, prompt, "Дозвонился", "Когда связаться")
    return await _press(chat, ANNA, step, "Через неделю", "Комментарий?")


async def test_an_unfinished_log_ends_visibly_on_today_and_a_search(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    lutik, romashka = seed.anna_clients[2], seed.anna_clients[0]
    before = await _count(bot_app, lutik), await _count(bot_app, romashka)
    comment = await _up_to_the_comment(chat)
    assert "Лютик" in text_of(comment).split("Комментарий?", 1)[1]  # the prompt names the client

    await chat.send(ANNA, "/today")
    notice = await chat.wait_for(ANNA, lambda m: "Звонок не записан" in text_of(m))
    assert "Лютик" in text_of(notice)
    assert [b["text"] for b in buttons(notice)] == ["▶️ Продолжить", "✖️ Отменить"]
    await chat.wait_for(ANNA, lambda m: "Позвонить сегодня" in text_of(m))
    stale = await chat.wait_for(ANNA, lambda m: m["message_id"] == comment["message_id"])
    assert buttons(stale) == []  # the comment prompt lost its buttons

    await chat.send(ANNA, "Ромашка")  # a search, not a comment
    await chat.wait_for(ANNA, lambda m: "ИНН 7701234567" in text_of(m))
    assert (await _count(bot_app, lutik), await _count(bot_app, romashka)) == before

    # "Continue" brings the comment step back; the comment then goes to the right client
    await chat.press(ANNA, notice["message_id"], button_data(notice, "Продолжить"))
    again = await chat.wait_for(ANNA, lambda m: "Комментарий?" in text_of(m) and bool(buttons(m)))
    assert "Лютик" in text_of(again)
    await chat.send(ANNA, "перезвонит сам")
    await chat.wait_for(ANNA, lambda m: "Звонок сохранён" in text_of(m))
    assert (await _count(bot_app, lutik), await _count(bot_app, romashka)) == (
        before[0] + 1,
        before[1],
    )


@BOTH_DATABASES
@pytest.mark.parametrize("taps", [2, 5])
async def test_concurrent_taps_on_the_last_step_save_one_call(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient, taps: int
) -> None:
    lutik = seed.anna_clients[2]
    before = await _count(bot_app, lutik)
    comment = await _up_to_the_comment(chat)
    data = button_data(comment, "Без комментария")
    pressed = await asyncio.gather(
        *(chat.press(ANNA, comment["message_id"], data) for _ in range(taps))
    )
    answers = [await wait_answer(chat, ANNA, press) for press in pressed]
    assert await _count(bot_app, lutik) == before + 1
    assert sum("Уже сохранено" in (a.get("text") or "") for a in answers) == taps - 1
    already = await chat.wait_for(ANNA, lambda m: "уже сохранён" in text_of(m))
    assert [b["text"] for b in buttons(already)] == ["↩️ Отменить запись"]


@BOTH_DATABASES
async def test_two_comments_at_once_save_one_call(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    lutik = seed.anna_clients[2]
    before = await _count(bot_app, lutik)
    await _up_to_the_comment(chat)
    await asyncio.gather(chat.send(ANNA, "первый"), chat.send(ANNA, "второй"))
    await chat.wait_for(ANNA, lambda m: "Звонок сохранён" in text_of(m))
    # the second: "already saved" with its undo button, and that it was neither added nor
    # searched; sent again, it is a search
    await chat.wait_for(ANNA, lambda m: "«второй» пришло, когда звонок уже был" in text_of(m))
    again = await chat.wait_for(ANNA, lambda m: "уже сохранён" in text_of(m))
    assert "un:" in str(again.get("reply_markup"))
    await chat.send(ANNA, "второй")
    await chat.wait_for(ANNA, lambda m: "никого не нашлось" in text_of(m))
    async with bot_app.uow_factory() as uow:
        rows = list(
            await uow.session.scalars(
                select(Interaction.comment).where(Interaction.client_id == lutik)
            )
        )
    assert len(rows) == before + 1 and rows.count("первый") == 1 and "второй" not in rows


@BOTH_DATABASES
async def test_a_retry_after_a_crash_between_commit_and_reply_saves_one_call(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    """What a crash right after the commit leaves: the row saved, the chat still at the
    comment step. The retried comment is answered "already saved", and nothing is added."""
    lutik = seed.anna_clients[2]
    before = await _count(bot_app, lutik)
    await _up_to_the_comment(chat)
    key = StorageKey(bot_id=bot_app.app.bot.id, chat_id=ANNA, user_id=ANNA)
    storage = bot_app.app.dispatcher.storage
    state, data = await storage.get_state(key), await storage.get_data(key)
    await chat.send(ANNA, "договорились")
    await chat.wait_for(ANNA, lambda m: "Звонок сохранён" in text_of(m))

    await bot_app.stop()  # the process dies; its conversation state is what it was
    await storage_restore(bot_app, key, state, data)
    await bot_app.start()
    await chat.send(ANNA, "договорились")
    already = await chat.wait_for(ANNA, lambda m: "уже сохранён" in text_of(m))
    assert "«договорились»" in text_of(already)
    assert await _count(bot_app, lutik) == before + 1


async def storage_restore(
    bot_app: BotHarness, key: StorageKey, state: str | None, data: dict[str, Any]
) -> None:
    from bot.app import build_storage

    engine_app = bot_app.settings
    from services.db.engine import make_engine, make_session_factory
    from services.uow import UnitOfWorkFactory

    engine = make_engine(engine_app.database.url)
    try:
        storage = build_storage("", UnitOfWorkFactory(make_session_factory(engine)))
        await storage.set_state(key, state)
        await storage.set_data(key, data)
        await storage.close()
    finally:
        await engine.dispose()


@BOTH_DATABASES
async def test_forged_undo_payloads_change_nothing(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    lutik = seed.anna_clients[2]
    comment = await _up_to_the_comment(chat)
    saved = await _press(chat, ANNA, comment, "Без комментария", "Звонок сохранён")
    undo = button_data(saved, "Отменить запись")
    interaction_id = int(undo.split(":")[1])
    async with bot_app.uow_factory() as uow:
        due = await uow.session.scalar(select(Client.next_due_on).where(Client.id == lutik))

    own = {ANNA: saved["message_id"]}
    for other in (JOHN, HEAD):
        await chat.send(other, "/help")
        own[other] = (await chat.wait_for(other, lambda m: "/help" in text_of(m) or True))[
            "message_id"
        ]

    async def answer(user: int, data: str) -> str:
        pressed = await chat.press(user, own[user], data, force=True)
        return str((await wait_answer(chat, user, pressed)).get("text") or "")

    assert "устарела" in await answer(ANNA, f"un:{interaction_id}:1")  # the old, forgeable form
    assert "устарела" in await answer(ANNA, "un:abc")
    assert "уже удалена" in await answer(ANNA, "un:99999999999999999999")
    assert "уже удалена" in await answer(ANNA, "un:-5")
    assert "not allowed" in await answer(JOHN, undo)  # someone else's call (John reads English)
    async with bot_app.uow_factory() as uow:
        assert await uow.session.scalar(select(Client.next_due_on).where(Client.id == lutik)) == due
    assert await _count(bot_app, lutik) == 2  # the seed's and the new one

    assert "Запись отменена" in await answer(ANNA, undo)
    assert "уже удалена" in await answer(ANNA, undo)  # a second undo
    assert "уже удалена" in await answer(HEAD, undo)
    assert await _count(bot_app, lutik) == 1


@pytest.mark.sandbox_limits(LimitsConfig())  # Telegram's limits: 5 at once, then 1 a second
async def test_ten_quick_messages_get_ten_replies_under_the_rate_limits(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    for n in range(10):
        await chat.send(ANNA, "/help" if n % 2 else "Лютик")
    replies = await chat.wait_messages(ANNA, after=0, wait=30, count=10)
    assert len(replies) == 10
    assert sum("Лютик" in text_of(m) for m in replies) == 5  # the five searches, each answered


async def test_unknown_commands_files_and_malformed_buttons_are_answered(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    await chat.send(ANNA, "/foo")
    await chat.wait_for(
        ANNA, lambda m: "Не знаю такой команды" in text_of(m) and "/help" in text_of(m)
    )
    await chat.send(ANNA, "/CLIENT Ромашка")
    await chat.wait_for(ANNA, lambda m: "Не знаю такой команды" in text_of(m))
    await chat.upload_document(ANNA, "clients.xlsx", b"PK\x03\x04")  # a manager's file
    await chat.wait_for(ANNA, lambda m: "Импорт файлов — у руководителя" in text_of(m))
    await chat.upload_voice(ANNA, b"OggS" + bytes(64), duration=2)
    await chat.wait_for(ANNA, lambda m: "Голосовое сообщение" in text_of(m))
    await chat.upload_photo(ANNA, tiny_png())
    await chat.wait_for(ANNA, lambda m: "Я читаю текст" in text_of(m))
    await chat.send(ANNA, "/help")
    helped = await chat.wait_for(ANNA, lambda m: "/today" in text_of(m))
    for data in ("zz:1", "cf:zz:1", "cl", "ca:x:y:z", "un:1:2:3"):
        pressed = await chat.press(ANNA, helped["message_id"], data, force=True)
        text = str((await wait_answer(chat, ANNA, pressed)).get("text") or "")
        assert "устарела" in text, (data, text)


async def test_an_outdated_card_refreshes_instead_of_acting_and_done_steps_lose_buttons(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.send(ANNA, "Ромашка")
    old = await chat.wait_for(ANNA, lambda m: "ИНН 7701234567" in text_of(m))
    await chat.press(ANNA, old["message_id"], button_data(old, "Записать звонок"))
    prompt = await chat.wait_for(ANNA, lambda m: "Как прошёл звонок?" in text_of(m))
    step = await _press(chat, ANNA, prompt, "Не дозвонился", "Когда связаться")
    comment = await _press(chat, ANNA, step, "Завтра", "Комментарий?")
    await chat.send(ANNA, "занято")
    await chat.wait_for(ANNA, lambda m: "Звонок сохранён" in text_of(m))
    answered = await chat.wait_for(ANNA, lambda m: m["message_id"] == comment["message_id"])
    assert buttons(answered) == []  # the answered prompt keeps no live buttons
    rows = await _count(bot_app, seed.anna_clients[0])

    pressed = await chat.press(ANNA, old["message_id"], button_data(old, "Записать звонок"))
    assert "Карточка обновилась" in str((await wait_answer(chat, ANNA, pressed)).get("text"))
    fresh = await chat.wait_for(
        ANNA, lambda m: m["message_id"] == old["message_id"] and "«занято»" in text_of(m)
    )
    assert await current_draft_state(bot_app) is None  # nothing was started from the old card
    await chat.press(ANNA, fresh["message_id"], button_data(fresh, "Записать звонок"))
    await chat.wait_for(ANNA, lambda m: "Как прошёл звонок?" in text_of(m))
    assert await _count(bot_app, seed.anna_clients[0]) == rows


async def current_draft_state(bot_app: BotHarness) -> str | None:
    key = StorageKey(bot_id=bot_app.app.bot.id, chat_id=ANNA, user_id=ANNA)
    return await bot_app.app.dispatcher.storage.get_state(key)
