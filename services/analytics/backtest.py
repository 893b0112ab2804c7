"""The churn model checked against what really happened (Fader, Hardie & Lee 2005, section 4).

The history is cut at a *calibration end*: BG/NBD is fitted on what was known
then and predicts each client's purchases in the *holdout* period that
follows; the prediction is compared with the purchases that were made. The
comparison is the one of the paper: the totals, the mean per client by the
number of repeat purchases in the calibration period (0, 1, ..., 7+), and the
weekly cumulative curve through the holdout.

Only clients who had bought by the calibration end are followed (the
"cohort"); clients whose first purchase falls in the holdout are not part of
the prediction, so their purchases are not counted either. Purchases are
purchase days, as everywhere in the analytics.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from services.analytics._frames import DailyNet, daily_net, to_day
from services.analytics.bgnbd import BgNbdParams, expected_purchases, fit_bgnbd
from services.analytics.settings import SegmentationSettings
from services.analytics.summary import DAYS_PER_WEEK, summarize_daily

REPEAT_GROUPS = 7  # the table of the paper: 0, 1, ..., 6 and 7+
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True)
class BacktestReport:
    """How BG/NBD fitted up to ``calibration_end`` predicted the holdout period.

    Attributes
    ----------
    calibration_end, holdout_end : datetime.date
        The holdout is ``(calibration_end, holdout_end]``.
    holdout_weeks : float
        Its length in weeks.
    data_end : datetime.date
        The last transaction date in the data (up to ``holdout_end``); when it
        is well before ``holdout_end`` the actual figures may be incomplete.
    clients : int
        Clients who had bought by ``calibration_end``.
    predicted_total : float
        Sum of the predicted holdout purchases of those clients.
    actual_total : int
        Their actual holdout purchases (purchase days).
    mae, rmse : float
        Mean absolute and root mean squared error per client.
    model : BgNbdParams
        The model fitted on the calibration period.
    by_repeat_purchases : DataFrame
        One row per group of calibration repeat purchases: ``repeat_purchases``
        (str: "0" ... "6", "7+"), ``clients`` (int64), ``predicted_mean``,
        ``actual_mean`` (float64; NaN for an empty group).
    weekly : DataFrame
        One row per holdout week: ``week`` (int64, 1-based), ``end`` (date,
        the last day counted; the last week may be shorter),
        ``predicted_cumulative`` (float64) and ``actual_cumulative`` (int64).
    """

    calibration_end: dt.date
    holdout_end: dt.date
    holdout_weeks: float
    data_end: dt.date
    clients: int
    predicted_total: float
    actual_total: int
    mae: float
    rmse: float
    model: BgNbdParams
    by_repeat_purchases: pd.DataFrame
    weekly: pd.DataFrame

    @property
    def error_share(self) -> float:
        """``(predicted - actual) / actual``; NaN when nothing was bought."""
        if self.actual_total == 0:
            return math.nan
        return (self.predicted_total - self.actual_total) / self.actual_total

    def to_json_dict(self) -> dict[str, Any]:
        """The ``report.json`` form: plain numbers, ISO dates, tables as lists of rows."""

        def number(value: float) -> float | None:
            return None if not math.isfinite(value) else float(value)

        return {
            "calibration_end": self.calibration_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            "holdout_weeks": round(self.holdout_weeks, 4),
            "data_end": self.data_end.isoformat(),
            "clients": self.clients,
            "predicted_total": round(self.predicted_total, 2),
            "actual_total": self.actual_total,
            "error_share": number(round(self.error_share, 4)),
            "mae": round(self.mae, 4),
            "rmse": round(self.rmse, 4),
            "model": self.model.to_json_dict(),
            "by_repeat_purchases": [
                {
                    "repeat_purchases": row.repeat_purchases,
                    "clients": int(row.clients),
                    "predicted_mean": number(row.predicted_mean),
                    "actual_mean": number(row.actual_mean),
                }
                for row in self.by_repeat_purchases.itertuples(index=False)
            ],
            "weekly": [
                {
                    "week": int(row.week),
                    "end": row.end.isoformat(),
                    "predicted_cumulative": round(float(row.predicted_cumulative), 2),
                    "actual_cumulative": int(row.actual_cumulative),
                }
                for row in self.weekly.itertuples(index=False)
            ],
        }


def _date(day: int) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(day))


def _cut(daily: DailyNet, last_day: int) -> DailyNet:
    keep = daily.day <= last_day
    return dataclasses.replace(
        daily,
        client=daily.client[keep],
        day=daily.day[keep],
        cents=daily.cents[keep],
        as_of=last_day,
    )


def backtest(
    transactions: pd.DataFrame,
    calibration_end: dt.date,
    holdout_end: dt.date | None = None,
    *,
    params: BgNbdParams | None = None,
    groups: int = REPEAT_GROUPS,
) -> BacktestReport:
    """Fit BG/NBD up to ``calibration_end`` and compare its forecast with the holdout.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``client_id``, ``date``, ``amount`` (as for
        :func:`analyze_clients`; returns reduce a day's amount, a purchase is
        a day with a positive net amount).
    calibration_end : datetime.date
        Last day of the calibration period (included in it).
    holdout_end : datetime.date, optional
        Last day of the holdout period; by default the last transaction date.
    params : BgNbdParams, optional
        Check a given model instead of fitting one on the calibration period.
    groups : int
        Rows of the table by calibration repeat purchases: ``0 .. groups-1``
        and ``groups+``.

    Returns
    -------
    BacktestReport

    Raises
    ------
    ValueError
        When the holdout does not end after the calibration end, nobody had
        bought by the calibration end, or no transaction falls in the holdout.
    """
    if groups < 1:
        raise ValueError("groups must be at least 1")
    cal_day = to_day(calibration_end)
    if holdout_end is not None and to_day(holdout_end) <= cal_day:
        raise ValueError(
            f"the holdout end {holdout_end} must be after the calibration end {calibration_end}"
        )
    daily = daily_net(transactions, holdout_end or dt.date.max)
    if len(daily.day) == 0:
        raise ValueError("there are no transactions to check the model against")
    data_end_day = int(daily.day.max())
    end_day = to_day(holdout_end) if holdout_end is not None else data_end_day
    if not (daily.day > cal_day).any():
        if holdout_end is None:
            raise ValueError(
                f"no transactions after the calibration end {calibration_end}: the data end "
                f"on {_date(data_end_day)}, so there is no holdout to compare the forecast with"
            )
        raise ValueError(
            f"no transactions after the calibration end {calibration_end} up to the holdout "
            f"end {holdout_end}: nothing to compare the forecast with"
        )

    summary = summarize_daily(_cut(daily, cal_day), SegmentationSettings())
    cohort = summary["purchase_days"].to_numpy() > 0
    if not cohort.any():
        raise ValueError(f"nobody had bought by the calibration end {calibration_end}")
    x = summary["x"].to_numpy(dtype=np.float64, na_value=np.nan)[cohort]
    t_x = summary["t_x"].to_numpy(dtype=np.float64)[cohort]
    T = summary["T"].to_numpy(dtype=np.float64)[cohort]
    model = params if params is not None else fit_bgnbd((x, t_x, T))

    # Actual holdout purchase days of the cohort, per client and per week.
    in_holdout = (daily.day > cal_day) & (daily.cents > 0)
    h_client = daily.client[in_holdout]
    h_day = daily.day[in_holdout]
    cohort_code = np.full(len(daily.ids), -1, dtype=np.int64)
    cohort_code[np.flatnonzero(cohort)] = np.arange(int(cohort.sum()))
    member = cohort_code[h_client] >= 0
    h_client, h_day = cohort_code[h_client[member]], h_day[member]
    actual = np.bincount(h_client, minlength=len(x)).astype(np.int64)

    holdout_days = end_day - cal_day
    horizon = holdout_days / DAYS_PER_WEEK
    predicted = expected_purchases(model, horizon, x, t_x, T)
    error = predicted - actual

    n_weeks = math.ceil(holdout_days / 7)
    week_end = np.minimum(cal_day + 7 * np.arange(1, n_weeks + 1), end_day)
    per_week = np.bincount((h_day - cal_day - 1) // 7, minlength=n_weeks)[:n_weeks]
    predicted_cumulative = np.array(
        [
            float(expected_purchases(model, (day - cal_day) / DAYS_PER_WEEK, x, t_x, T).sum())
            for day in week_end
        ]
    )
    weekly = pd.DataFrame(
        {
            "week": np.arange(1, n_weeks + 1, dtype=np.int64),
            "end": [_date(day) for day in week_end],
            "predicted_cumulative": predicted_cumulative,
            "actual_cumulative": np.cumsum(per_week).astype(np.int64),
        }
    )

    group = np.minimum(x, groups).astype(np.int64)
    counts = np.bincount(group, minlength=groups + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted_mean = np.bincount(group, weights=predicted, minlength=groups + 1) / counts
        actual_mean = np.bincount(group, weights=actual, minlength=groups + 1) / counts
    by_repeat = pd.DataFrame(
        {
            "repeat_purchases": [str(k) for k in range(groups)] + [f"{groups}+"],
            "clients": counts.astype(np.int64),
            "predicted_mean": predicted_mean,
            "actual_mean": actual_mean,
        }
    )
    return BacktestReport(
        calibration_end=calibration_end,
        holdout_end=_date(end_day),
        holdout_weeks=horizon,
        data_end=_date(data_end_day),
        clients=len(x),
        predicted_total=float(predicted.sum()),
        actual_total=int(actual.sum()),
        mae=float(np.abs(error).mean()),
        rmse=float(np.sqrt((error**2).mean())),
        model=model,
        by_repeat_purchases=by_repeat,
        weekly=weekly,
    )
