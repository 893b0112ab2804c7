"""The watched inbox (`IMPORT_INBOX`): files dropped by 1C's scheduled exchange get imported once.

A file is read only when it is whole: its size and modification time must be the same on
two scans in a row, and `*.part` files (a sync tool writing `x.csv.part`, then renaming
it to `x.csv`) are never read. Each content is imported once, however many scheduler
processes watch the folder: an advisory lock on the content's hash keeps two from working
on it at the same time, and the `inbox_files` ledger (unique per hash) says it was done.
The file then moves to `done/` or `failed/`, with a report beside it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from services.db.locks import advisory_lock
from services.db.models import InboxFile
from services.import_desk import (
    SUPPORTED_SUFFIXES,
    ImportDesk,
    ImportOutcome,
    detect_kind,
    run_import,
)
from services.importing import ImportFileError, ImportKind
from services.importing.reader import inspect_file
from services.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

DONE = "done"
FAILED = "failed"
IMPORTING = "importing"
_HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class InboxResult:
    """One file taken from the inbox: imported (outcome) or failed (reason), and where it went."""

    file_name: str
    sha256: str
    moved_to: Path
    report_path: Path
    kind: ImportKind | None = None
    outcome: ImportOutcome | None = None
    reason: str | None = None
    duplicate: bool = False  # this content was imported before: moved aside, not imported

    @property
    def ok(self) -> bool:
        return self.outcome is not None or self.duplicate


@dataclass
class InboxWatcher:
    """One process's view of the folder: which files held still since the last scan."""

    folder: Path
    _seen: dict[str, tuple[int, int]] = field(default_factory=dict)

    def ready(self) -> list[Path]:
        """Files whose size and mtime did not change since the previous scan."""
        current: dict[str, tuple[int, int]] = {}
        ready: list[Path] = []
        if not self.folder.is_dir():
            return []
        for entry in sorted(os.scandir(self.folder), key=lambda e: e.name):
            name = entry.name
            if not entry.is_file() or name.startswith(".") or name.endswith(".part"):
                continue
            if not name.lower().endswith(SUPPORTED_SUFFIXES):
                continue
            stat = entry.stat()
            signature = (stat.st_size, stat.st_mtime_ns)
            current[name] = signature
            if self._seen.get(name) == signature and stat.st_size > 0:
                ready.append(Path(entry.path))
        self._seen = current
        return ready


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


async def process_inbox(
    uow_factory: UnitOfWorkFactory,
    desk: ImportDesk,
    watcher: InboxWatcher,
    *,
    today: date,
    now: datetime,
) -> list[InboxResult]:
    """Import every file that is whole and new; returns what this process did."""
    results: list[InboxResult] = []
    for path in watcher.ready():
        try:
            sha256 = await asyncio.to_thread(file_sha256, path)
        except OSError:  # moved away meanwhile by another process
            continue
        async with advisory_lock(uow_factory(), f"inbox:{sha256}") as acquired:
            if not acquired or not path.exists():
                continue
            result = await _take(uow_factory, desk, path, sha256, today=today, now=now)
        if result is not None:
            results.append(result)
    return results


async def _take(
    uow_factory: UnitOfWorkFactory,
    desk: ImportDesk,
    path: Path,
    sha256: str,
    *,
    today: date,
    now: datetime,
) -> InboxResult | None:
    claimed = await _claim(uow_factory, sha256, path.name, now)
    if not claimed:
        async with uow_factory() as uow:
            status = await uow.session.scalar(
                select(InboxFile.status).where(InboxFile.sha256 == sha256)
            )
        if status == DONE:
            # the very same content dropped again: set aside, nothing to import
            moved, report = _move(path, path.parent, DONE, now, "already imported before\n")
            return InboxResult(path.name, sha256, moved, report, duplicate=True)
        # failed before (it may have been the database, not the file), or claimed but never
        # finished while nobody holds its lock (that process died): try again; a committed
        # batch of the same bytes is skipped by the importer anyway
        await _retake(uow_factory, sha256, now)
    name = path.name
    kind: ImportKind | None = None
    try:
        info = await asyncio.to_thread(inspect_file, path)
        kind = await asyncio.to_thread(detect_kind, path, info)
        outcome = await run_import(uow_factory, desk, kind, path, file_name=name, today=today)
    except ImportFileError as error:
        moved, report = _move(path, path.parent, FAILED, now, f"{error}\n")
        await _finish(uow_factory, sha256, FAILED, None, report, now)
        return InboxResult(name, sha256, moved, report, kind=kind, reason=str(error))
    except Exception as error:
        log.exception("importing %s from the inbox failed", name)
        moved, report = _move(path, path.parent, FAILED, now, f"unexpected error: {error}\n")
        await _finish(uow_factory, sha256, FAILED, None, report, now)
        return InboxResult(name, sha256, moved, report, kind=kind, reason=type(error).__name__)
    moved, report = _move(path, path.parent, DONE, now, _report_text(outcome))
    if outcome.rejected_csv is not None:
        report.with_suffix(".rejected.csv").write_bytes(outcome.rejected_csv)
    await _finish(uow_factory, sha256, DONE, outcome.report.batch_id, report, now)
    return InboxResult(name, sha256, moved, report, kind=kind, outcome=outcome)


async def _claim(uow_factory: UnitOfWorkFactory, sha256: str, name: str, now: datetime) -> bool:
    """Insert the ledger row; False when this content is already there."""
    try:
        async with uow_factory() as uow:
            uow.session.add(
                InboxFile(sha256=sha256, file_name=name[:300], status=IMPORTING, claimed_at=now)
            )
            await uow.commit()
    except IntegrityError:
        return False
    return True


async def _retake(uow_factory: UnitOfWorkFactory, sha256: str, now: datetime) -> None:
    async with uow_factory() as uow:
        await uow.session.execute(
            update(InboxFile)
            .where(InboxFile.sha256 == sha256)
            .values(status=IMPORTING, claimed_at=now, finished_at=None)
        )
        await uow.commit()


async def _finish(
    uow_factory: UnitOfWorkFactory,
    sha256: str,
    status: str,
    batch_id: int | None,
    report: Path,
    now: datetime,
) -> None:
    async with uow_factory() as uow:
        await uow.session.execute(
            update(InboxFile)
            .where(InboxFile.sha256 == sha256)
            .values(
                status=status, batch_id=batch_id, report_path=str(report)[:1000], finished_at=now
            )
        )
        await uow.commit()


def _move(path: Path, folder: Path, where: str, now: datetime, report: str) -> tuple[Path, Path]:
    """Move the file into `done/` or `failed/` (never over another) and write its report."""
    target_dir = folder / where
    target_dir.mkdir(exist_ok=True)
    stamp = now.strftime("%Y%m%d-%H%M%S")
    target = target_dir / f"{stamp}-{path.name}"
    number = 1
    while target.exists():
        number += 1
        target = target_dir / f"{stamp}-{number}-{path.name}"
    path.rename(target)
    report_path = target.with_name(target.name + ".report.txt")
    report_path.write_text(report, encoding="utf-8")
    return target, report_path


def _report_text(outcome: ImportOutcome) -> str:
    report = outcome.report
    lines = [
        f"file: {report.file_name}",
        f"kind: {report.kind}",
        f"status: {report.status}",
        f"rows read: {report.rows_read}",
        f"imported: {report.rows_imported}",
        f"updated: {report.rows_updated}",
        f"clients created: {report.clients_created}",
        f"already in the database: {report.rows_duplicate}",
        f"rejected: {report.rows_rejected}",
    ]
    if report.already_imported_at is not None:
        lines.append(f"already imported on {report.already_imported_at.isoformat()}")
    lines.extend(f"row {e.row}, {e.column}: {e.message}" for e in report.errors[:1000])
    if outcome.recomputed:
        lines.append(f"segments recomputed as of {outcome.as_of}")
    return "\n".join(lines) + "\n"


__all__ = ["InboxResult", "InboxWatcher", "file_sha256", "process_inbox"]
