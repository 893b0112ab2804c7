"""`crmbot export clients FILE.xlsx|FILE.csv`: the client base with segments, for Excel."""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

from bot.cli.common import EXIT_OK, EXIT_USAGE, CommandError, SubParsers, open_database, run_command
from bot.config import Settings
from services.exporting import CsvExportWriter, ExportTooLarge, ExportWriter, XlsxExportWriter
from services.exporting import export_clients as export_clients_service
from services.normalize import normalize_name
from services.users import list_users
from ui.i18n import Translator
from ui.texts.export import export_labels, sheet_title

FORMATS = (".csv", ".xlsx")


def register(subparsers: SubParsers) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export clients with segment, status, P(alive) and next contact to XLSX or CSV",
    )
    kinds = parser.add_subparsers(dest="export_kind", required=True, metavar="KIND")
    sub = kinds.add_parser(
        "clients",
        help="one row per client",
        description=(
            "One row per client: code, name, company, tax id, phones, e-mail, city, owner, "
            "VIP, segment, status, P(alive), next contact, revenue over 12 months. "
            "The file imports back with `crmbot import clients` as it is."
        ),
    )
    sub.add_argument("file", type=Path, metavar="FILE", help="a .xlsx or .csv file to write")
    sub.add_argument(
        "--owner",
        metavar="NAME|TELEGRAM_ID",
        help="only this manager's clients (default: the whole base)",
    )
    sub.add_argument(
        "--language",
        choices=["ru", "en"],
        help="headers and values in this language (default: DEFAULT_LANGUAGE)",
    )
    sub.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    suffix = args.file.suffix.lower()
    if suffix not in FORMATS:
        print(f"error: {args.file}: the file name must end in .xlsx or .csv", file=sys.stderr)
        return EXIT_USAGE
    return run_command(partial(export_file, args=args))


async def export_file(settings: Settings, *, args: argparse.Namespace) -> int:
    path: Path = args.file
    translator = Translator(args.language or settings.company.default_language)
    # written next to the target and renamed at the end: a failure leaves no half file
    partial_path = path.with_name(f".{path.name}.part")
    async with open_database(settings) as database:
        owner_id = await _owner_id(database.uow_factory, args.owner) if args.owner else None
        try:
            if path.suffix.lower() == ".xlsx":
                with partial_path.open("wb") as binary:
                    writer: ExportWriter = XlsxExportWriter(
                        binary, sheet_title=sheet_title(translator)
                    )
                    summary = await export_clients_service(
                        database.uow_factory(),
                        writer,
                        labels=export_labels(translator),
                        owner_id=owner_id,
                    )
            else:
                with partial_path.open("w", encoding="utf-8", newline="") as stream:
                    writer = CsvExportWriter(stream, decimal_comma=translator.language == "ru")
                    summary = await export_clients_service(
                        database.uow_factory(),
                        writer,
                        labels=export_labels(translator),
                        owner_id=owner_id,
                    )
        except ExportTooLarge as error:
            partial_path.unlink(missing_ok=True)
            raise CommandError(str(error)) from error
        except BaseException:
            partial_path.unlink(missing_ok=True)
            raise
    partial_path.replace(path)
    segments = (
        f"segments as of {summary.segments_as_of}"
        if summary.segments_as_of
        else "no segments computed yet (run crmbot segment)"
    )
    print(f"Wrote {summary.rows} clients to {path} ({segments}).")
    return EXIT_OK


async def _owner_id(uow_factory: object, owner: str) -> int:
    users = await list_users(uow_factory())  # type: ignore[operator]
    if owner.isdigit():
        found = [user for user in users if user.telegram_id == int(owner) or user.id == int(owner)]
    else:
        found = [
            user for user in users if normalize_name(user.display_name) == normalize_name(owner)
        ]
    if not found:
        raise CommandError(f'no user "{owner}"; see crmbot users list', EXIT_USAGE)
    if len(found) > 1:
        names = ", ".join(f"{user.display_name} (id {user.id})" for user in found)
        raise CommandError(f'several users match "{owner}": {names}', EXIT_USAGE)
    return found[0].id
