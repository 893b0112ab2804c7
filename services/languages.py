"""The interface languages the product speaks: Russian by default, English second."""

from __future__ import annotations

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"


def normalize_language(code: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Map a Telegram `language_code` such as `en-US` to a supported language."""
    if code:
        short = code.split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return default
