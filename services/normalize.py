"""Canonical forms of names, phones and tax ids, shared by the importer and client search.

Both sides must normalize the same way, or a client imported from a spreadsheet
is not found when a manager types its name or phone in the bot.
"""

from __future__ import annotations

import re

# Quotes as they appear in 1C and Word exports: «Ромашка», "Ромашка", „Ромашка“, 'Ромашка'.
_QUOTES = str.maketrans("", "", "«»\"'„“”‘’‚`")
_WHITESPACE = re.compile(r"\s+")
_PHONE_SEPARATORS = re.compile(r"[,;/\n]")
_NON_DIGITS = re.compile(r"\D")
# "8 495 123-45-67 доб. 12": the extension is dialled after connecting, it is not the number
_EXTENSION = re.compile(r"(?:доб|ext|вн\.|#)", re.IGNORECASE)
_TAX_ID_LENGTHS = (10, 12)
# Shorter than this is a local extension or a typo, not a number one can dial.
_MIN_PHONE_DIGITS = 10
# E.164 allows at most 15 digits; longer strings are two numbers glued together.
_MAX_PHONE_DIGITS = 15


def normalize_name(text: str | None) -> str:
    """Casefold, ё→е, drop quotes and collapse whitespace: the key clients are matched by."""
    if not text:
        return ""
    folded = text.casefold().replace("ё", "е").translate(_QUOTES)
    return _WHITESPACE.sub(" ", folded).strip()


def normalize_phone(text: str | None) -> str | None:
    """Digits only; Russian numbers as 7XXXXXXXXXX; None when it cannot be a phone number."""
    if not text:
        return None
    stripped = _EXTENSION.split(text, maxsplit=1)[0].strip()
    digits = _NON_DIGITS.sub("", stripped)
    if not stripped.startswith("+"):
        if len(digits) == 11 and digits[0] == "8":
            # 8 is the Russian trunk prefix: 8 916 ... is the same number as +7 916 ...
            digits = "7" + digits[1:]
        elif len(digits) == 10:
            digits = "7" + digits
    if not _MIN_PHONE_DIGITS <= len(digits) <= _MAX_PHONE_DIGITS:
        return None
    return digits


def split_phones(text: str | None) -> list[str]:
    """The separate numbers of a cell like "8 916 123-45-67, +7 495 000-00-00" (not normalized)."""
    if not text:
        return []
    return [part.strip() for part in _PHONE_SEPARATORS.split(text) if part.strip()]


def normalize_phones(text: str | None) -> list[str]:
    """Every valid number of a cell, normalized, without repeats, in the order written."""
    seen: dict[str, None] = {}
    for part in split_phones(text):
        phone = normalize_phone(part)
        if phone is not None:
            seen.setdefault(phone, None)
    return list(seen)


def normalize_tax_id(text: str | None) -> str | None:
    """A Russian tax id (ИНН): 10 digits for companies, 12 for people; None otherwise.

    Spaces and dashes are tolerated because people group the digits when typing.
    """
    if not text:
        return None
    compact = re.sub(r"[\s\u00a0\-]", "", text)
    if not compact.isascii() or not compact.isdigit() or len(compact) not in _TAX_ID_LENGTHS:
        return None
    return compact


_TAX_ID_WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_TAX_ID_WEIGHTS_12_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_TAX_ID_WEIGHTS_12_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def tax_id_checksum_ok(tax_id: str) -> bool:
    """The ИНН check digits: one for a company's 10 digits, two for a person's 12."""
    if not (tax_id.isascii() and tax_id.isdigit()) or len(tax_id) not in _TAX_ID_LENGTHS:
        return False
    digits = [int(ch) for ch in tax_id]

    def check(weights: tuple[int, ...]) -> int:
        return sum(w * d for w, d in zip(weights, digits, strict=False)) % 11 % 10

    if len(digits) == 10:
        return check(_TAX_ID_WEIGHTS_10) == digits[9]
    return check(_TAX_ID_WEIGHTS_12_1) == digits[10] and check(_TAX_ID_WEIGHTS_12_2) == digits[11]
