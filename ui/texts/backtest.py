"""The model check against what happened: chart labels and the chart itself."""

from __future__ import annotations

import math
from datetime import timedelta

from services.analytics.backtest import BacktestReport
from ui.charts import BacktestChartLabels, backtest_png
from ui.formatting import MINUS, format_date
from ui.i18n import Translator


def format_count(value: float, tr: Translator) -> str:
    """A whole number with the reader's thousands separator: 1 882 / 1,882."""
    return f"{round(value):,}".replace(",", tr("format.thousands"))


def error_text(report: BacktestReport, tr: Translator) -> str:
    """How far the forecast was off: "−12 %"; a dash when nothing was bought."""
    error = report.error_share
    if math.isnan(error):
        return "—"
    points = round(abs(error) * 100)
    sign = "" if points == 0 else MINUS if error < 0 else "+"
    return tr("backtest.percent", sign=sign, value=points)


def chart_data(
    report: BacktestReport,
) -> tuple[list[int], list[float], list[int], list[str], list[float], list[float]]:
    """The series of the chart: the weekly curve, then the table by repeat purchases."""
    weekly, groups = report.weekly, report.by_repeat_purchases
    return (
        weekly["week"].tolist(),
        weekly["predicted_cumulative"].tolist(),
        weekly["actual_cumulative"].tolist(),
        groups["repeat_purchases"].tolist(),
        groups["predicted_mean"].tolist(),
        groups["actual_mean"].tolist(),
    )


def chart_labels(report: BacktestReport, tr: Translator) -> BacktestChartLabels:
    start = report.calibration_end + timedelta(days=1)
    return BacktestChartLabels(
        headline=tr(
            "backtest.headline",
            start=format_date(start, tr),
            end=format_date(report.holdout_end, tr),
            predicted=format_count(report.predicted_total, tr),
            actual=format_count(report.actual_total, tr),
            error=error_text(report, tr),
        ),
        weekly_title=tr("backtest.weekly_title"),
        week=tr("backtest.week"),
        cumulative=tr("backtest.cumulative"),
        by_repeat_title=tr("backtest.by_repeat_title"),
        repeat_purchases=tr(
            "backtest.repeat_purchases", cut=format_date(report.calibration_end, tr)
        ),
        mean_purchases=tr("backtest.mean_purchases"),
        predicted=tr("backtest.predicted"),
        actual=tr("backtest.actual"),
    )


def backtest_chart(report: BacktestReport, tr: Translator) -> bytes:
    """The report as a PNG for a phone (CPU-bound: use a thread in the bot)."""
    return backtest_png(*chart_data(report), chart_labels(report, tr))
