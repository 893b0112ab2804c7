"""Translations: Russian by default, English second.

Catalogs are TOML files in `locales/<lang>/`, one file per area (`common.toml`,
`card.toml`, ...); a file's name is the first part of every key it defines, so
`card.toml` with `[vip] badge = "..."` gives the key `card.vip.badge`.
A plural is a table of forms: `{ one = "...", few = "...", many = "..." }` for
Russian and `{ one = "...", other = "..." }` for English; placeholders use
`str.format` names, and `{n}` is the count.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from services.languages import DEFAULT_LANGUAGE, LANGUAGES, normalize_language

LOCALES_DIR = Path(__file__).parent / "locales"


def plural_form(language: str, n: int) -> str:
    """CLDR plural category for integer `n`."""
    n = abs(n)
    if language == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, Any]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}"
        is_plural = isinstance(value, dict) and set(value) <= {"one", "few", "many", "other"}
        if isinstance(value, dict) and not is_plural:
            _flatten(full, value, out)
        else:
            out[full] = value


@cache
def catalog(language: str) -> dict[str, Any]:
    messages: dict[str, Any] = {}
    for path in sorted((LOCALES_DIR / language).glob("*.toml")):
        with path.open("rb") as file:
            _flatten(path.stem, tomllib.load(file), messages)
    return messages


class Translator:
    """Looks up texts of one language, falling back to Russian, then to the key."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = normalize_language(language)

    def _lookup(self, key: str) -> Any:
        value = catalog(self.language).get(key)
        if value is None:
            value = catalog(DEFAULT_LANGUAGE).get(key)
        return value

    def __call__(self, key: str, /, **params: Any) -> str:
        value = self._lookup(key)
        if value is None:
            return key
        if isinstance(value, dict):
            return self.plural(key, int(params.pop("n", 0)), **params)
        return str(value).format(**params) if params else str(value)

    def plural(self, key: str, n: int, /, **params: Any) -> str:
        """The form of `key` that agrees with `n` ("1 клиент", "3 клиента", "5 клиентов")."""
        value = self._lookup(key)
        if not isinstance(value, dict):
            return key
        form = plural_form(self.language, n)
        text = (
            value.get(form) or value.get("many") or value.get("other") or next(iter(value.values()))
        )
        return str(text).format(n=n, **params)

    def has(self, key: str) -> bool:
        return self._lookup(key) is not None


def all_keys(language: str) -> set[str]:
    return set(catalog(language))


__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Translator",
    "all_keys",
    "catalog",
    "normalize_language",
    "plural_form",
]
