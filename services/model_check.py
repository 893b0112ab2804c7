"""How the purchase model did on the team's own data: a backtest once a month.

The recompute that first runs in a month fits BG/NBD on the sales up to three months
before its date and compares the purchases it predicts for the last quarter with the
ones that happened (`services.analytics.backtest`); the result is kept in
`model_checks`, one row per month. The head's digest says it on the first working day
of the month: "the model expected 1 650 purchases for the quarter, there were 1 882".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from services.analytics.backtest import backtest
from services.db.models import ModelCheck
from services.uow import UnitOfWork

HOLDOUT_MONTHS = 3
MIN_CLIENTS = 20  # fewer buyers than this make a forecast nobody should read


@dataclass(frozen=True)
class ModelCheckView:
    month: date  # the first day of the month it was computed in
    calibration_end: date
    holdout_end: date
    clients: int
    predicted_total: float
    actual_total: int
    mae: float


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (the month's last day if shorter)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def quarter_backtest(transactions: pd.DataFrame, as_of: date) -> ModelCheckView | None:
    """The backtest of the last quarter before `as_of` (pure; None when there is too little).

    Calibration: the sales up to `months_before(as_of, 3)`; holdout: from then to `as_of`.
    """
    calibration_end = months_before(as_of, HOLDOUT_MONTHS)
    sales = transactions[["client_id", "date", "amount"]]
    if sales.empty:
        return None
    calibration = sales[sales["date"] <= pd.Timestamp(calibration_end)]
    if calibration["client_id"].nunique() < MIN_CLIENTS:
        return None
    try:
        report = backtest(sales, calibration_end, as_of)
    except ValueError:  # nobody bought twice before the calibration end: no model to check
        return None
    return ModelCheckView(
        month=as_of.replace(day=1),
        calibration_end=report.calibration_end,
        holdout_end=report.holdout_end,
        clients=int(report.clients),
        predicted_total=float(report.predicted_total),
        actual_total=int(report.actual_total),
        mae=float(report.mae),
    )


async def has_check(uow: UnitOfWork, month: date) -> bool:
    """Whether this month's model check is already stored (inside `async with uow`)."""
    return await uow.session.get(ModelCheck, month.replace(day=1)) is not None


def store_check(uow: UnitOfWork, check: ModelCheckView) -> None:
    """Keep the month's check (inside the recompute's unit of work, committed with it)."""
    uow.session.add(
        ModelCheck(
            month=check.month,
            calibration_end=check.calibration_end,
            holdout_end=check.holdout_end,
            clients=check.clients,
            predicted_total=check.predicted_total,
            actual_total=check.actual_total,
            mae=check.mae,
        )
    )


async def month_check(uow: UnitOfWork, day: date) -> ModelCheckView | None:
    """The check stored for `day`'s month, if any (inside `async with uow`)."""
    row = await uow.session.get(ModelCheck, day.replace(day=1))
    if row is None:
        return None
    return ModelCheckView(
        month=row.month,
        calibration_end=row.calibration_end,
        holdout_end=row.holdout_end,
        clients=row.clients,
        predicted_total=row.predicted_total,
        actual_total=row.actual_total,
        mae=row.mae,
    )
