"""`crmbot analyze FILE --as-of DATE`: segment a sales export without the bot or database."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bot.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    SubParsers,
    read_segmentation_config,
)
from bot.cli.importing import parse_column_map
from services.analytics.settings import SegmentationSettings
from services.importing import ImportFileError, RowError
from services.offline_analysis import FileAnalysis, analyze_file

ERRORS_SHOWN = 20


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="ABC/XYZ, statuses and churn of a transactions file (CSV/XLSX), no database",
    )
    parser.add_argument("file", type=Path, metavar="TRANSACTIONS_FILE")
    parser.add_argument("--as-of", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD")
    parser.add_argument(
        "--config", type=Path, metavar="FILE.toml", help="segmentation settings to override"
    )
    parser.add_argument(
        "--output", type=Path, default=Path("clients.csv"), help="per-client CSV to write"
    )
    parser.add_argument("--model-json", type=Path, help="write the fitted BG/NBD model here")
    parser.add_argument(
        "--map",
        dest="column_map",
        action="append",
        default=[],
        metavar="COLUMN=HEADER",
        help="read COLUMN from the header HEADER (repeatable)",
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="analyse the good rows even if some rows are rejected",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    try:
        settings = read_segmentation_config(args.config) if args.config else SegmentationSettings()
        result = analyze_file(args.file, args.as_of, settings, parse_column_map(args.column_map))
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except (ImportFileError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    print_rejected(result.rejected, result.rows_read)
    if result.rejected and not args.skip_invalid:
        print(
            "Nothing analysed: fix the rows above or add --skip-invalid to analyse the rest.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(render(result, args.as_of))
    result.clients.to_csv(args.output, index=False)
    print(f"Wrote {len(result.clients)} clients to {args.output}")
    if args.model_json:
        args.model_json.write_text(
            json.dumps(model_json(result), indent=2) + "\n", encoding="utf-8"
        )
        print(f"Wrote the model to {args.model_json}")
    return EXIT_FAILED if result.rejected else EXIT_OK


def print_rejected(rejected: Sequence[RowError], rows_read: int) -> None:
    if not rejected:
        return
    print(f"{len(rejected)} of {rows_read} rows rejected:", file=sys.stderr)
    for error in rejected[:ERRORS_SHOWN]:
        value = f' "{error.value}"' if error.value else ""
        print(f"  row {error.row}, {error.column}{value}: {error.message}", file=sys.stderr)
    if len(rejected) > ERRORS_SHOWN:
        print(f"  ... and {len(rejected) - ERRORS_SHOWN} more", file=sys.stderr)


def model_json(result: FileAnalysis) -> dict[str, Any]:
    """`model.json`: the BG/NBD model, with the Gamma-Gamma spend model under "spend"."""
    model: dict[str, Any] = result.model.to_json_dict() if result.model else {"model": "bg/nbd"}
    if result.spend is not None:
        model["spend"] = result.spend.to_json_dict()
    else:
        model["spend"] = {"model": "gamma-gamma", "p": None, "q": None, "v": None, "n_clients": 0}
    return model


def render(result: FileAnalysis, as_of: date) -> str:
    counts, shares = result.matrix["clients"], result.matrix["revenue_share"]
    lines = [
        f"As of {as_of}: {len(result.clients)} clients from {result.rows_read} rows.",
        "",
        "Clients (revenue share)      X                 Y                 Z",
    ]
    for abc in counts.index:
        cells = "".join(
            f"{int(counts.loc[abc, x]):>8} ({shares.loc[abc, x]:6.1%})" for x in counts.columns
        )
        lines.append(f"  {abc}          {cells}")
    lines.append("")
    lines.append(
        "Statuses: "
        + ", ".join(f"{row.status} {row.clients}" for row in result.statuses.itertuples())
    )
    if result.model is not None:
        m = result.model
        lines.append(
            f"BG/NBD (weeks): r={m.r:.4f} alpha={m.alpha:.4f} a={m.a:.4f} b={m.b:.4f}, "
            f"log-likelihood {m.log_likelihood:.1f} on {m.n_clients} clients"
        )
    if result.spend is not None:
        g = result.spend
        mean = f"{g.mean_spend:,.2f}" if math.isfinite(g.mean_spend) else "not finite (q <= 1)"
        lines.append(
            f"Gamma-Gamma spend: p={g.p:.4f} q={g.q:.4f} v={g.v:.4f} on {g.n_clients} clients "
            f"with repeat purchases; mean spend per purchase {mean}"
        )
        value = result.clients["value_12m"].sum()
        lines.append(f"Expected revenue over the next 12 months (value_12m, total): {value:,.2f}")
    return "\n".join(lines)
