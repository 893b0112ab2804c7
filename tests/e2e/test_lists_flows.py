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
    assert lines[0] == "📋 Позвонить сегодня: 3 клиента"
    assert lines[2:] == [
        "1. ⭐ ООО «Ромашка» — AX, просрочен на 2 дня",
        "2. ИП Васильев — BY, просрочен на 1 день",
        "3. ООО «Лютик» — CZ, сегодня",
    ]
    assert "Анна Смирнова" not in text_of(listing)  # her own list: no owner column
    assert labels(listing) == ["1. ⭐ ООО «Ромашка»", "2. ИП Васильев", "3. ООО «Лютик»"]
    await chat.press(ANNA, listing["message_id"], button_data(listing, "Лютик"))
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
    assert text.startswith("📋 Позвонить сегодня: 13 клиентов\nСтр. 1 из 2")
    assert "1. ⭐ ООО «Ромашка» — AX, просрочен на 2 дня, 👤 Анна Смирнова" in text
    assert "👤 John Carter" in text
    assert labels(listing)[-2:] == ["1/2", "▶"]
    await chat.press(HEAD, listing["message_id"], button_data(listing, "▶"))
    second = await chat.wait_for(HEAD, lambda m: "Стр. 2 из 2" in text_of(m))
    assert second["message_id"] == listing["message_id"] and second["edited"]
    assert [line[:3] for line in text_of(second).splitlines()[3:]] == ["11.", "12.", "13."]


async def test_reactivate_and_risk(bot_app: BotHarness, chat: SandboxClient) -> None:
    reactivate = await ask(chat, ANNA, "/reactivate", "Пора вернуть")
    assert text_of(reactivate).splitlines()[0] == "🔄 Пора вернуть: 1 клиент"
    assert f"1. ООО «Лютик» — CZ, выручка за год 90{NBSP}000{NBSP}₽" in text_of(reactivate)

    risk = await ask(chat, ANNA, "/risk", "Под угрозой ухода")
    lines = text_of(risk).splitlines()
    assert lines[0] == "⚠️ Под угрозой ухода: 2 клиента"
    assert lines[2:] == [
        f"1. ИП Васильев — BY, под риском 15{NBSP}000{NBSP}₽",
        f"2. ООО «Лютик» — CZ, под риском 15{NBSP}000{NBSP}₽",
    ]
    head_risk = await ask(chat, HEAD, "/risk", "Под угрозой ухода")
    assert "👤 Анна Смирнова" in text_of(head_risk)


async def test_english_lists(bot_app: BotHarness, chat: SandboxClient) -> None:
    today = await ask(chat, JOHN, "/today", "To call today")
    assert (
        text_of(today) == "📋 To call today: 0 clients\nNothing due today and nothing overdue. 👍"
    )
    week = await ask(chat, JOHN, "/week", "Next 7 days")
    lines = text_of(week).splitlines()
    assert lines[0] == "🗓 Next 7 days: 2 clients"
    assert lines[2:] == ["1. АО «Василёк» — AY, 3 Mar", "2. ООО «Одуванчик» — BZ, 4 Mar"]
    nothing = await ask(chat, JOHN, "/reactivate", "To win back")
    assert "Nobody to win back" in text_of(nothing)
    risk = await ask(chat, JOHN, "/risk", "At risk of leaving")
    assert text_of(risk).splitlines()[0] == "⚠️ At risk of leaving: 0 clients"
