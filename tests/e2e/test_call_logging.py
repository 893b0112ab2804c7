"""Logging a call from the field, end to end: outcome, next contact, comment, undo, cancel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from services.db.models import Client, FsmRecord, Interaction
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
from tests.e2e.sandbox_harness import SandboxClient

TODAY = date(2026, 3, 2)


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for button in buttons(message)]


async def _card(chat: SandboxClient, user: int, query: str, tax_id: str) -> dict[str, Any]:
    await chat.send(user, query)
    return await chat.wait_for(user, lambda m: tax_id in text_of(m))


async def _press(
    chat: SandboxClient, user: int, message: dict[str, Any], label: str, expect: str
) -> dict[str, Any]:
    """Press a button of `message` and wait until that message is edited to show `expect`."""
    await chat.press(user, message["message_id"], button_data(message, label))
    return await chat.wait_for(
        user, lambda m: m["message_id"] == message["message_id"] and expect in text_of(m)
    )


async def _start(
    chat: SandboxClient, user: int, card: dict[str, Any], label: str
) -> dict[str, Any]:
    await chat.press(user, card["message_id"], button_data(card, label))
    return await chat.wait_for(user, lambda m: not m["edited"] and bool(buttons(m)))


async def _calls(bot_app: BotHarness, client_id: int) -> list[Interaction]:
    async with bot_app.uow_factory() as uow:
        rows = await uow.session.scalars(
            select(Interaction).where(Interaction.client_id == client_id).order_by(Interaction.id)
        )
        return list(rows)


async def _due(bot_app: BotHarness, client_id: int) -> date | None:
    async with bot_app.uow_factory() as uow:
        return await uow.session.scalar(select(Client.next_due_on).where(Client.id == client_id))


async def test_full_call_with_a_typed_comment_then_the_card_refreshes(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    client_id = seed.anna_clients[0]
    card = await _card(chat, ANNA, "Ромашка", "ИНН 7701234567")
    prompt = await _start(chat, ANNA, card, "Записать звонок")
    assert "📞 Звонок: ООО «Ромашка»\nКак прошёл звонок?" in text_of(prompt)
    assert labels(prompt) == [
        "Дозвонился",
        "Не дозвонился",
        "Перезвонить",
        "Встреча назначена",
        "Заказ",
        "Отказ",
        "✖️ Отмена",
    ]
    step = await _press(chat, ANNA, prompt, "Дозвонился", "Когда связаться")
    assert "Итог: Дозвонился" in text_of(step)
    assert "Сегодня" not in labels(step)  # only for call-backs
    assert "По графику сегмента (09.03)" in labels(step)  # VIP: cadence capped at 7 days
    step = await _press(chat, ANNA, step, "Через 3 дня", "Комментарий?")
    assert "Следующий контакт: 05.03.2026" in text_of(step)

    await chat.send(ANNA, "Договорились о поставке <кофе>")
    saved = await chat.wait_for(ANNA, lambda m: "Звонок сохранён" in text_of(m))
    assert "Итог: Дозвонился" in text_of(saved)
    assert "«Договорились о поставке <кофе>»" in text_of(saved)
    assert labels(saved) == ["↩️ Отменить запись"]
    refreshed = await chat.wait_for(
        ANNA, lambda m: "Последний контакт: 02.03.2026 09:00" in text_of(m)
    )
    assert "Следующий контакт: 05.03.2026" in text_of(refreshed)
    assert refreshed["message_id"] > saved["message_id"]  # saved first, then the card

    calls = await _calls(bot_app, client_id)
    assert [(c.outcome, c.comment, c.user_id) for c in calls][-1] == (
        "reached",
        "Договорились о поставке <кофе>",
        seed.anna,
    )
    assert await _due(bot_app, client_id) == date(2026, 3, 5)
    key = StorageKey(bot_id=bot_app.app.bot.id, chat_id=ANNA, user_id=ANNA)
    assert await bot_app.app.dispatcher.storage.get_state(key) is None  # the conversation is over


async def test_call_back_with_the_calendar_and_a_typed_time(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    client_id = seed.anna_clients[2]
    await chat.send(ANNA, "/log Лютик")
    prompt = await chat.wait_for(ANNA, lambda m: "Как прошёл звонок?" in text_of(m))
    step = await _press(chat, ANNA, prompt, "Перезвонить", "Когда связаться")
    assert labels(step)[0] == "Сегодня"
    await chat.press(ANNA, step["message_id"], button_data(step, "Выбрать дату"))
    month = await chat.wait_for(
        ANNA, lambda m: m["message_id"] == step["message_id"] and "Март 2026" in labels(m)
    )
    assert "1" not in labels(month)  # days before today cannot be picked
    await chat.press(ANNA, month["message_id"], button_data(month, "▶"))
    april = await chat.wait_for(
        ANNA, lambda m: m["message_id"] == step["message_id"] and "Апрель 2026" in labels(m)
    )
    await chat.press(ANNA, april["message_id"], button_data(april, "10"))
    ask_time = await chat.wait_for(ANNA, lambda m: "Во сколько перезвонить" in text_of(m))
    assert "10.04.2026" in text_of(ask_time) and "15:00" in labels(ask_time)

    await chat.send(ANNA, "<b>25:00")  # also: typed text is never echoed as HTML
    await chat.wait_for(ANNA, lambda m: "в формате ЧЧ:ММ" in text_of(m))
    await chat.send(ANNA, "15:30")
    comment = await chat.wait_for(ANNA, lambda m: "Комментарий?" in text_of(m))
    assert "Следующий контакт: 10.04.2026 15:30" in text_of(comment)
    await _press(chat, ANNA, comment, "Без комментария", "Звонок сохранён")

    call = (await _calls(bot_app, client_id))[-1]
    assert call.outcome == "call_back" and call.comment is None
    assert call.next_contact_on == date(2026, 4, 10)
    assert call.next_contact_at == datetime(2026, 4, 10, 12, 30, tzinfo=UTC)  # Moscow is UTC+3
    assert await _due(bot_app, client_id) == date(2026, 4, 10)


async def test_voice_comment_keeps_the_file_id(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await _card(chat, ANNA, "Васильев", "ИНН 500100732259")
    prompt = await _start(chat, ANNA, card, "Записать звонок")
    step = await _press(chat, ANNA, prompt, "Встреча назначена", "Когда встреча?")
    step = await _press(chat, ANNA, step, "Через неделю", "Во сколько встреча")
    step = await _press(chat, ANNA, step, "Без времени", "Где встреча?")
    await _press(chat, ANNA, step, "Без места", "Комментарий?")
    await chat.upload_voice(ANNA, b"OggS" + bytes(64), duration=3)
    kept = await chat.wait_for(ANNA, lambda m: "Голосовое добавлено" in text_of(m))
    await chat.press(ANNA, kept["message_id"], button_data(kept, "Сохранить"))
    saved = await chat.wait_for(ANNA, lambda m: "Звонок сохранён" in text_of(m))
    assert "🎤 голосовой комментарий" in text_of(saved)
    call = (await _calls(bot_app, seed.anna_clients[1]))[-1]
    assert call.voice_file_id and call.outcome == "meeting_set"
    assert await _due(bot_app, seed.anna_clients[1]) == TODAY + timedelta(days=7)


async def test_undo_within_ten_minutes_and_refusal_after(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    client_id = seed.anna_clients[0]
    before = await _due(bot_app, client_id)

    async def log_one() -> dict[str, Any]:
        card = await _card(chat, ANNA, "Ромашка", "ИНН 7701234567")
        prompt = await _start(chat, ANNA, card, "Записать звонок")
        step = await _press(chat, ANNA, prompt, "Не дозвонился", "Когда связаться")
        step = await _press(chat, ANNA, step, "Завтра", "Комментарий?")
        return await _press(chat, ANNA, step, "Без комментария", "Звонок сохранён")

    saved = await log_one()
    assert await _due(bot_app, client_id) == TODAY + timedelta(days=1)
    bot_app.clock.advance(timedelta(minutes=9))
    undone = await _press(chat, ANNA, saved, "Отменить запись", "Запись о звонке отменена")
    assert labels(undone) == []
    assert await _due(bot_app, client_id) == before
    assert [c.outcome for c in await _calls(bot_app, client_id)] == ["reached"]  # the seed's

    saved = await log_one()
    bot_app.clock.advance(timedelta(minutes=11))
    pressed = await chat.press(ANNA, saved["message_id"], button_data(saved, "Отменить запись"))
    answer = await wait_answer(chat, ANNA, pressed)
    assert answer["show_alert"] and "в течение 10 минут" in answer["text"]
    assert len(await _calls(bot_app, client_id)) == 2


async def test_cancel_by_button_and_by_command(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await _card(chat, ANNA, "Ромашка", "ИНН 7701234567")
    prompt = await _start(chat, ANNA, card, "Записать звонок")
    step = await _press(chat, ANNA, prompt, "Не дозвонился", "Когда связаться")
    await chat.press(ANNA, step["message_id"], button_data(step, "Отмена"))
    await chat.wait_for(ANNA, lambda m: "Отменено" in text_of(m))
    pressed = await chat.press(ANNA, step["message_id"], button_data(step, "Завтра"), force=True)
    answer = await wait_answer(chat, ANNA, pressed)
    assert "уже не действует" in answer["text"]

    prompt = await _start(chat, ANNA, card, "Записать звонок")
    await _press(chat, ANNA, prompt, "Отказ", "Причина отказа?")
    await chat.send(ANNA, "/cancel")
    await chat.wait_for(ANNA, lambda m: "Отменено" in text_of(m))
    await chat.send(ANNA, "просто текст")  # a lookup again, not a comment
    await chat.wait_for(ANNA, lambda m: "никого не нашлось" in text_of(m))
    assert len(await _calls(bot_app, seed.anna_clients[0])) == 1  # only the seed's


async def _log_a_call_across_restarts(
    bot_app: BotHarness,
    seed: SeedIds,
    chat: SandboxClient,
    while_open: Callable[[], Awaitable[None]] | None = None,
) -> None:
    card = await _card(chat, ANNA, "Ромашка", "ИНН 7701234567")
    prompt = await _start(chat, ANNA, card, "Записать звонок")
    step = await _press(chat, ANNA, prompt, "Дозвонился", "Когда связаться")
    if while_open is not None:
        await while_open()

    await bot_app.restart()

    step = await _press(chat, ANNA, step, "Через неделю", "Комментарий?")
    await bot_app.restart()
    await chat.send(ANNA, "после перезапуска")
    await chat.wait_for(ANNA, lambda m: "Звонок сохранён" in text_of(m))
    call = (await _calls(bot_app, seed.anna_clients[0]))[-1]
    assert (call.comment, call.outcome) == ("после перезапуска", "reached")
    assert await _due(bot_app, seed.anna_clients[0]) == TODAY + timedelta(days=7)


async def test_the_conversation_survives_a_restart(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await _log_a_call_across_restarts(bot_app, seed, chat)


@pytest.mark.redis_fsm
async def test_the_conversation_survives_a_restart_with_redis_state(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient, redis_url: str
) -> None:
    from redis.asyncio import Redis

    async def state_is_in_redis() -> None:
        client = Redis.from_url(redis_url)
        try:
            assert await client.dbsize() > 0
        finally:
            await client.aclose()

    await _log_a_call_across_restarts(bot_app, seed, chat, while_open=state_is_in_redis)
    async with bot_app.uow_factory() as uow:  # and not in the database
        assert (await uow.session.execute(select(FsmRecord))).first() is None


async def test_english_call_by_the_segment_schedule_and_next_contact_only(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    client_id = seed.john_clients[0]
    card = await _card(chat, JOHN, "Vasilek", "Tax ID 7803456789")
    prompt = await _start(chat, JOHN, card, "Log call")
    assert "How did the call go?" in text_of(prompt)
    step = await _press(chat, JOHN, prompt, "Reached", "When should we contact them next?")
    step = await _press(chat, JOHN, step, "By segment schedule (6 Apr)", "Any comment?")
    await _press(chat, JOHN, step, "No comment", "Call saved")
    assert await _due(bot_app, client_id) == date(2026, 4, 6)  # the snapshot's 35 days

    card = await _card(chat, JOHN, "Vasilek", "Last contact: 2 Mar 2026 09:00")
    prompt = await _start(chat, JOHN, card, "Next contact")
    await _press(chat, JOHN, prompt, "Tomorrow", "Next contact set for 3 Mar 2026")
    assert await _due(bot_app, client_id) == date(2026, 3, 3)
    assert len(await _calls(bot_app, client_id)) == 2  # the seed's and one logged call


async def test_log_command_with_several_matches_and_without_a_query(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    await chat.send(HEAD, "/log")
    await chat.wait_for(HEAD, lambda m: "Для кого записать звонок? Например: /log" in text_of(m))
    await chat.send(HEAD, "/log Васил")
    listing = await chat.wait_for(HEAD, lambda m: "Для кого записать звонок?" in text_of(m))
    assert text_of(listing).startswith("Найдено 2 клиента по запросу «Васил»")
    await chat.press(HEAD, listing["message_id"], button_data(listing, "Василёк"))
    prompt = await chat.wait_for(HEAD, lambda m: "Как прошёл звонок?" in text_of(m))
    assert "📞 Звонок: АО «Василёк»" in text_of(prompt)
