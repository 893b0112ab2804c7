"""Monthly client accounting: new, lost and returned clients and revenue split."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.indexers import BaseIndexer

from services.analytics._frames import (
    daily_net,
    days_to_months,
    group_starts,
    month_periods,
    month_to_day,
    require_columns,
    sort_pairs,
)
from services.analytics.bgnbd import BgNbdParams
from services.analytics.settings import SegmentationSettings
from services.analytics.summary import DAYS_PER_WEEK

_COUNT_COLUMNS = ("new_clients", "lost_clients", "returned_clients")
_REVENUE_COLUMNS = ("revenue_new", "revenue_existing")


class _PrefixWindows(BaseIndexer):
    """Window of row ``i`` = rows from the start of its group to ``i`` inclusive.

    With it one ``rolling().median()`` pass gives the expanding median inside
    every group: pandas' skiplist median drops rows as the window start jumps
    to the next group, about 7x faster than ``groupby().expanding()``.
    """

    def __init__(self, group_start: np.ndarray) -> None:
        super().__init__(window_size=0)
        self.group_start = group_start

    def get_window_bounds(
        self,
        num_values: int = 0,
        min_periods: int | None = None,
        center: bool | None = None,
        closed: str | None = None,
        step: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.group_start, np.arange(1, num_values + 1, dtype=np.int64)


def _cycle_after_each_purchase(
    client: np.ndarray, day: np.ndarray, default: float
) -> tuple[np.ndarray, np.ndarray]:
    """Deal cycle known right after each purchase day, and the purchase's index in its client.

    Purchase days are sorted by client then day. The cycle after the k-th
    purchase (0-based) is the median of the k gaps so far when k >= 2, else
    ``default`` — the same rule as :func:`client_summary`, applied to the
    history known at that moment.
    """
    n = len(client)
    starts = group_starts(client)
    sizes = np.diff(np.append(starts, n))
    group_start = np.repeat(starts, sizes).astype(np.int64)
    index_in_client = np.arange(n, dtype=np.int64) - group_start
    gaps = np.empty(n, dtype=np.float64)
    gaps[0:1] = np.nan
    gaps[1:] = day[1:] - day[:-1]
    gaps[index_in_client == 0] = np.nan  # no gap before a client's first purchase
    median = pd.Series(gaps).rolling(_PrefixWindows(group_start), min_periods=1).median().to_numpy()
    return np.where(index_in_client >= 2, median, default), index_in_client


def monthly_accounting(
    transactions: pd.DataFrame,
    as_of: dt.date,
    settings: SegmentationSettings | None = None,
    owners: pd.DataFrame | None = None,
    *,
    months: int | None = None,
    params: BgNbdParams | None = None,
) -> pd.DataFrame:
    """Count new, lost and returned clients and split revenue per month.

    Every event uses only the history known when it happened, so a month's
    figures do not change when later data arrives (and ``as_of`` in the past
    reproduces them).

    - *new*: the client's first ever purchase day falls in the month.
    - *lost*: the day the client crossed its "lost" threshold falls in the
      month — the first day with more than ``min(lost_cycle_multiplier x
      cycle, lost_max_days)`` days since its last purchase, the cycle being the
      one known after that purchase — and it had not bought again before that
      day. A client who comes back later still counts as lost in that month
      (and as returned when it comes back).
    - *returned*: a purchase day in the month after a gap long enough for the
      client to be dormant or lost just before it.
    - *revenue_new*: net revenue in the month of clients whose first purchase
      was in that same month (a calendar-month cohort, not the rolling
      ``new_days`` of the status); *revenue_existing*: all other net revenue,
      including returns of clients who never bought.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``client_id``, ``date``, ``amount``.
    as_of : datetime.date
    settings : SegmentationSettings, optional
        Thresholds; ``window_months`` is the default number of months.
    owners : DataFrame, optional
        Columns ``client_id``, ``manager_id`` (one row per client): the
        client's current manager, who gets all of its history.
    months : int, optional
        Number of months reported, ending with the month of ``as_of``.
    params : BgNbdParams, optional
        The churn model; without it a lost event follows the deal-cycle rules
        alone (the past months then never change; with it they change only
        when the model is refitted).

    Returns
    -------
    DataFrame
        Columns ``month`` (Period[M]), ``manager_id``, ``new_clients``,
        ``lost_clients``, ``returned_clients`` (int64, distinct clients),
        ``revenue_new``, ``revenue_existing`` (float64, 2 dp). For each month
        the row with ``manager_id`` NA is the total over all clients (owned or
        not), followed by one row per manager listed in ``owners`` (zeros
        included). Sorted by month.
    """
    events = _events(transactions, as_of, settings, owners, months, params)
    n_months = events.last_month - events.first_month + 1
    table = events.tally(n_months, events.first_month, lambda day: days_to_months(day))
    frame = pd.DataFrame(
        {
            "month": month_periods(
                np.repeat(
                    np.arange(events.first_month, events.last_month + 1), len(events.managers) + 1
                )
            ),
            "manager_id": _manager_column(events.managers, owners, n_months),
        }
    )
    return _with_figures(frame, table)


def daily_accounting(
    transactions: pd.DataFrame,
    as_of: dt.date,
    settings: SegmentationSettings | None = None,
    owners: pd.DataFrame | None = None,
    *,
    months: int | None = None,
    params: BgNbdParams | None = None,
) -> pd.DataFrame:
    """The figures of :func:`monthly_accounting` per day, so any run of days adds up.

    A client's event counts on the day of its *first* such event in the calendar
    month, so the sum over days 1..d of a month is the number of distinct clients
    with that event in those days, and the sum over a whole month equals
    :func:`monthly_accounting`'s figure for it. Revenue is simply split by day.
    This is what comparing month to date with the same days of the previous
    month needs.

    Parameters are those of :func:`monthly_accounting`; the days run from the
    first day of the first reported month to ``as_of``.

    Returns
    -------
    DataFrame
        Columns ``day`` (datetime64), ``manager_id``, ``new_clients``,
        ``lost_clients``, ``returned_clients`` (int64), ``revenue_new``,
        ``revenue_existing`` (float64, 2 dp); per day the total row
        (``manager_id`` NA) then one row per manager in ``owners``. Sorted by day.
    """
    events = _events(transactions, as_of, settings, owners, months, params)
    first_day = month_to_day(events.first_month)
    n_days = events.as_of - first_day + 1
    table = events.tally(n_days, first_day, lambda day: day)
    days = np.arange(first_day, events.as_of + 1, dtype=np.int64)
    frame = pd.DataFrame(
        {
            "day": np.repeat(days, len(events.managers) + 1).astype("datetime64[D]"),
            "manager_id": _manager_column(events.managers, owners, n_days),
        }
    )
    frame["day"] = frame["day"].astype("datetime64[ns]")
    return _with_figures(frame, table)


def _with_figures(frame: pd.DataFrame, table: np.ndarray) -> pd.DataFrame:
    for row, column in enumerate(_COUNT_COLUMNS):
        frame[column] = table[row].astype(np.int64)
    for row, column in enumerate(_REVENUE_COLUMNS, start=len(_COUNT_COLUMNS)):
        frame[column] = np.round(table[row] / 100.0, 2)
    return frame


@dataclass(frozen=True)
class _Events:
    """The accounting events of the reported months, ready to be tallied by period.

    ``counts[column]`` holds (client code, event day) with one event per client
    and calendar month (its first); ``revenue`` holds (client code, day, cents,
    is_new) for every net day in the months. ``owner[client]`` is the index of
    the client's manager in ``managers`` (-1: none).
    """

    first_month: int
    last_month: int
    as_of: int
    managers: np.ndarray
    owner: np.ndarray
    counts: dict[str, tuple[np.ndarray, np.ndarray]]
    revenue: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

    def tally(
        self, n_periods: int, first_period: int, period_of: Callable[[np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """Rows of figures x (period, total + managers) cells."""
        n_managers = len(self.managers)
        cells = n_periods * (n_managers + 1)
        # Column 0 of each period holds the total, columns 1.. the managers.
        table = np.zeros((len(_COUNT_COLUMNS) + len(_REVENUE_COLUMNS), cells))

        def add(
            row: int, ev_client: np.ndarray, period: np.ndarray, weights: np.ndarray | None
        ) -> None:
            base = (period - first_period) * (n_managers + 1)
            table[row] += np.bincount(base, weights=weights, minlength=cells)
            owned = self.owner[ev_client] >= 0
            table[row] += np.bincount(
                base[owned] + 1 + self.owner[ev_client[owned]],
                weights=None if weights is None else weights[owned],
                minlength=cells,
            )

        for row, column in enumerate(_COUNT_COLUMNS):
            ev_client, ev_day = self.counts[column]
            add(row, ev_client, period_of(ev_day), None)
        client, day, cents, is_new = self.revenue
        period = period_of(day)
        for row, mask in enumerate((is_new, ~is_new), start=len(_COUNT_COLUMNS)):
            add(row, client[mask], period[mask], cents[mask])
        return table


def _events(
    transactions: pd.DataFrame,
    as_of: dt.date,
    settings: SegmentationSettings | None,
    owners: pd.DataFrame | None,
    months: int | None,
    params: BgNbdParams | None,
) -> _Events:
    settings = settings or SegmentationSettings()
    n_months = settings.window_months if months is None else months
    if n_months <= 0:
        raise ValueError("months must be positive")
    daily = daily_net(transactions, as_of)
    last_month = int(days_to_months(np.asarray([daily.as_of]))[0])
    first_month = last_month - n_months + 1
    n_clients = len(daily.ids)

    positive = daily.cents > 0
    client = daily.client[positive]
    day = daily.day[positive]
    # Clients silent since long before the first reported month cannot have
    # an event in it by the rules (a lost threshold is at most `lost_max_days`
    # away): skip their running medians, the costliest step.
    last_day = np.full(n_clients, np.iinfo(np.int64).min)
    first_day_of = np.zeros(n_clients, dtype=np.int64)
    purchases_of = np.bincount(client, minlength=n_clients)
    if len(client):
        client_starts = group_starts(client)
        ends = np.append(client_starts[1:], len(client)) - 1
        last_day[client[ends]] = day[ends]
        first_day_of[client[client_starts]] = day[client_starts]
    cutoff = month_to_day(first_month) - int(settings.lost_max_days) - 1
    relevant = last_day[client] >= cutoff
    empty = np.zeros(0, dtype=np.int64)
    late_lost = (empty, empty)
    if params is not None:
        # ... but the model may keep believing in them for longer: their lost
        # day is the day P(alive) falls, which needs no median.
        skipped = np.flatnonzero((last_day < cutoff) & (purchases_of > 1))
        start = first_day_of[skipped]
        falls = start + _p_alive_falls_below(
            params,
            settings.high_risk_p_alive,
            purchases_of[skipped] - 1,
            last_day[skipped] - start,
        )
        seen = falls <= daily.as_of
        late_lost = (skipped[seen], falls[seen])
    client, day = client[relevant], day[relevant]
    events: dict[str, tuple[np.ndarray, np.ndarray]] = dict.fromkeys(_COUNT_COLUMNS, (empty, empty))
    first_month_of = np.full(n_clients, np.iinfo(np.int64).min)
    if len(client):
        cycle, index_in_client = _cycle_after_each_purchase(
            client, day, float(settings.default_deal_cycle_days)
        )
        is_first = index_in_client == 0
        first_month_of[client[is_first]] = days_to_months(day[is_first])
        events["new_clients"] = (client[is_first], day[is_first])

        lost_after = np.minimum(settings.lost_cycle_multiplier * cycle, settings.lost_max_days)
        inactive_after = np.minimum(settings.dormant_cycle_multiplier * cycle, lost_after)
        has_next = np.append(client[1:] == client[:-1], False)
        next_day = np.append(day[1:], 0)

        returned_at = np.flatnonzero(has_next & (next_day - day > inactive_after)) + 1
        events["returned_clients"] = (client[returned_at], day[returned_at])

        # First day with more than `lost_after` days of silence.
        lost_day = day + np.floor(lost_after).astype(np.int64) + 1
        if params is not None:
            first_day = np.repeat(
                day[is_first], np.diff(np.append(np.flatnonzero(is_first), len(day)))
            )
            believed_until = _p_alive_falls_below(
                params, settings.high_risk_p_alive, index_in_client, day - first_day
            )
            repeat = index_in_client > 0
            lost_day = np.where(repeat, np.maximum(lost_day, first_day + believed_until), lost_day)
        lost = np.where(has_next, next_day >= lost_day, lost_day <= daily.as_of)
        events["lost_clients"] = (client[lost], lost_day[lost])
    if len(late_lost[0]):
        events["lost_clients"] = tuple(  # type: ignore[assignment]
            np.concatenate(parts) for parts in zip(events["lost_clients"], late_lost, strict=True)
        )

    counts = {}
    for column, (ev_client, ev_day) in events.items():
        ev_month = days_to_months(ev_day)
        inside = (ev_month >= first_month) & (ev_month <= last_month)
        counts[column] = _first_per_month(ev_client[inside], ev_day[inside], ev_month[inside])

    month_of_day = days_to_months(daily.day)
    inside = (month_of_day >= first_month) & (month_of_day <= last_month)
    d_client = daily.client[inside]
    revenue = (
        d_client,
        daily.day[inside],
        daily.cents[inside].astype(np.float64),
        first_month_of[d_client] == month_of_day[inside],
    )
    owner = _owner_codes(daily.ids, owners)  # validates `owners` first
    return _Events(
        first_month=first_month,
        last_month=last_month,
        as_of=daily.as_of,
        managers=_managers(owners),
        owner=owner,
        counts=counts,
        revenue=revenue,
    )


def _first_per_month(
    client: np.ndarray, day: np.ndarray, month: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(client, day) of each client's first event per calendar month.

    A client counts once per month even if an event repeats within it.
    """
    if len(client) == 0:
        return client, day
    # Sorted by client then day, months follow in order within each client.
    first = int(day.min())
    order, client, offset = sort_pairs(
        client, day - first, int(client.max()) + 1, int(day.max()) - first + 1
    )
    day, month = offset + first, month[order]
    keep = np.empty(len(client), dtype=bool)
    keep[0] = True
    keep[1:] = (client[1:] != client[:-1]) | (month[1:] != month[:-1])
    return client[keep], day[keep]


def _managers(owners: pd.DataFrame | None) -> np.ndarray:
    if owners is None:
        return np.zeros(0, dtype=object)
    managers = owners["manager_id"].dropna().unique()
    try:
        return np.sort(np.asarray(managers))
    except TypeError as exc:
        raise ValueError("manager_id values must be all integers or all strings") from exc


def _owner_codes(ids: pd.Index, owners: pd.DataFrame | None) -> np.ndarray:
    """Index into :func:`_managers` of each client code's manager (-1 = no owner)."""
    if owners is None:
        return np.full(len(ids), -1, dtype=np.int64)
    require_columns(owners, ("client_id", "manager_id"), "owners")
    if owners["client_id"].duplicated().any():
        raise ValueError("owners must hold one row per client_id")
    if len(owners) == 0:
        return np.full(len(ids), -1, dtype=np.int64)
    managers = _managers(owners)
    manager_code = pd.Index(managers).get_indexer(owners["manager_id"])
    position = pd.Index(owners["client_id"]).get_indexer(ids)
    return np.where(position >= 0, manager_code[position], -1).astype(np.int64)


def _manager_column(
    managers: np.ndarray, owners: pd.DataFrame | None, n_months: int
) -> pd.api.extensions.ExtensionArray | np.ndarray:
    values = np.tile(np.asarray([pd.NA, *managers.tolist()], dtype=object), n_months)
    if owners is not None and pd.api.types.is_integer_dtype(owners["manager_id"].dtype):
        return pd.array(values, dtype="Int64")
    return values


def _p_alive_falls_below(
    params: BgNbdParams, threshold: float, x: np.ndarray, t_x_days: np.ndarray
) -> np.ndarray:
    """Days after the first purchase from which P(alive) < ``threshold`` (silence only).

    P(alive) = 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) falls
    with T, so the day solves in closed form: P(alive) < h exactly when
    ``T > (alpha + t_x) K^(1/(r+x)) - alpha`` with ``K = (1/h - 1)(b+x-1)/a``
    (T and t_x in weeks). Only meaningful for ``x > 0``.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    far = np.int64(2**40)  # "never": beyond any as_of
    if threshold <= 0:
        return np.full(len(x), far)
    if threshold >= 1:
        return np.zeros(len(x), dtype=np.int64)
    xf = np.maximum(x, 1).astype(np.float64)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        log_k = math.log(1.0 / threshold - 1.0) + np.log(b + xf - 1.0) - math.log(a)
        t_weeks = t_x_days / DAYS_PER_WEEK
        boundary = (alpha + t_weeks) * np.exp(log_k / (r + xf)) - alpha  # weeks
        days = np.floor(boundary * DAYS_PER_WEEK) + 1
    days = np.where(np.isfinite(days), np.clip(days, 0, float(far)), float(far))
    return days.astype(np.int64)
