"""PNG charts for the digest, drawn for a phone screen with matplotlib's Agg backend.

A phone shows a photo across the screen's width, about 1080 px on a current phone, so
charts are exactly `WIDTH_PX` wide with every text at least `MIN_TEXT_PX` high at that
size. Each row puts its label and figures on a line of their own above a full-width bar,
so long names never squeeze the bars, and the plan is a thick black mark across the bar.

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
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

WIDTH_PX = 1080
DPI = 100
MIN_TEXT_PX = 28
TEXT_PT = 22.0  # 30.6 px at DPI 100
TITLE_PT = 25.0
MAX_BARS = 15  # beyond this the rows no longer fit a phone screen or two

AT_PLAN_COLOR = "#1b5e20"  # dark green
BELOW_PLAN_COLOR = "#c62828"  # red
NO_PLAN_COLOR = "#37474f"
PLAN_COLOR = "#000000"
PREVIOUS_COLOR = "#9e9e9e"
TEXT_COLOR = "#111111"

_ROW_IN = 1.45  # one row: a text line and a bar
_HEADER_IN = 1.05
_FOOTER_IN = 0.95
_LEGEND_LINE_IN = 0.5


@dataclass(frozen=True)
class BarRow:
    """One row: `label` on the left, `figures` on the right, a bar of `value` below.

    `target` is the plan (0: none); `previous` the same figure one period earlier, drawn
    as a thin grey bar under the main one.
    """

    label: str
    figures: str
    value: int
    target: int = 0
    previous: int | None = None


@dataclass(frozen=True)
class ChartLegend:
    at_plan: str
    below_plan: str
    plan: str
    previous: str | None = None  # shown when the rows carry a previous figure


def calls_chart_figure(title: str, rows: Sequence[BarRow], legend: ChartLegend) -> Figure:
    """The chart as a matplotlib Figure (`to_png` renders it); at most `MAX_BARS` rows."""
    if len(rows) > MAX_BARS:
        raise ValueError(f"at most {MAX_BARS} rows fit a phone screen; sum up the rest")
    count = max(len(rows), 1)
    shows_previous = any(row.previous is not None for row in rows) and bool(legend.previous)
    columns = 2 if shows_previous else 3  # four entries do not fit one line at this size
    footer = _FOOTER_IN + (_LEGEND_LINE_IN if shows_previous else 0.0)
    height = _HEADER_IN + count * _ROW_IN + footer
    figure = Figure(figsize=(WIDTH_PX / DPI, height), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    top = 1 - _HEADER_IN / height
    bottom = footer / height
    figure.text(
        0.04, 1 - 0.5 * _HEADER_IN / height, title, fontsize=TITLE_PT, fontweight="bold",
        color=TEXT_COLOR, va="center", ha="left",
    )  # fmt: skip
    axes = figure.add_axes((0.04, bottom, 0.92, top - bottom))
    axes.set_axis_off()
    limit = max([1, *(r.value for r in rows), *(r.target for r in rows)]) * 1.04
    limit = max(limit, *((r.previous or 0) * 1.04 for r in rows)) if rows else limit
    axes.set_xlim(0, limit)
    axes.set_ylim(count, 0)  # row i spans [i, i + 1], the first row on top
    for index, row in enumerate(rows):
        text_y, bar_y = index + 0.28, index + 0.68
        axes.text(0, text_y, _short(row.label), fontsize=TEXT_PT, color=TEXT_COLOR, va="center")
        axes.text(
            limit, text_y, row.figures, fontsize=TEXT_PT, color=TEXT_COLOR, va="center",
            ha="right", fontweight="bold",
        )  # fmt: skip
        axes.barh(bar_y, limit, height=0.34, color="#eeeeee", linewidth=0)  # the track
        color = (
            NO_PLAN_COLOR
            if not row.target
            else AT_PLAN_COLOR
            if row.value >= row.target
            else BELOW_PLAN_COLOR
        )
        bar_height = 0.24 if shows_previous else 0.34
        offset = -0.05 if shows_previous else 0.0
        axes.barh(bar_y + offset, row.value, height=bar_height, color=color, linewidth=0)
        if row.previous is not None:
            axes.barh(bar_y + 0.13, row.previous, height=0.08, color=PREVIOUS_COLOR, linewidth=0)
        if row.target:
            axes.vlines(row.target, bar_y - 0.24, bar_y + 0.24, colors=PLAN_COLOR, linewidth=6)
    handles = [
        Patch(color=AT_PLAN_COLOR, label=legend.at_plan),
        Patch(color=BELOW_PLAN_COLOR, label=legend.below_plan),
        Line2D([], [], color=PLAN_COLOR, linewidth=6, label=legend.plan),
    ]
    if shows_previous and legend.previous:
        handles.append(Patch(color=PREVIOUS_COLOR, label=legend.previous))
    figure.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.03, 0.15 / height),
        ncols=columns,
        fontsize=TEXT_PT,
        frameon=False,
        handlelength=1.0,
        columnspacing=1.0,
        handletextpad=0.4,
        borderaxespad=0.0,
    )
    return figure


def to_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor=figure.get_facecolor())
    return buffer.getvalue()


def calls_vs_plan_png(title: str, rows: Sequence[BarRow], legend: ChartLegend) -> bytes:
    """Calls per manager against each one's plan, `WIDTH_PX` wide; PNG bytes."""
    return to_png(calls_chart_figure(title, rows, legend))


def _short(name: str, limit: int = 26) -> str:
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
