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
