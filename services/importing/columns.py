"""Which spreadsheet header means which field: synonyms in Russian and English, and overrides."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openpyxl.utils import get_column_letter

from services.importing.errors import ColumnMapError, DuplicateHeadersError, MissingColumnsError


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    synonyms: tuple[str, ...]
    required: bool = False


CLIENT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(
        "external_id",
        (
            "external id",
            "код",
            "id",
            "код клиента",
            "код контрагента",
            "внешний код",
            "ид",
            # what `crmbot analyze` writes: the client's key in the file
            "client id",
            "client code",
            "client external id",
        ),
    ),
    ColumnSpec(
        "name",
        ("клиент", "контрагент", "наименование", "name", "название", "client", "customer"),
        required=True,
    ),
    ColumnSpec("company", ("компания", "организация", "company", "organization")),
    ColumnSpec("tax_id", ("инн", "tax id", "inn", "taxid")),
    ColumnSpec("phones", ("телефон", "телефоны", "phone", "phones", "тел", "telephone")),
    ColumnSpec("email", ("email", "e-mail", "почта", "эл почта", "электронная почта", "mail")),
    ColumnSpec("city", ("город", "city")),
    ColumnSpec("manager", ("менеджер", "ответственный", "manager", "owner")),
    ColumnSpec("is_vip", ("vip", "вип")),
    ColumnSpec("vip_reason", ("причина vip", "vip reason", "причина вип")),
    ColumnSpec("tags", ("теги", "tags", "метки", "тэги")),
)

TRANSACTION_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(
        "client",
        ("клиент", "контрагент", "client", "customer", "покупатель", "наименование клиента"),
        required=True,
    ),
    ColumnSpec(
        "client_external_id",
        (
            "код клиента",
            "код контрагента",
            "client id",
            "client code",
            "client external id",
            "external id",
            "код",
        ),
    ),
    ColumnSpec("client_tax_id", ("инн", "инн клиента", "инн контрагента", "tax id", "inn")),
    ColumnSpec("date", ("дата", "date", "дата документа", "дата продажи"), required=True),
    ColumnSpec("amount", ("сумма", "amount", "сумма продажи", "сумма документа", "total"), True),
    ColumnSpec(
        "order_number",
        (
            "номер документа",
            "номер",
            "документ",
            "order",
            "document",
            "номер заказа",
            "заказ",
            "order number",
            "document number",
        ),
    ),
    ColumnSpec(
        "category",
        ("категория", "номенклатурная группа", "category", "группа товаров", "группа"),
    ),
    ColumnSpec("currency", ("валюта", "currency")),
)

_SPACES = re.compile(r"\s+")


def normalize_header(header: object) -> str:
    """Compare headers case- and ё-insensitively; 1C writes "№ документа" for "Номер документа"."""
    text = str(header if header is not None else "").casefold().replace("ё", "е")
    text = text.replace("№", " номер ").replace("_", " ").replace(".", " ")
    return _SPACES.sub(" ", text).strip(" :*")


def match_columns(
    headers: Sequence[str],
    specs: Sequence[ColumnSpec],
    overrides: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Map canonical column names to header positions, as far as the headers allow.

    An override (`--map amount="Сумма с НДС"`) wins and takes its header out of the
    automatic matching; otherwise the earliest synonym in the spec wins, so a file
    with both "Номер документа" and "Номер" reads the former. Overrides naming a
    header that is not there are left out (`resolve_columns` reports them).
    """
    normalized = [normalize_header(header) for header in headers]
    positions: dict[str, int] = {}
    for column, header in (overrides or {}).items():
        wanted = normalize_header(header)
        if wanted in normalized:
            positions[column] = normalized.index(wanted)
    taken = set(positions.values())
    for spec in specs:
        if spec.name in positions:
            continue
        for synonym in spec.synonyms:
            index = next(
                (i for i, h in enumerate(normalized) if h == synonym and i not in taken), None
            )
            if index is not None:
                positions[spec.name] = index
                taken.add(index)
                break
    return positions


def header_score(
    headers: Sequence[str],
    specs: Sequence[ColumnSpec],
    overrides: Mapping[str, str] | None = None,
) -> tuple[int, int]:
    """How much a row looks like the header: (required columns found, columns found)."""
    positions = match_columns(headers, specs, overrides)
    required = sum(1 for spec in specs if spec.required and spec.name in positions)
    return required, len(positions)


def resolve_columns(
    headers: Sequence[str],
    specs: Sequence[ColumnSpec],
    overrides: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Map canonical column names to header positions; raise if the file cannot be read.

    Raises `ColumnMapError` for a bad override, `DuplicateHeadersError` when a column
    to read has the same header as another column, `MissingColumnsError` when a
    required column is not found.
    """
    by_name = {spec.name: spec for spec in specs}
    normalized = [normalize_header(header) for header in headers]
    found = [header for header in headers if str(header).strip()]
    for column, header in (overrides or {}).items():
        if column not in by_name:
            raise ColumnMapError(
                f'unknown column "{column}" in --map; known columns: {", ".join(by_name)}'
            )
        if normalize_header(header) not in normalized:
            listed = ", ".join(f'"{h}"' for h in found) or "none"
            raise ColumnMapError(
                f'--map {column}="{header}": no such header. Headers found: {listed}'
            )
    positions = match_columns(headers, specs, overrides)
    # Only the columns to be read matter: two unused "Примечание" columns harm nobody.
    collisions: list[tuple[str, list[str]]] = []
    for name in dict.fromkeys(normalized[position] for position in sorted(positions.values())):
        same = [i for i, h in enumerate(normalized) if h == name]
        if len(same) > 1:
            letters = [get_column_letter(i + 1) for i in same]
            collisions.append((str(headers[same[0]]).strip(), letters))
    if collisions:
        raise DuplicateHeadersError(collisions)
    missing = [spec.name for spec in specs if spec.required and spec.name not in positions]
    if missing:
        hints = {spec.name: "/".join(spec.synonyms[:3]) for spec in specs}
        raise MissingColumnsError(missing, found, hints)
    return positions
