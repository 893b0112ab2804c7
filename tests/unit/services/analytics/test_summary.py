import datetime as dt
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from services.analytics import SegmentationSettings, client_summary
from tests.unit.services.analytics.builders import by_client, day, purchases, transactions

AS_OF = day("2024-06-30")


def test_returns_and_zero_amounts_reduce_revenue_but_are_not_purchases():
    tx = transactions(
        [
            (1, "2024-01-10", 100.0),
            (1, "2024-01-10", 50.0),  # same day: one purchase day of 150
            (1, "2024-02-10", -30.0),  # a return on its own day
            (1, "2024-03-10", 0.0),  # zero amount
            (1, "2024-04-10", 80.0),
            (1, "2024-04-10", -80.0),  # bought and returned the same day
            (2, "2024-05-01", -20.0),  # only a return
        ]
    )
    got = client_summary(tx, AS_OF)
    expected = pd.DataFrame(
        {
            "client_id": [1, 2],
            "revenue": [120.0, -20.0],
            "purchases": np.array([1, 0], dtype=np.int64),
            "active_months": np.array([1, 0], dtype=np.int64),
            "revenue_cv": [np.sqrt(11.0), np.nan],
            "first_purchase": pd.to_datetime(["2024-01-10", None]).astype("datetime64[s]"),
            "last_purchase": pd.to_datetime(["2024-01-10", None]).astype("datetime64[s]"),
            "purchase_days": np.array([1, 0], dtype=np.int64),
            "days_since_last_purchase": pd.array([172, pd.NA], dtype="Int64"),
            "deal_cycle_days": [90.0, 90.0],
            "x": pd.array([0, pd.NA], dtype="Int64"),
            "t_x": [0.0, np.nan],
            "T": [172 / 7, np.nan],
            "monetary_value": [np.nan, np.nan],  # no repeat purchase
            "history_revenue": [120.0, -20.0],
        }
    )
    # revenue_cv of client 1: 150 in January and -30 in February.
    monthly = np.zeros(12)
    monthly[6], monthly[7] = 150.0, -30.0
    expected.loc[0, "revenue_cv"] = monthly.std() / monthly.mean()
    assert_frame_equal(got, expected)


def test_monetary_value_is_the_mean_of_repeat_purchase_days():
    tx = transactions(
        [
            (1, "2022-01-10", 1000.0),  # first purchase (before the window): left out
            (1, "2024-02-10", 100.0),
            (1, "2024-02-10", 50.0),  # same day: one purchase of 150
            (1, "2024-03-10", 300.0),
            (1, "2024-03-20", -40.0),  # a return on its own day is not a purchase
            (1, "2024-04-10", 20.0),
            (1, "2024-04-10", -20.0),  # bought and returned: no purchase
            (1, "2024-07-01", 999.0),  # after as_of
            (2, "2024-05-01", 10.0),
        ]
    )
    got = client_summary(tx, AS_OF).set_index("client_id")
    assert got.loc[1, "x"] == 2
    assert got.loc[1, "monetary_value"] == pytest.approx((150.0 + 300.0) / 2)
    assert got.loc[1, "history_revenue"] == pytest.approx(1000 + 150 + 300 - 40)
    assert got.loc[1, "revenue"] == pytest.approx(150 + 300 - 40)
    assert np.isnan(got.loc[2, "monetary_value"])


def test_window_boundary_and_as_of_cut():
    tx = transactions(
        [
            (1, "2023-06-30", 10.0),  # before the window (starts 2023-07-01)
            (1, "2023-07-01", 20.0),  # first day of the window
            (1, "2024-06-15", 30.0),  # as_of itself
            (1, "2024-06-16", 1000.0),  # after as_of: unknown yet
            (2, "2024-07-01", 5.0),  # client known only after as_of
        ]
    )
    got = by_client(client_summary(tx, day("2024-06-15")))
    assert list(got.index) == [1]
    row = got.loc[1]
    assert row["revenue"] == 50.0
    assert (row["purchases"], row["active_months"], row["purchase_days"]) == (2, 2, 3)
    assert row["first_purchase"] == pd.Timestamp("2023-06-30")
    assert row["last_purchase"] == pd.Timestamp("2024-06-15")
    assert row["x"] == 2
    # gaps 1 and 350 days
    assert row["deal_cycle_days"] == 175.5


def test_deal_cycle_is_median_gap_with_at_least_two_gaps():
    tx = transactions(
        purchases(1, "2024-01-01", "2024-01-11", "2024-01-31", "2024-03-01")  # 10, 20, 30
        + purchases(2, "2024-01-01", "2024-01-11", "2024-01-31", "2024-03-01", "2024-04-10")
        + purchases(3, "2024-01-01", "2024-02-01")  # one gap only
        + purchases(4, "2024-01-01")
    )
    got = by_client(client_summary(tx, AS_OF))["deal_cycle_days"]
    assert got.to_dict() == {1: 20.0, 2: 25.0, 3: 90.0, 4: 90.0}
    custom = SegmentationSettings(default_deal_cycle_days=60)
    got = by_client(client_summary(tx, AS_OF, custom))["deal_cycle_days"]
    assert got.to_dict() == {1: 20.0, 2: 25.0, 3: 60.0, 4: 60.0}


def test_same_day_purchases_count_once_in_the_bgnbd_summary():
    tx = transactions(purchases(1, "2024-01-01", "2024-01-01", "2024-01-08", "2024-01-08"))
    row = by_client(client_summary(tx, day("2024-01-15"))).loc[1]
    assert (row["x"], row["t_x"], row["T"]) == (1, 1.0, 2.0)
    assert row["purchases"] == 2


def test_cv_is_zero_for_identical_months():
    dates = [f"{y}-{m:02d}-05" for y, m in [(2023, 7), (2023, 8), (2023, 9), (2023, 10)]]
    dates += [f"{y}-{m:02d}-05" for y, m in [(2023, 11), (2023, 12)]]
    dates += [f"2024-{m:02d}-05" for m in range(1, 7)]
    row = by_client(client_summary(transactions(purchases(1, *dates)), AS_OF)).loc[1]
    assert row["active_months"] == 12
    assert row["revenue_cv"] == pytest.approx(0.0, abs=1e-12)


def test_amount_and_id_types_give_identical_results():
    floats = transactions(
        [(1, "2024-01-10", 10.5), (2, "2024-02-10", 3.0), (1, "2024-03-01", -0.5)]
    )
    decimals = floats.assign(amount=[Decimal("10.50"), Decimal("3"), Decimal("-0.50")])
    strings = floats.assign(amount=["10.50", "3", "-0.5"])
    datetimes = floats.assign(date=pd.to_datetime(floats["date"]) + pd.Timedelta(hours=23))
    base = client_summary(floats, AS_OF)
    for variant in (decimals, strings, datetimes):
        assert_frame_equal(client_summary(variant, AS_OF), base)

    str_ids = floats.assign(client_id=["b", "a", "b"])
    got = client_summary(str_ids, AS_OF)
    assert list(got["client_id"]) == ["a", "b"]
    assert list(got["revenue"]) == [3.0, 10.0]


def test_past_as_of_reproduces_what_was_known():
    tx = transactions(
        purchases(1, "2023-09-01", "2024-01-01", "2024-05-01")
        + purchases(2, "2024-04-01", "2024-06-01")
        + [(1, "2024-02-01", -10.0)]
    )
    as_of = day("2024-03-31")
    known = tx[pd.to_datetime(tx["date"]) <= pd.Timestamp(as_of)]
    assert_frame_equal(client_summary(tx, as_of), client_summary(known, as_of))


def test_empty_transactions_give_an_empty_summary():
    empty = transactions([])
    got = client_summary(empty, AS_OF)
    assert len(got) == 0
    assert "deal_cycle_days" in got.columns


@pytest.mark.parametrize("missing", ["client_id", "date", "amount"])
def test_missing_column_is_named(missing):
    tx = transactions([(1, "2024-01-01", 1.0)]).drop(columns=missing)
    with pytest.raises(ValueError, match=missing):
        client_summary(tx, AS_OF)


def test_missing_values_are_rejected():
    tx = transactions([(1, "2024-01-01", 1.0)])
    with pytest.raises(ValueError, match="amount"):
        client_summary(tx.assign(amount=[np.nan]), AS_OF)
    with pytest.raises(ValueError, match="date"):
        client_summary(tx.assign(date=[pd.NaT]), AS_OF)
    with pytest.raises(ValueError, match="client_id"):
        client_summary(tx.assign(client_id=[None]), AS_OF)


def test_as_of_accepts_datetime():
    tx = transactions(purchases(1, "2024-01-01"))
    assert_frame_equal(
        client_summary(tx, dt.datetime(2024, 6, 30, 18, 0)), client_summary(tx, AS_OF)
    )
