"""The words of the client export sheet, in the reader's language."""

from __future__ import annotations

from services.analytics import STATUSES
from services.exporting import EXPORT_COLUMNS, ExportLabels
from ui.i18n import Translator


def export_labels(tr: Translator) -> ExportLabels:
    return ExportLabels(
        columns={column: tr(f"export.columns.{column}") for column in EXPORT_COLUMNS},
        statuses={status: tr(f"status.lifecycle.{status}") for status in STATUSES},
        yes=tr("export.yes"),
        no=tr("export.no"),
    )


def sheet_title(tr: Translator) -> str:
    return tr("export.sheet")
