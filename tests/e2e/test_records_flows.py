"""Clients as living records through the real bot: added from the chat, contacts edited,
notes, voice comments played again, one client handed over. Rows are counted after."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from services.db.models import (
    Channel,
    Client,
    ClientDraft,
    ClientNote,
    ClientPhone,
    Interaction,
    Outcome,
)
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

VALID_INN = "7707083893"  # a real ИНН with a valid checksum
VALID_INN_12 = "500100732259"  # the seed's ИП Васильев


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for button in buttons(message)]


async def ask(chat: SandboxClient, user: int, text: str, expect: str) -> dict[str, Any]:
    await chat.send(user, text)
    return await chat.wait_for(user, lambda m: expect in text_of(m))


async def _count(bot_app: BotHarness, model: Any, *where: Any) -> int:
    async with bot_app.uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model).where(*where)))


async def test_a_manager_adds_a_client_the_search_did_not_find(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    offer = await ask(chat, ANNA, "Незабудка", "никого не нашлось")
    assert text_of(offer).endswith("Добавить «Незабудка» как нового клиента?")
    assert labels(offer) == ["🏢 Да, компания", "👤 Да, человек"]
    await chat.press(ANNA, offer["message_id"], button_data(offer, "компания"))
    phone = await chat.wait_for(ANNA, lambda m: m["edited"] and "Телефон?" in text_of(m))
    assert text_of(phone).startswith("➕ Новый клиент: Незабудка\nКто: компания")

    await chat.send(ANNA, "12345")  # not a number one can dial: asked again
    await chat.wait_for(ANNA, lambda m: "не похоже на номер телефона" in text_of(m))
    await ask(chat, ANNA, "8 (916) 555-44-33", "ИНН?")
    await ask(chat, ANNA, "7707083894", "не ИНН")  # a wrong check digit
    await ask(chat, ANNA, f"ИНН {VALID_INN}", "Город?")
    summary = await ask(chat, ANNA, "Калуга", "Проверьте и сохраните")
    assert "📞 +7 916 555-44-33" in text_of(summary)
    assert f"ИНН {VALID_INN}" in text_of(summary) and "🏙 Калуга" in text_of(summary)
    summary = await ask(chat, ANNA, "ООО «Незабудка»", "Проверьте и сохраните")
    assert text_of(summary).startswith("➕ Новый клиент: ООО «Незабудка»")

    save = button_data(summary, "Сохранить")
    first = await chat.press(ANNA, summary["message_id"], save)
    await chat.press(ANNA, summary["message_id"], save, force=True)  # a double tap
    await chat.wait_for(ANNA, lambda m: "Клиент добавлен и закреплён за вами" in text_of(m))
    card = await chat.wait_for(ANNA, lambda m: "👤 Менеджер: Анна Смирнова" in text_of(m))
    assert text_of(card).startswith("ООО «Незабудка»")
    assert first["message_id"] == summary["message_id"]
    await asyncio.sleep(0.3)  # let the second tap finish before counting
    assert await _count(bot_app, Client, Client.tax_id == VALID_INN) == 1
    assert await _count(bot_app, ClientDraft) == 1
    async with bot_app.uow_factory() as uow:
        client = await uow.session.scalar(select(Client).where(Client.tax_id == VALID_INN))
        assert client is not None
        assert (client.owner_id, client.city, client.company) == (
            seed.anna,
            "Калуга",
            "ООО «Незабудка»",
        )
        phones = list(
            await uow.session.scalars(
                select(ClientPhone.phone).where(ClientPhone.client_id == client.id)
            )
        )
    assert phones == ["79165554433"]

    # and it is found at once, by name, by phone tail and by ИНН
    for query in ("незабудка", "555-44-33", VALID_INN):
        await ask(chat, ANNA, query, f"ИНН {VALID_INN}")


async def test_an_inn_already_in_the_base_is_not_added_twice(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    offer = await ask(chat, JOHN, "Vasilyev Trade", "Nobody found")
    assert "Add “Vasilyev Trade” as a new client?" in text_of(offer)
    await chat.press(JOHN, offer["message_id"], button_data(offer, "person"))
    skip = await chat.wait_for(JOHN, lambda m: m["edited"] and "Phone?" in text_of(m))
    await chat.press(JOHN, skip["message_id"], button_data(skip, "Skip"))
    await chat.wait_for(JOHN, lambda m: m["edited"] and "Tax ID (ИНН)?" in text_of(m))
    answer = await ask(chat, JOHN, VALID_INN_12, "exists already")
    assert "it is Анна Смирнова's client" in text_of(answer)
    assert await _count(bot_app, Client, Client.tax_id == VALID_INN_12) == 1
    # the conversation is over: text is a search again
    await ask(chat, JOHN, "Одуванчик", "Tax ID 6604567890")


async def test_a_phone_edited_on_the_card_finds_the_client(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await ask(chat, ANNA, "Лютик", "ИНН 7702345678")
    await chat.press(ANNA, card["message_id"], button_data(card, "Контакты"))
    menu = await chat.wait_for(ANNA, lambda m: m["edited"] and "Что поменять?" in text_of(m))
    await chat.press(ANNA, menu["message_id"], button_data(menu, "Телефоны"))
    await chat.wait_for(ANNA, lambda m: m["edited"] and "Сейчас: +7 495 111-22-33" in text_of(m))
    await ask(chat, ANNA, "+7 495 111-22-33, 8 999 765 43 21", "Контакты сохранены")
    updated = await chat.wait_for(ANNA, lambda m: "+7 999 765-43-21" in text_of(m))
    assert "📞 +7 495 111-22-33, +7 999 765-43-21" in text_of(updated)
    await ask(chat, ANNA, "89997654321", "ИНН 7702345678")

    await chat.press(ANNA, updated["message_id"], button_data(updated, "Контакты"))
    menu = await chat.wait_for(ANNA, lambda m: m["edited"] and "Что поменять?" in text_of(m))
    await chat.press(ANNA, menu["message_id"], button_data(menu, "Почта"))
    await chat.wait_for(ANNA, lambda m: m["edited"] and "адрес почты" in text_of(m))
    await ask(chat, ANNA, "не почта", "не похоже на адрес почты")
    with_email = await ask(chat, ANNA, "zakaz@lyutik.ru", "✉️ zakaz@lyutik.ru")
    assert "ИНН 7702345678" in text_of(with_email)
    async with bot_app.uow_factory() as uow:
        client = await uow.session.get(Client, seed.anna_clients[2])
        assert client is not None and client.email == "zakaz@lyutik.ru"
    assert await _count(bot_app, ClientPhone, ClientPhone.client_id == seed.anna_clients[2]) == 2

    # the tail of the new number, once the index has caught up
    for _ in range(50):
        await chat.send(ANNA, "765-43-21")
        answer = await chat.wait_for(ANNA, lambda m: m["message_id"] > 0)
        if "ИНН 7702345678" in text_of(answer):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the new phone's tail never found the client")


async def test_a_note_is_in_the_history_and_is_not_a_call(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await ask(chat, ANNA, "Ромашка", "ИНН 7701234567")
    await chat.press(ANNA, card["message_id"], button_data(card, "Заметка"))
    await chat.wait_for(ANNA, lambda m: "Заметка о клиенте" in text_of(m))
    await ask(chat, ANNA, "Бухгалтер <Ирина> уходит в отпуск до 20-го", "Заметка сохранена")
    assert await _count(bot_app, ClientNote, ClientNote.client_id == seed.vip) == 1
    calls_before = await _count(bot_app, Interaction, Interaction.client_id == seed.vip)

    await chat.press(ANNA, card["message_id"], button_data(card, "История"))
    history = await chat.wait_for(ANNA, lambda m: m["edited"] and "История" in text_of(m))
    text = text_of(history)
    assert "📝 02.03.2026 09:00, Анна Смирнова — заметка" in text
    assert "Бухгалтер <Ирина> уходит в отпуск до 20-го" in text  # escaped, shown as typed
    assert await _count(bot_app, Interaction, Interaction.client_id == seed.vip) == calls_before
    today = await ask(chat, ANNA, "/today", "Звонков сегодня")
    assert text_of(today).startswith("Звонков сегодня: 0 из 20")  # a note is not a call

    # a command in the middle of a note ends it: the next text is a search again
    card = await ask(chat, ANNA, "Ромашка", "ИНН 7701234567")
    await chat.press(ANNA, card["message_id"], button_data(card, "Заметка"))
    await chat.wait_for(ANNA, lambda m: "Заметка о клиенте" in text_of(m))
    await ask(chat, ANNA, "/week", "На ближайшие 7 дней")
    await ask(chat, ANNA, "Лютик", "ИНН 7702345678")
    assert await _count(bot_app, ClientNote) == 1


async def test_a_voice_comment_is_played_again(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.upload_voice(ANNA, b"OggS" + b"\x00" * 200, duration=3)
    voice_id = next(
        file_id for file_id, stored in bot_app.sandbox.state.files.items() if stored.kind == "voice"
    )
    async with bot_app.uow_factory() as uow:
        uow.session.add(
            Interaction(
                client_id=seed.anna_clients[1],
                user_id=seed.anna,
                occurred_at=NOW - timedelta(hours=1),
                created_at=NOW - timedelta(hours=1),
                channel=Channel.CALL.value,
                outcome=Outcome.REACHED.value,
                voice_file_id=voice_id,
            )
        )
        await uow.commit()
    card = await ask(chat, ANNA, "ИП Васильев", "ИНН 500100732259")
    await chat.press(ANNA, card["message_id"], button_data(card, "История"))
    history = await chat.wait_for(ANNA, lambda m: m["edited"] and "🎤" in text_of(m))
    await chat.press(ANNA, history["message_id"], button_data(history, "▶️"))
    played = await chat.wait_for(ANNA, lambda m: m.get("voice") is not None and m["from_bot"])
    assert played["voice"]["duration"] == 3


async def test_the_head_hands_one_client_to_another_manager(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await ask(chat, HEAD, "Лютик", "ИНН 7702345678")
    assert "↪️ Передать" in labels(card)
    await chat.press(HEAD, card["message_id"], button_data(card, "Передать"))
    choice = await chat.wait_for(HEAD, lambda m: m["edited"] and "Кому передать" in text_of(m))
    assert text_of(choice) == "Кому передать клиента ООО «Лютик»? Сейчас клиент у Анны Смирновой."
    assert labels(choice) == ["John Carter", "← К карточке"]
    await chat.press(HEAD, choice["message_id"], button_data(choice, "John Carter"))
    await chat.wait_for(HEAD, lambda m: "Клиент ООО «Лютик» передан John Carter." in text_of(m))
    async with bot_app.uow_factory() as uow:
        client = await uow.session.get(Client, seed.anna_clients[2])
        assert client is not None and client.owner_id == seed.john
    assert await _count(bot_app, Client, Client.owner_id == seed.anna) == 2
    # the other clients stayed; John now finds it, Anna is told whose it is
    await ask(chat, JOHN, "Лютик", "Tax ID 7702345678")
    await ask(chat, ANNA, "Лютик", "это клиент John Carter")


async def test_a_manager_cannot_hand_over(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await ask(chat, ANNA, "Лютик", "ИНН 7702345678")
    assert "↪️ Передать" not in labels(card)
    from ui.callbacks import HandCb

    forged = HandCb(c=seed.anna_clients[2], t=seed.john).pack()
    await chat.press(ANNA, card["message_id"], forged, force=True)
    await asyncio.sleep(0.3)
    async with bot_app.uow_factory() as uow:
        client = await uow.session.get(Client, seed.anna_clients[2])
        assert client is not None and client.owner_id == seed.anna


async def test_forged_and_outdated_buttons_change_nothing(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    from datetime import date

    from tests.e2e.bot_harness import wait_answer
    from ui.callbacks import (
        AddAction,
        AddClientCb,
        ContactCb,
        ContactField,
        ListCb,
        TeamCb,
        VoiceCb,
    )

    message = await ask(chat, ANNA, "Ромашка", "ИНН 7701234567")
    johns = seed.john_clients[0]
    expected = {
        ContactCb(c=johns, f=ContactField.CITY, x=True).pack(): "Это действие вам недоступно.",
        ContactCb(c=johns, f=ContactField.PHONES).pack(): "Это действие вам недоступно.",
        TeamCb(k="today").pack(): "Это действие вам недоступно.",
        VoiceCb(i=999).pack(): "Эта запись о звонке уже удалена.",
        AddClientCb(a=AddAction.SAVE, k="0" * 32).pack(): "Эта кнопка уже не действует",
        AddClientCb(a=AddAction.COMPANY, k="deadbeef").pack(): "Эта кнопка уже не действует",
        AddClientCb(a=AddAction.SKIP).pack(): "Эта кнопка уже не действует",
        ListCb(k="today", d=10**9).pack(): "Эта кнопка уже не действует",
    }
    for data, text in expected.items():
        pressed = await chat.press(ANNA, message["message_id"], data, force=True)
        answer = await wait_answer(chat, ANNA, pressed)
        assert answer["text"].startswith(text), (data, answer)
    # a manager's list stays hers whatever owner a button names; a day long past shows the week
    pressed = await chat.press(
        ANNA,
        message["message_id"],
        ListCb(k="week", o=seed.john, d=date(2020, 1, 1).toordinal()).pack(),
        force=True,
    )
    week = await chat.wait_for(ANNA, lambda m: m["edited"] and "7 дней" in text_of(m))
    assert "Василёк" not in text_of(week) and pressed["message_id"] == week["message_id"]
    async with bot_app.uow_factory() as uow:
        client = await uow.session.get(Client, johns)
        assert client is not None and client.city == "Санкт-Петербург"
    assert await _count(bot_app, Client) == 5


async def test_numbers_that_are_nobody_are_not_offered_as_new_clients(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    for query in ("12345678901234567890", "8 800 000-00-00", "0000"):
        answer = await ask(chat, ANNA, query, "никого не нашлось")
        assert not buttons(answer), query
    assert await _count(bot_app, ClientDraft) == 0
