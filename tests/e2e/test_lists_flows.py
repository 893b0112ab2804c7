"""/today, /week, /reactivate and /risk through the real bot and the sandbox."""

from __future__ import annotations

from datetime import date
from typing import Any

from services.db.models import Client
from services.normalize import normalize_name
from tests.e2e.bot_harness import (
    ANNA,
    HEAD,
    JOHN,
    BotHarness,
    SeedIds,
    button_data,
    buttons,
    text_of,
)
from tests.e2e.sandbox_harness import SandboxClient

NBSP = "\u00a0"


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for button in buttons(message)]


async def ask(chat: SandboxClient, user: int, text: str, expect: str) -> dict[str, Any]:
    await chat.send(user, text)
    return await chat.wait_for(user, lambda m: expect in text_of(m))


async def test_today_for_a_manager_vip_first_then_by_days_overdue(
    bot_app: BotHarness, chat: SandboxClient
) -> None:
    listing = await ask(chat, ANNA, "/today", "Позвонить сегодня")
    lines = text_of(listing).splitlines()
    assert lines[0] == "Звонков сегодня: 0 из 20 · просрочено 2"
    assert lines[1] == "📋 Позвонить сегодня: 3 клиента"
    assert lines[3:] == [
        "1. ⭐ ООО «Ромашка» — AX, просрочен на 2 дня",
        "2. ИП Васильев — BY, просрочен на 1 день",
        "3. ООО «Лютик» — CZ, сегодня",
    ]
    assert "Анна Смирнова" not in text_of(listing)  # her own list: no owner column
    assert labels(listing) == ["1", "2", "3"]  # each row once: the text, and its number
    await chat.press(ANNA, listing["message_id"], button_data(listing, "3"))
    card = await chat.wait_for(ANNA, lambda m: "ИНН 7702345678" in text_of(m))
    assert not card["edited"]  # the list stays where it was


async def test_head_sees_everyone_with_owners_and_pages(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    async with bot_app.uow_factory() as uow:
        for number in range(10):
            name = f"Клиент {number:02d}"
            uow.session.add(
                Client(
                    name=name,
                    name_normalized=normalize_name(name),
                    owner_id=seed.john,
                    next_due_on=date(2026, 3, 2),
                )
            )
        await uow.commit()
    listing = await ask(chat, HEAD, "/today", "Позвонить сегодня")
    text = text_of(listing)
    assert text.startswith(
        "👥 Команда · Звонков сегодня: 0 из 40 · просрочено 2\n"
        "📋 Позвонить сегодня: 13 клиентов\nСтр. 1 из 2"
    )
    assert "1. ⭐ ООО «Ромашка» — AX, просрочен на 2 дня, 👤 Анна Смирнова" in text
    assert "👤 John Carter" in text
    assert labels(listing)[-3:] == ["1/2", "▶", "👤 По менеджеру"]
    await chat.press(HEAD, listing["message_id"], button_data(listing, "▶"))
    second = await chat.wait_for(HEAD, lambda m: "Стр. 2 из 2" in text_of(m))
    assert second["message_id"] == listing["message_id"] and second["edited"]
    assert [line[:3] for line in text_of(second).splitlines()[4:]] == ["11.", "12.", "13."]
    assert labels(second)[:3] == ["11", "12", "13"]


async def test_reactivate_and_risk(bot_app: BotHarness, chat: SandboxClient) -> None:
    reactivate = await ask(chat, ANNA, "/reactivate", "Пора вернуть")
    assert text_of(reactivate).splitlines()[0] == "🔄 Пора вернуть: 1 клиент"
    assert f"1. ООО «Лютик» — CZ, выручка за год 90{NBSP}000{NBSP}₽" in text_of(reactivate)

    risk = await ask(chat, ANNA, "/risk", "Под угрозой ухода")
    lines = text_of(risk).splitlines()
    assert lines[0] == "⚠️ Под угрозой ухода: 1 клиент"
    # the dormant client to win back is not on /risk as well: the lists are disjoint
    assert lines[2:] == [f"1. ИП Васильев — BY, под риском 15{NBSP}000{NBSP}₽"]
    head_risk = await ask(chat, HEAD, "/risk", "Под угрозой ухода")
    assert "👤 Анна Смирнова" in text_of(head_risk)


async def test_english_lists(bot_app: BotHarness, chat: SandboxClient) -> None:
    today = await ask(chat, JOHN, "/today", "To call today")
    assert text_of(today) == (
        "Calls today: 0 of 20 · overdue 0\n"
        "📋 To call today: 0 clients\nNothing due today and nothing overdue. 👍"
    )
    week = await ask(chat, JOHN, "/week", "Next 7 days")
    assert text_of(week) == "🗓 Next 7 days: 2 clients\nPick a day:"
    assert labels(week) == ["Tu 3 Mar · 1", "We 4 Mar · 1"]
    await chat.press(JOHN, week["message_id"], button_data(week, "We 4 Mar"))
    day = await chat.wait_for(JOHN, lambda m: m["edited"] and "We 4 Mar: 1 client" in text_of(m))
    assert "1. ООО «Одуванчик» — BZ, 4 Mar" in text_of(day)
    assert labels(day) == ["1", "« The whole week"]
    nothing = await ask(chat, JOHN, "/reactivate", "To win back")
    assert "Nobody to win back" in text_of(nothing)
    risk = await ask(chat, JOHN, "/risk", "At risk of leaving")
    assert text_of(risk).splitlines()[0] == "⚠️ At risk of leaving: 0 clients"
