"""Exporting the client base to CSV or XLSX: one row per client with its segment.

`export_clients` runs the query and builds the rows (a unit of work and an optional
owner: a manager's own clients, or the whole base); a writer turns them into a
file. Rows stream from the database in batches, so the base's size does not
decide the memory. The headers are ones `import_clients` recognises, so an
exported file imports back unchanged.

Text a spreadsheet would take for a formula (starting with = + - @, a tab or a CR)
is prefixed with an apostrophe in both formats (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, Any, ClassVar, Protocol

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy import Select, func, select

from services.db.models import Client, ClientSegment, User
from services.errors import DomainError
from services.uow import UnitOfWork

EXPORT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "name",
    "company",
    "tax_id",
    "phones",
    "email",
    "city",
    "owner",
    "is_vip",
    "vip_reason",
    "tags",
    "segment",
    "status",
    "p_alive",
    "next_contact",
    "revenue_12m",
)
BATCH_ROWS = 5_000
# Excel's limit is 1,048,576 rows, the header included
XLSX_MAX_ROWS = 1_048_575
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | Decimal | date | None


class ExportTooLarge(DomainError):
    code: ClassVar[str] = "export_too_large"


@dataclass(frozen=True)
class ExportSummary:
    rows: int
    segments_as_of: date | None  # the newest segmentation the rows show


class ExportWriter(Protocol):
    """Where the rows go; `max_rows` is the format's limit (None: none)."""

    max_rows: int | None

    def header(self, labels: Sequence[str]) -> None: ...

    def rows(self, rows: Sequence[Sequence[Cell]]) -> None: ...

    def close(self) -> None: ...


def neutralize(text: str) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def latest_segments() -> Any:
    """Each client's current segment state, as a subquery (client_id, segment, ...)."""
    return select(
        ClientSegment.client_id,
        ClientSegment.as_of,
        ClientSegment.segment,
        ClientSegment.status,
        ClientSegment.p_alive,
        ClientSegment.revenue,
    ).subquery("latest_segment")


def _query(owner_id: int | None) -> Select[*tuple[Any, ...]]:
    segment = latest_segments()
    query: Select[*tuple[Any, ...]] = (
        select(
            Client.id,
            Client.external_id,
            Client.name,
            Client.company,
            Client.tax_id,
            Client.phones,
            Client.email,
            Client.city,
            User.display_name,
            Client.is_vip,
            Client.vip_reason,
            Client.tags,
            segment.c.segment,
            segment.c.status,
            segment.c.p_alive,
            Client.next_due_on,
            segment.c.revenue,
            segment.c.as_of,
        )
        .select_from(Client)
        .outerjoin(User, User.id == Client.owner_id)
        .outerjoin(segment, segment.c.client_id == Client.id)
        .order_by(Client.name_normalized, Client.id)
    )
    if owner_id is not None:
        query = query.where(Client.owner_id == owner_id)
    return query


@dataclass(frozen=True)
class ExportLabels:
    """The words of the sheet in the reader's language (built by `ui.texts.export`)."""

    columns: dict[str, str]  # EXPORT_COLUMNS -> header
    statuses: dict[str, str]  # lifecycle status -> its name
    yes: str
    no: str


async def export_clients(
    uow: UnitOfWork,
    writer: ExportWriter,
    *,
    labels: ExportLabels,
    owner_id: int | None = None,
) -> ExportSummary:
    """Write every client (or `owner_id`'s clients) with segment, status, P(alive) and more.

    Raises `ExportTooLarge` before writing anything when the format cannot hold the rows.
    """
    flags = {True: labels.yes, False: labels.no}
    written = 0
    as_of: date | None = None
    async with uow:
        count_query = select(func.count()).select_from(Client)
        if owner_id is not None:
            count_query = count_query.where(Client.owner_id == owner_id)
        total = int((await uow.session.execute(count_query)).scalar_one())
        if writer.max_rows is not None and total > writer.max_rows:
            raise ExportTooLarge(
                f"{total} clients do not fit into {writer.max_rows} rows; export to CSV instead",
                rows=total,
                limit=writer.max_rows,
            )
        writer.header([labels.columns[column] for column in EXPORT_COLUMNS])
        result = await uow.session.stream(_query(owner_id).execution_options(yield_per=BATCH_ROWS))
        async for batch in result.partitions(BATCH_ROWS):
            rows: list[list[Cell]] = []
            for row in batch:
                (_, external_id, name, company, tax_id, phones, email, city, owner) = row[:9]
                (is_vip, vip_reason, tags, segment, status, p_alive, due, revenue) = row[9:17]
                snapshot_as_of: date | None = row[17]
                if snapshot_as_of is not None and (as_of is None or snapshot_as_of > as_of):
                    as_of = snapshot_as_of
                rows.append(
                    [
                        external_id,
                        name,
                        company,
                        tax_id,
                        phones,
                        email,
                        city,
                        owner,
                        flags[bool(is_vip)],
                        vip_reason,
                        ", ".join(str(tag) for tag in tags or ()) or None,
                        segment,
                        labels.statuses.get(status, status) if status else None,
                        None if p_alive is None else round(float(p_alive), 3),
                        due,
                        None if revenue is None else Decimal(revenue).quantize(Decimal("0.01")),
                    ]
                )
            writer.rows(rows)
            written += len(rows)
    writer.close()
    return ExportSummary(written, as_of)


class CsvExportWriter:
    """CSV for Excel with Russian settings: UTF-8 with BOM, ';', decimal comma, dd.mm.yyyy.

    With `decimal_comma=False` (English), a decimal point and ISO dates instead.
    """

    max_rows: int | None = None

    def __init__(self, stream: IO[str], *, decimal_comma: bool = True) -> None:
        # the BOM tells Excel the file is UTF-8; without it Cyrillic turns to mojibake
        stream.write("\ufeff")
        self._writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
        self._decimal_comma = decimal_comma

    def header(self, labels: Sequence[str]) -> None:
        self._writer.writerow([neutralize(label) for label in labels])

    def rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        self._writer.writerows([self._cell(value) for value in row] for row in rows)

    def _cell(self, value: Cell) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return neutralize(value)
        if isinstance(value, date):
            return value.strftime("%d.%m.%Y") if self._decimal_comma else value.isoformat()
        text = str(value)
        return text.replace(".", ",") if self._decimal_comma else text

    def close(self) -> None:
        return None


class XlsxExportWriter:
    """An Excel workbook written row by row (openpyxl's write-only mode): memory stays flat."""

    max_rows: int | None = XLSX_MAX_ROWS

    def __init__(self, stream: IO[bytes], *, sheet_title: str = "Clients") -> None:
        self._stream = stream
        self._workbook = Workbook(write_only=True)
        self._sheet = self._workbook.create_sheet(title=sheet_title[:31])

    def header(self, labels: Sequence[str]) -> None:
        cells = []
        for label in labels:
            cell = self._text(label)
            cell.font = Font(bold=True)
            cells.append(cell)
        self._sheet.append(cells)
        self._sheet.freeze_panes = "A2"

    def rows(self, rows: Sequence[Sequence[Cell]]) -> None:
        for row in rows:
            self._sheet.append([self._cell(value) for value in row])

    def _cell(self, value: Cell) -> Any:
        if isinstance(value, str):
            return self._text(value)
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, date):
            cell = WriteOnlyCell(self._sheet, value=value)
            cell.number_format = "DD.MM.YYYY"
            return cell
        return value

    def _text(self, value: str) -> WriteOnlyCell:
        # control characters make an invalid workbook; an explicit string type keeps even
        # an unprefixed "=..." from being stored as a formula
        cell = WriteOnlyCell(self._sheet, value=neutralize(ILLEGAL_CHARACTERS_RE.sub("", value)))
        cell.data_type = "s"
        return cell

    def close(self) -> None:
        self._workbook.save(self._stream)


def export_owner_for(role: str, user_id: int) -> int | None:
    """Whose clients a person may export: the head and admins the whole base, a manager theirs."""
    return None if role in ("head", "admin") else user_id
