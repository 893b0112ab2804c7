"""PNG charts for the digest, drawn with matplotlib's Agg backend (no display, no pyplot).

A `Figure` is built per call and never registered with pyplot, so charts can be drawn from
worker threads (`asyncio.to_thread`) without shared state. Labels arrive translated.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

MAX_BARS = 25  # a phone screen shows about this many names legibly
CALLS_COLOR = "#2e7d32"
BELOW_PLAN_COLOR = "#c62828"
PLAN_COLOR = "#455a64"


@dataclass(frozen=True)
class CallsChartLabels:
    title: str
    calls: str
    plan: str
    others: str  # label of the bar that sums the managers beyond MAX_BARS


def calls_vs_plan_png(
    names: Sequence[str],
    calls: Sequence[int],
    plans: Sequence[int],
    labels: CallsChartLabels,
) -> bytes:
    """Horizontal bars of calls per manager with each one's plan as a tick; PNG bytes.

    Managers below plan are drawn red. Beyond `MAX_BARS` managers, the rest are summed
    into one bar, so the chart stays readable on a phone.
    """
    if not len(names) == len(calls) == len(plans):
        raise ValueError("names, calls and plans must have the same length")
    rows = list(zip(names, calls, plans, strict=True))
    if len(rows) > MAX_BARS:
        rest = rows[MAX_BARS - 1 :]
        rows = rows[: MAX_BARS - 1]
        rows.append(
            (
                labels.others.format(n=len(rest)),
                sum(r[1] for r in rest),
                sum(r[2] for r in rest),
            )
        )
    height = max(2.5, 0.45 * len(rows) + 1.4)
    figure = Figure(figsize=(7.5, height), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(rows)))[::-1]  # first manager on top
    values = [row[1] for row in rows]
    targets = [row[2] for row in rows]
    colors = [
        CALLS_COLOR if value >= target else BELOW_PLAN_COLOR
        for value, target in zip(values, targets, strict=True)
    ]
    axes.barh(positions, values, color=colors, height=0.6, label=labels.calls)
    axes.scatter(targets, positions, marker="|", s=400, color=PLAN_COLOR, label=labels.plan)
    for position, value in zip(positions, values, strict=True):
        axes.annotate(
            str(value),
            (value, position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=9,
        )
    axes.set_yticks(positions, [_short(row[0]) for row in rows])
    axes.set_title(labels.title)
    axes.set_xlim(0, max([*values, *targets, 1]) * 1.15)
    axes.legend(loc="lower right", fontsize=8)
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _short(name: str, limit: int = 22) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


PREDICTED_COLOR = "#1565c0"
ACTUAL_COLOR = "#2e7d32"
# Sized for a phone: 1080 px wide at 100 dpi, so a point is 100/72 px and the
# smallest text (20.5 pt) is about 28 px high.
PHONE_WIDTH_IN = 10.8
PHONE_DPI = 100
PHONE_SMALL_PT = 20.5
PHONE_LARGE_PT = 25


@dataclass(frozen=True)
class BacktestChartLabels:
    headline: str  # one or two short lines: "Purchases ...\npredicted 1,653, actual 1,882 (−12%)"
    weekly_title: str
    week: str
    cumulative: str
    by_repeat_title: str
    repeat_purchases: str
    mean_purchases: str
    predicted: str
    actual: str


def backtest_png(
    weeks: Sequence[int],
    predicted_cumulative: Sequence[float],
    actual_cumulative: Sequence[int],
    groups: Sequence[str],
    predicted_mean: Sequence[float],
    actual_mean: Sequence[float],
    labels: BacktestChartLabels,
) -> bytes:
    """A model check on one phone screen; PNG bytes 1080 px wide (see :func:`backtest_figure`)."""
    figure = backtest_figure(
        weeks, predicted_cumulative, actual_cumulative, groups, predicted_mean, actual_mean, labels
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def backtest_figure(
    weeks: Sequence[int],
    predicted_cumulative: Sequence[float],
    actual_cumulative: Sequence[int],
    groups: Sequence[str],
    predicted_mean: Sequence[float],
    actual_mean: Sequence[float],
    labels: BacktestChartLabels,
) -> Figure:
    """The figure of :func:`backtest_png`.

    Top: cumulative purchases week by week through the holdout, predicted
    against actual. Bottom: mean holdout purchases per client by the number
    of repeat purchases in the calibration period, predicted against actual
    (Fader, Hardie & Lee 2005, figures 3 and 4).
    """
    if not len(weeks) == len(predicted_cumulative) == len(actual_cumulative):
        raise ValueError("weeks, predicted_cumulative and actual_cumulative must match")
    if not len(groups) == len(predicted_mean) == len(actual_mean):
        raise ValueError("groups, predicted_mean and actual_mean must match")
    figure = Figure(figsize=(PHONE_WIDTH_IN, 15.0), dpi=PHONE_DPI)
    FigureCanvasAgg(figure)
    figure.suptitle(labels.headline, fontsize=PHONE_LARGE_PT)
    top, bottom = figure.subplots(2, 1)

    # Both curves start from nothing at the start of the holdout.
    x = [0, *weeks]
    top.plot(x, [0, *actual_cumulative], color=ACTUAL_COLOR, linewidth=4, label=labels.actual)
    top.plot(
        x,
        [0.0, *predicted_cumulative],
        color=PREDICTED_COLOR,
        linewidth=4,
        linestyle="--",
        label=labels.predicted,
    )
    top.set_title(labels.weekly_title, fontsize=PHONE_LARGE_PT)
    top.set_xlabel(labels.week, fontsize=PHONE_SMALL_PT)
    top.set_ylabel(labels.cumulative, fontsize=PHONE_SMALL_PT)
    top.set_xlim(left=0)
    top.set_ylim(bottom=0)
    top.legend(fontsize=PHONE_SMALL_PT, loc="upper left")

    positions = list(range(len(groups)))
    width = 0.4
    bottom.bar(
        [p - width / 2 for p in positions],
        [0.0 if v != v else v for v in actual_mean],  # NaN (empty group) as no bar
        width,
        color=ACTUAL_COLOR,
        label=labels.actual,
    )
    bottom.bar(
        [p + width / 2 for p in positions],
        [0.0 if v != v else v for v in predicted_mean],
        width,
        color=PREDICTED_COLOR,
        label=labels.predicted,
    )
    bottom.set_xticks(positions, list(groups))
    bottom.set_title(labels.by_repeat_title, fontsize=PHONE_LARGE_PT)
    bottom.set_xlabel(labels.repeat_purchases, fontsize=PHONE_SMALL_PT)
    bottom.set_ylabel(labels.mean_purchases, fontsize=PHONE_SMALL_PT)
    bottom.legend(fontsize=PHONE_SMALL_PT, loc="upper left")

    for axes in (top, bottom):
        axes.tick_params(labelsize=PHONE_SMALL_PT)
        axes.grid(alpha=0.3)
    figure.tight_layout(rect=(0, 0, 1, 0.95), h_pad=2.5)
    return figure
