"""Reading CSV/XLSX exports into frames of text, and checking them row by row.

Pure: files in, frames and `RowError`s out, no database. Parsing is vectorised
with pandas because a year of sales from 1C is easily a million rows.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from itertools import chain, islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.cell_range import CellRange

from services.importing.columns import (
    CLIENT_COLUMNS,
    TRANSACTION_COLUMNS,
    ColumnSpec,
    header_score,
    normalize_header,
    resolve_columns,
)
from services.importing.errors import (
    ErrorCode,
    MalformedFileError,
    MixedEncodingError,
    RowError,
    UnsupportedFileError,
)
from services.importing.progress import ProgressFactory, no_progress
from services.normalize import normalize_name, normalize_phone, normalize_tax_id, split_phones

CSV_CHUNK_ROWS = 100_000
# the header is looked for among this many rows: 1C puts a title and a period above it
HEADER_SEARCH_ROWS = 20
# a sale dated later than this many days after today is a typo (IMPORT_MAX_FUTURE_DAYS)
DEFAULT_MAX_FUTURE_DAYS = 1
_SAMPLE_CHARS = 64 * 1024
_HASH_BLOCK = 1 << 20
_HEAD_BYTES = 1024
_LINES_SHOWN = 10
_BARE_CR_BYTES = re.compile(rb"\r(?!\n)")
_BARE_CR = re.compile(r"\r(?!\n)")
# how exports (ours too, see services.exporting) keep a spreadsheet from running a cell
_NEUTRALIZED = ("'=", "'+", "'-", "'@", "'\t", "'\r")
# UTF-8 encodes Russian letters as D0/D1 and a continuation byte
_UTF8_CYRILLIC = re.compile(rb"[\xd0\xd1][\x80-\xbf]")
_TOTALS = re.compile(
    r"^(?:итого|всего|total|totals|grand total)(?:\s*[:.]|\s+(?:по|за|for)\b|\s+\d|$)",
    re.IGNORECASE,
)
_SEPARATORS = (";", ",", "\t", "|")
_MAX_VALUE_IN_REPORT = 200

CENT = Decimal("0.01")
# Numeric(16, 2): 14 digits before the point
MAX_CENTS = 10**16
_FLOAT_EXACT_BELOW = 1e12
_FLOAT_SLACK = 0.1
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
    """What one pass over the bytes tells: identity, format, encoding and about how many rows.

    `check_controls` says the file holds a NUL byte or a carriage return that ends no
    line, so the cells must be checked for them (a cost clean files do not pay).
    """

    sha256: str
    size: int
    format: str  # "csv" | "xlsx"
    encoding: str | None
    lines: int
    line_terminator: str = "\n"
    check_controls: bool = False


def inspect_file(path: Path) -> FileInfo:
    """Hash the file and decide its format and encoding.

    UTF-16 (with a BOM, or recognisable without), UTF-8 with or without BOM, else
    Windows-1251. A file whose lines are partly UTF-8 and partly not raises
    `MixedEncodingError` instead of being decoded into mojibake either way.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size = lines = 0
    head = b""
    utf8 = True
    utf8_letters = False  # a UTF-8 encoded Cyrillic letter somewhere
    nul = bare_cr = has_lf = False
    carry = b""
    with path.open("rb") as stream:
        while block := stream.read(_HASH_BLOCK):
            if not head:
                head = block[:_HEAD_BYTES]
            digest.update(block)
            size += len(block)
            count = block.count(b"\n")
            lines += count
            has_lf = has_lf or count > 0
            nul = nul or b"\x00" in block
            if not bare_cr:
                # a CR at the end of a block may be the first half of a CRLF
                data, carry = carry + block, b""
                if data.endswith(b"\r"):
                    data, carry = data[:-1], b"\r"
                bare_cr = _BARE_CR_BYTES.search(data) is not None
            if utf8:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    utf8 = False
            if not utf8_letters:
                utf8_letters = _UTF8_CYRILLIC.search(block) is not None
    bare_cr = bare_cr or carry == b"\r"
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
    utf16 = _utf16_encoding(head)
    if utf16 is not None:
        # NUL bytes are half of every character here: check the decoded cells instead
        return FileInfo(digest.hexdigest(), size, "csv", utf16, lines + 1, "\n", True)
    if utf8:
        encoding = "utf-8-sig"
    elif utf8_letters:
        encoding = _encoding_of_mixed(path)
    else:
        encoding = "cp1251"
    terminator = "\n" if has_lf or not bare_cr else "\r"
    # in a file of CR-only line ends (old Mac) the CRs are the lines, not damage
    controls = nul or (bare_cr and terminator == "\n")
    return FileInfo(digest.hexdigest(), size, "csv", encoding, lines + 1, terminator, controls)


def _utf16_encoding(head: bytes) -> str | None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # Without a BOM, text of ASCII headers and digits has a zero in every other byte.
    sample = head[: len(head) // 2 * 2]
    if len(sample) < 8:
        return None
    even_zeros = sample[0::2].count(0) / (len(sample) // 2)
    odd_zeros = sample[1::2].count(0) / (len(sample) // 2)
    if odd_zeros > 0.4 and even_zeros < 0.05:
        return "utf-16-le"
    if even_zeros > 0.4 and odd_zeros < 0.05:
        return "utf-16-be"
    return None


def _encoding_of_mixed(path: Path) -> str:
    """The file is not valid UTF-8 but has UTF-8-looking letters: look at it line by line.

    Windows-1251 text hardly ever forms a valid UTF-8 line, so lines of both kinds
    mean the file was glued together from two sources.
    """
    utf8_lines: list[int] = []
    other_lines: list[int] = []
    with path.open("rb") as stream:
        for number, line in enumerate(stream, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                other_lines.append(number)
            else:
                utf8_lines.append(number)
    if not utf8_lines:
        return "cp1251"
    if not other_lines:
        return "utf-8-sig"
    if len(other_lines) <= len(utf8_lines):
        raise MixedEncodingError(
            f"mixed encodings: {_lines(other_lines)} not UTF-8 while the rest of the file is; "
            "save the whole file in one encoding (UTF-8) and import it again",
            lines=", ".join(map(str, other_lines[:_LINES_SHOWN])),
        )
    raise MixedEncodingError(
        f"mixed encodings: {_lines(utf8_lines)} UTF-8 while the rest of the file is "
        "Windows-1251; save the whole file in one encoding and import it again",
        lines=", ".join(map(str, utf8_lines[:_LINES_SHOWN])),
    )


def _lines(numbers: Sequence[int]) -> str:
    shown = ", ".join(map(str, numbers[:_LINES_SHOWN]))
    more = f" and {len(numbers) - _LINES_SHOWN} more" if len(numbers) > _LINES_SHOWN else ""
    return f"line {shown} is" if len(numbers) == 1 else f"lines {shown}{more} are"


def sniff_separator(sample: str) -> str:
    """The separator that splits most lines into the same, largest number of fields.

    Title lines above the header ("Отчёт по контрагентам") have one field whatever
    the separator, so the usual count among the lines decides, not the first line's.
    """
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line in half
    lines = [line for line in lines[:50] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", (-1.0, 0)
    for separator in _SEPARATORS:
        counts = [len(record) for record in csv.reader(lines, delimiter=separator)]
        several = [count for count in counts if count >= 2]
        if not several:
            continue
        usual = max(set(several), key=lambda count: (several.count(count), count))
        agreeing = sum(count == usual for count in counts) / len(counts)
        score = (agreeing, usual)
        if score > best_score:
            best, best_score = separator, score
    return best


@dataclass(frozen=True)
class RawTable:
    """The cells of the recognised columns as stripped text; `row` is the spreadsheet row.

    `order` lists the recognised columns as they stand in the file, left to right.
    """

    frame: pd.DataFrame
    headers: tuple[str, ...]
    columns: Mapping[str, str]  # canonical name -> the header it was read from
    separator: str | None = None
    encoding: str | None = None
    header_row: int = 1
    order: tuple[str, ...] = ()
    check_controls: bool = True

    @property
    def rows_read(self) -> int:
        return len(self.frame)


class TableReader:
    """A file opened for reading in chunks: the header is known, the rows come on demand.

    Memory stays bounded by the chunk size whatever the file's size. Iterate
    `chunks()` once; each chunk is a `RawTable` of up to `chunk_rows` rows.
    """

    def __init__(
        self,
        *,
        headers: Sequence[str],
        positions: Mapping[str, int],
        header_row: int,
        rows: Iterator[pd.DataFrame],
        total_rows: int | None,
        separator: str | None = None,
        encoding: str | None = None,
        check_controls: bool = True,
        close: Callable[[], None] = lambda: None,
    ) -> None:
        self.headers = tuple(headers)
        self.positions = dict(positions)
        self.columns = {name: self.headers[index] for name, index in self.positions.items()}
        self.order = tuple(sorted(self.positions, key=self.positions.__getitem__))
        self.header_row = header_row
        self.total_rows = total_rows
        self.separator = separator
        self.encoding = encoding
        self.check_controls = check_controls
        self._rows = rows
        self._close = close

    def chunks(self) -> Iterator[RawTable]:
        names = list(self.positions)
        for frame in self._rows:
            yield self._table(_tidy(frame, names))

    def next_chunk(self) -> RawTable | None:
        """The next chunk, or None at the end (for callers that step from another thread)."""
        if not hasattr(self, "_iterator"):
            self._iterator = self.chunks()
        return next(self._iterator, None)

    def empty(self) -> RawTable:
        frame = pd.DataFrame({"row": pd.Series(dtype="int64")})
        for name in self.positions:
            frame[name] = pd.Series(dtype=object)
        return self._table(frame)

    def _table(self, frame: pd.DataFrame) -> RawTable:
        return RawTable(
            frame=frame,
            headers=self.headers,
            columns=self.columns,
            separator=self.separator,
            encoding=self.encoding,
            header_row=self.header_row,
            order=self.order,
            check_controls=self.check_controls,
        )

    def close(self) -> None:
        self._close()

    def __enter__(self) -> TableReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_table(
    path: Path,
    specs: Sequence[ColumnSpec],
    overrides: Mapping[str, str] | None = None,
    *,
    info: FileInfo | None = None,
    chunk_rows: int = CSV_CHUNK_ROWS,
) -> TableReader:
    """Find the header of a CSV or XLSX file and get ready to read its rows in chunks.

    The header is the row among the first 20 that names the most required and then
    the most known columns, so title lines of 1C reports above it are skipped.
    Raises `ImportFileError` when the file cannot be read.
    """
    info = info or inspect_file(path)
    if info.format == "xlsx":
        return _open_xlsx(path, specs, overrides, chunk_rows)
    return _open_csv(path, info, specs, overrides, chunk_rows)


def read_table(
    path: Path,
    specs: Sequence[ColumnSpec],
    overrides: Mapping[str, str] | None = None,
    *,
    info: FileInfo | None = None,
    progress: ProgressFactory = no_progress,
) -> RawTable:
    """Read the recognised columns of a whole CSV or XLSX file into one table."""
    with open_table(path, specs, overrides, info=info) as reader:
        bar = progress("Reading", reader.total_rows)
        tables: list[RawTable] = []
        try:
            for table in reader.chunks():
                tables.append(table)
                bar.update(len(table.frame))
        finally:
            bar.close()
        if not tables:
            return reader.empty()
        frame = pd.concat([table.frame for table in tables], ignore_index=True)
        return replace(tables[0], frame=frame)


def find_header(
    rows: Sequence[Sequence[str]],
    specs: Sequence[ColumnSpec],
    overrides: Mapping[str, str] | None = None,
) -> int:
    """The index of the header among the first rows; the first non-empty row if none fits."""
    best, best_score = None, (0, 0)
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        score = header_score(cells, specs, overrides)
        if score > best_score:
            best, best_score = index, score
    if best is not None:
        return best
    return next((i for i, cells in enumerate(rows) if any(c.strip() for c in cells)), 0)


def _open_csv(
    path: Path,
    info: FileInfo,
    specs: Sequence[ColumnSpec],
    overrides: Mapping[str, str] | None,
    chunk_rows: int,
) -> TableReader:
    encoding = info.encoding or "utf-8-sig"
    terminator = info.line_terminator
    with path.open(encoding=encoding, errors="replace", newline="") as stream:
        sample = stream.read(_SAMPLE_CHARS)
    separator = sniff_separator(sample)
    lines = sample.split(terminator)
    if len(lines) > 1:
        lines = lines[:-1]  # the sample may cut the last line in half
    rows = [_split_line(line, separator) for line in lines[:HEADER_SEARCH_ROWS]]
    index = find_header(rows, specs, overrides)
    header = rows[index] if rows else []
    positions = resolve_columns(header, specs, overrides)
    first_row = index + 2  # the spreadsheet row of the first data row

    def chunks() -> Iterator[pd.DataFrame]:
        wanted = sorted(positions.values())
        by_position = {position: name for name, position in positions.items()}
        try:
            with pd.read_csv(
                path,
                sep=separator,
                encoding=encoding,
                header=None,
                skiprows=index + 1,
                # all columns and one more, not usecols: a row with more fields than the
                # header (an unquoted separator inside a name) must fail, not shift values;
                # the spare column takes the empty field of a trailing separator
                names=range(len(header) + 1),
                index_col=False,
                # plain Python strings: pandas' own string dtype costs more per cell
                dtype=object,
                keep_default_na=False,
                na_filter=False,
                # blank lines stay as empty rows so row numbers match what a spreadsheet shows
                skip_blank_lines=False,
                # only the file's own line ends end a row: a stray CR stays in its cell,
                # where it is reported, instead of silently splitting the row in two
                lineterminator=terminator,
                chunksize=chunk_rows,
            ) as reader:
                for chunk in reader:
                    spare = chunk[len(header)]
                    overfull = spare.astype(bool).to_numpy()
                    if overfull.any():
                        row = int(chunk.index[overfull][0]) + first_row
                        raise MalformedFileError(_too_many_fields(row, len(header), separator))
                    frame = chunk[wanted].rename(columns=by_position)
                    frame.insert(0, "row", chunk.index.to_numpy() + first_row)
                    yield frame
        except pd.errors.ParserError as error:
            explained = _explain_parser_error(error, separator, len(header))
            raise MalformedFileError(explained) from error
        except (UnicodeDecodeError, ValueError) as error:
            raise MalformedFileError(f"cannot read the CSV file: {error}") from error

    return TableReader(
        headers=header,
        positions=positions,
        header_row=index + 1,
        rows=chunks(),
        total_rows=max(info.lines - index - 1, 0),
        separator=separator,
        encoding=encoding,
        check_controls=info.check_controls,
    )


def _split_line(line: str, separator: str) -> list[str]:
    try:
        cells = next(csv.reader([line], delimiter=separator), [])
    except csv.Error:
        cells = line.split(separator)
    return [cell.strip() for cell in cells]


def _too_many_fields(row: int, expected: int, separator: str) -> str:
    shown = {"\t": "tab"}.get(separator, separator)
    return (
        f"cannot read the CSV file: row {row} has more fields than the {expected} of the "
        f"header; a value probably contains the separator '{shown}' without quotes"
    )


def _explain_parser_error(error: Exception, separator: str, expected: int) -> str:
    found = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
    if found is None:
        return f"cannot read the CSV file: {error}"
    _, line, saw = found.groups()
    shown = {"\t": "tab"}.get(separator, separator)
    return (
        f"cannot read the CSV file: line {line} has {saw} fields but the header has {expected}; "
        f"a value probably contains the separator '{shown}' without quotes"
    )


def _open_xlsx(
    path: Path,
    specs: Sequence[ColumnSpec],
    overrides: Mapping[str, str] | None,
    chunk_rows: int,
) -> TableReader:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as error:
        raise MalformedFileError(f"cannot read the Excel file: {error}") from error
    try:
        sheet = workbook.worksheets[0]
        total = sheet.max_row
        # some generators write a wrong sheet size; read what is really there
        sheet.reset_dimensions()
        values = sheet.iter_rows(values_only=True)
        top = [list(row) for row in islice(values, HEADER_SEARCH_ROWS)]
        merged = _merged_ranges(sheet, len(top))
        texts = _fill_merged(top, merged)
        index = find_header(texts, specs, overrides)
        header = _disambiguate(texts, index, merged) if texts else []
        positions = resolve_columns(header, specs, overrides)
    except BaseException:
        workbook.close()
        raise
    rest = chain(top[index + 1 :], values)

    def chunks() -> Iterator[pd.DataFrame]:
        names = list(positions)
        data: dict[str, list[str]] = {name: [] for name in names}
        numbers: list[int] = []
        for number, row in enumerate(rest, start=index + 2):
            cells = [_cell_text(row[i]) if i < len(row) else "" for i in positions.values()]
            if any(cells):
                numbers.append(number)
                for name, text in zip(names, cells, strict=True):
                    data[name].append(text)
                if len(numbers) >= chunk_rows:
                    yield _frame(numbers, data)
                    numbers, data = [], {name: [] for name in names}
        if numbers:
            yield _frame(numbers, data)

    return TableReader(
        headers=header,
        positions=positions,
        header_row=index + 1,
        rows=chunks(),
        total_rows=(total - index - 1) if total else None,
        close=workbook.close,
    )


def _frame(numbers: list[int], data: Mapping[str, list[str]]) -> pd.DataFrame:
    frame = pd.DataFrame({"row": pd.Series(numbers, dtype="int64")})
    for name, values in data.items():
        frame[name] = pd.Series(values, dtype=object)
    return frame


_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\s[^>]*?ref="([A-Z]+\d+(?::[A-Z]+\d+)?)"')


def _merged_ranges(sheet: Any, rows: int) -> list[CellRange]:
    """The merged ranges that touch the first `rows` rows.

    The read-only worksheet does not parse merges (they follow the cell data in the
    sheet's XML), so they are found by a scan of the raw XML, without building it.
    """
    source = getattr(sheet, "_get_source", None)
    if source is None:
        return []
    found: list[CellRange] = []
    tail = b""
    with source() as stream:
        while block := stream.read(_HASH_BLOCK):
            data = tail + block
            for match in _MERGE_CELL.finditer(data):
                cell_range = CellRange(match.group(1).decode("ascii"))
                if cell_range.min_row <= rows:
                    found.append(cell_range)
            # keep a tag cut at the block's end for the next round; whole tags are done
            cut = data.rfind(b"<")
            tail = data[cut:] if cut >= 0 and b">" not in data[cut:] else b""
    return list({str(r): r for r in found}.values())


def _fill_merged(rows: list[list[Any]], merged: Sequence[CellRange]) -> list[list[str]]:
    """The first rows as text; a merged cell's text fills the rows it spans.

    Across columns only the leftmost keeps it: "Сумма" over two columns is one
    column's header, and the other must not pretend to be a second "Сумма".
    """
    width = max((len(row) for row in rows), default=0)
    width = max([width, *(r.max_col for r in merged)])
    texts = [[_cell_text(v) for v in row] + [""] * (width - len(row)) for row in rows]
    for cell_range in merged:
        value = (
            _cell_text(rows[cell_range.min_row - 1][cell_range.min_col - 1])
            if (cell_range.min_col <= len(rows[cell_range.min_row - 1]))
            else ""
        )
        for row in range(cell_range.min_row, min(cell_range.max_row, len(texts)) + 1):
            texts[row - 1][cell_range.min_col - 1] = value
    return texts


def _disambiguate(texts: list[list[str]], index: int, merged: Sequence[CellRange]) -> list[str]:
    """The header row; repeated names under different group headers get the group's name.

    "Продажи / Сумма" and "Возвраты / Сумма" (two header rows, the upper merged across
    columns) become "Продажи Сумма" and "Возвраты Сумма" rather than a collision.
    """
    header = list(texts[index])
    if index == 0:
        return header
    groups: dict[int, str] = {}
    for cell_range in merged:
        if cell_range.min_row == index and cell_range.max_row == index:  # the row above
            label = texts[index - 1][cell_range.min_col - 1]
            for column in range(cell_range.min_col, cell_range.max_col + 1):
                groups[column - 1] = label
    seen = [normalize_header(cell) for cell in header]
    for column, cell in enumerate(header):
        if cell and seen.count(seen[column]) > 1 and groups.get(column):
            header[column] = f"{groups[column]} {cell}"
    return header


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
    stripped = [value.strip() if isinstance(value, str) else "" for value in values.tolist()]
    return pd.Series(stripped, index=values.index, dtype=object)


def _tidy(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    for column in columns:
        values = _strip(frame[column])
        quoted = values.str.startswith(_NEUTRALIZED)
        if quoted.any():
            # the apostrophe an export put before "=..." (so no spreadsheet runs it) is
            # not part of the value: "'+7 916 ..." is the phone "+7 916 ..."
            values[quoted] = values[quoted].str.slice(1)
        frame[column] = values
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


def parse_amounts(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Money written "12 345,50", "-1 200,00", "1200.5", "1,234.50" as whole cents.

    Returns the cents (Int64, <NA> when not a number or too large) and a mask of the
    values that are numbers too large for the database's Numeric(16, 2). Rounded
    half up to the cent. Vectorised: a million amounts take a fraction of a second.
    """
    text = values.astype(object)
    present = "".join(text.tolist())
    for noise in (*_NUMBER_NOISE, "−"):
        if noise in present:
            text = text.str.replace(noise, "-" if noise == "−" else "", regex=False)
    if "," in present:
        if "." in present:
            both = text.str.contains(",", regex=False) & text.str.contains(".", regex=False)
            if both.any():
                text = text.copy()
                text[both] = [_drop_thousands_separator(t) for t in text[both].tolist()]
        text = text.str.replace(",", ".", regex=False)
    well_formed = text.str.fullmatch(_NUMBER.pattern).fillna(False).astype(bool)
    numbers = pd.to_numeric(text.where(well_formed), errors="coerce").to_numpy(dtype="float64")
    scaled = numbers * 100
    cents = np.round(scaled)
    # Below 10^12 a float is within a fiftieth of a cent of the number written, so when it
    # is that close to whole cents those are the cents; anything else (little of it: more
    # than two decimals, or huge) takes the slow, exact Decimal road.
    with np.errstate(invalid="ignore"):
        fast = (np.abs(numbers) < _FLOAT_EXACT_BELOW) & (np.abs(scaled - cents) < _FLOAT_SLACK)
    result = pd.array(np.where(fast, cents, 0).astype("int64"), dtype="Int64")
    result[~fast] = pd.NA
    too_large = np.zeros(len(text), dtype=bool)
    slow = np.flatnonzero(~fast & ~np.isnan(numbers))
    if len(slow):
        texts = text.tolist()
        exact = [_to_cents(texts[i]) for i in slow]
        big = np.array([c is not None and abs(c) >= MAX_CENTS for c in exact], dtype=bool)
        too_large[slow[big]] = True
        small = [None if c is None or abs(c) >= MAX_CENTS else c for c in exact]
        result[slow] = pd.array(small, dtype="Int64")
    return pd.Series(result, index=values.index), pd.Series(too_large, index=values.index)


def parse_amount_cents(values: pd.Series) -> pd.Series:
    """The cents of `parse_amounts`: <NA> when not a number or too large."""
    return parse_amounts(values)[0]


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


def _map_unique(
    values: pd.Series, function: Callable[[str], Any], cache: dict[str, Any] | None = None
) -> pd.Series:
    """Apply a Python function once per distinct value: 1M rows hold ~50k client names.

    With `cache`, values seen in earlier chunks of the same file are not mapped again.
    """
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    mapped = np.empty(len(uniques), dtype=object)
    if cache is None:
        mapped[:] = [function(value) for value in uniques]
    else:
        mapped[:] = [
            cache[value] if value in cache else cache.setdefault(value, function(value))
            for value in uniques
        ]
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

    def controls(self, frame: pd.DataFrame, columns: Sequence[str]) -> None:
        """NUL bytes (PostgreSQL refuses them) and stray CRs (a row broken in two)."""
        for column in columns:
            if column not in frame:
                continue
            values = frame[column]
            nul = values.str.contains("\x00", regex=False)
            self.add(nul, column, ErrorCode.NUL_BYTE, values.str.replace("\x00", "\\0"))
            cr = values.str.contains(_BARE_CR)
            self.add(cr & ~nul, column, ErrorCode.BARE_CR, values.str.replace("\r", "\\r"))

    def bad_rows(self) -> set[int]:
        return {error.row for error in self.items}

    def sorted(self) -> tuple[RowError, ...]:
        return tuple(sorted(self.items, key=lambda e: (e.row, self._order.get(e.column, 99))))


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in frame:
        return frame[column]
    return pd.Series("", index=frame.index, dtype=object)


def totals_rows(table: RawTable, candidates: pd.Series) -> pd.Series:
    """Rows like "Итого: 1 234 567,00" that reports add at the end (or per group).

    A totals row is one whose first filled cell, left to right, starts with Итого,
    Всего or Total; only `candidates` (rows lacking what a real row has) are looked at.
    """
    result = pd.Series(False, index=table.frame.index)
    if not candidates.any():
        return result
    subset = table.frame[candidates]
    label = pd.Series("", index=subset.index, dtype=object)
    for column in table.order or [c for c in subset.columns if c != "row"]:
        if column in subset:
            label = label.where(label != "", subset[column])
    result[candidates] = label.str.contains(_TOTALS).fillna(False).astype(bool)
    return result


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
    rows_read: int  # rows of data; totals rows are not counted
    columns: Mapping[str, str]  # canonical name -> header read
    totals: tuple[int, ...] = ()  # rows of totals ("Итого"), skipped


def _rows(frame: pd.DataFrame, mask: pd.Series) -> tuple[int, ...]:
    return tuple(int(row) for row in frame.loc[mask, "row"].tolist())


def validate_clients(table: RawTable, managers: ManagerDirectory) -> ParsedClients:
    """Check and convert client rows: name, tax id, phones, e-mail, VIP flag, manager, tags."""
    frame = table.frame
    # 1C writes "Итого" into the first column, often the code's: only a tax id rules it out
    totals = totals_rows(table, _text(frame, "tax_id") == "")
    frame = frame[~totals]
    errors = _Errors(frame, ["row", *(spec.name for spec in CLIENT_COLUMNS)])
    if table.check_controls:
        errors.controls(frame, list(table.columns))
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
    return ParsedClients(
        valid, errors.sorted(), len(frame), dict(table.columns), _rows(table.frame, totals)
    )


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
    rows_read: int  # rows of data; totals rows are not counted
    columns: Mapping[str, str]  # canonical name -> header read
    totals: tuple[int, ...] = ()  # rows of totals ("Итого"), skipped


def validate_transactions(
    table: RawTable,
    *,
    today: date | None = None,
    max_future_days: int = DEFAULT_MAX_FUTURE_DAYS,
    names: dict[str, str] | None = None,
) -> ParsedTransactions:
    """Check and convert sales rows: client, date, amount, currency and text lengths.

    With `today`, a date more than `max_future_days` after it is rejected: a sale
    dated next year is a typo, and it would sit in every report as "the last purchase".
    `names` caches normalized client names from one chunk of a file to the next.
    """
    frame = table.frame
    totals = totals_rows(table, _text(frame, "date") == "")
    frame = frame[~totals]
    errors = _Errors(frame, ["row", *(spec.name for spec in TRANSACTION_COLUMNS)])
    if table.check_controls:
        errors.controls(frame, list(table.columns))
    out = pd.DataFrame({"row": frame["row"]})

    client = _text(frame, "client")
    external_id = _text(frame, "client_external_id")
    tax_raw = _text(frame, "client_tax_id")
    out["client"] = client
    out["client_name_normalized"] = _map_unique(client, normalize_name, names)
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
    if today is not None:
        horizon = pd.Timestamp(today + timedelta(days=max_future_days))
        detail = f"later than {max_future_days} day(s) after {today.isoformat()}"
        future = out["date"] > horizon
        errors.add(future, "date", ErrorCode.FUTURE_DATE, date_raw, detail)

    amount_raw = _text(frame, "amount")
    out["amount_cents"], too_large = parse_amounts(amount_raw)
    errors.add(amount_raw == "", "amount", ErrorCode.EMPTY_AMOUNT, amount_raw)
    bad_amount = (amount_raw != "") & out["amount_cents"].isna() & ~too_large
    errors.add(bad_amount, "amount", ErrorCode.BAD_AMOUNT, amount_raw)
    errors.add(too_large, "amount", ErrorCode.AMOUNT_TOO_LARGE, amount_raw)

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
    return ParsedTransactions(
        valid, errors.sorted(), len(frame), dict(table.columns), _rows(table.frame, totals)
    )


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
