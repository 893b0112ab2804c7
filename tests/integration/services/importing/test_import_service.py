"""Importing clients and sales into real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from services.db.models import Client, ClientPhone, ImportBatch, Transaction, User
from services.importing import BatchStatus, ImportReport, import_clients, import_transactions
from services.uow import UnitOfWorkFactory

TODAY = date(2025, 1, 15)

CLIENTS = (
    "Код;Клиент;ИНН;Телефон;Email;Город;Менеджер;VIP;Теги\n"
    "C1;ООО «Ромашка»;7707083893;8 916 123-45-67, +7 (495) 000-00-00;info@romashka.ru;Москва;"
    "Иванов Петр;да;опт\n"
    "C2;ИП Петров;500100732259;;;Тверь;;нет;\n"
    ";ЗАО Лютик;;9031112233;;Казань;;;\n"
)

SALES = (
    "Контрагент;Код клиента;Дата;Сумма;Номер документа;Номенклатурная группа\n"
    "ООО Ромашка;;31.01.2024;12 345,50;РТ-1;Крепеж\n"  # by name, without the quotes
    "что угодно;C2;03.02.2024;-1 200,00;РТ-2;\n"  # by code
    "зао лютик;;2024-02-05;1200.5;РТ-3;Инструмент\n"
    "ООО Ромашка;;01.03.24;100;РТ-1;Инструмент\n"  # same document, another category
)


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


async def add_user(uow_factory: UnitOfWorkFactory, name: str) -> int:
    async with uow_factory() as uow:
        user = User(display_name=name)
        uow.session.add(user)
        await uow.flush()
        await uow.commit()
        return user.id


async def count(uow_factory: UnitOfWorkFactory, model: type) -> int:
    async with uow_factory() as uow:
        return int(
            (await uow.session.execute(select(func.count()).select_from(model))).scalar_one()
        )


async def order_numbers(uow_factory: UnitOfWorkFactory) -> list[str | None]:
    async with uow_factory() as uow:
        result = await uow.session.execute(
            select(Transaction.order_number).order_by(Transaction.order_number)
        )
        return list(result.scalars())


async def batches(uow_factory: UnitOfWorkFactory) -> list[ImportBatch]:
    async with uow_factory() as uow:
        return list(
            (await uow.session.execute(select(ImportBatch).order_by(ImportBatch.id))).scalars()
        )


async def load_base(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> ImportReport:
    await add_user(uow_factory, "Иванов Пётр")
    report = await import_clients(uow_factory(), write(tmp_path, "clients.csv", CLIENTS, "cp1251"))
    assert report.status == BatchStatus.DONE, report.errors
    return report


async def test_clients_then_transactions(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    clients = await load_base(uow_factory, tmp_path)
    assert (clients.rows_read, clients.rows_imported, clients.rows_rejected) == (3, 3, 0)
    assert clients.encoding == "cp1251" and clients.separator == ";"

    async with uow_factory() as uow:
        romashka = (
            await uow.session.execute(select(Client).where(Client.external_id == "C1"))
        ).scalar_one()
        manager_id = (await uow.session.execute(select(User.id))).scalar_one()
        phones = (
            await uow.session.execute(
                select(ClientPhone.phone).where(ClientPhone.client_id == romashka.id)
            )
        ).scalars()
        assert romashka.name == "ООО «Ромашка»"
        assert romashka.name_normalized == "ооо ромашка"
        assert romashka.owner_id == manager_id
        assert romashka.is_vip is True
        assert romashka.tags == ["опт"]
        assert sorted(phones) == ["74950000000", "79161234567"]

    sales = await import_transactions(
        uow_factory(), today=TODAY, path=write(tmp_path, "sales.csv", SALES)
    )
    assert (sales.status, sales.rows_read, sales.rows_imported, sales.rows_duplicate) == (
        BatchStatus.DONE,
        4,
        4,
        0,
    )
    async with uow_factory() as uow:
        rows = (
            await uow.session.execute(
                select(
                    Client.external_id,
                    Transaction.date,
                    Transaction.amount,
                    Transaction.order_number,
                    Transaction.category,
                    Transaction.currency,
                    Transaction.import_batch_id,
                )
                .join(Client)
                .order_by(Transaction.date)
            )
        ).all()
    assert [tuple(row[:6]) for row in rows] == [
        ("C1", date(2024, 1, 31), Decimal("12345.50"), "РТ-1", "Крепеж", "RUB"),
        ("C2", date(2024, 2, 3), Decimal("-1200.00"), "РТ-2", None, "RUB"),
        (None, date(2024, 2, 5), Decimal("1200.50"), "РТ-3", "Инструмент", "RUB"),
        ("C1", date(2024, 3, 1), Decimal("100.00"), "РТ-1", "Инструмент", "RUB"),
    ]
    assert {row.import_batch_id for row in rows} == {sales.batch_id}
    recorded = (await batches(uow_factory))[-1]
    assert (recorded.kind, recorded.status, recorded.rows_total, recorded.rows_imported) == (
        "transactions",
        "done",
        4,
        4,
    )


async def test_a_bad_row_commits_nothing_by_default(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    bad = CLIENTS + "C4;Новый;123;;;;;;\n"
    report = await import_clients(uow_factory(), write(tmp_path, "clients.csv", bad))
    assert report.status == BatchStatus.REJECTED
    assert not report.committed
    assert (report.rows_read, report.rows_imported, report.rows_rejected) == (4, 0, 2)
    # Иванов Петр is not a user here, and 123 is no tax id
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (2, "manager", "unknown_manager"),
        (5, "tax_id", "bad_tax_id"),
    ]
    assert await count(uow_factory, Client) == 0
    assert await count(uow_factory, ClientPhone) == 0
    (recorded,) = await batches(uow_factory)
    assert recorded.status == "rejected" and recorded.rows_rejected == 2
    assert recorded.errors[0] == {
        "row": 2,
        "column": "manager",
        "code": "unknown_manager",
        "value": "Иванов Петр",
        "detail": None,
    }


async def test_skip_invalid_commits_exactly_the_good_rows(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await load_base(uow_factory, tmp_path)
    text = SALES + (
        "ООО Ромашка;;31.02.2024;100;РТ-4;\n"  # 6 bad date
        "Неизвестный;;01.02.2024;100;РТ-5;\n"  # 7 unknown client
        "ИП Петров;;01.02.2024;сто;РТ-6;\n"  # 8 bad amount
        "ООО Ромашка;;31.01.2024;12 345,50;РТ-1;Крепеж\n"  # 9 repeats row 2
        "ИП Петров;;05.02.2024;500;РТ-7;\n"  # 10 fine
    )
    path = write(tmp_path, "sales.csv", text)

    strict = await import_transactions(uow_factory(), today=TODAY, path=path)
    assert strict.status == BatchStatus.REJECTED
    assert await count(uow_factory, Transaction) == 0

    report = await import_transactions(uow_factory(), today=TODAY, path=path, skip_invalid=True)
    assert report.status == BatchStatus.PARTIAL
    assert (report.rows_read, report.rows_imported, report.rows_rejected) == (9, 5, 4)
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (6, "date", "bad_date"),
        (7, "client", "unknown_client"),
        (8, "amount", "bad_amount"),
        (9, "order_number", "duplicate_in_file"),
    ]
    assert report.errors[-1].detail == "same as row 2"
    assert await order_numbers(uow_factory) == ["РТ-1", "РТ-1", "РТ-2", "РТ-3", "РТ-7"]


async def test_the_same_file_twice_adds_nothing(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await load_base(uow_factory, tmp_path)
    path = write(tmp_path, "sales.csv", SALES)
    first = await import_transactions(uow_factory(), today=TODAY, path=path)

    again = await import_transactions(
        uow_factory(), today=TODAY, path=path, file_name="renamed.csv"
    )
    assert again.status == BatchStatus.SKIPPED
    assert again.already_imported_at is not None
    assert again.already_imported_at.tzinfo is not None
    assert again.previous_batch_id == first.batch_id
    assert again.rows_imported == again.rows_rejected == 0
    assert await count(uow_factory, Transaction) == 4
    assert [b.status for b in await batches(uow_factory)][-2:] == ["done", "skipped"]


async def test_the_same_rows_in_another_file_add_nothing(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await load_base(uow_factory, tmp_path)
    await import_transactions(
        uow_factory(), today=TODAY, path=write(tmp_path, "january.csv", SALES)
    )
    # other bytes (comma-separated, rows reordered, one new row): the hash does not match
    header, *rows = SALES.strip().split("\n")
    reordered = "\n".join([header, *reversed(rows), "ИП Петров;;06.02.2024;1;РТ-8;"]) + "\n"
    path = write(tmp_path, "february.xlsx.csv", reordered, "cp1251")

    report = await import_transactions(uow_factory(), today=TODAY, path=path)
    assert report.status == BatchStatus.DONE
    assert (report.rows_read, report.rows_imported, report.rows_duplicate) == (5, 1, 4)
    assert await count(uow_factory, Transaction) == 5


async def test_rows_without_document_numbers_are_deduplicated_by_content(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await load_base(uow_factory, tmp_path)
    text = "Клиент;Дата;Сумма\nИП Петров;01.02.2024;100\nИП Петров;01.02.2024;200\n"
    first = await import_transactions(
        uow_factory(), today=TODAY, path=write(tmp_path, "a.csv", text)
    )
    assert first.rows_imported == 2
    second = await import_transactions(
        uow_factory(), today=TODAY, path=write(tmp_path, "b.csv", text + "\n")
    )
    assert (second.rows_imported, second.rows_duplicate) == (0, 2)


async def test_unknown_clients_rejected_or_created(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    text = (
        "Клиент;ИНН;Дата;Сумма;Номер\n"
        "Новый клиент;7707083893;01.02.2024;100;1\n"
        "НОВЫЙ  клиент;;02.02.2024;200;2\n"  # the same client, found by name
        "Другой;;03.02.2024;300;3\n"
    )
    path = write(tmp_path, "sales.csv", text)
    rejected = await import_transactions(uow_factory(), today=TODAY, path=path)
    assert [e.code for e in rejected.errors] == ["unknown_client"] * 3
    assert await count(uow_factory, Client) == 0

    created = await import_transactions(uow_factory(), today=TODAY, path=path, create_clients=True)
    assert created.status == BatchStatus.DONE
    assert (created.rows_imported, created.clients_created) == (3, 2)
    async with uow_factory() as uow:
        made = (
            await uow.session.execute(
                select(Client.name, Client.name_normalized, Client.tax_id).order_by(Client.name)
            )
        ).all()
        per_client = (
            await uow.session.execute(
                select(Client.name, func.count(Transaction.id))
                .join(Transaction)
                .group_by(Client.name)
                .order_by(Client.name)
            )
        ).all()
    assert [tuple(row) for row in made] == [
        ("Другой", "другой", None),
        ("Новый клиент", "новый клиент", "7707083893"),
    ]
    assert [tuple(row) for row in per_client] == [("Другой", 1), ("Новый клиент", 2)]


async def test_clients_are_updated_not_duplicated(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await load_base(uow_factory, tmp_path)
    update = (
        "Код;Клиент;ИНН;Телефон;Город\n"
        "C1;ООО «Ромашка»;;8 916 123-45-67;Подольск\n"  # by code: new city, fewer phones
        ";Петров ИП;500100732259;;\n"  # by tax id: a new spelling of the name
        ";ЗАО  «Лютик»;;;Казань\n"  # by name: nothing changes
        "C9;Новое имя;;;\n"  # new
    )
    report = await import_clients(uow_factory(), write(tmp_path, "update.csv", update))
    assert report.status == BatchStatus.DONE, report.errors
    assert (report.rows_imported, report.rows_updated, report.rows_duplicate) == (1, 2, 1)
    assert await count(uow_factory, Client) == 4
    async with uow_factory() as uow:
        romashka = (
            await uow.session.execute(select(Client).where(Client.external_id == "C1"))
        ).scalar_one()
        petrov = (
            await uow.session.execute(select(Client).where(Client.external_id == "C2"))
        ).scalar_one()
        phones = (
            await uow.session.execute(
                select(ClientPhone.phone).where(ClientPhone.client_id == romashka.id)
            )
        ).scalars()
        assert romashka.city == "Подольск"
        assert romashka.email == "info@romashka.ru"  # an empty cell keeps the value
        assert romashka.is_vip is True
        assert romashka.phones == "+79161234567"
        assert list(phones) == ["79161234567"]
        assert (petrov.name, petrov.name_normalized, petrov.city) == (
            "Петров ИП",
            "петров ип",
            "Тверь",
        )

    again = await import_clients(uow_factory(), write(tmp_path, "update2.csv", update + "\n"))
    assert (again.rows_imported, again.rows_updated, again.rows_duplicate) == (0, 0, 4)


async def test_client_file_duplicates_and_unknown_manager(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await add_user(uow_factory, "Анна Смирнова")
    text = (
        "Код;Клиент;Менеджер\n"
        "C1;Ромашка;анна смирнова\n"
        "C1;Ромашка-2;\n"  # the same code again
        ";ромашка;\n"  # the same name as row 2's client
        "C3;Лютик;Борис Бритва\n"  # no such user
    )
    report = await import_clients(uow_factory(), write(tmp_path, "c.csv", text), skip_invalid=True)
    assert [(e.row, e.code, e.detail) for e in report.errors] == [
        (3, "duplicate_in_file", "same client as row 2"),
        (4, "duplicate_in_file", "same client as row 2"),
        (5, "unknown_manager", None),
    ]
    assert (report.rows_imported, report.rows_rejected) == (1, 3)
    async with uow_factory() as uow:
        owners = (
            await uow.session.execute(select(Client.name, User.display_name).join(User))
        ).all()
    assert [tuple(row) for row in owners] == [("Ромашка", "Анна Смирнова")]


async def test_header_only_files(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    clients = write(tmp_path, "clients.csv", CLIENTS.split("\n")[0] + "\n")
    sales = write(tmp_path, "sales.csv", SALES.split("\n")[0] + "\n")
    for report in (
        await import_clients(uow_factory(), clients),
        await import_transactions(uow_factory(), today=TODAY, path=sales),
    ):
        assert (report.status, report.rows_read, report.rows_imported) == (BatchStatus.DONE, 0, 0)


async def test_xlsx_clients_and_sales(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    def workbook(name: str, rows: list[list[object]]) -> Path:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        for row in rows:
            sheet.append(row)
        path = tmp_path / name
        book.save(path)
        return path

    clients = workbook(
        "clients.xlsx",
        [["ID", "Name", "Tax ID", "Phone"], ["X1", "Acme", 7707083893, 79161234567]],
    )
    sales = workbook(
        "sales.xlsx",
        [["Client", "Date", "Amount", "Document"], ["acme", datetime(2024, 5, 6), 99.9, 17]],
    )
    assert (await import_clients(uow_factory(), clients)).rows_imported == 1
    report = await import_transactions(uow_factory(), today=TODAY, path=sales)
    assert (report.file_format, report.rows_imported) == ("xlsx", 1)
    async with uow_factory() as uow:
        row = (
            await uow.session.execute(
                select(
                    Client.tax_id, ClientPhone.phone, Transaction.amount, Transaction.order_number
                )
                .join(ClientPhone)
                .join(Transaction)
            )
        ).one()
    assert tuple(row) == ("7707083893", "79161234567", Decimal("99.90"), "17")
