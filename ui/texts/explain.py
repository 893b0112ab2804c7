"""The figures behind each label as sentences: full lines on the card, one short line per row.

Pure functions of `services.explanations.LabelReasons` (the analysis' own figures, stored
by the recompute) and a translator; nothing here computes a figure the analysis did not.
"""

from __future__ import annotations

from decimal import Decimal

from services.explanations import LabelReasons, NextContactReason
from ui.formatting import NBSP, format_money, format_short_date, h
from ui.i18n import Translator

_DAYS_PER_YEAR = 365.25
_DAYS_PER_MONTH = _DAYS_PER_YEAR / 12


def _number(n: int, tr: Translator) -> str:
    return f"{n:,}".replace(",", tr("format.thousands"))


def _decimal(value: float, tr: Translator, digits: int = 1) -> str:
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(".", tr("format.decimal"))


def percent(share: float, tr: Translator) -> str:
    """0.18 → "18 %"; below 1 % one decimal ("0,4 %"), below 0.1 % "<0,1 %"."""
    value = share * 100
    if 0 < value < 0.1:
        return f"<{_decimal(0.1, tr)}{NBSP}%"
    shown = _decimal(value, tr) if value < 1 else str(round(value))
    return f"{shown}{NBSP}%"


def _ordinal(n: int, tr: Translator) -> str:
    if tr.language != "en":
        return tr("explain.rank", n=_number(n, tr))
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{_number(n, tr)}{suffix}"


def _days(n: int, tr: Translator) -> str:
    return tr.plural("common.days", n)


def period(days: int, tr: Translator) -> str:
    """How long a history is, roughly: "2 года", "8 месяцев", "20 дней"."""
    if days >= 1.5 * _DAYS_PER_YEAR:
        years = round(days / _DAYS_PER_YEAR)
        return tr.plural("explain.years", years)
    if days >= 2 * _DAYS_PER_MONTH:
        months = round(days / _DAYS_PER_MONTH)
        return tr.plural("explain.months", months)
    return _days(max(days, 1), tr)


def segment_reason(r: LabelReasons, tr: Translator) -> str | None:
    """ "18 % выручки (3-й из 2 000); покупал в 11 из 12 месяцев"."""
    if not r.segment or r.revenue_share is None or not r.ranked_clients:
        return None
    rank = _ordinal(r.revenue_rank, tr) if r.revenue_rank else "—"
    return tr(
        "explain.segment",
        share=percent(r.revenue_share, tr),
        rank=rank,
        total=_number(r.ranked_clients, tr),
        months=r.active_months or 0,
        window=tr.plural("explain.months_of", r.window_months or 0),
    )


def status_reason(r: LabelReasons, tr: Translator) -> str | None:
    """ "засыпает: обычно покупает раз в 30 дней, молчит 64 дня"; a lost client: how long ago."""
    if r.status == "potential":
        return tr("explain.status.potential")
    if r.days_silent is None:
        return None
    cycle = _days(round(r.deal_cycle_days or 0), tr)
    if r.status == "new":
        return tr("explain.status.new", days=_days(r.history_days or 0, tr))
    key = f"explain.status.{r.status}"
    return tr(key, cycle=cycle, days=_days(r.days_silent, tr)) if tr.has(key) else None


def risk_reason(r: LabelReasons, tr: Translator) -> str | None:
    """ "вероятность, что ещё покупает, 28 % — по 14 покупкам за 2 года"; none for lost."""
    if r.status in ("lost", "potential"):
        return None
    if r.risk is None or r.p_alive is None or not r.purchases:
        return tr("explain.risk_unknown") if r.purchases == 1 else None
    return tr(
        "explain.risk",
        p=percent(r.p_alive, tr),
        purchases=tr.plural("explain.purchases", r.purchases),
        period=period(r.history_days or 0, tr),
    )


def next_contact_reason(n: NextContactReason, tr: Translator) -> str:
    """ "по графику AX — каждые 7 дней от звонка 30.11" or "назначил(а) Анна Смирнова 28.11"."""
    if n.source == "manager":
        when = format_short_date(n.set_on, tr) if n.set_on else ""
        if n.set_by:
            return tr("explain.next.manager", name=h(n.set_by, 60), date=when)
        return tr("explain.next.manager_unknown", date=when)
    if n.source == "none" or n.since is None:
        return tr("explain.next.none")
    kind = n.cadence_source if n.cadence_source in ("no_segment", "vip_cap") else "segment"
    if kind == "segment" and not n.segment:
        kind = "no_segment"
    what = tr(f"explain.next.from_{'contact' if n.source == 'contact' else 'purchase'}")
    return tr(
        f"explain.next.{kind}",
        segment=n.segment or "",
        days=_days(n.cadence_days, tr),
        what=what,
        date=format_short_date(n.since, tr),
    )


def value_line(r: LabelReasons, tr: Translator) -> str | None:
    """ "Ожидаемая выручка за 12 месяцев: 1 760 000 ₽ · под угрозой 570 000 ₽"."""
    if r.value_12m is None:
        return None
    value = format_money(r.value_12m, tr, whole=True)
    if r.value_at_risk and r.status in ("active", "dormant") and r.value_at_risk > Decimal(0):
        at_risk = format_money(r.value_at_risk, tr, whole=True)
        return tr("explain.value_at_risk", value=value, at_risk=at_risk)
    return tr("explain.value", value=value)


def cross_sell_reason(r: LabelReasons, tr: Translator) -> str | None:
    """ "покупатели «Электрика» берут «Сантехника» в 4 раза чаще"."""
    if not r.cross_sell or not r.cross_sell_from or not r.cross_sell_lift:
        return None
    return tr(
        "explain.cross_sell",
        source=h(r.cross_sell_from, 60),
        category=h(r.cross_sell, 60),
        lift=_decimal(r.cross_sell_lift, tr),
    )


def risk_short(r: LabelReasons, tr: Translator) -> str | None:
    """One line for a /risk row: P(alive), silence against the client's own cycle."""
    if r.p_alive is None or r.days_silent is None:
        return None
    return tr(
        "explain.risk_short",
        p=percent(r.p_alive, tr),
        days=_days(r.days_silent, tr),
        cycle=_days(round(r.deal_cycle_days or 0), tr),
    )


def reason_line(text: str | None) -> str:
    """A reason under its label: indented, in italics."""
    return f"    <i>{text}</i>" if text else ""
