"""`crmbot import ...` end to end: arguments, output, exit codes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.cli.importing import ERRORS_ON_SCREEN, terminal_progress
from services.db.models import Client, Transaction
from services.importing import no_progress
from services.uow import UnitOfWorkFactory

CLIENTS = "Код;Клиент;ИНН\nC1;ООО «Ромашка»;7707083893\nC2;ИП Петров;500100732259\n"
SALES = (
    "Контрагент;Дата;Сумма;Номер документа\n"
    "ООО Ромашка;31.01.2024;12 345,50;РТ-1\n"
    "ИП Петров;31.02.2024;100;РТ-2\n"  # no such date
    "ИП Петров;01.02.2024;100;РТ-3\n"
)


@pytest.fixture
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return db_url


async def crmbot(*argv: str | Path) -> int:
    # the command runs its own event loop, as from a shell
    return await asyncio.to_thread(main, [str(arg) for arg in argv])


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


async def count(uow_factory: UnitOfWorkFactory, model: type) -> int:
    async with uow_factory() as uow:
        return int(
            (await uow.session.execute(select(func.count()).select_from(model))).scalar_one()
        )


async def test_import_flow_and_exit_codes(
    database: str,
    uow_factory: UnitOfWorkFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clients = write(tmp_path, "clients.csv", CLIENTS, "cp1251")
    assert await crmbot("import", "clients", clients) == 0
    out = capsys.readouterr().out
    assert "csv, cp1251, separator ';'" in out
    assert "Imported:           2 new" in out
    assert "Done." in out

    sales = write(tmp_path, "sales.csv", SALES)
    assert await crmbot("import", "transactions", sales) == 1
    out = capsys.readouterr().out
    assert 'row 3, date: "31.02.2024" not a valid date' in out
    assert "[bad_date]" in out
    assert "Nothing was imported: 1 row(s) rejected" in out
    assert "--skip-invalid to import the 2 good row(s)" in out
    assert await count(uow_factory, Transaction) == 0

    # rows were rejected, so the exit code stays non-zero even though the good ones went in
    assert await crmbot("import", "transactions", sales, "--skip-invalid") == 1
    out = capsys.readouterr().out
    assert "Imported:           2 new" in out
    assert "Rejected:           1" in out
    assert await count(uow_factory, Transaction) == 2

    assert await crmbot("import", "transactions", sales, "--skip-invalid") == 0
    assert "sales.csv: already imported on " in capsys.readouterr().out

    fixed = write(tmp_path, "fixed.csv", SALES.replace("31.02.2024", "29.02.2024"))
    assert await crmbot("import", "transactions", fixed) == 0
    out = capsys.readouterr().out
    assert "Imported:           1 new" in out
    assert "Duplicates skipped: 2 (already in the database)" in out
    assert await count(uow_factory, Transaction) == 3

    again = write(tmp_path, "again.csv", SALES.replace("31.02.2024", "29.02.2024") + "\n")
    assert await crmbot("import", "transactions", again) == 0
    assert "Nothing new: every row is already in the database." in capsys.readouterr().out


async def test_unknown_clients_by_flag(
    database: str,
    uow_factory: UnitOfWorkFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sales = write(tmp_path, "sales.csv", "Клиент;Дата;Сумма;Номер\nНовый;01.02.2024;5;1\n")
    assert await crmbot("import", "transactions", sales) == 1
    assert "[unknown_client]" in capsys.readouterr().out
    assert await crmbot("import", "transactions", sales, "--create-clients") == 0
    assert "Clients created:    1" in capsys.readouterr().out
    assert await count(uow_factory, Client) == 1


async def test_long_reports_are_capped_and_written_in_full(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_rows = ERRORS_ON_SCREEN + 10
    text = "Клиент;ИНН\n" + "".join(f"Клиент {i};{i}\n" for i in range(bad_rows))
    report = tmp_path / "errors.csv"
    path = write(tmp_path, "clients.csv", text)
    assert await crmbot("import", "clients", path, "--errors-csv", report) == 1
    out = capsys.readouterr().out
    assert out.count("[bad_tax_id]") == ERRORS_ON_SCREEN
    assert "... and 10 more" in out
    with report.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter=";"))
    assert len(rows) == bad_rows
    assert rows[0] == {
        "row": "2",
        "column": "tax_id",
        "code": "bad_tax_id",
        "value": "0",
        "message": "a tax id (ИНН) has 10 or 12 digits",
    }


async def test_column_map_and_file_problems(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "sales.csv", "Плательщик;Дата;Сумма с НДС\nИП Петров;01.02.2024;5\n")

    assert await crmbot("import", "transactions", path) == 1
    err = capsys.readouterr().err
    assert "missing required column(s): client" in err
    assert 'Headers found: "Плательщик", "Дата", "Сумма с НДС"' in err

    assert await crmbot("import", "transactions", path, "--map", "client") == 2
    assert "--map expects COLUMN=HEADER" in capsys.readouterr().err
    assert await crmbot("import", "transactions", path, "--map", "payer=Плательщик") == 2
    assert 'unknown column "payer"' in capsys.readouterr().err
    assert await crmbot("import", "transactions", path, "--map", "client=Payer") == 2
    assert "no such header" in capsys.readouterr().err

    args = ["--map", "client=плательщик", "--map", "amount=Сумма с НДС", "--create-clients"]
    assert await crmbot("import", "transactions", path, *args) == 0
    assert 'amount <- "Сумма с НДС"' in capsys.readouterr().out

    assert await crmbot("import", "clients", tmp_path / "missing.csv") == 1
    assert "no such file" in capsys.readouterr().err


def test_progress_bar_only_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert terminal_progress(io.StringIO()) is no_progress
    screen = Terminal()
    bar = terminal_progress(screen)("Reading", 10)
    bar.update(10)
    bar.close()
    assert "Reading" in screen.getvalue() and "100%" in screen.getvalue()


FIXTURES = Path(__file__).parents[3] / "fixtures" / "importing"


async def test_1c_reports_and_damaged_files_on_the_command_line(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await crmbot("import", "clients", FIXTURES / "clients_1c_utf8_bom.csv") == 0
    out = capsys.readouterr().out
    assert "Header found on row 4 (the rows above it are titles)" in out
    assert "Totals skipped:     1 (row 7)" in out

    sales = FIXTURES / "sales_1c_cp1251.csv"
    assert await crmbot("import", "transactions", sales, "--no-segment") == 0
    out = capsys.readouterr().out
    assert "Imported:           3 new" in out and "Totals skipped:     1 (row 8)" in out

    # file-level problems: one line each, no traceback, nothing written
    for name, message in (
        ("sales_mixed_encodings.csv", "mixed encodings: lines 4, 6 are not UTF-8"),
        ("sales_duplicate_headers.csv", 'duplicate headers: "Сумма" in columns C and E'),
    ):
        assert await crmbot("import", "transactions", FIXTURES / name) == 1
        captured = capsys.readouterr()
        assert message in captured.err
        assert "Traceback" not in captured.err + captured.out

    bad = FIXTURES / "sales_bad_cells.csv"
    assert await crmbot("import", "transactions", bad, "--create-clients") == 1
    out = capsys.readouterr().out
    assert 'row 3, client: "ИП Пет\\rров" contains a bare line break (CR)' in out
    assert 'row 4, client: "ЗАО Лю\\0тик" contains a NUL byte' in out
    assert "row 5, amount" in out and "[amount_too_large]" in out
    assert "row 6, date" in out and "[future_date]" in out
    assert "Nothing was imported: 4 row(s) rejected" in out


async def test_the_future_horizon_comes_from_the_settings(
    database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write(tmp_path, "sales.csv", "Клиент;Дата;Сумма\nНовый;01.01.2099;5\n")
    assert await crmbot("import", "transactions", path, "--create-clients", "--no-segment") == 1
    assert "[future_date]" in capsys.readouterr().out
    monkeypatch.setenv("IMPORT_MAX_FUTURE_DAYS", "36500")
    assert await crmbot("import", "transactions", path, "--create-clients", "--no-segment") == 0
