"""`crmbot backtest FILE --calibration-end DATE`: check the churn model against what happened."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.analyze import print_rejected
from bot.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, SubParsers
from bot.cli.importing import parse_column_map
from services.analytics.backtest import BacktestReport
from services.importing import ImportFileError
from services.offline_analysis import backtest_file, read_transactions_file

if TYPE_CHECKING:
    from services.charts import BacktestChartLabels

LANGUAGES = ("ru", "en")


@dataclass(frozen=True)
class _Texts:
    headline: str
    weekly_title: str
    week: str
    cumulative: str
    by_repeat_title: str
    repeat_purchases: str
    mean_purchases: str
    predicted: str
    actual: str
    date_format: str
    thousands: str
    percent: str


# The chart is the analyst's artefact of this command; its two languages live
# here, beside the English console output of the analyst commands.
_TEXTS = {
    "ru": _Texts(
        headline="Покупки с {start} по {end}\nпрогноз {predicted}, факт {actual} ({error})",
        weekly_title="По неделям, нарастающим итогом",
        week="Неделя проверочного периода",
        cumulative="Покупок с начала периода",
        by_repeat_title="В среднем на клиента",
        repeat_purchases="Повторных покупок до {cut}",
        mean_purchases="Покупок на клиента",
        predicted="Прогноз модели",
        actual="Факт",
        date_format="%d.%m.%Y",
        thousands="\u00a0",
        percent="{sign}{value}\u00a0%",
    ),
    "en": _Texts(
        headline="Purchases {start} to {end}\npredicted {predicted}, actual {actual} ({error})",
        weekly_title="Week by week, cumulative",
        week="Week of the holdout period",
        cumulative="Purchases so far",
        by_repeat_title="Mean per client",
        repeat_purchases="Repeat purchases up to {cut}",
        mean_purchases="Purchases per client",
        predicted="Model forecast",
        actual="Actual",
        date_format="%Y-%m-%d",
        thousands=",",
        percent="{sign}{value}%",
    ),
}


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-06-30") from None


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "backtest",
        help="fit the churn model up to a date and compare its forecast with what happened",
    )
    parser.add_argument("file", type=Path, metavar="TRANSACTIONS_FILE")
    parser.add_argument(
        "--calibration-end",
        required=True,
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="last day the model may see",
    )
    parser.add_argument(
        "--holdout-end",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="last day of the period to predict (default: the last date in the file)",
    )
    parser.add_argument(
        "--output", type=Path, default=Path("report.json"), help="the report to write (JSON)"
    )
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the report as a PNG")
    parser.add_argument(
        "--language", choices=LANGUAGES, default="ru", help="language of the chart (default ru)"
    )
    parser.add_argument(
        "--map",
        dest="column_map",
        action="append",
        default=[],
        metavar="COLUMN=HEADER",
        help="read COLUMN from the header HEADER (repeatable)",
    )
    parser.add_argument(
        "--skip-invalid", action="store_true", help="check on the good rows even if some are bad"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    if args.holdout_end is not None and args.holdout_end <= args.calibration_end:
        print(
            f"error: --holdout-end {args.holdout_end} must be after "
            f"--calibration-end {args.calibration_end}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        data = read_transactions_file(args.file, parse_column_map(args.column_map))
    except (ImportFileError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print_rejected(data.rejected, data.rows_read)
    if data.rejected and not args.skip_invalid:
        print(
            "Nothing checked: fix the rows above or add --skip-invalid to check on the rest.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    try:
        report = backtest_file(data, args.calibration_end, args.holdout_end)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.holdout_end is not None and report.data_end < args.holdout_end:
        print(
            f"warning: the file ends on {report.data_end}, before the holdout end "
            f"{args.holdout_end}: purchases after that are missing from the actual figures",
            file=sys.stderr,
        )
    print(render(report))
    try:
        args.output.write_text(
            json.dumps(report.to_json_dict(), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        print(f"Wrote the report to {args.output}")
        if args.plot:
            args.plot.write_bytes(plot(report, args.language))
            print(f"Wrote the chart to {args.plot}")
    except OSError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_FAILED if data.rejected else EXIT_OK


def render(report: BacktestReport) -> str:
    error = report.error_share
    lines = [
        f"Calibration to {report.calibration_end}, holdout to {report.holdout_end} "
        f"({report.holdout_weeks:.1f} weeks), {report.clients:,} clients.",
        f"Holdout purchases: predicted {report.predicted_total:,.1f}, actual "
        f"{report.actual_total:,}"
        + (f" ({error:+.1%})" if error == error else "")
        + f"; mean absolute error {report.mae:.3f} per client.",
        "",
        "Repeat purchases   clients   predicted   actual   (mean holdout purchases per client)",
    ]
    for row in report.by_repeat_purchases.itertuples(index=False):
        lines.append(
            f"  {row.repeat_purchases:>6}       {row.clients:>8}   "
            f"{row.predicted_mean:9.3f}   {row.actual_mean:6.3f}"
        )
    m = report.model
    lines.append("")
    lines.append(
        f"BG/NBD (weeks) fitted on the calibration period: r={m.r:.4f} alpha={m.alpha:.4f} "
        f"a={m.a:.4f} b={m.b:.4f}"
    )
    return "\n".join(lines)


def _number(value: float, texts: _Texts) -> str:
    return f"{round(value):,}".replace(",", texts.thousands)


def plot(report: BacktestReport, language: str) -> bytes:
    """The report as a PNG for a phone, labelled in `language`."""
    # matplotlib is imported only when a chart is asked for: every other
    # crmbot command starts without paying for it.
    from services.charts import backtest_png

    return backtest_png(*chart_data(report), chart_labels(report, language))


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


def chart_labels(report: BacktestReport, language: str) -> BacktestChartLabels:
    from services.charts import BacktestChartLabels

    texts = _TEXTS[language]
    error = report.error_share
    if error == error:
        points = round(abs(error) * 100)
        sign = "" if points == 0 else "−" if error < 0 else "+"
        percent = texts.percent.format(sign=sign, value=points)
    else:  # nothing was bought in the holdout
        percent = "—"
    start = report.calibration_end + timedelta(days=1)
    return BacktestChartLabels(
        headline=texts.headline.format(
            start=start.strftime(texts.date_format),
            end=report.holdout_end.strftime(texts.date_format),
            predicted=_number(report.predicted_total, texts),
            actual=_number(report.actual_total, texts),
            error=percent,
        ),
        weekly_title=texts.weekly_title,
        week=texts.week,
        cumulative=texts.cumulative,
        by_repeat_title=texts.by_repeat_title,
        repeat_purchases=texts.repeat_purchases.format(
            cut=report.calibration_end.strftime(texts.date_format)
        ),
        mean_purchases=texts.mean_purchases,
        predicted=texts.predicted,
        actual=texts.actual,
    )
