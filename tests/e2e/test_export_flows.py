"""/export: an XLSX document a spreadsheet opens without running anything in it."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import update

from services.db.models import Client
from tests.e2e.bot_harness import ANNA, HEAD, BotHarness, SeedIds
from tests.e2e.sandbox_harness import SandboxClient

FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+7 916 000", "-1+2", "@SUM(A1:A2)")


async def _export(chat: SandboxClient, user_id: int) -> list[tuple[object, ...]]:
    await chat.send(user_id, "/export")
    message = await chat.wait_for(user_id, lambda m: m.get("document") is not None, timeout=15)
    assert message["document"]["file_name"].endswith(".xlsx")
    book = load_workbook(io.BytesIO(await chat.download(message["document"]["url"])))
    sheet = book.active
    assert sheet is not None
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


async def test_the_head_exports_the_whole_base_and_formulas_are_neutralised(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    async with bot_app.uow_factory() as uow:
        for client_id, text in zip(seed.anna_clients + seed.john_clients, FORMULAS, strict=False):
            await uow.session.execute(
                update(Client).where(Client.id == client_id).values(company=text)
            )
        await uow.commit()

    rows = await _export(chat, HEAD)
    header, body = rows[0], rows[1:]
    assert "Клиент" in header and "Сегмент" in header and "Менеджер" in header
    assert len(body) == len(seed.anna_clients) + len(seed.john_clients)
    companies = {row[header.index("Компания")] for row in body}
    assert {"'" + text for text in FORMULAS} <= companies
    assert {row[header.index("Сегмент")] for row in body} >= {"AX", "BY"}


async def test_a_manager_exports_only_their_own_clients(
    bot_app: BotHarness, seed: SeedIds, chat: SandboxClient
) -> None:
    rows = await _export(chat, ANNA)
    header, body = rows[0], rows[1:]
    assert len(body) == len(seed.anna_clients)
    assert {row[header.index("Менеджер")] for row in body} == {"Анна Смирнова"}
