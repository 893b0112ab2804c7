"""`crmbot backtest FILE --calibration-end DATE`: check the churn model against what happened."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from bot.cli.analyze import print_rejected
from bot.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, SubParsers
from bot.cli.importing import parse_column_map
from services.analytics.backtest import BacktestReport
from services.importing import ImportFileError
from services.languages import LANGUAGES
from services.offline_analysis import backtest_file, read_transactions_file
from ui.i18n import Translator


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
            # matplotlib is imported only when a chart is asked for: every other
            # crmbot command starts without paying for it
            from ui.texts.backtest import backtest_chart

            args.plot.write_bytes(backtest_chart(report, Translator(args.language)))
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
