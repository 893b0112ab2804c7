import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from services.analytics import analyze_clients, segment_migrations
from services.analytics.segmentation import ABC_DTYPE, STATUS_DTYPE, XYZ_DTYPE
from tests.unit.services.analytics.builders import CDNOW, day, purchases, transactions


def snapshot(rows):
    return pd.DataFrame(rows, columns=["client_id", "abc", "xyz", "status"])


def test_only_changed_clients_are_listed():
    previous = snapshot(
        [
            (1, "A", "X", "active"),
            (2, "B", "Y", "active"),
            (3, "C", "Z", "dormant"),
            (4, "A", "X", "active"),
            (6, "B", "Z", "active"),
            (7, None, None, "lost"),
        ]
    )
    current = snapshot(
        [
            (7, None, None, "lost"),  # NA to NA is no change
            (5, "C", "Z", "new"),  # appeared
            (4, "A", "X", "active"),
            (3, "C", "Z", "lost"),
            (2, "B", "Z", "active"),
            (1, "B", "X", "active"),
        ]
    )
    expected = pd.DataFrame(
        {
            "client_id": [1, 2, 3, 5, 6],
            "abc_from": pd.Categorical(["A", "B", "C", None, "B"], dtype=ABC_DTYPE),
            "abc_to": pd.Categorical(["B", "B", "C", "C", None], dtype=ABC_DTYPE),
            "xyz_from": pd.Categorical(["X", "Y", "Z", None, "Z"], dtype=XYZ_DTYPE),
            "xyz_to": pd.Categorical(["X", "Z", "Z", "Z", None], dtype=XYZ_DTYPE),
            "status_from": pd.Categorical(
                ["active", "active", "dormant", None, "active"], dtype=STATUS_DTYPE
            ),
            "status_to": pd.Categorical(
                ["active", "active", "lost", "new", None], dtype=STATUS_DTYPE
            ),
        }
    )
    assert_frame_equal(segment_migrations(previous, current), expected)


def test_works_on_two_analyses():
    tx = transactions(purchases(1, "2024-01-10", "2024-02-09", "2024-03-10", "2024-04-09"))
    before = analyze_clients(tx, day("2024-04-30"), params=CDNOW).clients
    after = analyze_clients(tx, day("2024-06-30"), params=CDNOW).clients
    got = segment_migrations(before, after)
    assert got[["status_from", "status_to"]].astype(str).values.tolist() == [["active", "dormant"]]


def test_unknown_values_are_rejected():
    with pytest.raises(ValueError, match="Q"):
        segment_migrations(snapshot([(1, "Q", "X", "active")]), snapshot([]))
    with pytest.raises(ValueError, match="status"):
        segment_migrations(snapshot([]).drop(columns="status"), snapshot([]))
