"""1C and Excel files as they really come: each reality is a fixture file of its own."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from services.importing.columns import CLIENT_COLUMNS, TRANSACTION_COLUMNS
from services.importing.errors import (
    DuplicateHeadersError,
    MalformedFileError,
    MixedEncodingError,
)
from services.importing.reader import (
    ManagerDirectory,
    cents_to_decimal,
    inspect_file,
    open_table,
    parse_amounts,
    read_clients,
    read_table,
    read_transactions,
    validate_transactions,
)

FIXTURES = Path(__file__).parents[3] / "fixtures" / "importing"


def rows_of(path: Path) -> list[tuple[int, str, date, str]]:
    parsed = read_transactions(path)
    assert parsed.errors == ()
    frame = parsed.frame
    return [
        (int(row), client, day.date(), str(cents_to_decimal(cents)))
        for row, client, day, cents in zip(
            frame["row"], frame["client"], frame["date"], frame["amount_cents"], strict=True
        )
    ]


def test_1c_sales_report_with_title_lines_and_totals() -> None:
    path = FIXTURES / "sales_1c_cp1251.csv"
    assert inspect_file(path).encoding == "cp1251"
    parsed = read_transactions(path)
    assert parsed.errors == ()
    assert parsed.totals == (8,)  # "Итого" is skipped and said so, not rejected
    assert parsed.rows_read == 3
    assert rows_of(path) == [
        (5, "ООО «Ромашка»", date(2024, 1, 15), "12345.50"),
        (6, "ИП Петров", date(2024, 2, 3), "-1200.00"),
        (7, "ООО «Ромашка»", date(2024, 3, 1), "99.90"),
    ]
    table = read_table(path, TRANSACTION_COLUMNS)
    assert table.header_row == 4
    assert table.columns["client"] == "Контрагент"


def test_1c_clients_report_with_title_lines_bom_and_totals() -> None:
    path = FIXTURES / "clients_1c_utf8_bom.csv"
    assert inspect_file(path).encoding == "utf-8-sig"
    parsed = read_clients(path, ManagerDirectory())
    assert parsed.errors == ()
    assert parsed.totals == (7,)
    assert parsed.frame["row"].tolist() == [5, 6]
    assert parsed.frame["external_id"].tolist() == ["К-001", "К-002"]
    assert parsed.frame["tax_id"].tolist() == ["7707083893", "500100732259"]


@pytest.mark.parametrize("name", ["sales_utf16le.txt", "sales_utf16be.txt"])
def test_excel_unicode_text_in_both_byte_orders(name: str) -> None:
    path = FIXTURES / name
    assert inspect_file(path).encoding == "utf-16"
    assert rows_of(path) == [
        (2, "ООО «Ромашка»", date(2024, 1, 15), "12345.50"),
        (3, "ИП Петров", date(2024, 2, 3), "100.00"),
    ]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "sales.txt"
    path.write_bytes("Клиент\tДата\tСумма\nА\t01.02.2024\t5\n".encode(encoding))
    assert inspect_file(path).encoding == encoding
    assert read_transactions(path).frame["amount_cents"].tolist() == [500]


def test_mixed_encodings_are_reported_with_their_lines() -> None:
    with pytest.raises(MixedEncodingError) as caught:
        inspect_file(FIXTURES / "sales_mixed_encodings.csv")
    assert "mixed encodings: lines 4, 6 are not UTF-8" in str(caught.value)


def test_mostly_cp1251_with_utf8_lines_names_the_utf8_ones(tmp_path: Path) -> None:
    lines = [f"Клиент {i};01.02.2024;{i}".encode("cp1251") for i in range(5)]
    lines[2] = "Клиент UTF;01.02.2024;2".encode()
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join([b"Client;Date;Amount", *lines]) + b"\n")
    with pytest.raises(MixedEncodingError, match="line 4 is UTF-8 while the rest"):
        inspect_file(path)


def test_cp1251_that_looks_like_utf8_in_places_is_still_cp1251(tmp_path: Path) -> None:
    # "С»" in Windows-1251 is D1 BB, a valid UTF-8 pair; the lines are still not UTF-8
    text = "Клиент;Дата;Сумма\nООО «ПРОФСЕРВИС»;01.02.2024;5\nООО «ТЕСТ»;01.02.2024;7\n"
    path = tmp_path / "cp1251.csv"
    path.write_bytes(text.encode("cp1251"))
    assert inspect_file(path).encoding == "cp1251"
    assert read_transactions(path).frame["client"].tolist() == ["ООО «ПРОФСЕРВИС»", "ООО «ТЕСТ»"]


def test_each_bad_cell_is_a_row_error_with_its_row() -> None:
    path = FIXTURES / "sales_bad_cells.csv"
    info = inspect_file(path)
    assert info.check_controls
    with open_table(path, TRANSACTION_COLUMNS, info=info) as reader:
        (table,) = list(reader.chunks())
    parsed = validate_transactions(table, today=date(2024, 6, 1), max_future_days=1)
    assert [(e.row, e.column, e.code) for e in parsed.errors] == [
        (3, "client", "bare_cr"),
        (4, "client", "nul_byte"),
        (5, "amount", "amount_too_large"),
        (6, "date", "future_date"),
    ]
    # the report shows the invisible characters instead of printing them
    assert parsed.errors[0].value == "ИП Пет\\rров"
    assert parsed.errors[1].value == "ЗАО Лю\\0тик"
    assert parsed.errors[3].detail == "later than 1 day(s) after 2024-06-01"
    assert parsed.frame["row"].tolist() == [2, 7]


def test_the_future_horizon_is_a_setting(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("Клиент;Дата;Сумма\nА;03.06.2024;1\nБ;02.06.2024;1\n", encoding="utf-8")
    table = read_table(path, TRANSACTION_COLUMNS)
    strict = validate_transactions(table, today=date(2024, 6, 1), max_future_days=0)
    assert [e.row for e in strict.errors] == [2, 3]
    lenient = validate_transactions(table, today=date(2024, 6, 1), max_future_days=2)
    assert lenient.errors == ()


def test_crlf_files_with_a_bare_cr_keep_their_rows(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    text = 'Клиент;Дата;Сумма\r\nА\rБ;01.02.2024;1\r\n"В\r\nГ";01.02.2024;2\r\nД;01.02.2024;3\r\n'
    path.write_bytes(text.encode("utf-8"))
    parsed = read_transactions(path)
    # a CR+LF inside quotes is a line break a cell may have; a lone CR is damage
    assert [(e.row, e.code) for e in parsed.errors] == [(2, "bare_cr")]
    assert parsed.frame["row"].tolist() == [3, 4]
    assert parsed.frame["client"].tolist() == ["В\r\nГ", "Д"]


def test_old_mac_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_bytes("Клиент;Дата;Сумма\rА;01.02.2024;1\rБ;01.02.2024;2\r".encode())
    parsed = read_transactions(path)
    assert parsed.errors == ()
    assert parsed.frame["client"].tolist() == ["А", "Б"]


def test_duplicate_headers_name_the_columns() -> None:
    with pytest.raises(DuplicateHeadersError) as caught:
        read_table(FIXTURES / "sales_duplicate_headers.csv", TRANSACTION_COLUMNS)
    assert str(caught.value).startswith('duplicate headers: "Сумма" in columns C and E.')


def test_duplicate_unused_headers_are_harmless(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("Клиент;Примечание;Дата;Сумма;Примечание\nА;x;01.02.2024;1;y\n", "utf-8")
    assert read_transactions(path).rows_read == 1


def test_xlsx_with_merged_title_and_two_row_header() -> None:
    path = FIXTURES / "sales_merged_header.xlsx"
    table = read_table(path, TRANSACTION_COLUMNS)
    assert table.header_row == 4
    assert dict(table.columns) == {
        "client": "Контрагент",  # merged down from the row above
        "date": "Дата",
        "amount": "Сумма",
        "order_number": "Номер",
        "category": "Номенклатурная группа",
    }
    parsed = read_transactions(path)
    assert parsed.errors == ()
    assert parsed.totals == (7,)
    assert parsed.frame["row"].tolist() == [5, 6]
    assert parsed.frame["amount_cents"].tolist() == [1234550, -120000]


def test_xlsx_groups_tell_repeated_sub_headers_apart(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Контрагент", "Дата", "Продажи", None, "Возвраты", None])
    sheet.append([None, None, "Сумма", "Кол-во", "Сумма", "Кол-во"])
    for cells in ("A1:A2", "B1:B2", "C1:D1", "E1:F1"):
        sheet.merge_cells(cells)
    sheet.append(["ООО «Ромашка»", "15.01.2024", 100, 1, 5, 1])
    path = tmp_path / "groups.xlsx"
    book.save(path)
    table = read_table(path, TRANSACTION_COLUMNS, {"amount": "Продажи Сумма"})
    assert table.headers[2:] == (
        "Продажи Сумма",
        "Продажи Кол-во",
        "Возвраты Сумма",
        "Возвраты Кол-во",
    )
    assert read_transactions(path, {"amount": "Продажи Сумма"}).frame["amount_cents"].tolist() == [
        10000
    ]


def test_a_file_written_by_crmbot_analyze_reads_back_as_clients(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    pd.DataFrame(
        {
            "client_id": ["К-001", "К-002"],
            "client": ["ООО «Ромашка»", "ИП Петров"],
            "revenue": [100.0, 5.0],
            "segment": ["AX", "CZ"],
            "status": ["active", "new"],
            "vip": [True, False],
        }
    ).to_csv(path, index=False)
    parsed = read_clients(path, ManagerDirectory())
    assert parsed.errors == ()
    assert parsed.columns == {"external_id": "client_id", "name": "client", "is_vip": "vip"}
    assert parsed.frame["is_vip"].tolist() == [True, False]


@pytest.mark.parametrize(
    ("text", "cents", "too_large"),
    [
        ("12345678901234567890", None, True),
        ("99 999 999 999 999,99", 9999999999999999, False),
        ("100 000 000 000 000", None, True),
        ("-12345678901234567890,5", None, True),
        ("1 234 567,89", 123456789, False),
        ("987654321098,76", 98765432109876, False),
    ],
)
def test_big_amounts(text: str, cents: int | None, too_large: bool) -> None:
    parsed, large = parse_amounts(pd.Series([text], dtype=object))
    assert parsed.tolist() == [cents if cents is not None else pd.NA]
    assert large.tolist() == [too_large]


def test_chunks_keep_row_numbers_across_chunk_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    body = "".join(f"Клиент {i};01.02.2024;{i}\n" for i in range(25))
    path.write_text("Отчёт\n\nКлиент;Дата;Сумма\n" + body + "\nИтого;;300\n", encoding="utf-8")
    with open_table(path, TRANSACTION_COLUMNS, chunk_rows=10) as reader:
        tables = list(reader.chunks())
    assert [len(table.frame) for table in tables] == [10, 10, 6]
    rows = [row for table in tables for row in table.frame["row"].tolist()]
    assert rows == [*range(4, 29), 30]


def test_clients_columns_of_project_exports() -> None:
    # what `crmbot export` writes in either language is what the import reads
    from services.exporting import EXPORT_COLUMNS
    from services.importing.columns import match_columns
    from ui.i18n import Translator

    for language in ("ru", "en"):
        t = Translator(language)
        headers = [t(f"export.columns.{column}") for column in EXPORT_COLUMNS]
        found = match_columns(headers, CLIENT_COLUMNS)
        assert set(found) == {
            "external_id",
            "name",
            "company",
            "tax_id",
            "phones",
            "email",
            "city",
            "manager",
            "is_vip",
            "vip_reason",
            "tags",
        }, language


def test_one_unquoted_separator_too_many_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("Клиент;Дата;Сумма\nА;01.02.2024;1\nБ; и К;01.02.2024;1\n", encoding="utf-8")
    with pytest.raises(MalformedFileError, match="row 3 has more fields than the 3 of the header"):
        read_table(path, TRANSACTION_COLUMNS)


def test_a_trailing_separator_is_no_extra_field(tmp_path: Path) -> None:
    path = tmp_path / "sales.csv"
    path.write_text("Клиент;Дата;Сумма\nА;01.02.2024;1;\nБ;01.02.2024;2;\n", encoding="utf-8")
    assert read_transactions(path).frame["amount_cents"].tolist() == [100, 200]


def test_client_rows_with_damaged_cells(tmp_path: Path) -> None:
    path = tmp_path / "clients.csv"
    path.write_bytes(
        "Код;Клиент;Город\nК-1;ООО\x00Ромашка;Москва\nК-2;ИП Петров;Тв\rерь\nК-3;Лютик;\n".encode()
    )
    parsed = read_clients(path, ManagerDirectory())
    assert [(e.row, e.column, e.code) for e in parsed.errors] == [
        (2, "name", "nul_byte"),
        (3, "city", "bare_cr"),
    ]
    assert parsed.frame["external_id"].tolist() == ["К-3"]
