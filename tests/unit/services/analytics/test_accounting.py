import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from services.analytics import SegmentationSettings, monthly_accounting
from services.analytics.accounting import daily_accounting
from tests.unit.services.analytics.builders import day, transactions

AS_OF = day("2024-03-31")

TX = transactions(
    [
        # 1: new in January, buys again in February.
        (1, "2024-01-15", 100.0),
        (1, "2024-02-15", 50.0),
        # 2: one purchase in 2023 -> lost on 2024-02-25 (361 days later), back in March.
        (2, "2023-03-01", 10.0),
        (2, "2024-03-05", 20.0),
        # 3: cycle 10 after three purchases -> lost 2023-12-01; returns 2024-01-05
        #    (76-day gap > 15), then lost again 2024-02-15 (cycle still 10).
        (3, "2023-10-01", 5.0),
        (3, "2023-10-11", 5.0),
        (3, "2023-10-21", 5.0),
        (3, "2024-01-05", 30.0),
        # 4: new in January with cycle 10; a 20-day gap makes it dormant -> returned
        #    in February (not lost); lost 2024-03-22.
        (4, "2024-01-01", 10.0),
        (4, "2024-01-11", 10.0),
        (4, "2024-01-21", 10.0),
        (4, "2024-02-10", 10.0),
        # 5: only a return.
        (5, "2024-03-10", -5.0),
        # 6: new in March with a partial return.
        (6, "2024-03-01", 40.0),
        (6, "2024-03-02", -10.0),
    ]
)


def table(rows, managers=None):
    frame = pd.DataFrame(
        rows,
        columns=[
            "month",
            "manager_id",
            "new_clients",
            "lost_clients",
            "returned_clients",
            "revenue_new",
            "revenue_existing",
        ],
    )
    frame["month"] = pd.PeriodIndex(frame["month"], freq="M")
    frame["manager_id"] = pd.array(frame["manager_id"], dtype=managers or object)
    for column in ("new_clients", "lost_clients", "returned_clients"):
        frame[column] = frame[column].astype(np.int64)
    for column in ("revenue_new", "revenue_existing"):
        frame[column] = frame[column].astype(np.float64)
    return frame


def test_monthly_totals_by_hand():
    got = monthly_accounting(TX, AS_OF, months=3)
    expected = table(
        [
            ("2024-01", pd.NA, 2, 0, 1, 130.0, 30.0),
            ("2024-02", pd.NA, 0, 2, 1, 0.0, 60.0),
            ("2024-03", pd.NA, 1, 1, 1, 30.0, 15.0),
        ]
    )
    assert_frame_equal(got, expected)


def test_per_manager_rows_follow_each_total():
    owners = pd.DataFrame({"client_id": [1, 2, 3, 4], "manager_id": [1, 1, 2, 2]})
    got = monthly_accounting(TX, AS_OF, owners=owners, months=3)
    expected = table(
        [
            ("2024-01", pd.NA, 2, 0, 1, 130.0, 30.0),
            ("2024-01", 1, 1, 0, 0, 100.0, 0.0),
            ("2024-01", 2, 1, 0, 1, 30.0, 30.0),
            ("2024-02", pd.NA, 0, 2, 1, 0.0, 60.0),
            ("2024-02", 1, 0, 1, 0, 0.0, 50.0),
            ("2024-02", 2, 0, 1, 1, 0.0, 10.0),
            ("2024-03", pd.NA, 1, 1, 1, 30.0, 15.0),
            ("2024-03", 1, 0, 0, 1, 0.0, 20.0),
            ("2024-03", 2, 0, 1, 0, 0.0, 0.0),
        ],
        managers="Int64",
    )
    assert_frame_equal(got, expected)


def test_past_months_do_not_change_with_later_data():
    earlier = monthly_accounting(TX, day("2024-02-29"), months=2)
    later = monthly_accounting(TX, AS_OF, months=3).iloc[:2]
    assert_frame_equal(earlier, later)


def test_default_months_is_the_window_and_thresholds_are_settings():
    assert len(monthly_accounting(TX, AS_OF)) == 12
    # Lost after at most 30 days: client 1 (2024-02-15 + 31 = 03-17) and client 4
    # (2024-02-10 + 31 = 03-12) are lost in March; client 6 (03-01 + 31) not yet.
    strict = SegmentationSettings(lost_max_days=30)
    got = monthly_accounting(TX, AS_OF, strict, months=1)
    assert got.loc[0, ["new_clients", "lost_clients", "returned_clients"]].tolist() == [1, 2, 1]


def test_owners_validation():
    with pytest.raises(ValueError, match="manager_id"):
        monthly_accounting(TX, AS_OF, owners=pd.DataFrame({"client_id": [1]}))


def test_lost_exactly_at_the_start_of_the_range():
    # Cycle 100 -> lost after min(400, 365) = 365 days, i.e. on day 366.
    settings = SegmentationSettings(default_deal_cycle_days=100)
    tx = transactions(
        [
            (1, "2023-03-01", 10.0),  # lost on 2024-03-01
            (2, "2023-02-28", 10.0),  # lost on 2024-02-29
            (3, "2019-05-01", 10.0),  # lost years ago
        ]
    )
    got = monthly_accounting(tx, AS_OF, settings, months=2)
    assert got["lost_clients"].tolist() == [1, 1]
    assert got["month"].astype(str).tolist() == ["2024-02", "2024-03"]


def test_lost_day_with_the_model_is_the_day_p_alive_falls():
    from services.analytics import p_alive
    from services.analytics.accounting import _p_alive_falls_below
    from tests.unit.services.analytics.builders import CDNOW

    x = np.array([1, 3, 12, 40])
    t_x = np.array([10, 60, 200, 300])  # days from the first to the last purchase
    days = _p_alive_falls_below(CDNOW, 0.5, x, t_x)
    before = p_alive(CDNOW, x, t_x / 7, (days - 1) / 7)
    on = p_alive(CDNOW, x, t_x / 7, days / 7)
    assert (before >= 0.5).all() and (on < 0.5).all()
    assert (_p_alive_falls_below(CDNOW, 0.0, x, t_x) > 10**9).all()  # never
    assert (_p_alive_falls_below(CDNOW, 1.0, x, t_x) == 0).all()


def test_a_client_the_model_still_believes_in_is_lost_later():
    from services.analytics import analyze_clients
    from tests.unit.services.analytics.builders import CDNOW

    # Three purchases 10 days apart, one after 315 days, then silence from 2024-05-01:
    # by the rules lost on 2024-06-11 (more than 4 x 10 days); the model holds on
    # until P(alive) drops below 0.5 on 2025-01-12, and the status agrees.
    tx = transactions(
        [(1, d, 100.0) for d in ("2023-06-01", "2023-06-11", "2023-06-21", "2024-05-01")]
    )
    as_of = day("2025-03-31")
    rules = monthly_accounting(tx, as_of, months=12)
    totals = rules[rules["manager_id"].isna()].set_index("month")["lost_clients"]
    assert totals[totals > 0].to_dict() == {pd.Period("2024-06", "M"): 1}
    believed = monthly_accounting(tx, as_of, months=12, params=CDNOW)
    totals = believed[believed["manager_id"].isna()].set_index("month")["lost_clients"]
    assert totals[totals > 0].to_dict() == {pd.Period("2025-01", "M"): 1}
    status = {
        d: str(analyze_clients(tx, day(d), params=CDNOW).clients.loc[0, "status"])
        for d in ("2024-06-11", "2025-01-11", "2025-01-12")
    }
    assert status == {"2024-06-11": "dormant", "2025-01-11": "dormant", "2025-01-12": "lost"}


def test_months_do_not_depend_on_how_many_are_reported_with_the_model():
    # Clients silent for years before the reported months are skipped by the
    # rules; the model may still lose them inside the months.
    from tests.unit.services.analytics.builders import CDNOW

    rng = np.random.default_rng(8)
    rows = []
    for client_id in range(300):
        start = pd.Timestamp("2016-01-01") + pd.Timedelta(days=int(rng.integers(0, 2500)))
        for k in range(int(rng.integers(1, 6))):
            when = start + pd.Timedelta(days=int(k * rng.integers(5, 200)))
            rows.append((client_id, when.date().isoformat(), 50.0))
    # Two purchases 1,004 days apart: P(alive) falls below 0.5 only on 2021-11-20,
    # four years after the last purchase.
    rows += [(1000, "2015-01-01", 80.0), (1000, "2017-10-01", 80.0)]
    tx = transactions(rows)
    as_of = day("2021-12-31")
    short = monthly_accounting(tx, as_of, months=12, params=CDNOW)
    long = monthly_accounting(tx, as_of, months=72, params=CDNOW)
    tail = long[long["month"] >= short["month"].min()].reset_index(drop=True)
    assert_frame_equal(short, tail)
    totals = short[short["manager_id"].isna()].set_index("month")["lost_clients"]
    assert totals[pd.Period("2021-11", "M")] >= 1


# --- per day ------------------------------------------------------------------------


def _days_between(frame, first, last, manager=None):
    rows = frame[(frame["day"] >= pd.Timestamp(first)) & (frame["day"] <= pd.Timestamp(last))]
    rows = (
        rows[rows["manager_id"].isna()] if manager is None else rows[rows["manager_id"] == manager]
    )
    columns = ["new_clients", "lost_clients", "returned_clients", "revenue_new", "revenue_existing"]
    return rows[columns].sum().round(2).tolist()


def test_daily_figures_add_up_to_the_monthly_ones():
    owners = pd.DataFrame({"client_id": [1, 2, 3, 4], "manager_id": [1, 1, 2, 2]})
    daily = daily_accounting(TX, AS_OF, owners=owners, months=3)
    monthly = monthly_accounting(TX, AS_OF, owners=owners, months=3)
    assert daily["day"].min() == pd.Timestamp("2024-01-01")
    assert daily["day"].max() == pd.Timestamp("2024-03-31")
    assert len(daily) == 91 * 3  # every day: the total and two managers
    daily["month"] = daily["day"].dt.to_period("M")
    sums = (
        daily.groupby(["month", daily["manager_id"].fillna(0)], sort=True)[
            ["new_clients", "lost_clients", "returned_clients", "revenue_new", "revenue_existing"]
        ]
        .sum()
        .round(2)
        .reset_index(drop=True)
    )
    expected = monthly.drop(columns=["month", "manager_id"]).reset_index(drop=True)
    assert_frame_equal(sums, expected, check_dtype=False)


def test_month_to_date_counts_each_client_once_on_its_first_event():
    # Cycle 2 days: dormant after 3 days, lost after 8. Client 1 returns on 3 and 10
    # March (two returns in one month) and is lost on 19 March.
    tx = transactions(
        [
            (1, "2024-02-20", 10.0),
            (1, "2024-02-22", 10.0),
            (1, "2024-02-24", 10.0),
            (1, "2024-03-03", 10.0),  # returned (gap 8 > 3)
            (1, "2024-03-10", 10.0),  # returned again
            (2, "2024-03-05", 7.0),  # new
        ]
    )
    settings = SegmentationSettings(lost_max_days=8)
    daily = daily_accounting(tx, day("2024-03-31"), settings, months=2)
    by_day = daily.set_index("day")
    assert by_day.loc["2024-03-03", "returned_clients"] == 1
    assert by_day.loc["2024-03-10", "returned_clients"] == 0  # already counted in March
    assert by_day.loc["2024-03-05", "new_clients"] == 1
    assert by_day.loc["2024-02-20", "new_clients"] == 1
    assert by_day.loc["2024-03-19", "lost_clients"] == 1
    # month to date on 9 March vs the same days of February
    assert _days_between(daily, "2024-03-01", "2024-03-09") == [1, 0, 1, 7.0, 10.0]
    assert _days_between(daily, "2024-02-01", "2024-02-09") == [0, 0, 0, 0.0, 0.0]
    monthly = monthly_accounting(tx, day("2024-03-31"), settings, months=2)
    march = monthly.iloc[-1]
    assert _days_between(daily, "2024-03-01", "2024-03-31")[:3] == [
        march["new_clients"],
        march["lost_clients"],
        march["returned_clients"],
    ]


def test_daily_accounting_of_an_empty_base_is_all_zeros():
    empty = transactions([])
    daily = daily_accounting(empty, AS_OF, months=1)
    assert len(daily) == 31
    assert daily[["new_clients", "lost_clients", "returned_clients"]].to_numpy().sum() == 0
