"""`crmbot segment`: recompute segments from the database and store the clients' state."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from bot.cli.common import (
    EXIT_OK,
    SubParsers,
    company_today,
    open_database,
    read_segmentation_config,
    run_command,
)
from bot.config import Settings
from services.segmentation import SegmentationOutcome, recompute_segments
from services.settings_store import save_segmentation_settings

MIGRATIONS_SHOWN = 30


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "segment", help="recompute ABC/XYZ segments, statuses and churn; store the state"
    )
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="compute as known on this date, YYYY-MM-DD (default: today in the company zone)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE.toml",
        help="store these segmentation settings (thresholds, cadence table) before computing",
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    async def main(settings: Settings) -> int:
        as_of = args.as_of or company_today(settings)
        async with open_database(settings) as database:
            if args.config is not None:
                stored = read_segmentation_config(args.config)
                await save_segmentation_settings(database.uow_factory(), stored)
                print(f"Segmentation settings from {args.config} stored.")
            outcome = await recompute_segments(
                database.uow_factory(), as_of, timezone=settings.company.default_timezone
            )
        print(render_outcome(outcome))
        return EXIT_OK

    return run_command(main)


def render_outcome(outcome: SegmentationOutcome) -> str:
    lines = [f"Segments as of {outcome.as_of}: {outcome.clients} clients (run {outcome.run_id})."]
    header = "     " + "".join(f"{x:>8}" for x in "XYZ")
    lines.append(header)
    for abc in "ABC":
        cells = "".join(f"{outcome.segment_counts.get(abc + x, 0):>8}" for x in "XYZ")
        lines.append(f"  {abc}  {cells}")
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(outcome.status_counts.items()))
    lines.append(f"Statuses: {statuses}")
    if outcome.model:
        m = outcome.model
        lines.append(
            f"BG/NBD (weeks): r={m['r']:.4f} alpha={m['alpha']:.4f} a={m['a']:.4f} b={m['b']:.4f}"
        )
    if outcome.phases:
        took = sum(outcome.phases.values())
        phases = ", ".join(f"{name} {seconds:.1f}" for name, seconds in outcome.phases.items())
        lines.append(f"Computed in {took:.1f} s ({phases}).")
    lines.append(f"History: {outcome.changed} clients changed their tracked state.")
    if outcome.previous_as_of is None:
        lines.append("No earlier run: no migrations to show.")
        return "\n".join(lines)
    lines.append(
        f"Migrations since {outcome.previous_as_of}: {len(outcome.migrations)} clients moved."
    )
    for move in outcome.migrations[:MIGRATIONS_SHOWN]:
        parts = []
        for label, before, after in (
            ("ABC", move.abc_from, move.abc_to),
            ("XYZ", move.xyz_from, move.xyz_to),
            ("status", move.status_from, move.status_to),
        ):
            if before != after:
                parts.append(f"{label} {before or '-'} -> {after or '-'}")
        lines.append(f"  client {move.client_id}: " + "; ".join(parts))
    if len(outcome.migrations) > MIGRATIONS_SHOWN:
        lines.append(f"  ... and {len(outcome.migrations) - MIGRATIONS_SHOWN} more")
    return "\n".join(lines)
