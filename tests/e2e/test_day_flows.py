"""The day at a glance through the real bot: the progress line, the head's filter, /week by
day, the reply keyboard, a manager without clients, the notice of a used invite."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from services.db.models import Channel, ClientNote, Interaction, Outcome, Role, User
from tests.e2e.bot_harness import (
    ANNA,
    HEAD,
    JOHN,
    NOW,
    BotHarness,
    SeedIds,
    button_data,
    buttons,
    text_of,
)
from tests.e2e.sandbox_harness import SandboxClient

NEWCOMER = 3001


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for button in buttons(message)]


async def ask(chat: SandboxClient, user: int, text: str, expect: str) -> dict[str, Any]:
    await chat.send(user, text)
    return await chat.wait_for(user, lambda m: expect in text_of(m))


@pytest.fixture
async def calls_today(bot_app: BotHarness, seed: SeedIds) -> None:
    """Hand-counted: Anna made 3 calls today (and one yesterday, a meeting, a note);
    John made 1 call today."""
    anna_client, john_client = seed.anna_clients[1], seed.john_clients[0]
    rows = [
        (anna_client, seed.anna, NOW - timedelta(hours=1), Channel.CALL),
        (anna_client, seed.anna, NOW - timedelta(hours=2), Channel.CALL),
        (seed.vip, seed.anna, NOW - timedelta(hours=3), Channel.CALL),
        (seed.vip, seed.anna, NOW - timedelta(hours=10), Channel.CALL),  # 23:00 yesterday
        (seed.vip, seed.anna, NOW - timedelta(minutes=30), Channel.MEETING),
        (john_client, seed.john, NOW - timedelta(hours=1), Channel.CALL),
    ]
    async with bot_app.uow_factory() as uow:
        for client_id, user_id, moment, channel in rows:
            uow.session.add(
                Interaction(
                    client_id=client_id,
                    user_id=user_id,
                    occurred_at=moment,
                    created_at=moment,
                    channel=channel.value,
                    outcome=Outcome.REACHED.value,
                )
            )
        uow.session.add(ClientNote(client_id=seed.vip, user_id=seed.anna, text="не звонок"))
        await uow.commit()


async def test_today_starts_with_the_days_progress(
    bot_app: BotHarness, calls_today: None, chat: SandboxClient
) -> None:
    mine = await ask(chat, ANNA, "/today", "Позвонить сегодня")
    assert text_of(mine).startswith("Звонков сегодня: 3 из 20 · просрочено 2\n")
    english = await ask(chat, JOHN, "/today", "To call today")
    assert text_of(english).startswith("Calls today: 1 of 20 · overdue 0\n")
    team = await ask(chat, HEAD, "/today", "Позвонить сегодня")
    assert text_of(team).startswith("👥 Команда · Звонков сегодня: 4 из 40 · просрочено 2\n")


async def test_the_head_narrows_any_list_to_one_manager(
    bot_app: BotHarness, calls_today: None, chat: SandboxClient
) -> None:
    anna = await ask(chat, HEAD, "/today Смирнова", "Позвонить сегодня")
    assert text_of(anna).startswith(
        "👤 Анна Смирнова · Звонков сегодня: 3 из 20 · просрочено 2\n"
        "📋 Позвонить сегодня: 3 клиента"
    )
    assert "John Carter" not in text_of(anna)
    await ask(chat, HEAD, "/today Смирновой", "👤 Анна Смирнова")  # any form of the name
    await ask(chat, HEAD, "/today Петров", "Не нашёл в команде менеджера «Петров»")

    # the picker under the team's list
    risk = await ask(chat, HEAD, "/risk", "Под угрозой ухода")
    await chat.press(HEAD, risk["message_id"], button_data(risk, "По менеджеру"))
    picker = await chat.wait_for(HEAD, lambda m: m["edited"] and "Чей список" in text_of(m))
    assert labels(picker) == ["John Carter", "Анна Смирнова", "👥 Все"]
    await chat.press(HEAD, picker["message_id"], button_data(picker, "John Carter"))
    johns = await chat.wait_for(HEAD, lambda m: m["edited"] and "Под угрозой" in text_of(m))
    assert text_of(johns).startswith("⚠️ Под угрозой ухода: 0 клиентов")
    assert "👥 Все" in labels(johns)
    # a manager's own list stays their own whatever they add
    own = await ask(chat, ANNA, "/today Carter", "Позвонить сегодня")
    assert "Звонков сегодня: 3 из 20" in text_of(own)


async def test_week_is_grouped_by_day(bot_app: BotHarness, chat: SandboxClient) -> None:
    week = await ask(chat, HEAD, "/week", "На ближайшие 7 дней")
    assert text_of(week) == "🗓 На ближайшие 7 дней: 2 клиента\nВыберите день:"
    assert labels(week) == ["Вт 03.03 · 1", "Ср 04.03 · 1", "👤 По менеджеру"]
    await chat.press(HEAD, week["message_id"], button_data(week, "Вт 03.03"))
    day = await chat.wait_for(HEAD, lambda m: m["edited"] and "Вт 03.03: 1 клиент" in text_of(m))
    assert "1. АО «Василёк» — AY, 03.03, 👤 John Carter" in text_of(day)
    assert labels(day) == ["1", "« Вся неделя", "👤 По менеджеру"]
    await chat.press(HEAD, day["message_id"], button_data(day, "Вся неделя"))
    await chat.wait_for(HEAD, lambda m: m["edited"] and "Выберите день" in text_of(m))


async def test_start_gives_the_main_actions_keyboard(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    await chat.send(ANNA, "/start")
    await chat.wait_for(ANNA, lambda m: "Здравствуйте, Анна Смирнова" in text_of(m))
    feed = await chat.messages(ANNA)
    keyboard = [[b["text"] for b in row] for row in feed["reply_keyboard"]["keyboard"]]
    assert keyboard == [
        ["📋 Сегодня", "🔎 Найти клиента"],
        ["🔄 Реактивация", "⚠️ Риск"],
        ["⚙️ Настройки"],
    ]
    await ask(chat, ANNA, "📋 Сегодня", "Позвонить сегодня")
    await ask(chat, ANNA, "🔄 Реактивация", "Пора вернуть")
    await ask(chat, ANNA, "⚠️ Риск", "Под угрозой ухода")
    await ask(chat, ANNA, "🔎 Найти клиента", "Кого найти?")
    await ask(chat, ANNA, "⚙️ Настройки", "Настройки")
    # the English buttons work too, also for a Russian speaker who typed them
    await chat.send(JOHN, "/start")
    await chat.wait_for(JOHN, lambda m: "John Carter" in text_of(m))
    feed = await chat.messages(JOHN)
    assert feed["reply_keyboard"]["keyboard"][0][0]["text"] == "📋 Today"
    await ask(chat, JOHN, "📋 Today", "To call today")
    await ask(chat, ANNA, "Today", "Позвонить сегодня")


async def test_a_button_in_the_middle_of_a_question_ends_it(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await ask(chat, ANNA, "Ромашка", "ИНН 7701234567")
    await chat.press(ANNA, card["message_id"], button_data(card, "Заметка"))
    await chat.wait_for(ANNA, lambda m: "Заметка о клиенте" in text_of(m))
    await ask(chat, ANNA, "📋 Сегодня", "Позвонить сегодня")
    await ask(chat, ANNA, "Лютик", "ИНН 7702345678")  # a search, not a note
    async with bot_app.uow_factory() as uow:
        assert await uow.session.get(ClientNote, 1) is None


async def test_a_manager_without_clients_is_told_so(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    async with bot_app.uow_factory() as uow:
        uow.session.add(
            User(telegram_id=NEWCOMER, display_name="Мария Кузнецова", role=Role.MANAGER.value)
        )
        await uow.commit()
    greeting = await ask(chat, NEWCOMER, "/start", "Здравствуйте")
    assert text_of(greeting).endswith("У вас пока нет клиентов — руководитель может их назначить.")
    today = await ask(chat, NEWCOMER, "/today", "Звонков сегодня")
    assert text_of(today) == (
        "Звонков сегодня: 0 из 20 · просрочено 0\n"
        "У вас пока нет клиентов — руководитель может их назначить."
    )
    await ask(chat, NEWCOMER, "/risk", "руководитель может их назначить")


@pytest.mark.parametrize(
    ("telegram_id", "first", "last", "notice"),
    [
        (3101, "Мария", "Кузнецова", "👋 Мария Кузнецова присоединилась как менеджер."),
        (3102, "Иван", "Соколов", "👋 Иван Соколов присоединился как менеджер."),
        (3103, "Alex", "Kim", "👋 В команде новый сотрудник: Alex Kim (менеджер)."),
    ],
)
async def test_the_head_is_told_when_an_invite_is_used(
    bot_app: BotHarness,
    chat: SandboxClient,
    telegram_id: int,
    first: str,
    last: str,
    notice: str,
) -> None:
    invite = await ask(chat, HEAD, "/invite manager", "Приглашение")
    code = re.search(r"start=([\w-]+)", text_of(invite))
    assert code is not None
    await chat.send(telegram_id, f"/start {code.group(1)}", first_name=first, last_name=last)
    welcome = await chat.wait_for(telegram_id, lambda m: "Добро пожаловать" in text_of(m))
    assert (await chat.messages(telegram_id))["reply_keyboard"] is not None
    told = await chat.wait_for(HEAD, lambda m: "👋" in text_of(m))
    assert text_of(told) == notice
    assert welcome["message_id"] > 0
