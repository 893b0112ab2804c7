"""Per-client aggregation of transactions: the input of every other rule."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from services.analytics._frames import (
    DailyNet,
    daily_net,
    days_to_datetime,
    days_to_months,
    group_starts,
    month_to_day,
)
from services.analytics.settings import SegmentationSettings

DAYS_PER_WEEK = 7.0


def window_bounds(as_of_day: int, window_months: int) -> tuple[int, int, int]:
    """Return ``(first_day, first_month, last_month)`` of the window ending at ``as_of_day``."""
    last_month = int(days_to_months(np.asarray([as_of_day]))[0])
    first_month = last_month - window_months + 1
    return month_to_day(first_month), first_month, last_month


def _median_gaps(client: np.ndarray, day: np.ndarray, n_clients: int) -> tuple[np.ndarray, ...]:
    """Median gap between consecutive purchase days of each client.

    ``client``/``day`` are purchase days sorted by client then day. Returns
    ``(median, n_gaps)``; the median is NaN for clients with no gap.
    """
    same = client[1:] == client[:-1]
    gap = (day[1:] - day[:-1])[same]
    gap_client = client[1:][same]
    n_gaps = np.bincount(gap_client, minlength=n_clients)
    median = np.full(n_clients, np.nan)
    if len(gap) == 0:
        return median, n_gaps
    # gap_client is already sorted, so sorting the packed (client, gap) keys by
    # value orders gaps inside each client's block without moving the blocks.
    bits = int(gap.max()).bit_length()
    key_bits = int(n_clients).bit_length() + bits
    if key_bits <= 63:
        key = (gap_client << bits) | gap
        if key_bits <= 31:
            # int32 keys when they fit: the SIMD sort handles twice the lanes.
            key = key.astype(np.int32)
        key.sort()
        gap_sorted = key & ((1 << bits) - 1)
    else:  # pragma: no cover - needs > 2**40 clients or gaps
        gap_sorted = gap[np.lexsort((gap, gap_client))]
    start = np.concatenate(([0], np.cumsum(n_gaps)[:-1]))
    has = n_gaps > 0
    lo = start[has] + (n_gaps[has] - 1) // 2
    hi = start[has] + n_gaps[has] // 2
    median[has] = (gap_sorted[lo] + gap_sorted[hi]) / 2.0
    return median, n_gaps


def summarize_daily(daily: DailyNet, settings: SegmentationSettings) -> pd.DataFrame:
    """Per-client figures from a :class:`DailyNet` (see :func:`client_summary`)."""
    n = len(daily.ids)
    as_of = daily.as_of
    window_start, first_month, _ = window_bounds(as_of, settings.window_months)
    n_months = settings.window_months

    # Window revenue counts every day (returns included); a purchase is a day
    # with a positive net amount, so a full same-day return is not a purchase.
    in_window = daily.day >= window_start
    revenue_cents = np.bincount(
        daily.client[in_window], weights=daily.cents[in_window], minlength=n
    )
    window_months = days_to_months(daily.day[in_window])
    month_offset = window_months - first_month
    monthly = np.bincount(
        daily.client[in_window] * n_months + month_offset,
        weights=daily.cents[in_window],
        minlength=n * n_months,
    ).reshape(n, n_months)
    del month_offset

    history_cents = np.bincount(daily.client, weights=daily.cents, minlength=n)
    positive = daily.cents > 0
    p_client = daily.client[positive]
    p_day = daily.day[positive]
    p_cents = daily.cents[positive]
    p_in_window = in_window[positive]
    w_month = window_months[positive[in_window]]
    del positive, in_window, window_months

    purchase_days = np.bincount(p_client, minlength=n)
    has_purchase = purchase_days > 0
    first = np.full(n, np.nan)
    last = np.full(n, np.nan)
    # Gamma-Gamma convention: the spend of a client is the mean of its *repeat*
    # purchases; the first (acquisition) purchase is left out.
    repeat_cents = np.bincount(p_client, weights=p_cents, minlength=n)
    if len(p_client):
        starts = group_starts(p_client)
        ends = np.append(starts[1:], len(p_client)) - 1
        first[p_client[starts]] = p_day[starts]
        last[p_client[ends]] = p_day[ends]
        repeat_cents[p_client[starts]] -= p_cents[starts]
    del p_cents

    w_client = p_client[p_in_window]
    purchases = np.bincount(w_client, minlength=n)
    # Purchase days are sorted by client then day, so months are too: a new
    # (client, month) pair starts wherever either changes.
    active_months = np.bincount(w_client[group_starts(w_client, w_month)], minlength=n)
    del w_client, w_month, p_in_window

    median_gap, n_gaps = _median_gaps(p_client, p_day, n)
    deal_cycle = np.where(n_gaps >= 2, median_gap, float(settings.default_deal_cycle_days))

    mean_month = monthly.mean(axis=1)
    std_month = monthly.std(axis=1)
    del monthly
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where((purchases > 0) & (mean_month > 0), std_month / mean_month, np.nan)

    x = purchase_days - 1
    days_since = as_of - last
    with np.errstate(divide="ignore", invalid="ignore"):
        monetary = np.where(x > 0, repeat_cents / np.maximum(x, 1) / 100.0, np.nan)
    return pd.DataFrame(
        {
            "client_id": daily.ids,
            "revenue": np.round(revenue_cents / 100.0, 2),
            "purchases": purchases.astype(np.int64),
            "active_months": active_months.astype(np.int64),
            "revenue_cv": cv,
            "first_purchase": days_to_datetime(first),
            "last_purchase": days_to_datetime(last),
            "purchase_days": purchase_days.astype(np.int64),
            "days_since_last_purchase": _nullable_int(days_since, has_purchase),
            "deal_cycle_days": deal_cycle,
            "x": _nullable_int(x, has_purchase),
            "t_x": (last - first) / DAYS_PER_WEEK,
            "T": (as_of - first) / DAYS_PER_WEEK,
            "monetary_value": monetary,
            "history_revenue": np.round(history_cents / 100.0, 2),
        }
    )


def _nullable_int(values: np.ndarray, valid: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Int64 array that is NA where ``valid`` is False (``values`` may hold NaN there)."""
    filled = np.where(valid, values, 0).astype(np.int64)
    return pd.arrays.IntegerArray(filled, ~valid)


def client_summary(
    transactions: pd.DataFrame,
    as_of: dt.date,
    settings: SegmentationSettings | None = None,
) -> pd.DataFrame:
    """Aggregate transactions to one row per client, as known on ``as_of``.

    Transactions dated after ``as_of`` are ignored. Amounts are rounded to the
    cent and summed as integers per client and day; a *purchase day* is a day
    with a positive net amount (returns are negative amounts; they reduce
    revenue but are never purchases).

    Parameters
    ----------
    transactions : DataFrame
        Columns ``client_id`` (int or str), ``date`` (date, datetime or ISO
        string) and ``amount`` (Decimal, float, int or numeric string); other
        columns are ignored.
    as_of : datetime.date
        The day the figures are computed for.
    settings : SegmentationSettings, optional
        Uses ``window_months`` and ``default_deal_cycle_days``.

    Returns
    -------
    DataFrame
        One row per client with at least one transaction up to ``as_of``,
        sorted by ``client_id``:

        - ``client_id``
        - ``revenue`` (float64): net revenue in the window, rounded to 2 dp.
        - ``purchases`` (int64): purchase days in the window.
        - ``active_months`` (int64): window months with a purchase day.
        - ``revenue_cv`` (float64): coefficient of variation (population std /
          mean) of net revenue over all window months, zeros included; NaN
          without purchases in the window or when the mean is not positive.
        - ``first_purchase``, ``last_purchase`` (datetime64[s]): over the whole
          history; NaT for clients who never bought.
        - ``purchase_days`` (int64): purchase days over the whole history.
        - ``days_since_last_purchase`` (Int64): NA if never bought.
        - ``deal_cycle_days`` (float64): median gap between purchase days over
          the whole history if there are at least 2 gaps, else
          ``settings.default_deal_cycle_days``.
        - ``x`` (Int64), ``t_x``, ``T`` (float64, weeks): the BG/NBD summary —
          repeat purchase days, time from first to last purchase, time from
          first purchase to ``as_of``; NA/NaN for clients who never bought.
        - ``monetary_value`` (float64): mean net amount of the repeat purchase
          days (every purchase day but the first), the spend input of the
          Gamma-Gamma model; NaN when ``x`` is 0 or NA.
        - ``history_revenue`` (float64, 2 dp): net revenue over the whole
          history up to ``as_of`` (returns included).
    """
    settings = settings or SegmentationSettings()
    return summarize_daily(daily_net(transactions, as_of), settings)
