"""What can be wrong with an imported file: per-row errors and whole-file failures.

Every problem carries a stable code so the bot can translate it later; the English
text here is what the command line prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from services.errors import DomainError


class ErrorCode(StrEnum):
    EMPTY_NAME = "empty_name"
    EMPTY_CLIENT = "empty_client"
    EMPTY_DATE = "empty_date"
    BAD_DATE = "bad_date"
    EMPTY_AMOUNT = "empty_amount"
    BAD_AMOUNT = "bad_amount"
    AMOUNT_TOO_LARGE = "amount_too_large"
    FUTURE_DATE = "future_date"
    NUL_BYTE = "nul_byte"
    BARE_CR = "bare_cr"
    BAD_CURRENCY = "bad_currency"
    BAD_TAX_ID = "bad_tax_id"
    BAD_EMAIL = "bad_email"
    BAD_PHONE = "bad_phone"
    BAD_FLAG = "bad_flag"
    TOO_LONG = "too_long"
    UNKNOWN_MANAGER = "unknown_manager"
    AMBIGUOUS_MANAGER = "ambiguous_manager"
    UNKNOWN_CLIENT = "unknown_client"
    AMBIGUOUS_CLIENT = "ambiguous_client"
    DUPLICATE_IN_FILE = "duplicate_in_file"


MESSAGES: dict[str, str] = {
    ErrorCode.EMPTY_NAME: "the client name is empty",
    ErrorCode.EMPTY_CLIENT: "no client given (name, code or tax id)",
    ErrorCode.EMPTY_DATE: "the date is empty",
    ErrorCode.BAD_DATE: "not a valid date (expected dd.mm.yyyy, dd.mm.yy or yyyy-mm-dd)",
    ErrorCode.EMPTY_AMOUNT: "the amount is empty",
    ErrorCode.BAD_AMOUNT: "not a number",
    ErrorCode.AMOUNT_TOO_LARGE: "too large: at most 14 digits before the decimal point",
    ErrorCode.FUTURE_DATE: "the date is in the future",
    ErrorCode.NUL_BYTE: "contains a NUL byte (\\0); the export is damaged",
    ErrorCode.BARE_CR: "contains a bare line break (CR) inside the value",
    ErrorCode.BAD_CURRENCY: "unknown currency (expected a 3-letter code such as RUB)",
    ErrorCode.BAD_TAX_ID: "a tax id (ИНН) has 10 or 12 digits",
    ErrorCode.BAD_EMAIL: "not a valid e-mail address",
    ErrorCode.BAD_PHONE: "not a valid phone number",
    ErrorCode.BAD_FLAG: "expected yes/no (да/нет, 1/0)",
    ErrorCode.TOO_LONG: "too long",
    ErrorCode.UNKNOWN_MANAGER: "no user with this name; add the manager first",
    ErrorCode.AMBIGUOUS_MANAGER: "several users have this name",
    ErrorCode.UNKNOWN_CLIENT: "no such client; import clients first or use --create-clients",
    ErrorCode.AMBIGUOUS_CLIENT: "several clients match; add a client code or tax id column",
    ErrorCode.DUPLICATE_IN_FILE: "duplicate within the file",
}


@dataclass(frozen=True)
class RowError:
    """One problem in one cell; `row` is the row number a spreadsheet shows (header = 1)."""

    row: int
    column: str
    code: str
    value: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        # plain strings, so reports compare, print and serialise the same whatever built them
        object.__setattr__(self, "code", str(self.code))

    @property
    def message(self) -> str:
        text = MESSAGES.get(self.code, self.code)
        return f"{text} ({self.detail})" if self.detail else text

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "value": self.value,
            "detail": self.detail,
        }


class ImportFileError(DomainError):
    """The file as a whole cannot be imported; nothing is written."""

    code: ClassVar[str] = "import_bad_file"


class UnsupportedFileError(ImportFileError):
    code: ClassVar[str] = "import_unsupported_file"


class MalformedFileError(ImportFileError):
    code: ClassVar[str] = "import_malformed_file"


class MixedEncodingError(MalformedFileError):
    """Some lines are UTF-8 and others are not: decoding either way would garble some rows."""

    code: ClassVar[str] = "import_mixed_encoding"


class DuplicateHeadersError(ImportFileError):
    """Two columns of the file carry the same header, so it is unclear which one to read."""

    code: ClassVar[str] = "import_duplicate_headers"

    def __init__(self, collisions: Sequence[tuple[str, Sequence[str]]]) -> None:
        described = "; ".join(
            f'"{header}" in columns {", ".join(letters[:-1])} and {letters[-1]}'
            for header, letters in collisions
        )
        super().__init__(
            f"duplicate headers: {described}. Rename one of them so it is clear which to read.",
            headers=", ".join(f'"{header}"' for header, _ in collisions),
        )
        self.collisions = tuple((header, tuple(letters)) for header, letters in collisions)


class ColumnMapError(ImportFileError):
    """A `--map column=header` override names an unknown column or a missing header."""

    code: ClassVar[str] = "import_bad_column_map"


class MissingColumnsError(ImportFileError):
    code: ClassVar[str] = "import_missing_columns"

    def __init__(self, missing: Sequence[str], found: Sequence[str], hints: dict[str, str]) -> None:
        wanted = ", ".join(f"{column} ({hints[column]})" for column in missing)
        headers = ", ".join(f'"{header}"' for header in found) or "none"
        super().__init__(
            f"missing required column(s): {wanted}. Headers found: {headers}. "
            f'Name the column with --map {missing[0]}="<header>".',
            missing=", ".join(missing),
            found=headers,
        )
        self.missing = tuple(missing)
        self.found = tuple(found)
