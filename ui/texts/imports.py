"""Texts of importing a file: the preview, the progress line, the report and what changed."""

from __future__ import annotations

from collections import Counter

from services.import_desk import ImportOutcome, ImportPreview, Progress
from services.importing import RowError
from ui.formatting import format_date, h
from ui.i18n import Translator

SHOWN_COLUMNS = 12


def kind_name(kind: str, tr: Translator) -> str:
    return tr(f"imports.kind_{kind}")


def error_reason(error: RowError, tr: Translator) -> str:
    key = f"imports.codes.{error.code}"
    reason = tr(key) if tr.has(key) else error.message
    if error.value:
        reason = f"{reason}: «{error.value}»"
    return tr("imports.error_line", row=error.row, column=error.column, reason=reason)


def render_preview(preview: ImportPreview, tr: Translator) -> str:
    lines = [
        tr(
            "imports.preview_title",
            name=h(preview.file_name, 100),
            kind=kind_name(preview.kind, tr),
        ),
        tr("imports.preview_rows", n=preview.rows),
    ]
    if preview.header_row > 1:
        lines.append(tr("imports.preview_header", row=preview.header_row))
    if preview.totals_rows:
        lines.append(tr("imports.preview_totals", n=preview.totals_rows))
    columns = ", ".join(f"{h(header, 40)}" for _, header in preview.columns[:SHOWN_COLUMNS])
    lines.append(tr("imports.preview_columns", columns=columns))
    if preview.bad_rows:
        lines.append("")
        lines.append(tr("imports.preview_bad", n=preview.bad_rows))
        lines.extend(f"• {h(error_reason(error, tr), 200)}" for error in preview.first_errors)
    else:
        lines.append(tr("imports.preview_clean"))
    lines.append("")
    lines.append(tr("imports.preview_question"))
    return "\n".join(lines)


def render_progress(name: str, progress: Progress, tr: Translator) -> str:
    if progress.stage == "Segments":
        return tr("imports.progress_segments", name=h(name, 100))
    percent = progress.percent
    if percent is None or progress.total is None:
        return tr("imports.progress_rows", name=h(name, 100), done=progress.done)
    return tr(
        "imports.progress",
        name=h(name, 100),
        done=min(progress.done, progress.total),
        total=progress.total,
        percent=percent,
    )


def render_report(outcome: ImportOutcome, tr: Translator) -> str:
    report = outcome.report
    lines = [tr("imports.report_title", name=h(report.file_name, 100))]
    if report.already_imported_at is not None:
        lines.append(
            tr("imports.report_already", when=format_date(report.already_imported_at.date(), tr))
        )
        return "\n".join(lines)
    lines.append(tr("imports.report_read", n=report.rows_read))
    if report.kind == "clients":
        lines.append(tr("imports.report_new_clients", n=report.rows_imported))
        lines.append(tr("imports.report_updated", n=report.rows_updated))
    else:
        lines.append(tr("imports.report_new_sales", n=report.rows_imported))
        if report.clients_created:
            lines.append(tr("imports.report_clients_created", n=report.clients_created))
    if report.rows_duplicate:
        lines.append(tr("imports.report_duplicates", n=report.rows_duplicate))
    if report.rows_rejected:
        lines.append(tr("imports.report_rejected", n=report.rows_rejected))
    if report.committed and not (report.rows_imported or report.rows_updated):
        lines.append(tr("imports.report_nothing_new"))
    if outcome.recomputed and outcome.as_of is not None:
        lines.append(tr("imports.report_segments", date=format_date(outcome.as_of, tr)))
    return "\n".join(lines)


def render_changes(outcome: ImportOutcome, tr: Translator) -> str:
    """For the head: new clients and who moved between segments or statuses."""
    lines = [tr("imports.changes_title", name=h(outcome.report.file_name, 100))]
    lines.append(tr("imports.changes_new_clients", n=outcome.new_clients))
    moved = [
        m
        for m in outcome.migrations
        if (m.abc_from, m.xyz_from, m.status_from) != (m.abc_to, m.xyz_to, m.status_to)
    ]
    if not moved:
        lines.append(tr("imports.changes_none"))
        return "\n".join(lines)
    lines.append(tr("imports.changes_migrations", n=len(moved)))
    counts = Counter(
        (f"{m.abc_from or ''}{m.xyz_from or ''}" or "—", f"{m.abc_to or ''}{m.xyz_to or ''}" or "—")
        for m in moved
    )
    lines.extend(f"• {a} → {b}: {n}" for (a, b), n in counts.most_common(5))
    return "\n".join(lines)


def render_inbox_done(name: str, kind: str, report_path: str, tr: Translator) -> str:
    return tr(
        "imports.inbox_done", name=h(name, 100), kind=kind_name(kind, tr), report=h(report_path)
    )


def render_inbox_failed(name: str, reason: str, report_path: str, tr: Translator) -> str:
    return tr(
        "imports.inbox_failed", name=h(name, 100), reason=h(reason, 300), report=h(report_path)
    )
