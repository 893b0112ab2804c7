"""Importing clients and sales from CSV/XLSX exports (1C, Excel, other CRMs)."""

from services.importing.errors import (
    ColumnMapError,
    DuplicateHeadersError,
    ErrorCode,
    ImportFileError,
    MalformedFileError,
    MissingColumnsError,
    MixedEncodingError,
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
    "DuplicateHeadersError",
    "ErrorCode",
    "ImportFileError",
    "ImportKind",
    "ImportReport",
    "MalformedFileError",
    "MissingColumnsError",
    "MixedEncodingError",
    "ProgressBar",
    "ProgressFactory",
    "RowError",
    "UnsupportedFileError",
    "import_clients",
    "import_transactions",
    "no_progress",
]
