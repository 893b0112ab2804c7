"""`crmbot import clients|transactions FILE`: load CSV/XLSX exports into the database."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from bot.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CommandError,
    SubParsers,
    company_today,
    open_database,
    run_command,
)
from bot.config import Settings
from services.importing import (
    ColumnMapError,
    ImportFileError,
    ImportReport,
    ProgressBar,
    ProgressFactory,
    RowError,
    import_clients,
    import_transactions,
    no_progress,
)
from services.importing.columns import CLIENT_COLUMNS, TRANSACTION_COLUMNS, ColumnSpec
from services.segmentation import recompute_segments

ERRORS_ON_SCREEN = 50

_DESCRIPTION = {
    "clients": (
        "Create or update clients (matched by code, then tax id, then name). "
        "Empty cells keep what the database has."
    ),
    "transactions": (
        "Add sales; rows already imported (same client, document number and category) "
        "are skipped, so running a file twice is safe."
    ),
}


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "import",
        help="import clients or sales from a CSV or XLSX file",
        description=(
            "Import a CSV (UTF-8, Windows-1251 or UTF-16; ',', ';', tab or '|') or XLSX file. "
            "Title lines above the header and totals rows (Итого) are skipped."
        ),
    )
    kinds = parser.add_subparsers(dest="import_kind", required=True, metavar="KIND")
    for kind, specs in (("clients", CLIENT_COLUMNS), ("transactions", TRANSACTION_COLUMNS)):
        sub = kinds.add_parser(
            kind,
            help=f"import {kind}",
            description=_DESCRIPTION[kind],
            epilog=_columns_help(specs),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("file", type=Path, metavar="FILE", help="a .csv or .xlsx file")
        sub.add_argument(
            "--map",
            dest="column_map",
            action="append",
            default=[],
            metavar="COLUMN=HEADER",
            help='read COLUMN from the header HEADER, e.g. --map amount="Сумма с НДС" (repeatable)',
        )
        sub.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the good rows even if some are rejected (default: all or nothing)",
        )
        sub.add_argument(
            "--errors-csv", type=Path, metavar="FILE", help="write every rejected row to FILE"
        )
        if kind == "transactions":
            sub.add_argument(
                "--create-clients",
                action="store_true",
                help="create clients not in the database (default: reject their rows)",
            )
        sub.add_argument(
            "--no-segment",
            dest="segment",
            action="store_false",
            help="do not recompute the segments after importing (the nightly run will)",
        )
        sub.set_defaults(handler=handle)


def _columns_help(specs: Sequence[ColumnSpec]) -> str:
    lines = ["columns (headers are matched case-insensitively; * = required):"]
    for spec in specs:
        mark = "*" if spec.required else " "
        lines.append(f"  {mark} {spec.name:<20} {', '.join(spec.synonyms)}")
    return "\n".join(lines)


def handle(args: argparse.Namespace) -> int:
    try:
        column_map = parse_column_map(args.column_map)
        if not args.file.is_file():
            raise CommandError(f"no such file: {args.file}")
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    return run_command(partial(import_file, args=args, column_map=column_map))


def parse_column_map(items: Sequence[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, header = item.partition("=")
        if not sep or not column.strip() or not header.strip():
            raise CommandError(f'--map expects COLUMN=HEADER, got "{item}"', EXIT_USAGE)
        mapping[column.strip()] = header.strip()
    return mapping


async def import_file(
    settings: Settings, *, args: argparse.Namespace, column_map: dict[str, str]
) -> int:
    path: Path = args.file
    progress = terminal_progress(sys.stderr)
    today = company_today(settings)
    async with open_database(settings) as database:
        uow = database.uow_factory()
        try:
            if args.import_kind == "clients":
                report = await import_clients(
                    uow,
                    path,
                    column_map=column_map,
                    skip_invalid=args.skip_invalid,
                    progress=progress,
                )
            else:
                report = await import_transactions(
                    uow,
                    path,
                    today=today,
                    column_map=column_map,
                    skip_invalid=args.skip_invalid,
                    create_clients=args.create_clients,
                    max_future_days=settings.importing.max_future_days,
                    progress=progress,
                )
        except ColumnMapError as error:
            raise CommandError(f"{path.name}: {error}", EXIT_USAGE) from error
        except ImportFileError as error:
            raise CommandError(f"{path.name}: {error}") from error
        print(render_report(report))
        changed = report.rows_imported or report.rows_updated or report.clients_created
        if report.committed and changed and args.segment:
            # segments, due dates and lists must reflect the new data right away
            outcome = await recompute_segments(
                database.uow_factory(), today, timezone=settings.company.default_timezone
            )
            print(f"Segments recomputed as of {outcome.as_of} for {outcome.clients} clients.")
    if args.errors_csv is not None and report.errors:
        write_errors_csv(report.errors, args.errors_csv)
        print(f"All {len(report.errors)} problems written to {args.errors_csv}.")
    return EXIT_FAILED if report.rows_rejected else EXIT_OK


def terminal_progress(stream: TextIO) -> ProgressFactory:
    """A tqdm bar per stage when a person is watching; silence in pipes, cron and tests."""
    if not stream.isatty():
        return no_progress

    def start(description: str, total: int | None) -> ProgressBar:
        return tqdm(desc=description, total=total, unit=" rows", unit_scale=True, file=stream)

    return start


def render_report(report: ImportReport, limit: int = ERRORS_ON_SCREEN) -> str:
    if report.already_imported_at is not None:
        when = report.already_imported_at.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"{report.file_name}: already imported on {when} "
            f"(batch #{report.previous_batch_id}); nothing to do."
        )
    lines = [f"Importing {report.kind} from {report.file_name} ({_describe_source(report)})"]
    if report.columns:
        used = ", ".join(f'{column} <- "{header}"' for column, header in report.columns)
        lines.append(f"Columns: {used}")
    if report.header_row and report.header_row > 1:
        lines.append(f"Header found on row {report.header_row} (the rows above it are titles)")
    lines.append(f"Rows read:          {report.rows_read}")
    if report.totals_rows:
        rows = ", ".join(map(str, report.totals_rows[:10]))
        more = " ..." if len(report.totals_rows) > 10 else ""
        lines.append(f"Totals skipped:     {len(report.totals_rows)} (row {rows}{more})")
    if report.committed:
        lines.append(f"Imported:           {report.rows_imported} new")
        if report.kind == "clients":
            lines.append(f"Updated:            {report.rows_updated}")
        if report.clients_created:
            lines.append(f"Clients created:    {report.clients_created}")
        already = "already up to date" if report.kind == "clients" else "already in the database"
        lines.append(f"Duplicates skipped: {report.rows_duplicate} ({already})")
    lines.append(f"Rejected:           {report.rows_rejected}")
    if report.errors:
        lines.append("Problems:")
        lines.extend(f"  {format_error(error)}" for error in report.errors[:limit])
        if len(report.errors) > limit:
            lines.append(
                f"  ... and {len(report.errors) - limit} more (--errors-csv FILE writes them all)"
            )
    lines.append(_verdict(report))
    return "\n".join(lines)


def _describe_source(report: ImportReport) -> str:
    if report.file_format != "csv":
        return report.file_format
    separator = {"\t": "tab"}.get(report.separator or "", report.separator)
    return f"csv, {report.encoding}, separator '{separator}'"


def _verdict(report: ImportReport) -> str:
    if not report.committed:
        return (
            f"Nothing was imported: {report.rows_rejected} row(s) rejected. Fix them, or run "
            f"again with --skip-invalid to import the {report.rows_valid} good row(s)."
        )
    changed = report.rows_imported + report.rows_updated
    if not changed and report.rows_duplicate:
        return "Nothing new: every row is already in the database."
    if report.rows_rejected:
        return f"Imported the good rows; {report.rows_rejected} row(s) were skipped."
    return "Done."


def format_error(error: RowError) -> str:
    value = f' "{error.value}"' if error.value is not None else ""
    return f"row {error.row}, {error.column}:{value} {error.message} [{error.code}]"


def write_errors_csv(errors: Sequence[RowError], path: Path) -> None:
    # UTF-8 with BOM and ';': what Excel with Russian settings opens without a wizard
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream, delimiter=";")
        writer.writerow(["row", "column", "code", "value", "message"])
        for error in errors:
            writer.writerow([error.row, error.column, error.code, error.value or "", error.message])
