"""How money, dates, times and people's data are written: one formatter for each.

Every separator, month name and currency sign comes from the `format` catalog of the
reader's language, so a Russian and an English reader see the same figures in their own
conventions. Everything a person typed or imported goes through `h` before it is put into
an HTML message.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from zoneinfo import ZoneInfo

from ui.i18n import Translator

NBSP = "\u00a0"
MINUS = "−"
VIP_MARK = "⭐"


def cut(text: str | None, limit: int) -> str:
    """At most `limit` characters on one line, with an ellipsis when something was cut."""
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def h(text: str | None, limit: int = 300) -> str:
    """Escaped (and cut) user data for HTML messages."""
    return escape(cut(text, limit), quote=False)


def format_money(amount: Decimal | float | int, tr: Translator, *, whole: bool = False) -> str:
    """ "1 234 567 ₽" / "₽1,234,567"; kopecks only when there are any, never with `whole`.

    `whole` is for sums read at a glance (pushes, the digest); single amounts (a purchase,
    a year's revenue on the card) keep their kopecks.
    """
    quantum = Decimal(1) if whole else Decimal("0.01")
    rounded = Decimal(str(amount)).quantize(quantum, rounding=ROUND_HALF_UP)
    units = int(abs(rounded))
    cents = int((abs(rounded) - units) * 100)
    digits = f"{units:,}".replace(",", tr("format.thousands"))
    if cents:
        digits += f"{tr('format.decimal')}{cents:02d}"
    sign = MINUS if rounded < 0 else ""
    return tr("format.money", amount=sign + digits)


def _date_fields(day: date, tr: Translator) -> dict[str, object]:
    return {
        "day": day.day,
        "month": day.month,
        "year": day.year,
        "mon": tr(f"format.month_short.m{day.month}"),
    }


def format_date(day: date, tr: Translator) -> str:
    """05.03.2026 / 5 Mar 2026."""
    return tr("format.date", **_date_fields(day, tr))


def format_short_date(day: date, tr: Translator) -> str:
    """05.03 / 5 Mar: buttons and lists, where the year is obvious."""
    return tr("format.short_date", **_date_fields(day, tr))


def format_time(moment: time | datetime) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


def format_moment(moment: datetime, zone: ZoneInfo, tr: Translator) -> str:
    """A UTC moment as the reader's local date and time: 05.03.2026 14:30."""
    local = moment.astimezone(zone)
    return tr("format.date_time", date=format_date(local.date(), tr), time=format_time(local))


def format_range(start: str, end: str, tr: Translator) -> str:
    return tr("format.range", start=start, end=end)


def month_name(month: int, tr: Translator) -> str:
    """The month in the nominative: "март" / "March"."""
    return tr(f"format.month.m{month}")


def weekday_short(weekday: int, tr: Translator) -> str:
    """Пн..Вс / Mo..Su for `date.weekday()`."""
    return tr(f"format.weekday_short.d{weekday}")
