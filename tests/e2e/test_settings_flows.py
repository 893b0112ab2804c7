"""/settings and /cancel: choices are saved, shown, and change the language of replies."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import func, select

from services.db.models import FsmRecord, User
from tests.e2e.bot_harness import (
    ANNA,
    JOHN,
    BotHarness,
    button_data,
    buttons,
    text_of,
    wait_answer,
)
from tests.e2e.sandbox_harness import SandboxClient


async def _user(bot_app: BotHarness, telegram_id: int) -> User:
    async with bot_app.uow_factory() as uow:
        user = await uow.session.scalar(select(User).where(User.telegram_id == telegram_id))
    assert user is not None
    return user


async def _open(chat: SandboxClient, person: int, title: str = "Настройки") -> dict[str, Any]:
    await chat.send(person, "/settings")
    return await chat.wait_for(person, lambda m: title in text_of(m))


async def _press(
    chat: SandboxClient, person: int, message: dict[str, Any], label: str, expect: str
) -> dict[str, Any]:
    await chat.press(person, message["message_id"], button_data(message, label))
    return await chat.wait_for(person, lambda m: expect in text_of(m))


async def test_settings_show_current_choices_and_defaults(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    menu = await _open(chat, ANNA)

    text = text_of(menu)
    assert "Язык: русский" in text
    assert "Утренний список звонков: по умолчанию" in text
    assert "Часовой пояс: Europe/Moscow (по умолчанию)" in text
    assert "Уведомления: включены" in text
    assert len(buttons(menu)) == 5


async def test_switching_to_english_is_saved_and_changes_replies_and_menu(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    menu = await _open(chat, ANNA)
    choice = await _press(chat, ANNA, menu, "Язык", "Выберите язык")

    done = await _press(chat, ANNA, choice, "English", "Done: the language is English")

    assert "Language: English" in text_of(done)
    assert "Language" in buttons(done)[0]["text"]
    assert (await _user(bot_app, ANNA)).language == "en"
    menu_commands = {c["command"]: c["description"] for c in await chat.commands(ANNA)}
    assert menu_commands["today"] == "Whom to call today"
    await chat.send(ANNA, "/help")
    await chat.wait_for(ANNA, lambda m: "What the bot can do" in text_of(m))


async def test_switching_to_russian_from_english(bot_app: BotHarness, chat: SandboxClient) -> None:
    menu = await _open(chat, JOHN, "Settings")
    choice = await _press(chat, JOHN, menu, "Language", "Choose a language")

    await _press(chat, JOHN, choice, "Русский", "Готово: язык — русский")

    assert (await _user(bot_app, JOHN)).language == "ru"
    await chat.send(JOHN, "/cancel")
    await chat.wait_for(JOHN, lambda m: "Отменять нечего" in text_of(m))


async def test_push_time_from_a_preset(bot_app: BotHarness, chat: SandboxClient) -> None:
    menu = await _open(chat, ANNA)
    question = await _press(chat, ANNA, menu, "Время списка", "ЧЧ:ММ")

    done = await _press(chat, ANNA, question, "08:00", "будет приходить в 08:00")

    assert "Утренний список звонков: 08:00" in text_of(done)
    assert (await _user(bot_app, ANNA)).push_time == time(8, 0)


async def test_push_time_typed_with_a_mistake_first(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    menu = await _open(chat, ANNA)
    await _press(chat, ANNA, menu, "Время списка", "ЧЧ:ММ")

    await chat.send(ANNA, "25:00")
    await chat.wait_for(ANNA, lambda m: "Не понял время" in text_of(m))
    await chat.send(ANNA, "7.45")
    await chat.wait_for(ANNA, lambda m: "будет приходить в 07:45" in text_of(m))

    assert (await _user(bot_app, ANNA)).push_time == time(7, 45)


async def test_a_half_answered_question_survives_a_restart(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    menu = await _open(chat, ANNA)
    await _press(chat, ANNA, menu, "Время списка", "ЧЧ:ММ")

    await bot_app.restart()
    await chat.send(ANNA, "10:15")

    await chat.wait_for(ANNA, lambda m: "будет приходить в 10:15" in text_of(m))
    assert (await _user(bot_app, ANNA)).push_time == time(10, 15)


async def test_timezone_from_a_button(bot_app: BotHarness, chat: SandboxClient) -> None:
    menu = await _open(chat, ANNA)
    question = await _press(chat, ANNA, menu, "Часовой пояс", "Выберите часовой пояс")
    assert "Екатеринбург (UTC+5)" in [b["text"] for b in buttons(question)]

    done = await _press(chat, ANNA, question, "Екатеринбург", "Готово: часовой пояс")

    assert "Часовой пояс: Asia/Yekaterinburg" in text_of(done)
    assert (await _user(bot_app, ANNA)).timezone == "Asia/Yekaterinburg"


async def test_timezone_typed_is_validated(bot_app: BotHarness, chat: SandboxClient) -> None:
    menu = await _open(chat, JOHN, "Settings")
    await _press(chat, JOHN, menu, "Time zone", "Pick a time zone")

    await chat.send(JOHN, "Mars/Olympus")
    await chat.wait_for(JOHN, lambda m: "Unknown time zone" in text_of(m))
    await chat.send(JOHN, "asia/novosibirsk")
    await chat.wait_for(JOHN, lambda m: "Done: the time zone is Asia/Novosibirsk" in text_of(m))

    assert (await _user(bot_app, JOHN)).timezone == "Asia/Novosibirsk"


async def test_mute_until_tomorrow_then_resume(bot_app: BotHarness, chat: SandboxClient) -> None:
    menu = await _open(chat, ANNA)
    question = await _press(chat, ANNA, menu, "Пауза", "на паузу")

    done = await _press(chat, ANNA, question, "До завтра", "на паузе до")

    # The clock says Monday 2 March, 09:00 in Moscow: pushes come back on Tuesday morning.
    assert "на паузе до 03.03.2026 00:00" in text_of(done)
    muted_until = (await _user(bot_app, ANNA)).muted_until
    assert muted_until == datetime(2026, 3, 2, 21, 0, tzinfo=UTC)

    question = await _press(chat, ANNA, done, "Пауза", "на паузу")
    done = await _press(chat, ANNA, question, "Снять паузу", "пауза снята")
    assert "Уведомления: включены" in text_of(done)
    assert (await _user(bot_app, ANNA)).muted_until is None


async def test_pushes_off_and_on(bot_app: BotHarness, chat: SandboxClient) -> None:
    menu = await _open(chat, ANNA)

    done = await _press(chat, ANNA, menu, "Выключить уведомления", "уведомления выключены")
    assert not (await _user(bot_app, ANNA)).pushes_enabled
    assert "Уведомления: выключены" in text_of(done)

    await _press(chat, ANNA, done, "Включить уведомления", "уведомления включены")
    assert (await _user(bot_app, ANNA)).pushes_enabled


async def test_cancel_leaves_the_question_and_says_so(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    menu = await _open(chat, ANNA)
    await _press(chat, ANNA, menu, "Часовой пояс", "Выберите часовой пояс")

    await chat.send(ANNA, "/cancel")
    await chat.wait_for(ANNA, lambda m: "Отменено" in text_of(m))

    async with bot_app.uow_factory() as uow:
        states = await uow.session.scalar(
            select(func.count()).select_from(FsmRecord).where(FsmRecord.state.is_not(None))
        )
    assert states == 0
    assert (await _user(bot_app, ANNA)).timezone is None


async def test_cancel_with_nothing_going_on(bot_app: BotHarness, chat: SandboxClient) -> None:
    await chat.send(ANNA, "/cancel")

    await chat.wait_for(ANNA, lambda m: "Отменять нечего" in text_of(m))


async def test_back_returns_to_the_summary(bot_app: BotHarness, chat: SandboxClient) -> None:
    menu = await _open(chat, ANNA)
    question = await _press(chat, ANNA, menu, "Пауза", "на паузу")

    back = await _press(chat, ANNA, question, "Назад", "Настройки")

    assert len(buttons(back)) == 5


async def test_another_command_closes_an_open_question(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    menu = await _open(chat, ANNA)
    await _press(chat, ANNA, menu, "Время списка", "ЧЧ:ММ")

    await chat.send(ANNA, "/invite")  # a command of another feature runs as usual ...
    await chat.wait_for(ANNA, lambda m: "недоступно" in text_of(m))

    async with bot_app.uow_factory() as uow:  # ... and the question is gone
        states = await uow.session.scalar(
            select(func.count()).select_from(FsmRecord).where(FsmRecord.state.is_not(None))
        )
    assert states == 0
    assert (await _user(bot_app, ANNA)).push_time is None


async def test_pressing_a_button_twice_is_harmless(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    menu = await _open(chat, ANNA)
    data = button_data(menu, "Язык")
    await _press(chat, ANNA, menu, "Язык", "Выберите язык")

    # The same screen again: Telegram answers "message is not modified", which is no error.
    pressed = await chat.press(ANNA, menu["message_id"], data, force=True)

    assert not (await wait_answer(chat, ANNA, pressed))["text"]
