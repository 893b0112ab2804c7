"""A file sent to the bot: preview, "Import", one progress message, a report and a recompute."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from services.db.engine import make_engine, make_session_factory
from services.db.models import Client, ImportBatch, Transaction
from services.importing import import_clients
from services.uow import UnitOfWorkFactory
from tests.e2e.bot_harness import (
    ADMIN,
    ANNA,
    HEAD,
    BotHarness,
    SeedIds,
    button_data,
    buttons,
    text_of,
    wait_answer,
)
from tests.e2e.sandbox_harness import SandboxClient
from ui.callbacks import ImportAction, ImportCb

SEEDED_SALES = 15

# A 1C sales report: title lines, a NUL byte, a 20-digit amount and a totals row.
SALES_1C = (
    "Отчёт по продажам\n"
    "Период: 01.02.2026 - 28.02.2026\n"
    "\n"
    "Контрагент;ИНН;Дата;Сумма;Номер документа\n"
    "ООО «Ромашка»;7701234567;10.02.2026;15 000,00;РН-1\n"
    "ООО «Новый клиент»;;11.02.2026;2500,50;РН-2\n"
    "ИП Васильев;500100732259;12.02.2026;12345678901234567890;РН-3\n"
    "ООО «Лютик»;7702345678;13.02.2026;1000\x00;РН-4\n"
    "Итого;;;12345678901252567890,50;\n"
).encode("cp1251")


async def _count(bot_app: BotHarness, model: Any) -> int:
    async with bot_app.uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


def _is_preview(message: dict[str, Any]) -> bool:
    return "Импортировать?" in message["plain_text"] and bool(buttons(message))


async def _upload_and_preview(
    chat: SandboxClient, user_id: int, name: str, data: bytes
) -> dict[str, Any]:
    await chat.upload_document(user_id, name, data)
    return await chat.wait_for(user_id, _is_preview, timeout=15)


async def test_head_imports_a_1c_sales_file_once_with_a_report_of_the_bad_rows(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient, tmp_path: Path
) -> None:
    preview = await _upload_and_preview(chat, HEAD, "продажи февраль.csv", SALES_1C)
    text = text_of(preview)
    assert "продажи" in text
    assert "Строк с данными: 4" in text
    assert "строке 4" in text  # the header under the report's title lines
    assert "Контрагент" in text and "Сумма" in text
    assert "2 строки с ошибками" in text
    assert "строка 7" in text and "строка 8" in text  # the 20-digit amount, the NUL byte
    assert await _count(bot_app, Transaction) == SEEDED_SALES  # a preview writes nothing

    go = button_data(preview, "Импортировать")
    # a double tap: the second press arrives before the buttons are gone
    first = await chat.press(HEAD, preview["message_id"], go)
    second = await chat.press(HEAD, preview["message_id"], go, force=True)

    report = await chat.wait_for(HEAD, lambda m: "Новых продаж" in m["plain_text"], timeout=30)
    assert "Новых продаж: 2" in text_of(report)
    assert "Отклонено строк: 2" in text_of(report)
    assert "Сегменты пересчитаны" in text_of(report)
    changes = await chat.wait_for(HEAD, lambda m: "После импорта" in m["plain_text"], timeout=10)
    assert "Новых клиентов: 1" in text_of(changes)
    rejected = await chat.wait_for(HEAD, lambda m: m.get("document") is not None, timeout=10)
    rows = list(
        csv.reader(
            io.StringIO((await chat.download(rejected["document"]["url"])).decode("utf-8-sig")),
            delimiter=";",
        )
    )
    assert rows[0][:3] == ["row", "column", "code"]
    found = {(row[0], row[2]) for row in rows[1:]}
    assert {("7", "amount_too_large"), ("8", "nul_byte")} <= found
    assert {row[0] for row in rows[1:]} == {"7", "8"}

    # one progress message, edited to its end, not a stream of messages
    feed = await chat.messages(HEAD, after=preview["message_id"])
    statuses = [
        m for m in feed["messages"] if m["plain_text"].startswith(("Импортирую", "⏳", "✅", "❌"))
    ]
    assert len(statuses) == 1 and statuses[0]["edited"]
    assert "завершён" in text_of(statuses[0])

    assert not (await wait_answer(chat, HEAD, first)).get("show_alert")
    assert "устарела" in (await wait_answer(chat, HEAD, second))["text"]
    assert await _count(bot_app, Transaction) == SEEDED_SALES + 2
    assert await _count(bot_app, ImportBatch) == 1
    async with bot_app.uow_factory() as uow:
        created = await uow.session.scalar(
            select(func.count()).where(Client.name == "ООО «Новый клиент»")
        )
    assert created == 1
    assert not any((tmp_path / "uploads").iterdir())  # nothing of the file stays on disk

    # the same file again adds nothing
    again = await _upload_and_preview(chat, HEAD, "продажи февраль.csv", SALES_1C)
    await chat.press(HEAD, again["message_id"], button_data(again, "Импортировать"))
    repeat = await chat.wait_for(HEAD, lambda m: "уже импортирован" in m["plain_text"], timeout=30)
    assert "ничего не изменилось" in text_of(repeat)
    assert await _count(bot_app, Transaction) == SEEDED_SALES + 2


async def test_admin_imports_clients_from_xlsx_and_the_head_is_told(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Наименование", "ИНН", "Телефон", "Город"])
    sheet.append(["ООО «Клевер»", "7707083893", "+7 495 222-33-44", "Москва"])
    sheet.append(["ООО «Ромашка»", "7701234567", "+7 916 123-45-67", "Москва"])
    buffer = io.BytesIO()
    book.save(buffer)
    before = await _count(bot_app, Client)

    preview = await _upload_and_preview(chat, ADMIN, "clients.xlsx", buffer.getvalue())
    assert "клиенты" in text_of(preview) and "Строк с данными: 2" in text_of(preview)
    await chat.press(ADMIN, preview["message_id"], button_data(preview, "Импортировать"))
    report = await chat.wait_for(ADMIN, lambda m: "Новых клиентов:" in m["plain_text"], timeout=30)
    assert "Новых клиентов: 1" in text_of(report)
    told = await chat.wait_for(HEAD, lambda m: "После импорта" in m["plain_text"], timeout=10)
    assert "clients.xlsx" in text_of(told)
    assert await _count(bot_app, Client) == before + 1


async def test_a_manager_gets_a_polite_explanation_and_nothing_is_kept(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient, tmp_path: Path
) -> None:
    await chat.upload_document(ANNA, "sales.csv", SALES_1C)
    answer = await chat.wait_for(ANNA, lambda m: "руководител" in m["plain_text"])
    assert not buttons(answer)
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())
    assert await _count(bot_app, Transaction) == SEEDED_SALES


async def test_cancel_forged_and_foreign_buttons(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    preview = await _upload_and_preview(chat, HEAD, "sales.csv", SALES_1C)
    import_id = ImportCb.unpack(button_data(preview, "Импортировать")).i

    # the admin forges a press of the head's import: the file is not theirs
    await chat.send(ADMIN, "/start")
    (hello,) = await chat.wait_messages(ADMIN)
    foreign = await chat.press(
        ADMIN, hello["message_id"], ImportCb(a=ImportAction.GO, i=import_id).pack(), force=True
    )
    assert "устарела" in (await wait_answer(chat, ADMIN, foreign))["text"]
    forged = await chat.press(
        HEAD, preview["message_id"], ImportCb(a=ImportAction.GO, i="../../etc").pack(), force=True
    )
    assert "устарела" in (await wait_answer(chat, HEAD, forged))["text"]

    await chat.press(HEAD, preview["message_id"], button_data(preview, "Отмена"))
    await chat.wait_for(HEAD, lambda m: "отменён" in m["plain_text"])
    late = await chat.press(
        HEAD, preview["message_id"], ImportCb(a=ImportAction.GO, i=import_id).pack(), force=True
    )
    assert "устарела" in (await wait_answer(chat, HEAD, late))["text"]
    assert await _count(bot_app, Transaction) == SEEDED_SALES
    assert await _count(bot_app, ImportBatch) == 0


async def test_a_file_too_big_for_telegram_gets_a_clear_message(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    await chat.upload_document(HEAD, "big.csv", b"x" * (20 * 1024 * 1024 + 1))
    answer = await chat.wait_for(HEAD, lambda m: "МБ" in m["plain_text"], timeout=15)
    assert "20 МБ" in text_of(answer)


@pytest.mark.parametrize("bot_db_url", ["sqlite", "postgres"], indirect=True)
async def test_search_sees_clients_imported_a_moment_ago_by_another_process(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient, tmp_path: Path
) -> None:
    assert "Ромашка" in await _card(chat, ANNA, "Ромашка")  # the index is built and in use
    export = tmp_path / "from-1c.csv"
    export.write_text(
        "Код;Клиент;Менеджер\n"
        "SEED-1;ООО «Ромашка Люкс»;Анна Смирнова\n"
        "NEW-1;ООО «Свежеимпортированный»;Анна Смирнова\n",
        encoding="utf-8",
    )
    # `crmbot import` in another process: its own engine on the bot's database
    engine = make_engine(bot_app.settings.database.url)
    try:
        report = await import_clients(UnitOfWorkFactory(make_session_factory(engine))(), export)
    finally:
        await engine.dispose()
    assert (report.rows_imported, report.rows_updated) == (1, 1)

    assert (await _card(chat, ANNA, "Свежеимпортированный")).startswith(
        "ООО «Свежеимпортированный»"
    )
    for _ in range(50):  # a renamed client: the index is rebuilt in the background, in moments
        first_line = await _card(chat, ANNA, "Ромашка Люкс", strict=False)
        if "Ромашка Люкс" in first_line:
            break
    else:
        raise AssertionError("the renamed client was not found")


async def _card(chat: SandboxClient, user: int, query: str, *, strict: bool = True) -> str:
    await chat.send(user, query)
    message = await chat.wait_for(
        user, lambda m: any(word in text_of(m) for word in ("Менеджер:", "Найдено", "никого"))
    )
    if strict:
        assert "Менеджер:" in text_of(message), (query, text_of(message))
    return text_of(message).splitlines()[0] if "Менеджер:" in text_of(message) else ""
