"""Client lookup, the card, its history and VIP, through the real bot and the sandbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from services.db.models import Channel, Client, Interaction, Outcome
from services.db.versions import clients_changed
from services.normalize import normalize_name
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
    wait_answer,
)
from tests.e2e.sandbox_harness import SandboxClient
from ui.callbacks import CallAction, CallCb, CardAction, ClientCb

NBSP = "\u00a0"


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for button in buttons(message)]


async def ask(chat: SandboxClient, user: int, text: str, expect: str) -> dict[str, Any]:
    await chat.send(user, text)
    return await chat.wait_for(user, lambda m: expect in text_of(m))


async def test_one_match_shows_the_full_card_in_russian(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    card = await ask(chat, ANNA, "/client 8 (916) 123-45-67", "Ромашка")

    text = text_of(card)
    assert text.startswith("⭐ ООО «Ромашка»\nVIP: Ключевой клиент")
    for line in (
        "📞 +7 916 123-45-67",
        "ИНН 7701234567",
        "👤 Менеджер: Анна Смирнова",
        "Сегмент: AX — крупный, покупает регулярно",
        "Статус: активный · риск ухода: низкий",
        f"Последняя покупка: 30.01.2026, 50{NBSP}000,50{NBSP}₽",
        f"Выручка за 12 месяцев: 150{NBSP}001,50{NBSP}₽",
        "Последний контакт: 20.02.2026 09:00, Анна Смирнова — Дозвонился",
        "«Обсудили новый прайс»",
        "Следующий контакт: просрочен на 2 дня (с 28.02.2026)",
        "💡 Предложить: Чай",
    ):
        assert line in text.splitlines(), line
    assert "<b>просрочен на 2 дня</b>" in card["text"]  # overdue in bold
    assert labels(card) == [
        "📞 Записать звонок",
        "🕘 История",
        "📅 Следующий контакт",
        "✏️ Контакты",
        "📝 Заметка",
    ]


async def test_lookup_by_name_forms_latin_tax_id_and_external_id(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    for query in ("Romashka", "ромашку", "7701234567", "SEED-1", "+79161234567"):
        await ask(chat, ANNA, query, "ИНН 7701234567")
    await ask(chat, ANNA, "Vasilyev", "ИНН 500100732259")  # "ИП Васильев" in Latin
    await ask(chat, ANNA, "Васильеву", "ИНН 500100732259")


async def test_several_none_and_empty(bot_app: BotHarness, chat: SandboxClient) -> None:
    listing = await ask(chat, HEAD, "Васил", "Найдено")
    assert text_of(listing).startswith("Найдено 2 клиента по запросу «Васил»")
    assert any("ИП Васильев · Тверь · Анна Смирнова" in label for label in labels(listing))
    assert any("АО «Василёк» · Санкт-Петербург · John Carter" in label for label in labels(listing))
    await chat.press(HEAD, listing["message_id"], button_data(listing, "Василёк"))
    await chat.wait_for(HEAD, lambda m: "ИНН 7803456789" in text_of(m))

    nothing = await ask(chat, ANNA, "Сидоров <b>", "никого не нашлось")
    assert "По запросу «Сидоров <b>» никого" in text_of(nothing)  # escaped, not markup
    assert "телефон в любом формате" in text_of(nothing)
    # Anna does not see John's client: only whose it is, no card
    hint = await ask(chat, ANNA, "Василёк", "это клиент John Carter")
    assert "ИНН" not in text_of(hint) and not buttons(hint)
    usage = await ask(chat, ANNA, "/client", "Кого найти?")
    assert "/client Иванов" in text_of(usage)


async def test_english_card_and_results(bot_app: BotHarness, chat: SandboxClient) -> None:
    card = await ask(chat, JOHN, "/client Vasilek", "Tax ID 7803456789")
    text = text_of(card)
    assert "Segment: AY — large, buys irregularly" in text
    assert "Status: active · churn risk: high" in text
    assert "Next contact: 3 Mar 2026" in text
    assert labels(card) == [
        "📞 Log call",
        "🕘 History",
        "📅 Next contact",
        "✏️ Contacts",
        "📝 Note",
    ]
    nothing = await ask(chat, JOHN, "Smith", "Nobody found for “Smith”")
    assert "tax ID" in text_of(nothing)
    await ask(chat, JOHN, "/client", "Who are you looking for?")


async def test_many_matches_are_paged_in_place(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    async with bot_app.uow_factory() as uow:
        for number in range(12):
            name = f"Смирнов Пётр {number:02d}"
            uow.session.add(
                Client(name=name, name_normalized=normalize_name(name), owner_id=seed.anna)
            )
        await clients_changed(uow)  # as every writer of clients does
        await uow.commit()

    listing = await ask(chat, ANNA, "смирнова", "Найдено 12 клиентов")
    assert len(labels(listing)) == 12 and labels(listing)[-1] == "▶"
    assert labels(listing)[-2] == "1/2"
    await chat.press(ANNA, listing["message_id"], button_data(listing, "▶"))
    page2 = await chat.wait_for(ANNA, lambda m: m["edited"] and "Стр. 2 из 2" in text_of(m))
    assert page2["message_id"] == listing["message_id"]
    assert labels(page2) == ["11. Смирнов Пётр 10", "12. Смирнов Пётр 11", "◀", "2/2"]


async def test_history_is_paged_in_place_and_returns_to_the_card(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    client_id = seed.anna_clients[1]
    async with bot_app.uow_factory() as uow:
        for day in range(1, 9):
            uow.session.add(
                Interaction(
                    client_id=client_id,
                    user_id=seed.anna,
                    occurred_at=NOW - timedelta(hours=day),
                    created_at=NOW - timedelta(hours=day),
                    channel=Channel.CALL.value,
                    outcome=Outcome.NO_ANSWER.value,
                    comment=f"<b>попытка</b> {day}" if day == 1 else None,
                )
            )
        await uow.commit()
    card = await ask(chat, ANNA, "ИП Васильев", "ИНН 500100732259")
    await chat.press(ANNA, card["message_id"], button_data(card, "История"))
    first = await chat.wait_for(ANNA, lambda m: m["edited"] and "Стр. 1 из 2" in text_of(m))
    text = text_of(first)
    assert "всего записей: 12" in text
    assert "«<b>попытка</b> 1»" in text  # user data is escaped, not rendered
    assert text.index("02.03.2026 08:00") < text.index("02.03.2026 07:00")  # newest first
    await chat.press(ANNA, first["message_id"], button_data(first, "▶"))
    second = await chat.wait_for(ANNA, lambda m: m["edited"] and "Стр. 2 из 2" in text_of(m))
    assert "🛒" in text_of(second) and "Чай" in text_of(second)  # the purchases are older
    await chat.press(ANNA, second["message_id"], button_data(second, "К карточке"))
    await chat.wait_for(ANNA, lambda m: m["edited"] and "ИНН 500100732259" in text_of(m))


async def test_forged_buttons_for_someone_elses_client_are_refused(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await ask(chat, ANNA, "Ромашка", "ИНН 7701234567")
    johns = seed.john_clients[0]
    forged = [
        ClientCb(a=CardAction.OPEN, c=johns),
        ClientCb(a=CardAction.HISTORY, c=johns),
        ClientCb(a=CardAction.LOG_CALL, c=johns),
        CallCb(a=CallAction.OUTCOME, c=johns, v=Outcome.REACHED.value),
    ]
    for data in forged:
        pressed = await chat.press(ANNA, card["message_id"], data.pack(), force=True)
        answer = await wait_answer(chat, ANNA, pressed)
        assert answer["show_alert"], data
        assert answer["text"] == "Это действие вам недоступно.", data
    async with bot_app.uow_factory() as uow:
        count = await uow.session.scalar(
            select(Interaction.id).where(
                Interaction.client_id == johns, Interaction.user_id == seed.anna
            )
        )
    assert count is None


async def test_head_marks_a_client_vip_with_a_reason(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    card = await ask(chat, HEAD, "Лютик", "ИНН 7702345678")
    assert "⭐ Сделать VIP" in labels(card)
    await chat.press(HEAD, card["message_id"], button_data(card, "Сделать VIP"))
    await chat.wait_for(HEAD, lambda m: "Почему этот клиент VIP?" in text_of(m))
    await chat.send(HEAD, "Крупный <опт>")
    refreshed = await chat.wait_for(HEAD, lambda m: "VIP: Крупный <опт>" in text_of(m))
    assert "Снять VIP" in labels(refreshed)
    async with bot_app.uow_factory() as uow:
        client = await uow.session.get(Client, seed.anna_clients[2])
        assert client is not None and client.is_vip and client.vip_reason == "Крупный <опт>"
