"""Outcomes as managers use them: a meeting's time and place, a refusal's reason, an order's
amount, a text and a voice note on one call, call-back times only ahead, days off noted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from services.db.models import Interaction
from tests.e2e.bot_harness import ANNA, BotHarness, SeedIds, button_data, buttons, text_of
from tests.e2e.sandbox_harness import SandboxClient

TODAY = date(2026, 3, 2)  # a Monday; the bot's clock is 09:00 in Moscow


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for button in buttons(message)]


async def _press(
    chat: SandboxClient, message: dict[str, Any], label: str, expect: str
) -> dict[str, Any]:
    await chat.press(ANNA, message["message_id"], button_data(message, label))
    return await chat.wait_for(
        ANNA, lambda m: m["message_id"] == message["message_id"] and expect in text_of(m)
    )


async def _outcome(chat: SandboxClient, label: str, expect: str) -> dict[str, Any]:
    await chat.send(ANNA, "/log Лютик")
    prompt = await chat.wait_for(ANNA, lambda m: "Как прошёл звонок?" in text_of(m))
    return await _press(chat, prompt, label, expect)


async def _last(bot_app: BotHarness, client_id: int) -> Interaction:
    async with bot_app.uow_factory() as uow:
        query = select(Interaction).where(Interaction.client_id == client_id)
        rows = list(await uow.session.scalars(query.order_by(Interaction.id.desc()).limit(1)))
        return rows[0]


@pytest.mark.parametrize("bot_db_url", ["sqlite", "postgres"], indirect=True)
async def test_a_meeting_with_date_time_and_place_is_stored_and_shown(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    step = await _outcome(chat, "Встреча назначена", "Когда встреча?")
    step = await _press(chat, step, "Через 3 дня", "Во сколько встреча")
    await chat.send(ANNA, "14:30")
    place = await chat.wait_for(ANNA, lambda m: "Где встреча?" in text_of(m))
    assert "05.03.2026 14:30" in text_of(place)
    await chat.send(ANNA, "офис на Тверской, 7")
    comment = await chat.wait_for(ANNA, lambda m: "Комментарий?" in text_of(m))
    await _press(chat, comment, "Без комментария", "Звонок сохранён")
    saved = await chat.wait_for(ANNA, lambda m: "Звонок сохранён" in text_of(m))
    assert "🤝 Встреча: 05.03.2026 14:30" in text_of(saved)
    assert "📍 Место: офис на Тверской, 7" in text_of(saved)
    card = await chat.wait_for(ANNA, lambda m: "Последний контакт" in text_of(m))
    assert "📍 Место: офис на Тверской, 7" in text_of(card)
    assert "Следующий контакт: 05.03.2026 14:30" in text_of(card)  # the time, too

    call = await _last(bot_app, seed.anna_clients[2])
    assert call.meeting_at == datetime(2026, 3, 5, 11, 30, tzinfo=UTC)
    assert call.meeting_place == "офис на Тверской, 7"
    await chat.press(ANNA, card["message_id"], button_data(card, "История"))
    history = await chat.wait_for(ANNA, lambda m: "📍 Место" in text_of(m))
    assert "🤝 Встреча: 05.03.2026 14:30" in text_of(history)


async def test_a_refusal_asks_a_reason_and_defaults_to_the_reactivation_horizon(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    step = await _outcome(chat, "Отказ", "Причина отказа?")
    assert labels(step)[:4] == ["Дорого", "Нет потребности", "Работают с другим", "Нет бюджета"]
    await chat.send(ANNA, "закрыли филиал")  # a reason of one's own
    when = await chat.wait_for(ANNA, lambda m: "Когда связаться" in text_of(m))
    assert labels(when)[0] == "Через 14 дней (16.03)"
    assert "Завтра" not in labels(when) and "Сегодня" not in labels(when)
    comment = await _press(chat, when, "Через 14 дней", "Комментарий?")
    await _press(chat, comment, "Без комментария", "Причина отказа: закрыли филиал")
    call = await _last(bot_app, seed.anna_clients[2])
    assert (call.outcome, call.refusal_reason) == ("refused", "закрыли филиал")
    assert call.next_contact_on == TODAY + timedelta(days=14)


@pytest.mark.parametrize("bot_db_url", ["sqlite", "postgres"], indirect=True)
async def test_an_order_with_an_amount_and_both_a_text_and_a_voice_comment(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await _outcome(chat, "Заказ", "Сумма заказа?")
    await chat.send(ANNA, "много")
    await chat.wait_for(ANNA, lambda m: "«много» — не сумма" in text_of(m))
    await chat.send(ANNA, "125 000,50")
    when = await chat.wait_for(ANNA, lambda m: "Когда связаться" in text_of(m))
    await _press(chat, when, "Через неделю", "Комментарий?")
    await chat.upload_voice(ANNA, b"OggS" + bytes(64), duration=3)
    await chat.wait_for(ANNA, lambda m: "Голосовое добавлено" in text_of(m))
    await chat.send(ANNA, "доставка в пятницу")
    saved = await chat.wait_for(ANNA, lambda m: "Звонок сохранён" in text_of(m))
    assert "Сумма заказа: 125" in text_of(saved)
    assert "«доставка в пятницу»" in text_of(saved) and "🎤" in text_of(saved)
    call = await _last(bot_app, seed.anna_clients[2])
    assert call.order_amount == Decimal("125000.50")
    assert call.comment == "доставка в пятницу" and call.voice_file_id


async def test_call_back_times_are_only_ahead_typed_relative_times_and_day_off_notes(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    step = await _outcome(chat, "Перезвонить", "Когда связаться")
    ask = await _press(chat, step, "Сегодня", "Во сколько перезвонить")
    hours = [label for label in labels(ask) if ":" in label]
    assert hours[0] == "10:00" and "09:00" not in hours  # it is 09:00 now
    await chat.send(ANNA, "через 2 часа")
    comment = await chat.wait_for(ANNA, lambda m: "Комментарий?" in text_of(m))
    assert "Следующий контакт: 02.03.2026 11:00" in text_of(comment)
    await _press(chat, comment, "Без комментария", "Звонок сохранён")
    card = await chat.wait_for(ANNA, lambda m: "Последний контакт" in text_of(m))
    assert "Следующий контакт: <b>сегодня</b> 11:00" in card["text"]
    await chat.send(ANNA, "/today")
    today = await chat.wait_for(ANNA, lambda m: "Позвонить сегодня" in text_of(m))
    row = next(line for line in text_of(today).splitlines() if "Лютик" in line)
    assert row.endswith("11:00"), row  # the list shows the call-back's time too

    # 8 March 2026 is a Sunday and a public holiday: accepted, with a note
    step = await _outcome(chat, "Дозвонился", "Когда связаться")
    await chat.press(ANNA, step["message_id"], button_data(step, "Выбрать дату"))
    month = await chat.wait_for(
        ANNA, lambda m: m["message_id"] == step["message_id"] and "Март 2026" in labels(m)
    )
    comment = await _press(chat, month, "8", "Комментарий?")
    assert "08.03.2026 — выходной или праздничный день" in text_of(comment)
    await _press(chat, comment, "Без комментария", "Звонок сохранён")
    assert (await _last(bot_app, seed.anna_clients[2])).next_contact_on == date(2026, 3, 8)


async def test_the_call_back_reminder_has_the_phone_and_a_log_call_button(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    from scheduler.jobs import JobContext, tick
    from scheduler.sender import Sender
    from tests.unit.scheduler.fakes import FakeTime

    step = await _outcome(chat, "Перезвонить", "Когда связаться")
    ask = await _press(chat, step, "Сегодня", "Во сколько перезвонить")
    comment = await _press(chat, ask, "10:00", "Комментарий?")
    await _press(chat, comment, "Без комментария", "Звонок сохранён")

    fake = FakeTime()
    sender = Sender(bot_app.app.bot, sleep=fake.sleep, monotonic=fake.monotonic)
    context = JobContext(bot_app.uow_factory, bot_app.clock, sender, recompute_at=None)
    bot_app.clock.advance(timedelta(hours=1))  # 10:00 in Moscow
    report = await tick(context)
    assert report.reminders.sent == 1
    reminder = await chat.wait_for(ANNA, lambda m: "Пора перезвонить" in text_of(m))
    assert "Телефон: +7 495 111-22-33" in text_of(reminder)
    await chat.press(ANNA, reminder["message_id"], button_data(reminder, "Записать звонок"))
    prompt = await chat.wait_for(ANNA, lambda m: "Как прошёл звонок?" in text_of(m))
    assert "Лютик" in text_of(prompt)
