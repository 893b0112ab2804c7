"""Every label explains itself: the card and the lists after a real recompute, in both languages.

A generated base (the demo generator) is loaded beside the small known base and half of it
handed to Анна, half to John; the recompute runs for real, then the bot is asked as a
manager would.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from demo_data import generate_demo
from services.db.models import Client, ClientSegment, Transaction
from services.normalize import normalize_name
from services.segmentation import recompute_segments
from tests.e2e.bot_harness import ANNA, JOHN, NOW, BotHarness, SeedIds, button_data, text_of
from tests.e2e.sandbox_harness import SandboxClient

TODAY = NOW.date()
REASON = re.compile(r"^ {4}(.+)$")


async def _recomputed_base(bot_app: BotHarness, seed: SeedIds) -> None:
    frames = generate_demo(seed=7, as_of=TODAY, clients=240)
    sales = frames.transactions
    async with bot_app.uow_factory() as uow:
        ids: dict[int, int] = {}
        for number, row in enumerate(frames.clients.itertuples()):
            client = Client(
                name=row.name,
                name_normalized=normalize_name(row.name),
                tax_id=row.tax_id,
                owner_id=seed.anna if number % 2 == 0 else seed.john,
            )
            uow.session.add(client)
            await uow.flush()
            ids[int(row.client_no)] = client.id
        uow.session.add_all(
            Transaction(
                client_id=ids[int(client_no)],
                date=day,
                amount=Decimal(int(kopecks)) / 100,
                category=category,
            )
            for client_no, day, kopecks, category in zip(
                sales["client_no"],
                sales["date"],
                sales["amount_kopecks"],
                sales["category"],
                strict=True,
            )
        )
        await uow.commit()
    await recompute_segments(bot_app.uow_factory(), TODAY, timezone="Europe/Moscow")


async def ask(chat: SandboxClient, user: int, text: str, expect: str) -> dict[str, Any]:
    await chat.send(user, text)
    return await chat.wait_for(user, lambda m: expect in text_of(m))


def rows_and_reasons(text: str) -> list[tuple[str, str]]:
    """Each numbered row of a list with the reason line under it."""
    lines = text.splitlines()
    pairs = []
    for index, line in enumerate(lines):
        if re.match(r"^\d+\. ", line):
            below = lines[index + 1] if index + 1 < len(lines) else ""
            match = REASON.match(below)
            pairs.append((line, match.group(1) if match else ""))
    return pairs


async def test_lists_say_why_each_client_is_there(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await _recomputed_base(bot_app, seed)

    risk = await ask(chat, ANNA, "/risk", "Под угрозой ухода")
    rows = rows_and_reasons(text_of(risk))
    assert rows, text_of(risk)
    for row, reason in rows:
        assert re.fullmatch(
            r"ещё покупает с вероятностью \d+\u00a0%, молчит \d+ д[а-я]+ "
            r"\(обычно раз в \d+ д[а-я]+\)",
            reason,
        ), (row, reason)

    win_back = await ask(chat, ANNA, "/reactivate", "Пора вернуть")
    rows = rows_and_reasons(text_of(win_back))
    assert rows
    for row, reason in rows:
        assert re.fullmatch(
            r"ушёл \d+ д[а-я]+ назад|засыпает: обычно покупает раз в \d+ д[а-я]+, "
            r"молчит \d+ д[а-я]+",
            reason,
        ), (row, reason)

    today = await ask(chat, ANNA, "/today", "Позвонить сегодня")
    demo_rows = [(r, why) for r, why in rows_and_reasons(text_of(today)) if why]
    assert demo_rows
    for row, reason in demo_rows:
        assert re.fullmatch(
            r"по графику [ABC][XYZ] — каждые \d+ д[а-я]+ от (звонка|покупки) \d\d\.\d\d"
            r"|VIP — не реже чем каждые \d+ д[а-я]+ от (звонка|покупки) \d\d\.\d\d"
            r"|без сегмента — каждые \d+ д[а-я]+ от (звонка|покупки) \d\d\.\d\d"
            r"|назначил\(а\) .+ \d\d\.\d\d|покупок и звонков ещё не было — пора познакомиться",
            reason,
        ), (row, reason)

    english = await ask(chat, JOHN, "/risk", "At risk of leaving")
    rows = rows_and_reasons(text_of(english))
    assert rows
    for row, reason in rows:
        assert re.fullmatch(
            r"\d+\u00a0% likely still buying, silent \d+ days? \(usually every \d+ days?\)",
            reason,
        ), (row, reason)


async def test_card_explains_segment_status_risk_value_and_next_contact(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await _recomputed_base(bot_app, seed)
    async with bot_app.uow_factory() as uow:
        state = await uow.session.scalar(
            select(ClientSegment)
            .join(Client, Client.id == ClientSegment.client_id)
            .where(ClientSegment.at_risk.is_(True), Client.owner_id == seed.anna)
            .order_by(ClientSegment.value_at_risk.desc())
            .limit(1)
        )
        assert state is not None
        client = await uow.session.get(Client, state.client_id)
        assert client is not None and client.tax_id

    risk = await ask(chat, ANNA, "/risk", "Под угрозой ухода")
    await chat.press(ANNA, risk["message_id"], button_data(risk, "1"))
    card = await chat.wait_for(ANNA, lambda m: f"ИНН {client.tax_id}" in text_of(m))
    lines = text_of(card).splitlines()
    reasons = [m.group(1) for m in map(REASON.match, lines) if m]
    assert re.fullmatch(
        rf"(<?[\d,]+\u00a0%) выручки \({state.revenue_rank}-й из \d+\); "
        rf"покупал в {state.active_months} из 12 месяцев",
        reasons[0],
    ), reasons
    cycle = round(state.deal_cycle_days or 0)
    assert re.fullmatch(
        rf"(засыпает: )?обычно покупает раз в {cycle} д[а-я]+, "
        rf"(молчит|последняя покупка) {state.days_since_last_purchase} д[а-я]+( назад)?",
        reasons[1],
    ), reasons
    assert re.fullmatch(
        rf"вероятность, что ещё покупает, {round((state.p_alive or 0) * 100)}\u00a0% — "
        rf"по {(state.repeat_purchases or 0) + 1} покупк[а-я]+ за .+",
        reasons[2],
    ), reasons
    assert any(
        line.startswith("💰 Ожидаемая выручка за 12 месяцев: ") and "под угрозой" in line
        for line in lines
    )
    next_index = next(i for i, line in enumerate(lines) if line.startswith("Следующий контакт"))
    assert REASON.match(lines[next_index + 1]), lines[next_index:]

    english = await ask(chat, JOHN, "/risk", "At risk of leaving")
    await chat.press(JOHN, english["message_id"], button_data(english, "1"))
    card = await chat.wait_for(JOHN, lambda m: "Tax ID" in text_of(m) and "revenue (" in text_of(m))
    text = text_of(card)
    assert "probability still buying " in text and "💰 Expected revenue over 12 months: " in text
