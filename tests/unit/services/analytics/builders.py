"""Tiny builders for inline test frames."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd

from services.analytics import BgNbdParams

D = dt.date

# Published CDNOW estimates (Fader, Hardie & Lee 2005).
CDNOW = BgNbdParams(r=0.2426, alpha=4.4136, a=0.7929, b=2.4259, log_likelihood=0.0, n_clients=0)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def transactions(rows: Iterable[tuple[object, str, object]]) -> pd.DataFrame:
    """Frame of ``(client_id, "YYYY-MM-DD", amount)`` rows."""
    rows = list(rows)
    return pd.DataFrame(
        {
            "client_id": [r[0] for r in rows],
            "date": [day(r[1]) for r in rows],
            "amount": [r[2] for r in rows],
        }
    )


def purchases(client_id: object, *dates: str, amount: float = 100.0) -> list[tuple]:
    """One purchase of ``amount`` per date for a client."""
    return [(client_id, d, amount) for d in dates]


def by_client(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("client_id")
