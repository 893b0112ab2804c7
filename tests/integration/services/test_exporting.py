"""Exporting clients to XLSX and CSV, and importing the file back, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.cli import main
from services.db.models import Client, User
from services.exporting import (
    EXPORT_COLUMNS,
    CsvExportWriter,
    ExportTooLarge,
    XlsxExportWriter,
    export_clients,
    neutralize,
)
from services.importing import BatchStatus, import_clients, import_transactions
from services.segmentation import recompute_segments
from services.uow import UnitOfWorkFactory
from ui.i18n import Translator
from ui.texts.export import export_labels

TODAY = date(2024, 6, 30)
CLIENTS = (
    "Код;Клиент;Компания;ИНН;Телефон;Email;Город;Менеджер;VIP;Причина VIP;Теги\n"
    'К-1;"=HYPERLINK(""http://evil.example"";""Жми"")";ООО Ромашка;7707083893;'
    "8 916 123-45-67;a@romashka.ru;@SUM(1+1);Анна Смирнова;да;-крупный;опт\n"
    "К-2;ИП Петров;+cmd|' /C calc'!A0;500100732259;;;Тверь;Борис Бритвин;нет;;\n"
    "К-3;Лютик;;;;;Казань;;;;\n"
)
SALES = "Код клиента;Клиент;Дата;Сумма;Номер\n" + "".join(
    f"К-{1 + i % 2};x;{1 + i % 27:02d}.{1 + i % 6:02d}.2024;{1000 + i},50;Д-{i}\n"
    for i in range(40)
)


async def crmbot(*argv: str | Path) -> int:
    return await asyncio.to_thread(main, [str(arg) for arg in argv])


async def seeded(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    async with uow_factory() as uow:
        uow.session.add_all(
            [User(display_name="Анна Смирнова"), User(display_name="Борис Бритвин")]
        )
        await uow.commit()
    clients = tmp_path / "clients.csv"
    clients.write_text(CLIENTS, encoding="utf-8")
    report = await import_clients(uow_factory(), clients)
    assert report.status == BatchStatus.DONE, report.errors
    sales = tmp_path / "sales.csv"
    sales.write_text(SALES, encoding="utf-8")
    report = await import_transactions(uow_factory(), sales, today=TODAY)
    assert report.status == BatchStatus.DONE, report.errors
    await recompute_segments(uow_factory(), TODAY)


async def client_rows(uow_factory: UnitOfWorkFactory) -> list[tuple[object, ...]]:
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(
                Client.external_id,
                Client.name,
                Client.company,
                Client.tax_id,
                Client.phones,
                Client.email,
                Client.city,
                Client.owner_id,
                Client.is_vip,
                Client.vip_reason,
                Client.tags,
            ).order_by(Client.external_id)
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


def test_neutralize() -> None:
    assert [neutralize(v) for v in ("=1+1", "+7", "-x", "@a", "\tx", "\rx", "ok", "")] == [
        "'=1+1",
        "'+7",
        "'-x",
        "'@a",
        "'\tx",
        "'\rx",
        "ok",
        "",
    ]


async def test_xlsx_export_opens_with_formulas_neutralised_and_imports_back(
    database: str,
    uow_factory: UnitOfWorkFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seeded(uow_factory, tmp_path)
    before = await client_rows(uow_factory)
    target = tmp_path / "base.xlsx"
    assert await crmbot("export", "clients", target) == 0
    assert "Wrote 3 clients to" in capsys.readouterr().out

    sheet = load_workbook(target).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    t = Translator("ru")
    assert rows[0] == [t(f"export.columns.{c}") for c in EXPORT_COLUMNS]
    by_code = {row[0]: dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in rows[1:]}
    first = by_code["К-1"]
    assert first["name"] == '\'=HYPERLINK("http://evil.example";"Жми")'
    assert first["city"] == "'@SUM(1+1)"
    assert first["phones"] == "'+79161234567"
    assert first["vip_reason"] == "'-крупный"
    assert first["owner"] == "Анна Смирнова"
    assert first["is_vip"] == "да"
    statuses = {t(f"status.lifecycle.{s}") for s in ("new", "active", "dormant", "lost")}
    assert first["segment"] is not None and first["status"] in statuses
    assert 0 <= first["p_alive"] <= 1
    assert first["revenue_12m"] > 0
    assert by_code["К-2"]["company"] == "+cmd|' /C calc'!A0".join(["'", ""])
    assert by_code["К-3"]["segment"] is None  # no purchases: no segment
    # no cell of the workbook is a formula
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)

    # the file imports back without --map and changes nothing
    assert await crmbot("import", "clients", target, "--no-segment") == 0
    out = capsys.readouterr().out
    assert "Imported:           0 new" in out and "Duplicates skipped: 3" in out
    assert await client_rows(uow_factory) == before


async def test_csv_export_reads_in_excel_and_imports_back(
    database: str,
    uow_factory: UnitOfWorkFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seeded(uow_factory, tmp_path)
    before = await client_rows(uow_factory)
    for language in ("ru", "en"):
        target = tmp_path / f"base-{language}.csv"
        assert await crmbot("export", "clients", target, "--language", language) == 0
        capsys.readouterr()
        raw = target.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
        by_code = {row[0]: dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in rows[1:]}
        assert by_code["К-1"]["name"].startswith("'=")
        assert by_code["К-2"]["company"].startswith("'+")
        revenue = by_code["К-1"]["revenue_12m"]
        assert ("," in revenue) == (language == "ru")
        due = by_code["К-1"]["next_contact"]
        assert due == "" or (due[2] == "." if language == "ru" else due[4] == "-")
        assert await crmbot("import", "clients", target, "--no-segment") == 0
        assert "Duplicates skipped: 3" in capsys.readouterr().out
    assert await client_rows(uow_factory) == before


async def test_a_managers_own_clients(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> None:
    await seeded(uow_factory, tmp_path)
    async with uow_factory() as uow:
        anna = (
            await uow.session.execute(select(User.id).where(User.display_name == "Анна Смирнова"))
        ).scalar_one()
        total = (await uow.session.execute(select(func.count()).select_from(Client))).scalar_one()
    stream = io.StringIO()
    summary = await export_clients(
        uow_factory(),
        CsvExportWriter(stream),
        labels=export_labels(Translator("en")),
        owner_id=anna,
    )
    assert summary.rows == 1 and summary.segments_as_of == TODAY
    rows = list(csv.reader(io.StringIO(stream.getvalue().lstrip("\ufeff")), delimiter=";"))
    assert [row[0] for row in rows[1:]] == ["К-1"]
    assert rows[0][:3] == ["External ID", "Name", "Company"]
    whole = await export_clients(
        uow_factory(), CsvExportWriter(io.StringIO()), labels=export_labels(Translator())
    )
    assert whole.rows == total == 3


async def test_too_many_rows_for_excel_is_refused_before_writing(
    uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    await seeded(uow_factory, tmp_path)
    buffer = io.BytesIO()
    writer = XlsxExportWriter(buffer)
    writer.max_rows = 2
    with pytest.raises(ExportTooLarge):
        await export_clients(uow_factory(), writer, labels=export_labels(Translator()))
    assert buffer.getvalue() == b""


async def test_export_for_one_manager_on_the_command_line(
    database: str,
    uow_factory: UnitOfWorkFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seeded(uow_factory, tmp_path)
    target = tmp_path / "anna.csv"
    assert await crmbot("export", "clients", target, "--owner", "анна смирнова") == 0
    assert "Wrote 1 clients to" in capsys.readouterr().out
    assert await crmbot("export", "clients", tmp_path / "x.csv", "--owner", "Нет Такого") == 2
    assert 'no user "Нет Такого"' in capsys.readouterr().err
    assert not await asyncio.to_thread((tmp_path / "x.csv").exists)
    assert await crmbot("export", "clients", tmp_path / "x.xls") == 2
    assert "must end in .xlsx or .csv" in capsys.readouterr().err
    # nothing half-written is left behind
    leftovers = await asyncio.to_thread(lambda: [p.name for p in tmp_path.glob(".*.part")])
    assert leftovers == []
