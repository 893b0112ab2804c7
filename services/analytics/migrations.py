"""Migrations of clients between classes and statuses across two snapshots."""

from __future__ import annotations

import numpy as np
import pandas as pd

from services.analytics._frames import encode_ids, require_columns
from services.analytics.segmentation import ABC_DTYPE, STATUS_DTYPE, XYZ_DTYPE

_TRACKED = (("abc", ABC_DTYPE), ("xyz", XYZ_DTYPE), ("status", STATUS_DTYPE))


def _snapshot(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    require_columns(frame, ("client_id", *(c for c, _ in _TRACKED)), name)
    if frame["client_id"].duplicated().any():
        raise ValueError(f"{name} has duplicated client_id values")
    out = frame[["client_id"]].copy()
    for column, dtype in _TRACKED:
        values = frame[column].astype(object).where(frame[column].notna(), None)
        unknown = set(values.dropna()) - set(dtype.categories)
        if unknown:
            raise ValueError(f"{name}.{column} has unknown value {sorted(map(str, unknown))[0]!r}")
        out[column] = pd.Categorical(values, dtype=dtype)
    return out


def segment_migrations(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """Clients whose ABC class, XYZ class or status changed between two snapshots.

    Parameters
    ----------
    previous, current : DataFrame
        Snapshots with columns ``client_id``, ``abc``, ``xyz``, ``status``
        (e.g. two :func:`analyze_clients` results, or strings read back from
        the database); NA means "no class".

    Returns
    -------
    DataFrame
        Columns ``client_id``, ``abc_from``, ``abc_to``, ``xyz_from``,
        ``xyz_to``, ``status_from``, ``status_to`` (ordered categoricals), only
        for clients with at least one change, sorted by ``client_id``. A client
        present in one snapshot only is compared with NA on the other side
        (e.g. a new client shows ``status_from`` NA); NA to NA is no change.
    """
    before = _snapshot(previous, "previous")
    after = _snapshot(current, "current")
    merged = before.merge(after, on="client_id", how="outer", suffixes=("_from", "_to"))
    changed = np.zeros(len(merged), dtype=bool)
    for column, _ in _TRACKED:
        old = merged[f"{column}_from"].astype(object)
        new = merged[f"{column}_to"].astype(object)
        both_missing = old.isna() & new.isna()
        changed |= ((old != new) & ~both_missing).to_numpy()
    columns = ["client_id"] + [f"{c}_{side}" for c, _ in _TRACKED for side in ("from", "to")]
    result = merged.loc[changed, columns]
    codes, _ = encode_ids(result["client_id"])
    return result.iloc[np.argsort(codes, kind="stable")].reset_index(drop=True)
