"""Segmenting and backtesting an exported sales file without the database (for analysts)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from services.analytics import analyze_clients, backtest, segment_matrix, status_counts
from services.analytics.backtest import BacktestReport
from services.analytics.bgnbd import BgNbdParams
from services.analytics.gamma_gamma import GammaGammaParams
from services.analytics.segmentation import RESULT_COLUMNS
from services.analytics.settings import SegmentationSettings
from services.importing import RowError
from services.importing.reader import read_transactions


@dataclass(frozen=True)
class TransactionsFile:
    """The good rows of an export as analytics input, and what was rejected."""

    transactions: pd.DataFrame  # client_id, date, amount, category (NaN when missing)
    names: pd.Series  # the client's name as written in its first row, by client_id
    rows_read: int
    rejected: tuple[RowError, ...]


@dataclass(frozen=True)
class FileAnalysis:
    clients: pd.DataFrame  # one row per client: client_id, client, then RESULT_COLUMNS
    model: BgNbdParams | None
    spend: GammaGammaParams | None
    matrix: pd.DataFrame
    statuses: pd.DataFrame
    rows_read: int
    rejected: tuple[RowError, ...]


def client_keys(frame: pd.DataFrame) -> pd.Series:
    """Who a row belongs to: the external code, else the tax id, else the name as written."""
    key = frame["client_external_id"].where(frame["client_external_id"] != "")
    key = key.fillna(frame["client_tax_id"].where(frame["client_tax_id"] != ""))
    return key.fillna(frame["client"]).astype(str)


def read_transactions_file(
    path: Path, column_map: Mapping[str, str] | None = None
) -> TransactionsFile:
    """Read a transactions export (CSV/XLSX, the formats of `crmbot import`).

    Raises the importer's `ImportFileError` when the file as a whole cannot be read.
    """
    parsed = read_transactions(path, column_map)
    rows = parsed.frame
    transactions = pd.DataFrame(
        {
            "client_id": client_keys(rows),
            "date": rows["date"],
            "amount": rows["amount_cents"].to_numpy(dtype=np.float64) / 100,
            "category": rows["category"].where(rows["category"] != ""),
        }
    )
    names = (
        pd.DataFrame({"client_id": transactions["client_id"], "client": rows["client"]})
        .drop_duplicates("client_id")
        .set_index("client_id")["client"]
    )
    return TransactionsFile(transactions, names, parsed.rows_read, parsed.errors)


def analyze_file(
    path: Path,
    as_of: date,
    settings: SegmentationSettings,
    column_map: Mapping[str, str] | None = None,
) -> FileAnalysis:
    """Read a transactions export and segment its clients as known on `as_of`.

    Rejected rows are returned, not analysed; the caller decides whether to go on.
    """
    data = read_transactions_file(path, column_map)
    analysis = analyze_clients(data.transactions, as_of, settings)
    clients = analysis.clients.copy()
    clients.insert(1, "client", clients["client_id"].map(data.names))
    ordered = ["client_id", "client", *(c for c in RESULT_COLUMNS if c != "client_id")]
    clients = clients[ordered + [c for c in clients.columns if c not in ordered]]
    return FileAnalysis(
        clients=clients,
        model=analysis.model,
        spend=analysis.spend,
        matrix=segment_matrix(analysis),
        statuses=status_counts(analysis),
        rows_read=data.rows_read,
        rejected=data.rejected,
    )


def backtest_file(
    data: TransactionsFile, calibration_end: date, holdout_end: date | None = None
) -> BacktestReport:
    """Check the churn model on an export: fit up to `calibration_end`, compare the holdout.

    Raises `ValueError` with a message for the user when the dates do not fit the data.
    """
    return backtest(data.transactions, calibration_end, holdout_end)
