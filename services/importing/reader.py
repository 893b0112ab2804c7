"""Reading CSV/XLSX exports into frames of text, and checking them row by row.

Pure: files in, frames and `RowError`s out, no database. Parsing is vectorised
with pandas because a year of sales from 1C is easily a million rows.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import math
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from services.importing.columns import (
    CLIENT_COLUMNS,
    TRANSACTION_COLUMNS,
    ColumnSpec,
    resolve_columns,
)
from services.importing.errors import (
    ErrorCode,
    MalformedFileError,
    RowError,
    UnsupportedFileError,
)
from services.importing.progress import ProgressFactory, no_progress
from services.normalize import normalize_name, normalize_phone, normalize_tax_id, split_phones

CSV_CHUNK_ROWS = 100_000
XLSX_PROGRESS_STEP = 1_000
_SAMPLE_CHARS = 64 * 1024
_HASH_BLOCK = 1 << 20
_SEPARATORS = (";", ",", "\t", "|")
_MAX_VALUE_IN_REPORT = 200

CENT = Decimal("0.01")
# Numeric(16, 2): 14 digits before the point
MAX_CENTS = 10**16
_FLOAT_EXACT_BELOW = 1e6
MIN_YEAR, MAX_YEAR = 1900, 2100

# Lengths of the database columns; longer values would fail on PostgreSQL only.
MAX_LENGTHS = {
    "external_id": 64,
    "name": 300,
    "company": 300,
    "email": 200,
    "city": 100,
    "vip_reason": 300,
    "phones": 300,
    "client": 300,
    "client_external_id": 64,
    "order_number": 64,
    "category": 100,
}

_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y")
# A date followed by a time ("31.01.2024 0:00:00", "2024-01-31T10:15:00+03:00"): keep the date
# as written, a sale belongs to the day the customer saw on the invoice.
_DATE_AND_TIME = re.compile(
    r"^(?P<date>[\d.\-]+)[ T](?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d+)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?$"
)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
# spaces and apostrophes group thousands; the rouble sign sneaks in from Excel formats
_NUMBER_NOISE = (" ", "\u00a0", "\u202f", "\t", "'", "₽")
_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
_TAG_SEPARATORS = re.compile(r"[,;]")

_TRUE = {"1", "да", "д", "yes", "y", "true", "истина", "+", "x", "х", "v", "vip", "вип"}
_FALSE = {"0", "нет", "н", "no", "n", "false", "ложь", "-"}

_CURRENCY_ALIASES = {
    "": "RUB",
    "руб": "RUB",
    "руб.": "RUB",
    "рубль": "RUB",
    "рубли": "RUB",
    "р": "RUB",
    "р.": "RUB",
    "₽": "RUB",
    "rur": "RUB",
    "$": "USD",
    "долл": "USD",
    "долл.": "USD",
    "доллар": "USD",
    "€": "EUR",
    "евро": "EUR",
    "¥": "CNY",
    "юань": "CNY",
}


# --- files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileInfo:
    """What one pass over the bytes tells: identity, format, encoding and about how many rows."""

    sha256: str
    size: int
    format: str  # "csv" | "xlsx"
    encoding: str | None
    lines: int


def inspect_file(path: Path) -> FileInfo:
    """Hash the file and guess its format and encoding (UTF-8 with or without BOM, else cp1251)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = lines = 0
    head = b""
    utf8 = True
    with path.open("rb") as stream:
        while block := stream.read(_HASH_BLOCK):
            if not head:
                head = block[:8]
            digest.update(block)
            size += len(block)
            lines += block.count(b"\n")
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if size == 0:
        raise MalformedFileError("the file is empty")
    if head.startswith(b"PK\x03\x04"):
        return FileInfo(digest.hexdigest(), size, "xlsx", None, lines)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFileError(
            "old Excel .xls files are not supported; save the file as .xlsx or .csv"
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig" if utf8 else "cp1251"
    return FileInfo(digest.hexdigest(), size, "csv", encoding, lines + 1)


def sniff_separator(sample: str) -> str:
    """The separator that splits the first lines into the same, largest number of fields."""
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line in half
    lines = [line for line in lines[:50] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", (-1.0, 0)
    for separator in _SEPARATORS:
        counts = [len(record) for record in csv.reader(lines, delimiter=separator)]
        if not counts or counts[0] < 2:
            continue
        agreeing = sum(count == counts[0] for count in counts) / len(counts)
        score = (agreeing, counts[0])
        if score > best_score:
            best, best_score = separator, score
    return best


@dataclass(frozen=True)
class RawTable:
    """The cells of the recognised columns as stripped text; `row` is the spreadsheet row."""

    frame: pd.DataFrame
    headers: tuple[str, ...]
    columns: Mapping[str, str]  # canonical name -> the header it was read from
    separator: str | None = None
    encoding: str | None = None

    @property
    def rows_read(self) -> int:
        return len(self.frame)


def read_table(
    path: Path,
    specs: Sequence[ColumnSpec],
    overrides: Mapping[str, str] | None = None,
    *,
    info: FileInfo | None = None,
    progress: ProgressFactory = no_progress,
) -> RawTable:
    """Read the recognised columns of a CSV or XLSX file; raise `ImportFileError` if unusable."""
    info = info or inspect_file(path)
    if info.format == "xlsx":
        return _read_xlsx(path, specs, overrides, progress)
    return _read_csv(path, info, specs, overrides, progress)


def _read_csv(
    path: Path,
    info: FileInfo,
    specs: Sequence[ColumnSpec],
    overrides: Mapping[str, str] | None,
    progress: ProgressFactory,
) -> RawTable:
    encoding = info.encoding or "utf-8-sig"
    with path.open(encoding=encoding, errors="replace", newline="") as stream:
        sample = stream.read(_SAMPLE_CHARS)
    separator = sniff_separator(sample)
    header = next(csv.reader(io.StringIO(sample), delimiter=separator), [])
    positions = resolve_columns(header, specs, overrides)
    by_position = {position: name for name, position in positions.items()}
    wanted = sorted(by_position)
    bar = progress("Reading", max(info.lines - 1, 0))
    chunks: list[pd.DataFrame] = []
    try:
        with pd.read_csv(
            path,
            sep=separator,
            encoding=encoding,
            header=None,
            # all columns, not usecols: only then does a row with more fields than the header
            # (an unquoted separator inside a name) fail instead of silently shifting values
            names=range(len(header)),
            index_col=False,
            # plain Python strings: pandas' own string dtype costs more per cell without pyarrow
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            # blank lines stay as empty rows so row numbers match what a spreadsheet shows
            skip_blank_lines=False,
            chunksize=CSV_CHUNK_ROWS,
        ) as reader:
            for chunk in reader:
                chunks.append(chunk[wanted])
                bar.update(len(chunk))
    except pd.errors.ParserError as error:
        raise MalformedFileError(_explain_parser_error(error, separator)) from error
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedFileError(f"cannot read the CSV file: {error}") from error
    finally:
        bar.close()
    frame = pd.concat(chunks) if chunks else pd.DataFrame(columns=wanted)
    frame = frame.rename(columns=by_position)
    # the index counts records from 0 with the header first, a spreadsheet counts from 1
    frame.insert(0, "row", frame.index.to_numpy() + 1)
    frame = frame.iloc[1:]
    return RawTable(
        frame=_tidy(frame, list(positions)),
        headers=tuple(header),
        columns={name: header[position] for name, position in positions.items()},
        separator=separator,
        encoding=encoding,
    )


def _explain_parser_error(error: Exception, separator: str) -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
    if found is None:
        return f"cannot read the CSV file: {error}"
    expected, line, saw = found.groups()
    shown = {"\t": "tab"}.get(separator, separator)
    return (
        f"cannot read the CSV file: line {line} has {saw} fields but the header has {expected}; "
        f"a value probably contains the separator '{shown}' without quotes"
    )


def _read_xlsx(
    path: Path,
    specs: Sequence[ColumnSpec],
    overrides: Mapping[str, str] | None,
    progress: ProgressFactory,
) -> RawTable:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as error:
        raise MalformedFileError(f"cannot read the Excel file: {error}") from error
    try:
        sheet = workbook.worksheets[0]
        total = sheet.max_row
        # some generators write a wrong sheet size; read what is really there
        sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        header: list[str] = []
        header_row = 0
        for number, values in enumerate(rows, start=1):
            if any(_cell_text(value) for value in values):
                header, header_row = [_cell_text(value) for value in values], number
                break
        positions = resolve_columns(header, specs, overrides)
        data: dict[str, list[str]] = {name: [] for name in positions}
        numbers: list[int] = []
        bar = progress("Reading", (total - header_row) if total else None)
        try:
            for number, values in enumerate(rows, start=header_row + 1):
                cells = {
                    name: _cell_text(values[index]) if index < len(values) else ""
                    for name, index in positions.items()
                }
                if any(cells.values()):
                    numbers.append(number)
                    for name, text in cells.items():
                        data[name].append(text)
                if number % XLSX_PROGRESS_STEP == 0:
                    bar.update(XLSX_PROGRESS_STEP)
        finally:
            bar.close()
    finally:
        workbook.close()
    frame = pd.DataFrame({"row": pd.Series(numbers, dtype="int64")})
    for name, values in data.items():
        frame[name] = pd.Series(values, dtype=object)
    return RawTable(
        frame=_tidy(frame, list(positions)),
        headers=tuple(header),
        columns={name: header[position] for name, position in positions.items()},
    )


def _cell_text(value: Any) -> str:
    """An Excel cell as the text a CSV export would have; numbers without float noise."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _strip(values: pd.Series) -> pd.Series:
    stripped = [value.strip() for value in values.tolist()]
    return pd.Series(stripped, index=values.index, dtype=object)


def _tidy(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    for column in columns:
        frame[column] = _strip(frame[column])
    if columns:
        # rows with nothing in the columns we read are blank lines, not errors
        frame = frame[(frame[columns] != "").any(axis=1)].reset_index(drop=True)
    frame["row"] = frame["row"].astype("int64")
    return frame


# --- values --------------------------------------------------------------------------------


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates written dd.mm.yyyy, dd.mm.yy or yyyy-mm-dd, optionally with a time; NaT if not."""
    # a year of sales has a million rows but a few hundred distinct dates: parse those once
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    dates = pd.Series(_parse_distinct_dates(np.asarray(uniques, dtype=object))[codes])
    dates.index = values.index
    years = dates.dt.year
    return dates.where((years >= MIN_YEAR) & (years <= MAX_YEAR))


def _parse_distinct_dates(texts: np.ndarray) -> np.ndarray:
    result = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[us]")
    pending = np.flatnonzero(texts != "")
    candidates = texts[pending]
    for with_time in (False, True):
        if with_time and len(pending):
            stripped = pd.Series(candidates, dtype=object).str.extract(_DATE_AND_TIME, expand=False)
            keep = stripped.notna().to_numpy()
            pending, candidates = pending[keep], stripped.to_numpy(dtype=object)[keep]
        for date_format in _DATE_FORMATS:
            if not len(pending):
                break
            parsed = pd.to_datetime(candidates, format=date_format, errors="coerce")
            parsed_us = np.asarray(parsed, dtype="datetime64[us]")
            hits = ~np.isnat(parsed_us)
            result[pending[hits]] = parsed_us[hits]
            pending, candidates = pending[~hits], candidates[~hits]
    return result


def parse_amount_cents(values: pd.Series) -> pd.Series:
    """Money written "12 345,50", "-1 200,00", "1200.5", "1,234.50" as whole cents (Int64).

    <NA> when not a number or too large for the database. Rounded half up to the cent.
    """
    texts = values.tolist()
    numbers = np.array([_number_or_nan(text) for text in texts], dtype="float64")
    scaled = numbers * 100
    cents = np.round(scaled)
    # Floats are exact to the cent while the value is small and has at most two decimals;
    # anything else (and there is little of it) takes the slow, exact Decimal road.
    with np.errstate(invalid="ignore"):
        fast = (np.abs(numbers) < _FLOAT_EXACT_BELOW) & (np.abs(scaled - cents) < 1e-6)
    result = pd.array(np.where(fast, cents, 0).astype("int64"), dtype="Int64")
    result[~fast] = pd.NA
    slow = np.flatnonzero(~fast & ~np.isnan(numbers))
    if len(slow):
        result[slow] = pd.array([_to_cents(_clean_number(texts[i])) for i in slow], dtype="Int64")
    series = pd.Series(result, index=values.index)
    return series.where(series.abs() < MAX_CENTS)


def _number_or_nan(text: str) -> float:
    cleaned = _clean_number(text)
    return float(cleaned) if cleaned else math.nan


def _clean_number(text: str) -> str:
    """ "12 345,50" -> "12345.50"; "" when what is left is not a plain decimal number."""
    for noise in _NUMBER_NOISE:
        if noise in text:
            text = text.replace(noise, "")
    if "−" in text:
        text = text.replace("−", "-")
    if "," in text:
        if "." in text:
            text = _drop_thousands_separator(text)
        text = text.replace(",", ".")
    return text if _NUMBER.fullmatch(text) else ""


def _drop_thousands_separator(text: str) -> str:
    # whichever of , and . comes last is the decimal point: "1,234.50" and "1.234,50"
    thousands = "," if text.rfind(".") > text.rfind(",") else "."
    return text.replace(thousands, "")


def _to_cents(text: str) -> int | None:
    try:
        return int(Decimal(text).quantize(CENT, rounding=ROUND_HALF_UP).scaleb(2))
    except (InvalidOperation, ValueError, OverflowError):
        return None


def cents_to_decimal(cents: int) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)


def parse_currency(text: str) -> str | None:
    """An ISO currency code from "руб.", "₽", "usd", ...; empty means roubles; None if unknown."""
    key = text.strip().casefold()
    if key in _CURRENCY_ALIASES:
        return _CURRENCY_ALIASES[key]
    if len(key) == 3 and key.isascii() and key.isalpha():
        return key.upper()
    return None


def parse_flag(text: str) -> bool | None:
    key = text.strip().casefold()
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    return None


def _map_unique(values: pd.Series, function: Callable[[str], Any]) -> pd.Series:
    """Apply a Python function once per distinct value: 1M rows hold ~50k client names."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    mapped = np.empty(len(uniques), dtype=object)
    mapped[:] = [function(value) for value in uniques]
    return pd.Series(mapped[codes], index=values.index, dtype=object)


# --- validation ----------------------------------------------------------------------------


class _Errors:
    """Collects row errors from boolean masks, so checks stay vectorised."""

    def __init__(self, frame: pd.DataFrame, column_order: Sequence[str]) -> None:
        self._rows = frame["row"]
        self._order = {name: index for index, name in enumerate(column_order)}
        self.items: list[RowError] = []

    def add(
        self,
        mask: pd.Series,
        column: str,
        code: ErrorCode,
        values: pd.Series,
        detail: str | None = None,
    ) -> None:
        if not mask.any():
            return
        for row, value in zip(self._rows[mask].tolist(), values[mask].tolist(), strict=True):
            shown = str(value)[:_MAX_VALUE_IN_REPORT] if value not in (None, "") else None
            self.items.append(RowError(int(row), column, code, shown, detail))

    def too_long(self, frame: pd.DataFrame, column: str) -> None:
        if column in frame:
            limit = MAX_LENGTHS[column]
            texts = frame[column].tolist()
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            too_long = pd.Series(lengths > limit, index=frame.index)
            detail = f"at most {limit} characters"
            self.add(too_long, column, ErrorCode.TOO_LONG, frame[column], detail)

    def bad_rows(self) -> set[int]:
        return {error.row for error in self.items}

    def sorted(self) -> tuple[RowError, ...]:
        return tuple(sorted(self.items, key=lambda e: (e.row, self._order.get(e.column, 99))))


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in frame:
        return frame[column]
    return pd.Series("", index=frame.index, dtype=object)


@dataclass(frozen=True)
class ManagerDirectory:
    """Users a file may name as managers, matched case- and ё-insensitively."""

    ids_by_name: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def from_users(cls, users: Sequence[tuple[int, str]]) -> ManagerDirectory:
        ids: dict[str, list[int]] = {}
        for user_id, display_name in users:
            ids.setdefault(normalize_name(display_name), []).append(user_id)
        return cls({name: tuple(found) for name, found in ids.items()})

    def find(self, name: str) -> tuple[int, ...]:
        return self.ids_by_name.get(normalize_name(name), ())


@dataclass(frozen=True)
class ParsedClients:
    """Valid client rows (empty cells as None: "keep what is there") and the rejected ones."""

    frame: pd.DataFrame
    errors: tuple[RowError, ...]
    rows_read: int
    columns: Mapping[str, str]  # canonical name -> header read


def validate_clients(table: RawTable, managers: ManagerDirectory) -> ParsedClients:
    """Check and convert client rows: name, tax id, phones, e-mail, VIP flag, manager, tags."""
    frame = table.frame
    errors = _Errors(frame, ["row", *(spec.name for spec in CLIENT_COLUMNS)])
    out = pd.DataFrame({"row": frame["row"]})

    name = _text(frame, "name")
    out["name"] = name
    out["name_normalized"] = _map_unique(name, normalize_name)
    errors.add(out["name_normalized"] == "", "name", ErrorCode.EMPTY_NAME, name)
    for column in ("external_id", "name", "company", "email", "city", "vip_reason"):
        errors.too_long(frame, column)
    for column in ("external_id", "company", "city", "vip_reason"):
        out[column] = _text(frame, column)

    tax_raw = _text(frame, "tax_id")
    out["tax_id"] = _map_unique(tax_raw, normalize_tax_id)
    errors.add((tax_raw != "") & out["tax_id"].isna(), "tax_id", ErrorCode.BAD_TAX_ID, tax_raw)

    email = _text(frame, "email")
    well_formed = _map_unique(email, lambda text: bool(_EMAIL.match(text))).astype(bool)
    errors.add((email != "") & ~well_formed, "email", ErrorCode.BAD_EMAIL, email)
    out["email"] = email

    phones_raw = _text(frame, "phones")
    phone_lists = _map_unique(phones_raw, _parse_phones)
    bad_phone = phone_lists.map(lambda parsed: parsed[1] is not None)
    first_bad = phone_lists.map(lambda parsed: parsed[1])
    errors.add(bad_phone.astype(bool), "phones", ErrorCode.BAD_PHONE, first_bad)
    out["phone_list"] = phone_lists.map(lambda parsed: parsed[0])
    out["phones"] = out["phone_list"].map(lambda phones: ", ".join(f"+{p}" for p in phones))
    limit = MAX_LENGTHS["phones"]
    too_long = out["phones"].str.len() > limit
    errors.add(too_long, "phones", ErrorCode.TOO_LONG, phones_raw, f"at most {limit} characters")

    vip_raw = _text(frame, "is_vip")
    out["is_vip"] = _map_unique(vip_raw, parse_flag)
    errors.add((vip_raw != "") & out["is_vip"].isna(), "is_vip", ErrorCode.BAD_FLAG, vip_raw)

    manager = _text(frame, "manager")
    found = _map_unique(manager, managers.find)
    unknown = (manager != "") & (found.map(len) == 0)
    errors.add(unknown, "manager", ErrorCode.UNKNOWN_MANAGER, manager)
    errors.add(found.map(len) > 1, "manager", ErrorCode.AMBIGUOUS_MANAGER, manager)
    owners = [ids[0] if len(ids) == 1 else None for ids in found.tolist()]
    out["owner_id"] = pd.Series(owners, index=frame.index, dtype=object)

    tags = _text(frame, "tags")
    out["tags"] = _map_unique(tags, _parse_tags)

    bad = errors.bad_rows()
    valid = out[~out["row"].isin(bad)].reset_index(drop=True)
    for column in ("external_id", "company", "email", "city", "vip_reason", "phones"):
        valid[column] = valid[column].astype(object).where(valid[column] != "", None)
    return ParsedClients(valid, errors.sorted(), len(frame), dict(table.columns))


def _parse_phones(text: str) -> tuple[tuple[str, ...], str | None]:
    """The normalized numbers of a cell, and the first part that is not a number (if any)."""
    phones: dict[str, None] = {}
    for part in split_phones(text):
        phone = normalize_phone(part)
        if phone is None:
            return (), part
        phones.setdefault(phone, None)
    return tuple(phones), None


def _parse_tags(text: str) -> tuple[str, ...] | None:
    if not text:
        return None
    tags: dict[str, None] = {}
    for part in _TAG_SEPARATORS.split(text):
        if part.strip():
            tags.setdefault(part.strip(), None)
    return tuple(tags)


@dataclass(frozen=True)
class ParsedTransactions:
    """Valid transaction rows (missing text as "") and the rejected ones."""

    frame: pd.DataFrame
    errors: tuple[RowError, ...]
    rows_read: int
    columns: Mapping[str, str]  # canonical name -> header read


def validate_transactions(table: RawTable) -> ParsedTransactions:
    """Check and convert sales rows: client, date, amount, currency and text lengths."""
    frame = table.frame
    errors = _Errors(frame, ["row", *(spec.name for spec in TRANSACTION_COLUMNS)])
    out = pd.DataFrame({"row": frame["row"]})

    client = _text(frame, "client")
    external_id = _text(frame, "client_external_id")
    tax_raw = _text(frame, "client_tax_id")
    out["client"] = client
    out["client_name_normalized"] = _map_unique(client, normalize_name)
    out["client_external_id"] = external_id
    tax_id = _map_unique(tax_raw, normalize_tax_id)
    out["client_tax_id"] = tax_id.where(tax_id.notna(), "")
    empty_client = (out["client_name_normalized"] == "") & (external_id == "") & (tax_raw == "")
    errors.add(empty_client, "client", ErrorCode.EMPTY_CLIENT, client)
    errors.add((tax_raw != "") & tax_id.isna(), "client_tax_id", ErrorCode.BAD_TAX_ID, tax_raw)

    date_raw = _text(frame, "date")
    out["date"] = parse_dates(date_raw)
    errors.add(date_raw == "", "date", ErrorCode.EMPTY_DATE, date_raw)
    errors.add((date_raw != "") & out["date"].isna(), "date", ErrorCode.BAD_DATE, date_raw)

    amount_raw = _text(frame, "amount")
    out["amount_cents"] = parse_amount_cents(amount_raw)
    errors.add(amount_raw == "", "amount", ErrorCode.EMPTY_AMOUNT, amount_raw)
    bad_amount = (amount_raw != "") & out["amount_cents"].isna()
    errors.add(bad_amount, "amount", ErrorCode.BAD_AMOUNT, amount_raw)

    currency_raw = _text(frame, "currency")
    currency = _map_unique(currency_raw, parse_currency)
    errors.add(currency.isna(), "currency", ErrorCode.BAD_CURRENCY, currency_raw)
    out["currency"] = currency.where(currency.notna(), "")

    out["order_number"] = _text(frame, "order_number")
    out["category"] = _text(frame, "category")
    for column in ("client", "client_external_id", "order_number", "category"):
        errors.too_long(frame, column)

    bad = errors.bad_rows()
    valid = out[~out["row"].isin(bad)].reset_index(drop=True) if bad else out
    valid["amount_cents"] = valid["amount_cents"].astype("int64")
    return ParsedTransactions(valid, errors.sorted(), len(frame), dict(table.columns))


def read_clients(
    path: Path,
    managers: ManagerDirectory,
    overrides: Mapping[str, str] | None = None,
    *,
    info: FileInfo | None = None,
    progress: ProgressFactory = no_progress,
) -> ParsedClients:
    table = read_table(path, CLIENT_COLUMNS, overrides, info=info, progress=progress)
    return validate_clients(table, managers)


def read_transactions(
    path: Path,
    overrides: Mapping[str, str] | None = None,
    *,
    info: FileInfo | None = None,
    progress: ProgressFactory = no_progress,
) -> ParsedTransactions:
    table = read_table(path, TRANSACTION_COLUMNS, overrides, info=info, progress=progress)
    return validate_transactions(table)


def first_rows(rows: pd.Series, keys: pd.Series) -> pd.Series:
    """For each row, the row number of the first row with the same key (itself if first)."""
    return rows.groupby(keys.to_numpy(), sort=False).transform("first")
