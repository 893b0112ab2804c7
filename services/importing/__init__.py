"""Importing clients and sales from CSV/XLSX exports (1C, Excel, other CRMs)."""

from services.importing.errors import (
    ColumnMapError,
    ErrorCode,
    ImportFileError,
    MalformedFileError,
    MissingColumnsError,
    RowError,
    UnsupportedFileError,
)
from services.importing.progress import ProgressBar, ProgressFactory, no_progress
from services.importing.service import (
    BatchStatus,
    ImportKind,
    ImportReport,
    import_clients,
    import_transactions,
)

__all__ = [
    "BatchStatus",
    "ColumnMapError",
    "ErrorCode",
    "ImportFileError",
    "ImportKind",
    "ImportReport",
    "MalformedFileError",
    "MissingColumnsError",
    "ProgressBar",
    "ProgressFactory",
    "RowError",
    "UnsupportedFileError",
    "import_clients",
    "import_transactions",
    "no_progress",
]
