"""Search as people type it, through the real bot and the sandbox.

The fixture base reproduces each case measured on the demo base: feminine and masculine
surnames, names written as one word, a phone tail on a sticky note, a labelled ИНН,
typos, qualifiers, zero-width characters, lower-case external ids, look-alike rows and
a colleague's client.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.db.models import Client, ClientPhone, ClientSegment, SegmentationRun
from services.db.versions import clients_changed
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

AS_OF = date(2026, 3, 1)
# name, owner ("anna" / "john"), city, phone, tax id, external id, segment
CASES: list[tuple[str, str, str, str | None, str | None, str | None, str | None]] = [
    ("ИП Баранов Андрей Александрович", "anna", "Подольск", None, None, None, None),
    ("Баранова Марина Михайловна", "anna", "Подольск", None, None, None, None),
    ("ИП Фёдоров Павел Викторович", "anna", "Рязань", None, None, None, None),
    ("ИП Фёдоров Илья Александрович", "anna", "Тула", None, None, None, None),
    ("Фёдорова Татьяна Павловна", "anna", "Нижний Новгород", None, None, None, None),
    ("ООО «МонолитПлюс»", "anna", "Москва", None, None, None, None),
    ("ИП Семёнов Евгений Андреевич", "anna", "Владимир", "79527230731", None, None, None),
    ("ООО «ЕвроЭлектроЮнит»", "anna", "Тула", None, "7185576911", None, None),
    ("Зайцева Светлана Павловна", "anna", "Москва", None, None, None, None),
    ("ИП Матвеев Илья Борисович", "anna", "Москва", None, None, None, None),
    ("Борисова Мария Анатольевна", "anna", "Тюмень", None, None, None, None),
    ("ИП Сорокин Михаил Михайлович", "anna", "Владимир", None, None, None, None),
    ("ИП Сорокин Илья Васильевич", "anna", "Подольск", None, None, None, None),
    ("ООО «ГрандРемонтПлюс»", "anna", "Подольск", None, None, "DEMO-0001260", None),
    ("ООО «Зодчий»", "anna", "Екатеринбург", None, "6686811473", None, None),
    ("ООО «Зодчий»", "anna", "Тула", None, "7137428783", None, None),
    ("Петров Илья Сергеевич", "anna", "Москва", None, None, None, "AX"),
    ("Петров Олег Иванович", "anna", "Москва", None, None, None, "BZ"),
    ("ООО «Кедр»", "john", "Казань", "79161112233", None, None, None),
]


@pytest.fixture
async def cases(bot_app: BotHarness, seed: SeedIds) -> dict[str, int]:
    """The case base, written while the bot runs (as an import would, with the stamp)."""
    owners = {"anna": seed.anna, "john": seed.john}
    ids: dict[str, int] = {}
    async with bot_app.uow_factory() as uow:
        run = SegmentationRun(as_of=AS_OF)
        uow.session.add(run)
        await uow.flush()
        for name, owner, city, phone, tax_id, external, segment in CASES:
            client = Client(
                name=name,
                name_normalized=normalize_name(name),
                owner_id=owners[owner],
                city=city,
                tax_id=tax_id,
                external_id=external,
            )
            if phone:
                client.phone_numbers.append(ClientPhone(phone=phone))
            uow.session.add(client)
            await uow.flush()
            ids[f"{name}|{city}"] = client.id
            if segment:
                uow.session.add(
                    ClientSegment(
                        run_id=run.id,
                        client_id=client.id,
                        as_of=AS_OF,
                        abc=segment[0],
                        xyz=segment[1],
                        segment=segment,
                        status="active",
                        cadence_days=14,
                    )
                )
        await clients_changed(uow)
        await uow.commit()
    return ids


def _labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for button in buttons(message)]


async def _card(chat: SandboxClient, user: int, query: str) -> str:
    """The first line of the card a query opened (exactly one match)."""
    await chat.send(user, query)
    message = await chat.wait_for(
        user, lambda m: any(word in text_of(m) for word in ("Менеджер:", "Найдено", "никого"))
    )
    assert "Менеджер:" in text_of(message), (query, text_of(message))
    return text_of(message).splitlines()[0]


async def _results(chat: SandboxClient, user: int, query: str) -> dict[str, Any]:
    await chat.send(user, query)
    return await chat.wait_for(user, lambda m: "Найдено" in text_of(m))


async def test_the_exact_surname_comes_first(
    bot_app: BotHarness, cases: dict[str, int], chat: SandboxClient
) -> None:
    baranova = await _results(chat, ANNA, "Баранова")
    assert _labels(baranova)[:2] == [
        "1. Баранова Марина Михайловна · Подольск",
        "2. ИП Баранов Андрей Александрович · Подольск",
    ]
    fedorova = await _results(chat, ANNA, "Фёдорова")
    assert _labels(fedorova)[0] == "1. Фёдорова Татьяна Павловна · Нижний Новгород"
    fedorova = await _results(chat, ANNA, "федорова")
    assert _labels(fedorova)[0].startswith("1. Фёдорова Татьяна")


@pytest.mark.parametrize(
    ("query", "card"),
    [
        ("монолит плюс", "ООО «МонолитПлюс»"),
        ("723-07-31", "ИП Семёнов Евгений Андреевич"),
        ("ИНН 7185576911", "ООО «ЕвроЭлектроЮнит»"),
        ("Зайева Светлана", "Зайцева Светлана Павловна"),
        ("Мавтеев", "ИП Матвеев Илья Борисович"),
        ("Бориоова", "Борисова Мария Анатольевна"),
        ("Сорокин Подольск", "ИП Сорокин Илья Васильевич"),
        ("Петров AX", "Петров Илья Сергеевич"),
        ("Гранд\u200bРемонт", "ООО «ГрандРемонтПлюс»"),
        ("demo-0001260", "ООО «ГрандРемонтПлюс»"),
        ("Зодчий Тула", "ООО «Зодчий»"),
    ],
)
async def test_what_people_type_opens_the_card(
    bot_app: BotHarness, cases: dict[str, int], chat: SandboxClient, query: str, card: str
) -> None:
    assert await _card(chat, ANNA, query) == card


async def test_look_alike_rows_are_told_apart(
    bot_app: BotHarness, cases: dict[str, int], chat: SandboxClient
) -> None:
    mine = await _results(chat, ANNA, "Зодчий")
    assert sorted(_labels(mine)) == [
        "1. ООО «Зодчий» · Екатеринбург",
        "2. ООО «Зодчий» · Тула",
    ]
    # for the head: whose each one is
    everyone = await _results(chat, HEAD, "Зодчий")
    assert all("Анна Смирнова" in label for label in _labels(everyone))
    await chat.press(HEAD, everyone["message_id"], button_data(everyone, "Тула"))
    card = await chat.wait_for(HEAD, lambda m: "ИНН 7137428783" in text_of(m))
    assert "Тула" in text_of(card)


async def test_a_colleagues_client_says_whose_it_is(
    bot_app: BotHarness, cases: dict[str, int], chat: SandboxClient
) -> None:
    await chat.send(ANNA, "Кедр")
    hint = await chat.wait_for(ANNA, lambda m: "John Carter" in text_of(m))
    assert text_of(hint).startswith(
        "Среди ваших клиентов по запросу «Кедр» никого, но нашёлся «ООО «Кедр»» — "
        "это клиент John Carter."
    )
    assert "Казань" not in text_of(hint) and not buttons(hint)  # no card, no offer to add it
    await chat.send(JOHN, "Семёнов")
    english = await chat.wait_for(JOHN, lambda m: "client" in text_of(m))
    assert "it is Анна Смирнова's client" in text_of(english)
    await chat.send(JOHN, "+7 952 723-07-31")
    by_phone = await chat.wait_for(
        JOHN, lambda m: "Смирнова" in text_of(m) and m["message_id"] > english["message_id"]
    )
    assert "ИНН" not in text_of(by_phone)


async def test_four_digits_shared_by_several_ask_for_seven(
    bot_app: BotHarness, seed: SeedIds, cases: dict[str, int], chat: SandboxClient
) -> None:
    async with bot_app.uow_factory() as uow:
        client = Client(name="ООО «Липа»", name_normalized="ооо липа", owner_id=seed.anna)
        client.phone_numbers.append(ClientPhone(phone="74950000731"))
        uow.session.add(client)
        await clients_changed(uow)
        await uow.commit()
    await chat.send(ANNA, "0731")
    answer = await chat.wait_for(ANNA, lambda m: "4 последние цифры" in text_of(m))
    assert "у 2 клиентов" in text_of(answer) and not buttons(answer)
