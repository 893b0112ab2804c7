"""/users: the team list, deactivating people and handing their clients over."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from services.db.models import Client, User
from tests.e2e.bot_harness import (
    ADMIN,
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
from ui.keyboards.admin import UsersAction, UsersCb


async def _user(bot_app: BotHarness, telegram_id: int) -> User:
    async with bot_app.uow_factory() as uow:
        user = await uow.session.scalar(select(User).where(User.telegram_id == telegram_id))
    assert user is not None
    return user


async def _clients_of(bot_app: BotHarness, user_id: int) -> int:
    async with bot_app.uow_factory() as uow:
        count = await uow.session.scalar(
            select(func.count(Client.id)).where(Client.owner_id == user_id)
        )
    return int(count or 0)


async def _open_card(chat: SandboxClient, actor: int, name: str) -> dict[str, Any]:
    await chat.send(actor, "/users")
    listing = await chat.wait_for(actor, lambda m: name in text_of(m) and bool(buttons(m)))
    await chat.press(actor, listing["message_id"], button_data(listing, name))
    return await chat.wait_for(actor, lambda m: m["edited"] and name in text_of(m))


async def test_head_sees_the_team_with_roles_status_and_client_counts(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    await chat.send(HEAD, "/users")

    listing = await chat.wait_for(HEAD, lambda m: "Команда" in text_of(m))

    text = text_of(listing)
    assert text.startswith("Команда: 4 сотрудника")
    assert "Админ Системы — администратор" in text
    assert "Анна Смирнова — менеджер · 3 клиента" in text
    assert "John Carter — менеджер · 2 клиента" in text
    assert [b["text"] for b in buttons(listing)] == [
        "Админ Системы",
        "Ольга Петрова",
        "John Carter",
        "Анна Смирнова",
    ]


async def test_admin_sees_the_team_in_english(bot_app: BotHarness, chat: SandboxClient) -> None:
    await chat.send(ADMIN, "/users", language_code="en")

    listing = await chat.wait_for(ADMIN, lambda m: "Team" in text_of(m))

    assert "4 people" in text_of(listing)
    assert "Анна Смирнова — manager · 3 clients" in text_of(listing)


async def test_deactivated_manager_loses_access_at_once(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.send(ANNA, "/start")
    await chat.wait_for(ANNA, lambda m: "Анна" in text_of(m))
    card = await _open_card(chat, HEAD, "Анна Смирнова")
    assert "Клиенты: 3 клиента" in text_of(card)

    await chat.press(HEAD, card["message_id"], button_data(card, "Отключить"))
    question = await chat.wait_for(HEAD, lambda m: "Отключить Анну" in text_of(m))
    assert text_of(question).startswith(
        "Отключить Анну Смирнову? Она сразу потеряет доступ к боту. Клиенты останутся за ней,"
    )
    await chat.press(HEAD, question["message_id"], button_data(question, "Да, отключить"))
    done = await chat.wait_for(HEAD, lambda m: "отключён" in text_of(m))

    assert "Доступ для Анны Смирновой отключён" in text_of(done)
    assert "Вернуть доступ" in buttons(done)[0]["text"]
    assert not (await _user(bot_app, ANNA)).is_active
    assert [c["command"] for c in await chat.commands(ANNA)] == ["start"]
    await chat.send(ANNA, "/today")
    await chat.wait_for(ANNA, lambda m: "ссылку-приглашение" in text_of(m))
    # Her clients stay with her until someone hands them over.
    assert await _clients_of(bot_app, seed.anna) == 3


async def test_access_can_be_given_back(bot_app: BotHarness, chat: SandboxClient) -> None:
    card = await _open_card(chat, HEAD, "John Carter")
    await chat.press(HEAD, card["message_id"], button_data(card, "Отключить"))
    question = await chat.wait_for(HEAD, lambda m: "Отключить John Carter?" in text_of(m))
    assert "Доступ к боту пропадёт сразу" in text_of(question)  # no guess at the gender
    await chat.press(HEAD, question["message_id"], button_data(question, "Да, отключить"))
    done = await chat.wait_for(HEAD, lambda m: "отключён" in text_of(m))

    await chat.press(HEAD, done["message_id"], button_data(done, "Вернуть доступ"))
    await chat.wait_for(HEAD, lambda m: "восстановлен" in text_of(m))

    assert (await _user(bot_app, JOHN)).is_active
    await chat.send(JOHN, "/help")
    await chat.wait_for(JOHN, lambda m: "What the bot can do" in text_of(m))


async def test_head_hands_a_managers_clients_to_another_manager(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await _open_card(chat, HEAD, "Анна Смирнова")

    await chat.press(HEAD, card["message_id"], button_data(card, "Передать клиентов"))
    choice = await chat.wait_for(HEAD, lambda m: "Кому передать" in text_of(m))
    assert text_of(choice) == "Кому передать 3 клиентов Анны Смирновой?"
    assert [b["text"] for b in buttons(choice)] == ["John Carter", "Отмена"]
    await chat.press(HEAD, choice["message_id"], button_data(choice, "John Carter"))
    question = await chat.wait_for(HEAD, lambda m: "Передать John Carter" in text_of(m))
    assert text_of(question) == "Передать John Carter 3 клиентов Анны Смирновой?"
    assert await _clients_of(bot_app, seed.anna) == 3  # nothing moves before "yes"
    await chat.press(HEAD, question["message_id"], button_data(question, "Да, передать"))
    done = await chat.wait_for(HEAD, lambda m: "Передано" in text_of(m))

    assert "Передано 3 клиента: Анна Смирнова → John Carter" in text_of(done)
    assert await _clients_of(bot_app, seed.anna) == 0
    assert await _clients_of(bot_app, seed.john) == 5


async def test_cancelling_a_handover_moves_nothing(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await _open_card(chat, HEAD, "John Carter")
    await chat.press(HEAD, card["message_id"], button_data(card, "Передать клиентов"))
    choice = await chat.wait_for(HEAD, lambda m: "Кому передать" in text_of(m))
    await chat.press(HEAD, choice["message_id"], button_data(choice, "Анна"))
    question = await chat.wait_for(HEAD, lambda m: "Передать Анне Смирновой" in text_of(m))
    assert text_of(question) == "Передать Анне Смирновой 2 клиентов John Carter?"

    await chat.press(HEAD, question["message_id"], button_data(question, "Отмена"))
    await chat.wait_for(HEAD, lambda m: "Статус: активен" in text_of(m))

    assert await _clients_of(bot_app, seed.john) == 2


async def test_forged_deactivation_from_a_manager_is_refused(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.send(ANNA, "/help")
    message = await chat.wait_for(ANNA, lambda m: "Что умеет бот" in text_of(m))
    forged = UsersCb(action=UsersAction.DEACTIVATE_CONFIRM, user_id=seed.john).pack()

    pressed = await chat.press(ANNA, message["message_id"], forged, force=True)

    answer = await wait_answer(chat, ANNA, pressed)
    assert answer["text"] == "Это действие вам недоступно."
    assert answer["show_alert"] is True
    assert (await _user(bot_app, JOHN)).is_active


async def test_forged_handover_from_a_manager_is_refused(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.send(JOHN, "/help")
    message = await chat.wait_for(JOHN, lambda m: "What the bot can do" in text_of(m))
    forged = UsersCb(
        action=UsersAction.REASSIGN_CONFIRM, user_id=seed.anna, target_id=seed.john
    ).pack()

    pressed = await chat.press(JOHN, message["message_id"], forged, force=True)

    answer = await wait_answer(chat, JOHN, pressed)
    assert answer["text"] == "You are not allowed to do this."
    assert await _clients_of(bot_app, seed.anna) == 3


async def test_a_manager_cannot_list_the_team(bot_app: BotHarness, chat: SandboxClient) -> None:
    await chat.send(ANNA, "/users")

    reply = await chat.wait_for(ANNA, lambda m: "недоступно" in text_of(m))

    assert "Ольга" not in text_of(reply)


async def test_head_cannot_deactivate_the_admin_even_with_a_forged_button(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await _open_card(chat, HEAD, "Админ Системы")
    assert not any("Отключить" in b["text"] for b in buttons(card))

    forged = UsersCb(action=UsersAction.DEACTIVATE_CONFIRM, user_id=seed.admin).pack()
    pressed = await chat.press(HEAD, card["message_id"], forged, force=True)

    assert (await wait_answer(chat, HEAD, pressed))["text"] == "Это действие вам недоступно."
    assert (await _user(bot_app, ADMIN)).is_active


async def test_a_manager_deactivated_meanwhile_cannot_use_an_old_button(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.send(ANNA, "/settings")
    settings = await chat.wait_for(ANNA, lambda m: "Настройки" in text_of(m))
    async with bot_app.uow_factory() as uow:
        anna = await uow.session.get(User, seed.anna)
        assert anna is not None
        anna.is_active = False
        await uow.commit()

    pressed = await chat.press(ANNA, settings["message_id"], button_data(settings, "Язык"))

    answer = await wait_answer(chat, ANNA, pressed)
    assert "только сотрудникам" in answer["text"]
