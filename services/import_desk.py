"""Importing a file sent to the bot: a preview first, the import on "Import", then a recompute.

A file waits in `root/<import id>/` (the id is all its button carries) with a small
`pending.json` saying whose it is and what it holds. "Import" claims it by renaming that
file to `claimed.json`: a rename is atomic, so a double tap (or two bot processes sharing
the folder) imports it once, and a forged, expired or someone else's id finds nothing to
claim. The import itself is the command line's (`services.importing`), so a file imports
the same way from the chat, the inbox and `crmbot import`.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

from sqlalchemy import func, select

from services.db.models import Client, Role, User
from services.errors import DomainError
from services.importing import (
    ImportKind,
    ImportReport,
    MissingColumnsError,
    ProgressBar,
    RowError,
    import_clients,
    import_transactions,
)
from services.importing.columns import CLIENT_COLUMNS, TRANSACTION_COLUMNS
from services.importing.reader import (
    DEFAULT_MAX_FUTURE_DAYS,
    FileInfo,
    ManagerDirectory,
    inspect_file,
    open_table,
    read_table,
    validate_clients,
    validate_transactions,
)
from services.segmentation import Migration, recompute_segments
from services.uow import UnitOfWork, UnitOfWorkFactory
from services.users import UserDTO
from services.zones import DEFAULT_TIMEZONE

# Telegram lets a bot download files up to 20 MB.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PENDING_TTL = timedelta(hours=24)
FIRST_ERRORS = 5
SUPPORTED_SUFFIXES = (".csv", ".xlsx", ".txt")
_PENDING = "pending.json"
_CLAIMED = "claimed.json"
_IMPORTERS = (Role.HEAD, Role.ADMIN)


class ImportNotAllowed(DomainError):
    """Managers send files by mistake: importing is for the head and admins."""

    code: ClassVar[str] = "import_not_allowed"

    def __init__(self) -> None:
        super().__init__("only the head of sales or an admin can import files")


class ImportButtonExpired(DomainError):
    """The file behind an "Import" button is gone, expired or someone else's."""

    code: ClassVar[str] = "import_button_expired"

    def __init__(self) -> None:
        super().__init__("this button has expired: send the file again")


class UploadTooLarge(DomainError):
    code: ClassVar[str] = "import_too_large"

    def __init__(self, size: int) -> None:
        super().__init__(
            f"the file is {size / 1024 / 1024:.1f} MB; Telegram lets bots download 20 MB at most",
            size_mb=f"{size / 1024 / 1024:.1f}",
            limit_mb=MAX_UPLOAD_BYTES // 1024 // 1024,
        )


class UnsupportedUpload(DomainError):
    code: ClassVar[str] = "import_unsupported_upload"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name}: send a .csv or .xlsx file", name=name)


@dataclass(frozen=True)
class ImportPreview:
    """What the file holds, read without writing anything."""

    import_id: str
    kind: ImportKind
    file_name: str
    rows: int
    columns: tuple[tuple[str, str], ...]  # canonical name, header it was read from
    bad_rows: int
    first_errors: tuple[RowError, ...]
    totals_rows: int = 0
    header_row: int = 1


@dataclass(frozen=True)
class PendingImport:
    import_id: str
    owner_id: int  # the uploader's user id
    kind: ImportKind
    file_name: str
    path: Path
    created_at: datetime


@dataclass(frozen=True)
class ImportOutcome:
    """The import's report, the rejected rows as CSV, and what the recompute changed."""

    report: ImportReport
    rejected_csv: bytes | None
    recomputed: bool = False
    new_clients: int = 0
    migrations: tuple[Migration, ...] = ()
    as_of: date | None = None


@dataclass(frozen=True)
class Recipient:
    telegram_id: int
    language: str | None


@dataclass
class Progress:
    """Rows done so far, written by the importer (any thread), read by whoever shows it."""

    done: int = 0
    total: int | None = None
    stage: str = ""

    def __call__(self, description: str, total: int | None) -> ProgressBar:
        self.stage, self.done = description, 0
        if total is not None:
            self.total = total
        return _Bar(self)

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(100, round(100 * self.done / self.total))


class _Bar:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def update(self, n: int = 1) -> None:
        self._progress.done += n

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class ImportDesk:
    """Where uploaded files wait (`IMPORT_UPLOAD_DIR`) and how imports are read."""

    root: Path
    max_future_days: int = DEFAULT_MAX_FUTURE_DAYS
    timezone: str = DEFAULT_TIMEZONE
    ttl: timedelta = PENDING_TTL
    progress_every: float = 2.0  # seconds between edits of the progress message


def ensure_may_import(user: UserDTO) -> None:
    if user.role not in _IMPORTERS:
        raise ImportNotAllowed()


def check_upload(user: UserDTO, file_name: str, size: int | None) -> None:
    """Before downloading: who sends it, what it is, and whether Telegram gives it to bots."""
    ensure_may_import(user)
    if not file_name.lower().endswith(SUPPORTED_SUFFIXES):
        raise UnsupportedUpload(file_name)
    if size is not None and size > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(size)


def new_upload_path(desk: ImportDesk, file_name: str) -> tuple[str, Path]:
    """A fresh import id and the path to download the file to."""
    import_id = secrets.token_hex(8)
    folder = desk.root / import_id
    folder.mkdir(parents=True, exist_ok=False)
    suffix = Path(file_name).suffix.lower() or ".csv"
    return import_id, folder / f"file{suffix}"


def detect_kind(path: Path, info: FileInfo) -> ImportKind:
    """Sales when the header has a date and an amount, clients otherwise (by the columns)."""
    try:
        with open_table(path, TRANSACTION_COLUMNS, info=info, chunk_rows=1):
            return ImportKind.TRANSACTIONS
    except MissingColumnsError as error:
        if "date" not in error.missing or "amount" not in error.missing:
            raise  # a sales file with a column missing: say which
    with open_table(path, CLIENT_COLUMNS, info=info, chunk_rows=1):
        return ImportKind.CLIENTS


async def prepare_import(
    uow: UnitOfWork,
    desk: ImportDesk,
    user: UserDTO,
    import_id: str,
    path: Path,
    *,
    file_name: str,
    now: datetime,
    today: date,
) -> ImportPreview:
    """Read the downloaded file, keep it for "Import" and say what it holds.

    Raises `ImportFileError` (the file is removed) when it cannot be read at all.
    """
    ensure_may_import(user)
    try:
        preview = await _preview(uow, desk, import_id, path, file_name, today)
    except BaseException:
        shutil.rmtree(path.parent, ignore_errors=True)
        raise
    meta = {
        "owner_id": user.id,
        "kind": preview.kind.value,
        "file_name": file_name,
        "file": path.name,
        "created_at": now.isoformat(),
    }
    (path.parent / _PENDING).write_text(json.dumps(meta), encoding="utf-8")
    return preview


async def _preview(
    uow: UnitOfWork,
    desk: ImportDesk,
    import_id: str,
    path: Path,
    file_name: str,
    today: date,
) -> ImportPreview:
    info = await asyncio.to_thread(inspect_file, path)
    kind = await asyncio.to_thread(detect_kind, path, info)
    if kind == ImportKind.CLIENTS:
        async with uow:
            users = [
                (row[0], row[1])
                for row in await uow.session.execute(select(User.id, User.display_name))
            ]
        table = await asyncio.to_thread(read_table, path, CLIENT_COLUMNS, info=info)
        parsed = await asyncio.to_thread(
            validate_clients, table, ManagerDirectory.from_users(users)
        )
        columns, header_row = tuple(table.columns.items()), table.header_row
        errors, rows, totals = parsed.errors, parsed.rows_read, len(parsed.totals)
    else:
        errors, rows, totals, columns, header_row = await asyncio.to_thread(
            _scan_transactions, path, info, today, desk.max_future_days
        )
    return ImportPreview(
        import_id=import_id,
        kind=kind,
        file_name=file_name,
        rows=rows,
        columns=columns,
        bad_rows=len({error.row for error in errors}),
        first_errors=tuple(errors[:FIRST_ERRORS]),
        totals_rows=totals,
        header_row=header_row,
    )


def _scan_transactions(
    path: Path, info: FileInfo, today: date, max_future_days: int
) -> tuple[tuple[RowError, ...], int, int, tuple[tuple[str, str], ...], int]:
    errors: list[RowError] = []
    rows = totals = 0
    names: dict[str, str] = {}
    with open_table(path, TRANSACTION_COLUMNS, info=info) as reader:
        for table in reader.chunks():
            parsed = validate_transactions(
                table, today=today, max_future_days=max_future_days, names=names
            )
            errors.extend(parsed.errors)
            rows += parsed.rows_read
            totals += len(parsed.totals)
        return tuple(errors), rows, totals, tuple(reader.columns.items()), reader.header_row


def _folder(desk: ImportDesk, import_id: str) -> Path | None:
    # ids are hex we made; anything else (a forged "../x") names no folder
    if len(import_id) != 16 or any(ch not in "0123456789abcdef" for ch in import_id):
        return None
    return desk.root / import_id


def _read_pending(folder: Path, meta_name: str) -> dict[str, str] | None:
    try:
        data = json.loads((folder / meta_name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def claim_import(desk: ImportDesk, import_id: str, user: UserDTO, now: datetime) -> PendingImport:
    """Take the waiting file for importing, once; expired if it is not this user's to take."""
    ensure_may_import(user)
    folder = _folder(desk, import_id)
    meta = _read_pending(folder, _PENDING) if folder is not None else None
    if folder is None or meta is None or int(meta["owner_id"]) != user.id:
        raise ImportButtonExpired()
    created_at = datetime.fromisoformat(meta["created_at"])
    if now - created_at > desk.ttl:
        shutil.rmtree(folder, ignore_errors=True)
        raise ImportButtonExpired()
    try:
        (folder / _PENDING).rename(folder / _CLAIMED)  # atomic: one tap wins
    except OSError:
        raise ImportButtonExpired() from None
    return PendingImport(
        import_id=import_id,
        owner_id=user.id,
        kind=ImportKind(meta["kind"]),
        file_name=meta["file_name"],
        path=folder / meta["file"],
        created_at=created_at,
    )


def cancel_import(desk: ImportDesk, import_id: str, user: UserDTO) -> str:
    """Drop the waiting file (returns its name); expired if there is none of this user's."""
    folder = _folder(desk, import_id)
    meta = _read_pending(folder, _PENDING) if folder is not None else None
    if folder is None or meta is None or int(meta["owner_id"]) != user.id:
        raise ImportButtonExpired()
    shutil.rmtree(folder, ignore_errors=True)
    return str(meta["file_name"])


def forget_stale(desk: ImportDesk, now: datetime) -> int:
    """Remove files nobody confirmed within the TTL; returns how many."""
    removed = 0
    if not desk.root.is_dir():
        return 0
    for folder in desk.root.iterdir():
        meta = _read_pending(folder, _PENDING)
        if meta is None:
            continue
        if now - datetime.fromisoformat(meta["created_at"]) > desk.ttl:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


async def run_import(
    uow_factory: UnitOfWorkFactory,
    desk: ImportDesk,
    kind: ImportKind,
    path: Path,
    *,
    file_name: str,
    today: date,
    progress: Progress | None = None,
) -> ImportOutcome:
    """Import good rows (bad ones are reported), then recompute the segments if anything changed.

    Shared by the chat and the inbox. Raises `ImportFileError` if the file cannot be read.
    """
    progress = progress or Progress()
    clients_before = await _count_clients(uow_factory())
    if kind == ImportKind.CLIENTS:
        report = await import_clients(
            uow_factory(), path, file_name=file_name, skip_invalid=True, progress=progress
        )
    else:
        report = await import_transactions(
            uow_factory(),
            path,
            today=today,
            file_name=file_name,
            skip_invalid=True,
            create_clients=True,
            max_future_days=desk.max_future_days,
            progress=progress,
        )
    rejected = rejected_rows_csv(report.errors) if report.errors else None
    changed = report.rows_imported or report.rows_updated or report.clients_created
    if not (report.committed and changed):
        return ImportOutcome(report, rejected)
    progress("Segments", None)
    outcome = await recompute_segments(uow_factory(), today, timezone=desk.timezone)
    new_clients = await _count_clients(uow_factory()) - clients_before
    return ImportOutcome(
        report,
        rejected,
        recomputed=True,
        new_clients=max(new_clients, 0),
        migrations=tuple(outcome.migrations),
        as_of=outcome.as_of,
    )


async def _count_clients(uow: UnitOfWork) -> int:
    async with uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Client)) or 0)


def finish_claimed(pending: PendingImport) -> None:
    """The file is imported: nothing of it stays on disk."""
    shutil.rmtree(pending.path.parent, ignore_errors=True)


def rejected_rows_csv(errors: Sequence[RowError]) -> bytes:
    """Every rejected cell as a CSV Excel opens (UTF-8 with BOM, ';')."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["row", "column", "code", "value", "problem"])
    for error in errors:
        value = error.value or ""
        if value.startswith(("=", "+", "-", "@", "\t", "\r")):
            value = "'" + value  # a rejected cell is never run as a formula
        writer.writerow([error.row, error.column, error.code, value, error.message])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


async def import_recipients(uow: UnitOfWork, roles: Sequence[Role]) -> list[Recipient]:
    """Active users of these roles who can be written to (heads: what changed; admins: inbox)."""
    async with uow:
        rows = await uow.session.execute(
            select(User.telegram_id, User.language).where(
                User.role.in_([role.value for role in roles]),
                User.is_active.is_(True),
                User.telegram_id.is_not(None),
            )
        )
        return [Recipient(int(row[0]), row[1]) for row in rows if row[0] is not None]


__all__ = [
    "MAX_UPLOAD_BYTES",
    "ImportButtonExpired",
    "ImportDesk",
    "ImportNotAllowed",
    "ImportOutcome",
    "ImportPreview",
    "PendingImport",
    "Progress",
    "Recipient",
    "UnsupportedUpload",
    "UploadTooLarge",
    "cancel_import",
    "check_upload",
    "claim_import",
    "detect_kind",
    "ensure_may_import",
    "finish_claimed",
    "forget_stale",
    "import_recipients",
    "new_upload_path",
    "prepare_import",
    "rejected_rows_csv",
    "run_import",
]
