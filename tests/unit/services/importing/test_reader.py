"""Reading and checking CSV/XLSX exports: formats, encodings, values and every row error."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from services.importing.columns import (
    CLIENT_COLUMNS,
    TRANSACTION_COLUMNS,
    normalize_header,
    resolve_columns,
)
from services.importing.errors import (
    ColumnMapError,
    MalformedFileError,
    MissingColumnsError,
    RowError,
    UnsupportedFileError,
)
from services.importing.reader import (
    ManagerDirectory,
    cents_to_decimal,
    inspect_file,
    parse_amount_cents,
    parse_currency,
    parse_dates,
    parse_flag,
    read_clients,
    read_table,
    read_transactions,
    sniff_separator,
)

SALES = (
    "Контрагент;Дата;Сумма;Номер документа;Номенклатурная группа\n"
    "ООО «Ромашка»;31.01.2024;12 345,50;РТ-1;Крепеж\n"
    "ИП Петров;2024-02-03;-1 200,00;РТ-2;\n"
)


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "file.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(tmp_path: Path, rows: list[list[object]], name: str = "file.xlsx") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    workbook.save(path)
    return path


def sales_records(path: Path, **kwargs: object) -> list[dict[str, object]]:
    parsed = read_transactions(path, **kwargs)  # type: ignore[arg-type]
    assert parsed.errors == ()
    frame = parsed.frame
    return [
        {
            "row": int(row),
            "client": client,
            "date": day.date(),
            "amount": cents_to_decimal(cents),
            "order": order,
            "category": category,
        }
        for row, client, day, cents, order, category in zip(
            frame["row"],
            frame["client"],
            frame["date"],
            frame["amount_cents"],
            frame["order_number"],
            frame["category"],
            strict=True,
        )
    ]


EXPECTED_SALES = [
    {
        "row": 2,
        "client": "ООО «Ромашка»",
        "date": date(2024, 1, 31),
        "amount": cents_to_decimal(1234550),
        "order": "РТ-1",
        "category": "Крепеж",
    },
    {
        "row": 3,
        "client": "ИП Петров",
        "date": date(2024, 2, 3),
        "amount": cents_to_decimal(-120000),
        "order": "РТ-2",
        "category": "",
    },
]


# --- encodings and separators ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8-sig"), ("utf-8-sig", "utf-8-sig"), ("cp1251", "cp1251")],
)
def test_encodings_read_the_same(tmp_path: Path, encoding: str, detected: str) -> None:
    path = write(tmp_path, SALES, encoding)
    assert inspect_file(path).encoding == detected
    assert sales_records(path) == EXPECTED_SALES


def test_utf16_excel_unicode_text(tmp_path: Path) -> None:
    path = write(tmp_path, SALES.replace(";", "\t"), "utf-16")
    assert inspect_file(path).encoding == "utf-16"
    assert sales_records(path) == EXPECTED_SALES


def test_bom_does_not_stick_to_the_first_header(tmp_path: Path) -> None:
    path = write(tmp_path, SALES, "utf-8-sig")
    table = read_table(path, TRANSACTION_COLUMNS)
    assert table.headers[0] == "Контрагент"
    assert table.columns["client"] == "Контрагент"


def test_comma_separated_with_quoted_decimal_commas(tmp_path: Path) -> None:
    text = (
        "Client,Date,Amount,Order,Category\n"
        '"ООО «Ромашка»",31.01.2024,"12 345,50",РТ-1,Крепеж\n'
        'ИП Петров,2024-02-03,"-1 200,00",РТ-2,\n'
    )
    path = write(tmp_path, text)
    table = read_table(path, TRANSACTION_COLUMNS)
    assert table.separator == ","
    assert sales_records(path) == EXPECTED_SALES


@pytest.mark.parametrize(
    ("sample", "separator"),
    [
        ("a;b;c\n1;2,5;3\n", ";"),
        ('a,b,c\n1,"2,5",3\n', ","),
        ("a\tb\tc\n1\t2\t3\n", "\t"),
        ("Сумма, руб;Дата\n1,5;01.01.2024\n", ";"),
        ("one column\nvalue\n", ","),
    ],
)
def test_sniff_separator(sample: str, separator: str) -> None:
    assert sniff_separator(sample) == separator


def test_blank_lines_keep_spreadsheet_row_numbers(tmp_path: Path) -> None:
    text = SALES.replace("\nИП", "\n\n;;;;\nИП")
    rows = [record["row"] for record in sales_records(write(tmp_path, text))]
    assert rows == [2, 5]


def test_old_xls_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(UnsupportedFileError, match=r"\.xlsx or \.csv"):
        inspect_file(path)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(MalformedFileError, match="empty"):
        inspect_file(write(tmp_path, ""))


def test_ragged_csv_is_a_file_error(tmp_path: Path) -> None:
    text = "Клиент;Дата;Сумма\nА;01.01.2024;1\nБ;01.01.2024;1;2;3;4\n"
    with pytest.raises(MalformedFileError, match="line 3 has 6 fields but the header has 3"):
        read_table(write(tmp_path, text), TRANSACTION_COLUMNS)


# --- xlsx ------------------------------------------------------------------------------------


def test_xlsx_typed_cells(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            [],  # a title row left empty: the header is the first row with something in it
            ["Клиент", "ИНН клиента", "Дата", "Сумма", "Номер", "Категория"],
            ["ООО «Ромашка»", 7707083893, datetime(2024, 1, 31), 12345.5, 101, "Крепеж"],
            [None, None, None, None, None, None],
            ["ИП Петров", "500100732259", "03.02.2024", "-1 200,00", "РТ-2", None],
            ["ЗАО Лютик", None, datetime(2024, 3, 1, 15, 30), 0.1 + 0.2, "РТ-3", None],
        ],
    )
    assert inspect_file(path).format == "xlsx"
    parsed = read_transactions(path)
    assert parsed.errors == ()
    frame = parsed.frame
    assert frame["row"].tolist() == [3, 5, 6]
    assert frame["client_tax_id"].tolist() == ["7707083893", "500100732259", ""]
    assert [d.date() for d in frame["date"]] == [
        date(2024, 1, 31),
        date(2024, 2, 3),
        date(2024, 3, 1),
    ]
    assert frame["amount_cents"].tolist() == [1234550, -120000, 30]
    assert frame["order_number"].tolist() == ["101", "РТ-2", "РТ-3"]


def test_xlsx_row_errors_use_sheet_row_numbers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [["Клиент", "Дата", "Сумма"], ["А", "вчера", 1], [], ["", datetime(2024, 1, 1), 2]],
    )
    errors = read_transactions(path).errors
    assert [(e.row, e.column, e.code) for e in errors] == [
        (2, "date", "bad_date"),
        (4, "client", "empty_client"),
    ]


def test_broken_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"garbage" * 10)
    with pytest.raises(MalformedFileError):
        read_table(path, TRANSACTION_COLUMNS)


# --- headers ---------------------------------------------------------------------------------


def test_every_synonym_is_written_normalized() -> None:
    for spec in (*CLIENT_COLUMNS, *TRANSACTION_COLUMNS):
        for synonym in spec.synonyms:
            assert normalize_header(synonym) == synonym, (spec.name, synonym)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["CLIENT", "Date", "AMOUNT"], {"client": 0, "date": 1, "amount": 2}),
        (["  Контрагент ", "дата:", "Сумма*"], {"client": 0, "date": 1, "amount": 2}),
        (
            ["Покупатель", "Дата", "Сумма", "№ документа", "Номенклатурная группа", "Валюта"],
            {"client": 0, "date": 1, "amount": 2, "order_number": 3, "category": 4, "currency": 5},
        ),
        (
            ["Номер", "Клиент", "Дата", "Сумма", "Номер документа", "Код клиента", "ИНН"],
            {
                "client": 1,
                "date": 2,
                "amount": 3,
                "order_number": 4,  # the more specific synonym wins over "Номер"
                "client_external_id": 5,
                "client_tax_id": 6,
            },
        ),
    ],
)
def test_transaction_header_synonyms(headers: list[str], expected: dict[str, int]) -> None:
    assert resolve_columns(headers, TRANSACTION_COLUMNS) == expected


def test_client_header_synonyms() -> None:
    headers = [
        "External ID",
        "Наименование",
        "Организация",
        "Tax ID",
        "Телефоны",
        "E-mail",
        "City",
        "Ответственный",
        "VIP",
        "Причина VIP",
        "Tags",
    ]
    assert resolve_columns(headers, CLIENT_COLUMNS) == {
        "external_id": 0,
        "name": 1,
        "company": 2,
        "tax_id": 3,
        "phones": 4,
        "email": 5,
        "city": 6,
        "manager": 7,
        "is_vip": 8,
        "vip_reason": 9,
        "tags": 10,
    }


def test_map_overrides_synonyms(tmp_path: Path) -> None:
    text = "Клиент;Дата;Сумма;Сумма с НДС\nА;01.01.2024;100;120\n"
    path = write(tmp_path, text)
    parsed = read_transactions(path, {"amount": "сумма С ндс"})
    assert parsed.frame["amount_cents"].tolist() == [12000]
    assert parsed.columns["amount"] == "Сумма с НДС"


def test_map_supplies_a_column_without_synonym(tmp_path: Path) -> None:
    path = write(tmp_path, "Плательщик;Когда;Итого\nА;01.01.2024;100\n")
    parsed = read_transactions(path, {"client": "Плательщик", "date": "Когда", "amount": "Итого"})
    assert parsed.errors == ()
    assert parsed.rows_read == 1


def test_map_errors_name_the_problem(tmp_path: Path) -> None:
    path = write(tmp_path, SALES)
    with pytest.raises(ColumnMapError, match='unknown column "summa"'):
        read_table(path, TRANSACTION_COLUMNS, {"summa": "Сумма"})
    with pytest.raises(ColumnMapError, match=r'no such header.*"Контрагент"'):
        read_table(path, TRANSACTION_COLUMNS, {"amount": "Сумма с НДС"})


def test_missing_columns_listed_with_the_headers_found(tmp_path: Path) -> None:
    path = write(tmp_path, "Клиент;Когда;Итого\nА;01.01.2024;100\n")
    with pytest.raises(MissingColumnsError) as caught:
        read_table(path, TRANSACTION_COLUMNS)
    assert caught.value.missing == ("date", "amount")
    assert caught.value.found == ("Клиент", "Когда", "Итого")
    message = str(caught.value)
    assert "date" in message and "amount" in message and '"Когда"' in message


# --- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("12 345,50", 1234550),
        ("-1 200,00", -120000),
        ("1200.5", 120050),
        ("1\u00a0234,5", 123450),
        ("1\u202f234,5", 123450),
        ("1,234.50", 123450),
        ("1.234,50", 123450),
        ("+7", 700),
        ("−15,5", -1550),
        ("1 000 ₽", 100000),
        ("0,005", 1),  # half up, not banker's rounding
        ("2,675", 268),  # a float would say 2.67499999...
        ("123456789012,34", 12345678901234),
        ("99999999999999,99", 9999999999999999),
    ],
)
def test_amounts(text: str, cents: int) -> None:
    assert parse_amount_cents(pd.Series([text], dtype=object)).tolist() == [cents]


@pytest.mark.parametrize(
    "text", ["", "abc", "1.2.3", "12,34,56", "1e5", "inf", "nan", "1_000", "100000000000000"]
)
def test_not_amounts(text: str) -> None:
    assert parse_amount_cents(pd.Series([text], dtype=object)).isna().all()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31.01.2024", date(2024, 1, 31)),
        ("1.2.2024", date(2024, 2, 1)),
        ("31.01.24", date(2024, 1, 31)),
        ("31.01.99", date(1999, 1, 31)),
        ("2024-01-31", date(2024, 1, 31)),
        ("2024-01-31 10:15:00", date(2024, 1, 31)),
        ("2024-01-31T23:59:59+03:00", date(2024, 1, 31)),
        ("2024-01-31T10:15:00.123Z", date(2024, 1, 31)),
        ("31.01.2024 0:00:00", date(2024, 1, 31)),
        ("31.01.2024 15:30", date(2024, 1, 31)),
    ],
)
def test_dates(text: str, expected: date) -> None:
    parsed = parse_dates(pd.Series([text, text], dtype=object))
    assert [d.date() for d in parsed] == [expected, expected]


@pytest.mark.parametrize(
    "text",
    ["", "31.02.2024", "2024-13-01", "yesterday", "31/01/2024", "01.01.1800", "2024-01-31 25:00"],
)
def test_not_dates(text: str) -> None:
    assert parse_dates(pd.Series([text], dtype=object)).isna().all()


def test_dates_keep_their_rows() -> None:
    values = pd.Series(["01.01.2024", "bad", "2024-01-02", "01.01.2024"], index=[10, 11, 12, 13])
    parsed = parse_dates(values.astype(object))
    assert parsed.index.tolist() == [10, 11, 12, 13]
    assert parsed.isna().tolist() == [False, True, False, False]


@pytest.mark.parametrize(
    ("text", "code"),
    [("", "RUB"), ("руб.", "RUB"), ("₽", "RUB"), ("RUR", "RUB"), ("usd", "USD"), ("€", "EUR")],
)
def test_currency(text: str, code: str) -> None:
    assert parse_currency(text) == code


def test_unknown_currency() -> None:
    assert parse_currency("тугрики") is None
    assert parse_currency("US$") is None


@pytest.mark.parametrize(
    ("text", "flag"), [("да", True), ("Yes", True), ("1", True), ("нет", False), ("0", False)]
)
def test_flags(text: str, flag: bool) -> None:
    assert parse_flag(text) is flag


# --- transaction rows ------------------------------------------------------------------------


def test_every_transaction_error_class(tmp_path: Path) -> None:
    text = (
        "Клиент;ИНН;Дата;Сумма;Номер;Категория;Валюта\n"
        "А;;01.01.2024;100;1;;\n"  # 2 fine
        ";;01.01.2024;100;2;;\n"  # 3 no client at all
        "Б;123;01.01.2024;100;3;;\n"  # 4 bad tax id
        "В;;;100;4;;\n"  # 5 empty date
        "Г;;31.02.2024;100;5;;\n"  # 6 impossible date
        "Д;;01.01.2024;;6;;\n"  # 7 empty amount
        "Е;;01.01.2024;сто;7;;\n"  # 8 not a number
        "Ж;;01.01.2024;100;8;;тугрики\n"  # 9 currency
        f"З;;01.01.2024;100;{'9' * 65};;\n"  # 10 order number too long
        ";7707083893;01.01.2024;100;10;;USD\n"  # 11 fine: the tax id names the client
    )
    parsed = read_transactions(write(tmp_path, text))
    assert [(e.row, e.column, e.code) for e in parsed.errors] == [
        (3, "client", "empty_client"),
        (4, "client_tax_id", "bad_tax_id"),
        (5, "date", "empty_date"),
        (6, "date", "bad_date"),
        (7, "amount", "empty_amount"),
        (8, "amount", "bad_amount"),
        (9, "currency", "bad_currency"),
        (10, "order_number", "too_long"),
    ]
    assert parsed.errors[3] == RowError(6, "date", "bad_date", "31.02.2024")
    assert parsed.frame["row"].tolist() == [2, 11]
    assert parsed.frame["currency"].tolist() == ["RUB", "USD"]
    assert parsed.rows_read == 10
    assert all(error.message for error in parsed.errors)


def test_one_row_can_have_several_errors(tmp_path: Path) -> None:
    parsed = read_transactions(write(tmp_path, "Клиент;Дата;Сумма\nА;вчера;много\n"))
    assert [(e.row, e.column) for e in parsed.errors] == [(2, "date"), (2, "amount")]
    assert parsed.frame.empty


# --- client rows -----------------------------------------------------------------------------

MANAGERS = ManagerDirectory.from_users(
    [(1, "Иванов Пётр"), (2, "Анна Смирнова"), (3, "анна смирнова")]
)


def test_client_values_are_normalized(tmp_path: Path) -> None:
    text = (
        "Код;Клиент;ИНН;Телефон;Email;Город;Менеджер;VIP;Причина VIP;Теги\n"
        "C1;ООО «Ромашка»;7707 083 893;8 916 123-45-67, +7 (495) 000-00-00;a@b.ru;Москва;"
        'иванов петр;да;Оборот;"опт, постоянный; опт"\n'
        "C2;ИП Петров;;;;;;;;\n"
    )
    parsed = read_clients(write(tmp_path, text), MANAGERS)
    assert parsed.errors == ()
    first, second = parsed.frame.to_dict("records")
    assert first["name_normalized"] == "ооо ромашка"
    assert first["tax_id"] == "7707083893"
    assert first["phone_list"] == ("79161234567", "74950000000")
    assert first["phones"] == "+79161234567, +74950000000"
    assert first["owner_id"] == 1
    assert first["is_vip"] is True
    assert first["tags"] == ("опт", "постоянный")
    # empty cells mean "keep what the database has", not "erase"
    assert {key: second[key] for key in ("tax_id", "email", "owner_id", "is_vip", "tags")} == {
        "tax_id": None,
        "email": None,
        "owner_id": None,
        "is_vip": None,
        "tags": None,
    }


def test_every_client_error_class(tmp_path: Path) -> None:
    text = (
        "Клиент;ИНН;Телефон;Email;Менеджер;VIP\n"
        "«»;;;;;\n"  # 2 no name
        "А;12345;;;;\n"  # 3 bad tax id
        "Б;;12-34;;;\n"  # 4 bad phone
        "В;;;не почта;;\n"  # 5 bad email
        "Г;;;;Сидоров;\n"  # 6 unknown manager
        "Д;;;;Анна Смирнова;\n"  # 7 two users share the name
        "Е;;;;;может быть\n"  # 8 not a yes/no
        f"{'Ж' * 301};;;;;\n"  # 9 too long
    )
    parsed = read_clients(write(tmp_path, text), MANAGERS)
    assert [(e.row, e.column, e.code) for e in parsed.errors] == [
        (2, "name", "empty_name"),
        (3, "tax_id", "bad_tax_id"),
        (4, "phones", "bad_phone"),
        (5, "email", "bad_email"),
        (6, "manager", "unknown_manager"),
        (7, "manager", "ambiguous_manager"),
        (8, "is_vip", "bad_flag"),
        (9, "name", "too_long"),
    ]
    assert parsed.frame.empty
