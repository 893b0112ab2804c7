"""The figures behind a client's labels, as the last recompute's analysis left them.

`services.analytics.analyze_clients` returns the reasons of every label as columns;
the recompute stores them on `client_segments`. This module reads them back into one
frozen DTO per client (`LabelReasons`) for the card, the lists and the pushes; the
sentences are built in `ui.texts.explain`, in the reader's language. Nothing here
re-derives a figure: a label and its reason come from the same row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import aliased

from services.db.models import ClientSegment, User

SetBy = aliased(User, name="next_due_setter")
"""The user who set the next contact date the last recompute saw (outer-joined)."""


@dataclass(frozen=True)
class NextContactReason:
    """Why the next contact falls when it does.

    `source`: ``manager`` (a date someone set on a contact: `set_by`, `set_on`),
    ``contact`` or ``purchase`` (the cadence counted from the last call or purchase
    on `since`), ``none`` (nothing to count from: due now).
    """

    source: str
    cadence_days: int
    cadence_source: str | None  # segment / no_segment / vip_cap
    segment: str | None
    since: date | None = None
    set_by: str | None = None
    set_on: date | None = None


@dataclass(frozen=True)
class LabelReasons:
    """The figures behind the segment, the status, the churn risk, the value and the offer."""

    segment: str | None
    revenue_share: float | None  # of the window revenue of all ranked clients
    revenue_rank: int | None
    ranked_clients: int | None
    active_months: int | None
    window_months: int | None
    status: str
    deal_cycle_days: float | None
    days_silent: int | None  # for a lost client: how long ago it left
    risk: str | None  # low / medium / high; None for lost and potential clients
    p_alive: float | None
    purchases: int | None  # purchase days over the whole history
    history_days: int | None
    value_12m: Decimal | None
    value_at_risk: Decimal | None
    next_contact: NextContactReason
    cross_sell: str | None = None  # the first suggestion ...
    cross_sell_from: str | None = None  # ... bought by buyers of this category ...
    cross_sell_lift: float | None = None  # ... this many times more often


_REASON_COLUMNS: tuple[Any, ...] = (
    ClientSegment.segment,
    ClientSegment.revenue_share,
    ClientSegment.revenue_rank,
    ClientSegment.ranked_clients,
    ClientSegment.active_months,
    ClientSegment.window_months,
    ClientSegment.status,
    ClientSegment.deal_cycle_days,
    ClientSegment.days_since_last_purchase,
    ClientSegment.risk,
    ClientSegment.p_alive,
    ClientSegment.repeat_purchases,
    ClientSegment.history_days,
    ClientSegment.value_12m,
    ClientSegment.value_at_risk,
    ClientSegment.cadence_days,
    ClientSegment.cadence_source,
    ClientSegment.next_due_source,
    ClientSegment.last_touch,
    ClientSegment.last_contact,
    ClientSegment.cross_sell,
    ClientSegment.cross_sell_from,
    ClientSegment.cross_sell_lift,
)
REASON_NAMES: tuple[str, ...] = (*(c.key for c in _REASON_COLUMNS), "next_due_set_by_name")


def reason_columns() -> list[Any]:
    """What a query selects, last, to build `LabelReasons` (outer-join `SetBy` on
    `set_by_join()`); labelled so they never clash with the query's own columns."""
    return [
        *(c.label(f"why_{c.key}") for c in _REASON_COLUMNS),
        SetBy.display_name.label("why_next_due_set_by_name"),
    ]


def reasons_from_row(values: Any) -> LabelReasons | None:
    """`LabelReasons` from the values of `reason_columns()`, in order."""
    return reasons_from(dict(zip(REASON_NAMES, values, strict=True)))


def set_by_join() -> ColumnElement[bool]:
    """Join condition of `SetBy`: who set the next contact date."""
    return SetBy.id == ClientSegment.next_due_set_by


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def reasons_from(values: Mapping[str, Any]) -> LabelReasons | None:
    """`LabelReasons` from the stored state by column name.

    None when the client has no state, or its state was not written by a recompute
    that keeps the figures (`window_months` is always set by one).
    """
    status = values.get("status")
    if status is None or values.get("window_months") is None:
        return None  # no state, or one written before the recompute kept the figures
    repeat = values.get("repeat_purchases")
    source = values.get("next_due_source") or "none"
    offers = values.get("cross_sell") or []
    if source == "manager":
        since = values.get("last_contact")
    elif source == "contact":
        since = values.get("last_contact") or values.get("last_touch")
    else:
        since = values.get("last_touch")
    return LabelReasons(
        segment=values.get("segment"),
        revenue_share=values.get("revenue_share"),
        revenue_rank=values.get("revenue_rank"),
        ranked_clients=values.get("ranked_clients"),
        active_months=values.get("active_months"),
        window_months=values.get("window_months"),
        status=str(status),
        deal_cycle_days=values.get("deal_cycle_days"),
        days_silent=values.get("days_since_last_purchase"),
        risk=values.get("risk"),
        p_alive=values.get("p_alive"),
        purchases=None if repeat is None else int(repeat) + 1,
        history_days=values.get("history_days"),
        value_12m=_money(values.get("value_12m")),
        value_at_risk=_money(values.get("value_at_risk")),
        next_contact=NextContactReason(
            source=str(source),
            cadence_days=int(values.get("cadence_days") or 0),
            cadence_source=values.get("cadence_source"),
            segment=values.get("segment"),
            since=since,
            set_by=values.get("next_due_set_by_name") if source == "manager" else None,
            set_on=values.get("last_contact") if source == "manager" else None,
        ),
        cross_sell=str(offers[0]) if offers else None,
        cross_sell_from=values.get("cross_sell_from") if offers else None,
        cross_sell_lift=values.get("cross_sell_lift") if offers else None,
    )


def manager_set(reasons: LabelReasons, by: str | None, on: date) -> LabelReasons:
    """The same reasons, with a next contact date a manager set after the recompute."""
    nxt = reasons.next_contact
    changed = NextContactReason(
        "manager", nxt.cadence_days, nxt.cadence_source, nxt.segment, on, by, on
    )
    return LabelReasons(**{**reasons.__dict__, "next_contact": changed})
