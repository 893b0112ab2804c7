"""Who gets in: greetings of known people, refusals of strangers, invite links."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from services.db.models import Invite, Role, User
from tests.e2e.bot_harness import (
    ANNA,
    BOT_USERNAME,
    HEAD,
    JOHN,
    STRANGER,
    BotHarness,
    SeedIds,
    button_data,
    text_of,
    wait_answer,
)
from tests.e2e.sandbox_harness import SandboxClient
from ui.keyboards.admin import UsersAction, UsersCb

NEWCOMER = 3001
SECOND_NEWCOMER = 3002
LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]+)")


async def _user(bot_app: BotHarness, telegram_id: int) -> User | None:
    async with bot_app.uow_factory() as uow:
        return await uow.session.scalar(select(User).where(User.telegram_id == telegram_id))


async def _count_users(bot_app: BotHarness) -> int:
    async with bot_app.uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count(User.id))) or 0)


async def _invite_code(chat: SandboxClient, inviter: int, role: str) -> str:
    await chat.send(inviter, f"/invite {role}")
    message = await chat.wait_for(inviter, lambda m: LINK.search(text_of(m)) is not None)
    match = LINK.search(text_of(message))
    assert match is not None
    return match.group(1)


async def test_known_manager_is_greeted_by_name_and_role_with_a_menu_in_russian(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    await chat.send(ANNA, "/start")

    reply = await chat.wait_for(ANNA, lambda m: "Анна Смирнова" in text_of(m))

    assert "Ваша роль: менеджер" in text_of(reply)
    assert "/today — Кому позвонить сегодня" in text_of(reply)
    assert "/users" not in text_of(reply)
    menu = {command["command"]: command["description"] for command in await chat.commands(ANNA)}
    assert menu["today"] == "Кому позвонить сегодня"
    assert "invite" not in menu


async def test_known_english_speaker_gets_english_greeting_and_menu(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    await chat.send(JOHN, "/start")

    reply = await chat.wait_for(JOHN, lambda m: "John Carter" in text_of(m))

    assert "Your role: manager" in text_of(reply)
    menu = {command["command"]: command["description"] for command in await chat.commands(JOHN)}
    assert menu["today"] == "Whom to call today"


async def test_head_sees_team_commands_in_greeting_help_and_menu(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    await chat.send(HEAD, "/start")
    greeting = await chat.wait_for(HEAD, lambda m: "Ольга Петрова" in text_of(m))
    await chat.send(HEAD, "/help")
    help_ = await chat.wait_for(HEAD, lambda m: "Что умеет бот" in text_of(m))

    assert "руководитель отдела продаж" in text_of(greeting)
    assert "/invite — Пригласить сотрудника" in text_of(greeting)
    assert "/invite manager" in text_of(help_)
    assert {"users", "invite"} <= {c["command"] for c in await chat.commands(HEAD)}


async def test_strangers_see_only_the_default_menu(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    assert [c["command"] for c in await chat.commands(STRANGER)] == ["start"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "ask your head of sales for an invite link"), ("ru", "ссылку-приглашение")],
)
async def test_stranger_gets_one_polite_refusal_per_message_command_and_document(
    bot_app: BotHarness, chat: SandboxClient, language: str, expected: str
) -> None:
    users_before = await _count_users(bot_app)

    actions = ("hello", "/start", "/today", "/users", "/settings", "Ромашка")
    for action in actions:
        await chat.send(STRANGER, action, language_code=language)
        await chat.wait_for(STRANGER, lambda m: expected in text_of(m))
    await chat.upload_document(STRANGER, "clients.csv", b"name;phone\nX;1\n")
    await chat.wait_for(STRANGER, lambda m: expected in text_of(m))

    everything = (await chat.messages(STRANGER))["messages"]
    assert len(everything) == len(actions) + 1  # exactly one reply each
    assert all(expected in text_of(m) and m["reply_markup"] is None for m in everything)
    assert await _count_users(bot_app) == users_before


async def test_stranger_pressing_a_button_is_refused_and_changes_nothing(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.send(STRANGER, "hi")
    refusal = await chat.wait_for(STRANGER, lambda m: "invite" in text_of(m))
    forged = UsersCb(action=UsersAction.DEACTIVATE_CONFIRM, user_id=seed.anna).pack()

    pressed = await chat.press(STRANGER, refusal["message_id"], forged, force=True)

    answer = await wait_answer(chat, STRANGER, pressed)
    assert answer["show_alert"] is True
    assert "team members only" in answer["text"]
    anna = await _user(bot_app, ANNA)
    assert anna is not None and anna.is_active


async def test_invite_link_registers_a_newcomer_with_role_name_and_language(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    code = await _invite_code(chat, HEAD, "manager")

    await chat.send(
        NEWCOMER, f"/start {code}", first_name="Пётр", last_name="Иванов", language_code="ru"
    )
    welcome = await chat.wait_for(NEWCOMER, lambda m: "Добро пожаловать" in text_of(m))

    assert "Пётр Иванов" in text_of(welcome)
    assert "менеджер" in text_of(welcome)
    newcomer = await _user(bot_app, NEWCOMER)
    assert newcomer is not None
    assert (newcomer.role, newcomer.language, newcomer.is_active) == ("manager", "ru", True)
    assert "today" in {c["command"] for c in await chat.commands(NEWCOMER)}
    async with bot_app.uow_factory() as uow:
        invite = await uow.session.scalar(select(Invite).where(Invite.code == code))
    assert invite is not None
    assert (invite.used_by, invite.created_by) == (newcomer.id, seed.head)
    # Registered now: an ordinary command works.
    await chat.send(NEWCOMER, "/help")
    await chat.wait_for(NEWCOMER, lambda m: "Что умеет бот" in text_of(m))


async def test_invite_link_in_english_for_a_head(bot_app: BotHarness, chat: SandboxClient) -> None:
    code = await _invite_code(chat, HEAD, "head")

    await chat.send(NEWCOMER, f"/start {code}", first_name="Mary", language_code="en-GB")
    welcome = await chat.wait_for(NEWCOMER, lambda m: "Welcome" in text_of(m))

    assert "You are registered as head of sales" in text_of(welcome)
    newcomer = await _user(bot_app, NEWCOMER)
    assert newcomer is not None and (newcomer.role, newcomer.language) == ("head", "en")


async def test_a_used_invite_cannot_be_reused(bot_app: BotHarness, chat: SandboxClient) -> None:
    code = await _invite_code(chat, HEAD, "manager")
    await chat.send(NEWCOMER, f"/start {code}", first_name="Пётр")
    await chat.wait_for(NEWCOMER, lambda m: "Добро пожаловать" in text_of(m))

    await chat.send(SECOND_NEWCOMER, f"/start {code}", first_name="Иван", language_code="ru")
    reply = await chat.wait_for(SECOND_NEWCOMER, lambda m: "уже использовано" in text_of(m))

    assert "новую ссылку" in text_of(reply)
    assert await _user(bot_app, SECOND_NEWCOMER) is None
    # ... and the refused person is still a stranger.
    await chat.send(SECOND_NEWCOMER, "/today", language_code="ru")
    await chat.wait_for(SECOND_NEWCOMER, lambda m: "ссылку-приглашение" in text_of(m))


async def test_an_expired_invite_is_refused(bot_app: BotHarness, chat: SandboxClient) -> None:
    code = await _invite_code(chat, HEAD, "manager")
    bot_app.clock.advance(timedelta(hours=72, seconds=1))

    await chat.send(NEWCOMER, f"/start {code}", first_name="Пётр", language_code="ru")
    reply = await chat.wait_for(NEWCOMER, lambda m: "истёк" in text_of(m))

    assert "руководителя" in text_of(reply)
    assert await _user(bot_app, NEWCOMER) is None


async def test_an_invite_is_still_valid_just_before_72_hours(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    code = await _invite_code(chat, HEAD, "manager")
    bot_app.clock.advance(timedelta(hours=71, minutes=59))

    await chat.send(NEWCOMER, f"/start {code}", first_name="Пётр", language_code="ru")

    await chat.wait_for(NEWCOMER, lambda m: "Добро пожаловать" in text_of(m))


async def test_an_unknown_code_is_refused_clearly(bot_app: BotHarness, chat: SandboxClient) -> None:
    await chat.send(NEWCOMER, "/start not-a-real-code", language_code="en")

    reply = await chat.wait_for(NEWCOMER, lambda m: "not valid" in text_of(m))

    assert "Ask your head of sales" in text_of(reply)
    assert await _user(bot_app, NEWCOMER) is None


async def test_a_registered_person_opening_an_invite_keeps_it_unused(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    code = await _invite_code(chat, HEAD, "head")

    await chat.send(ANNA, f"/start {code}")
    await chat.wait_for(ANNA, lambda m: "уже зарегистрированы" in text_of(m))

    anna = await _user(bot_app, ANNA)
    assert anna is not None and anna.role == Role.MANAGER.value
    await chat.send(NEWCOMER, f"/start {code}", first_name="Пётр", language_code="ru")
    await chat.wait_for(NEWCOMER, lambda m: "Добро пожаловать" in text_of(m))


async def test_invite_without_a_role_offers_buttons(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    await chat.send(HEAD, "/invite")
    question = await chat.wait_for(HEAD, lambda m: "Кого пригласить" in text_of(m))

    await chat.press(HEAD, question["message_id"], button_data(question, "Менеджера"))
    edited = await chat.wait_for(HEAD, lambda m: LINK.search(text_of(m)) is not None)

    assert "«менеджер»" in text_of(edited)
    assert "действует до" in text_of(edited)


async def test_a_manager_cannot_invite(bot_app: BotHarness, chat: SandboxClient) -> None:
    async with bot_app.uow_factory() as uow:
        invites_before = await uow.session.scalar(select(func.count(Invite.id)))

    await chat.send(ANNA, "/invite manager")
    await chat.wait_for(ANNA, lambda m: "недоступно" in text_of(m))
    await chat.send(ANNA, "/invite")
    await chat.wait_for(ANNA, lambda m: "недоступно" in text_of(m))

    async with bot_app.uow_factory() as uow:
        assert await uow.session.scalar(select(func.count(Invite.id))) == invites_before


async def test_invite_for_an_unknown_role_explains_the_choices(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    await chat.send(HEAD, "/invite admin")

    reply = await chat.wait_for(HEAD, lambda m: "/invite manager" in text_of(m))

    assert "менеджера или руководителя" in text_of(reply)
