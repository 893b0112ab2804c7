"""The sales dedup hash is stable: a change would make re-imports add what is already there."""

from __future__ import annotations

import pandas as pd

from services.importing.service import key_hashes


def test_known_values_of_the_dedup_hash() -> None:
    suffixes = pd.Series(["|РН-1|Кофе", "|@2026-01-01|1.00|"])
    assert key_hashes(suffixes).tolist() == [2209371677622907028, -869108066193729352]


def test_the_hash_depends_on_the_text_only() -> None:
    a = key_hashes(pd.Series(["|A|", "|B|", "|A|"], dtype=object)).tolist()
    b = key_hashes(pd.Series(["|A|"], dtype="string")).tolist()
    assert a[0] == a[2] == b[0] != a[1]
