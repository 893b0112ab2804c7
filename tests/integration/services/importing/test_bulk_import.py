"""The bulk path of sales imports on SQLite and PostgreSQL: chunks, idempotence, matching."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from services.db.models import Client, ImportBatch, Transaction
from services.importing import BatchStatus, import_clients, import_transactions
from services.normalize import normalize_name
from services.uow import UnitOfWorkFactory

FIXTURES = Path(__file__).parents[3] / "fixtures" / "importing"
TODAY = date(2024, 6, 1)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


async def count(uow_factory: UnitOfWorkFactory, model: type) -> int:
    async with uow_factory() as uow:
        return int(
            (await uow.session.execute(select(func.count()).select_from(model))).scalar_one()
        )


async def sales(uow_factory: UnitOfWorkFactory) -> list[tuple[str, date, Decimal, str | None]]:
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(Client.name, Transaction.date, Transaction.amount, Transaction.order_number)
            .join(Client)
            .order_by(Transaction.date, Transaction.order_number)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def add_client(uow_factory: UnitOfWorkFactory, **values: object) -> int:
    """A client entered by hand (not by an import)."""
    async with uow_factory() as uow:
        name = str(values["name"])
        client = Client(name_normalized=normalize_name(name), **values)
        uow.session.add(client)
        await uow.flush()
        await uow.commit()
        return client.id


async def test_1c_report_end_to_end(uow_factory: UnitOfWorkFactory) -> None:
    clients = await import_clients(uow_factory(), FIXTURES / "clients_1c_utf8_bom.csv")
    assert (clients.status, clients.rows_imported, clients.totals_rows) == ("done", 2, (7,))
    assert clients.header_row == 4

    report = await import_transactions(uow_factory(), FIXTURES / "sales_1c_cp1251.csv", today=TODAY)
    assert report.status == BatchStatus.DONE, report.errors
    assert (report.rows_read, report.rows_imported, report.rows_rejected) == (3, 3, 0)
    assert report.totals_rows == (8,)
    assert report.header_row == 4
    assert await sales(uow_factory) == [
        ("ООО «Ромашка»", date(2024, 1, 15), Decimal("12345.50"), "РТ-0001"),
        ("ИП Петров", date(2024, 2, 3), Decimal("-1200.00"), "РТ-0002"),
        ("ООО «Ромашка»", date(2024, 3, 1), Decimal("99.90"), "РТ-0003"),
    ]


async def test_bad_cells_are_row_errors_and_the_good_rows_go_in(
    uow_factory: UnitOfWorkFactory,
) -> None:
    path = FIXTURES / "sales_bad_cells.csv"
    strict = await import_transactions(uow_factory(), path, today=TODAY, create_clients=True)
    assert strict.status == BatchStatus.REJECTED
    assert [(e.row, e.code) for e in strict.errors] == [
        (3, "bare_cr"),
        (4, "nul_byte"),
        (5, "amount_too_large"),
        (6, "future_date"),
    ]
    # the rejected file created no clients and no sales, only its batch record
    assert await count(uow_factory, Client) == 0
    assert await count(uow_factory, Transaction) == 0
    assert await count(uow_factory, ImportBatch) == 1

    # the NUL byte never reaches PostgreSQL, which would refuse the whole statement
    report = await import_transactions(
        uow_factory(), path, today=TODAY, create_clients=True, skip_invalid=True
    )
    assert (report.status, report.rows_imported, report.rows_rejected) == ("partial", 2, 4)
    assert [row[3] for row in await sales(uow_factory)] == ["1", "6"]


async def test_chunks_idempotence_and_overlap(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    body = "".join(f"Клиент {i % 4};{1 + i % 28:02d}.01.2024;{i},50;Д-{i}\n" for i in range(23))
    first = write(tmp_path, "january.csv", "Клиент;Дата;Сумма;Номер\n" + body)
    report = await import_transactions(
        uow_factory(), first, today=TODAY, create_clients=True, chunk_rows=5
    )
    assert (report.rows_imported, report.clients_created, report.rows_duplicate) == (23, 4, 0)
    assert await count(uow_factory, Client) == 4
    assert await count(uow_factory, Transaction) == 23

    # the same file twice adds nothing
    again = await import_transactions(uow_factory(), first, today=TODAY, chunk_rows=5)
    assert again.status == BatchStatus.SKIPPED
    # the same rows in other bytes: everything is a duplicate, nothing is added
    copy = write(tmp_path, "copy.csv", "Клиент;Дата;Сумма;Номер\n" + body + "\n")
    same = await import_transactions(uow_factory(), copy, today=TODAY, chunk_rows=7)
    assert (same.status, same.rows_imported, same.rows_duplicate) == ("done", 0, 23)
    # an overlapping file: ten old rows, three new ones
    overlap_body = body.splitlines(keepends=True)[-10:] + [
        f"Клиент 1;02.02.2024;{i},00;Ф-{i}\n" for i in range(3)
    ]
    overlap = write(tmp_path, "overlap.csv", "Клиент;Дата;Сумма;Номер\n" + "".join(overlap_body))
    report = await import_transactions(uow_factory(), overlap, today=TODAY, chunk_rows=4)
    assert (report.rows_imported, report.rows_duplicate, report.rows_rejected) == (3, 10, 0)
    assert await count(uow_factory, Transaction) == 26
    assert await count(uow_factory, Client) == 4


async def test_duplicates_within_the_file_across_chunks(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    rows = [f"Клиент;{1 + i:02d}.01.2024;{i};Д-{i}\n" for i in range(6)]
    rows.append("клиент;07.01.2024;99;Д-1\n")  # row 8 repeats document Д-1 of row 3
    rows.append("Клиент;08.01.2024;5;\n")
    rows.append("Клиент;08.01.2024;5;\n")  # row 10: the same content, no document number
    path = write(tmp_path, "sales.csv", "Клиент;Дата;Сумма;Номер\n" + "".join(rows))
    report = await import_transactions(
        uow_factory(), path, today=TODAY, create_clients=True, chunk_rows=3
    )
    assert report.status == BatchStatus.REJECTED
    assert [(e.row, e.column, e.code, e.detail) for e in report.errors] == [
        (8, "order_number", "duplicate_in_file", "same as row 3"),
        (10, "row", "duplicate_in_file", "same as row 9"),
    ]
    assert await count(uow_factory, Transaction) == 0
    assert await count(uow_factory, Client) == 0

    report = await import_transactions(
        uow_factory(), path, today=TODAY, create_clients=True, skip_invalid=True, chunk_rows=3
    )
    assert (report.rows_imported, report.rows_duplicate, report.rows_rejected) == (7, 0, 2)
    assert await count(uow_factory, Transaction) == 7


async def test_clients_added_by_hand_are_matched_not_duplicated(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    by_tax = await add_client(uow_factory, name="Ромашка (вручную)", tax_id="7707 083 893")
    by_code = await add_client(uow_factory, name="Петров", external_id="К-002")

    clients = await import_clients(uow_factory(), FIXTURES / "clients_1c_utf8_bom.csv")
    assert (clients.rows_imported, clients.rows_updated) == (0, 2), clients.errors
    assert await count(uow_factory, Client) == 2
    async with uow_factory() as uow:
        found = {
            row.id: (row.external_id, row.tax_id, row.name)
            for row in (await uow.session.execute(select(Client))).scalars()
        }
    assert found == {
        by_tax: ("К-001", "7707083893", "ООО «Ромашка»"),
        by_code: ("К-002", "500100732259", "ИП Петров"),
    }

    # and sales find hand-made clients by tax id or code too
    third = await add_client(uow_factory, name="Лютик", tax_id="7710140679")
    fourth = await add_client(uow_factory, name="Иванов", external_id="К-777")
    text = (
        "Контрагент;ИНН;Код клиента;Дата;Сумма;Номер\n"
        "ЗАО «Лютик»;7710140679;;01.02.2024;10;A-1\n"
        "Иванов И. И.;;К-777;02.02.2024;20;A-2\n"
    )
    report = await import_transactions(uow_factory(), write(tmp_path, "s.csv", text), today=TODAY)
    assert (report.status, report.rows_imported) == ("done", 2), report.errors
    async with uow_factory() as uow:
        owners = (
            await uow.session.execute(
                select(Transaction.order_number, Transaction.client_id).order_by(
                    Transaction.order_number
                )
            )
        ).all()
    assert [tuple(row) for row in owners] == [("A-1", third), ("A-2", fourth)]
    assert await count(uow_factory, Client) == 4


async def test_an_import_with_errors_leaves_created_clients_out(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    text = "Клиент;Дата;Сумма\nНовый;01.02.2024;10\nДругой;01.02.2024;много\n"
    path = write(tmp_path, "s.csv", text)
    report = await import_transactions(uow_factory(), path, today=TODAY, create_clients=True)
    assert report.status == BatchStatus.REJECTED
    assert report.clients_created == 0
    assert await count(uow_factory, Client) == 0
