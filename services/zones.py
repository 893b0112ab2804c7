"""Time zones: the one place a stored zone name becomes a `ZoneInfo`."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

DEFAULT_TIMEZONE = "Europe/Moscow"  # the company default unless DEFAULT_TIMEZONE says otherwise


def resolve_zone(name: str | None, default: str | None = None) -> ZoneInfo:
    """A person's zone, else the company's; a broken stored name falls back with a warning."""
    for candidate in (name, default):
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("unknown time zone %r; falling back", candidate)
    return ZoneInfo(DEFAULT_TIMEZONE)
