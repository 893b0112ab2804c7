import math

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from services.analytics import (
    SEGMENT_MEANINGS,
    SEGMENTS,
    BgNbdParams,
    ClientAnalysis,
    SegmentationSettings,
    analyze_clients,
    at_risk_list,
    p_alive,
    segment_matrix,
    status_counts,
)
from tests.unit.services.analytics.builders import CDNOW, by_client, day, purchases, transactions

AS_OF = day("2024-06-30")
# A fixed model keeps these tests independent of fitting tiny samples.
PARAMS = CDNOW


def analyze(tx, settings=None, **kwargs) -> pd.DataFrame:
    return by_client(analyze_clients(tx, AS_OF, settings, params=PARAMS, **kwargs).clients)


def one_purchase_each(revenues: dict) -> pd.DataFrame:
    return transactions([(cid, "2024-06-01", amount) for cid, amount in revenues.items()])


# --- ABC ---------------------------------------------------------------------


def test_client_crossing_80_percent_is_still_a():
    got = analyze(one_purchase_each({1: 50, 2: 25, 3: 15, 4: 6, 5: 4}))["abc"]
    # cumulative: 50, 75, 90 (crosses 80 -> A), 96 (crosses 95 -> B), 100
    assert got.astype(str).to_dict() == {1: "A", 2: "A", 3: "A", 4: "B", 5: "C"}


def test_client_after_exactly_80_percent_is_b():
    got = analyze(one_purchase_each({1: 40, 2: 40, 3: 15, 4: 5}))["abc"]
    # 80% is reached exactly by client 2; 95% exactly by client 3
    assert got.astype(str).to_dict() == {1: "A", 2: "A", 3: "B", 4: "C"}


def test_ties_are_broken_by_client_id():
    got = analyze(one_purchase_each({9: 70, 7: 10, 4: 10, 2: 10}))["abc"]
    assert got.astype(str).to_dict() == {2: "A", 4: "B", 7: "B", 9: "A"}


def test_identical_revenues():
    got = analyze(one_purchase_each(dict.fromkeys(range(1, 11), 100)))["abc"]
    assert list(got.astype(str)) == ["A"] * 8 + ["B"] * 2


def test_single_client_is_a():
    got = analyze(one_purchase_each({42: 10}))
    assert got.loc[42, "abc"] == "A"
    assert got.loc[42, "xyz"] == "Z"
    assert got.loc[42, "segment"] == "AZ"


def test_non_positive_revenue_buyers_are_c_and_do_not_count_in_shares():
    tx = transactions(
        [
            (1, "2024-06-01", 80.0),
            (2, "2024-06-01", 20.0),
            (3, "2024-05-01", 50.0),
            (3, "2024-05-02", -60.0),  # returns exceed purchases in the window
        ]
    )
    got = analyze(tx)
    assert got["abc"].astype(str).to_dict() == {1: "A", 2: "B", 3: "C"}
    assert got.loc[3, "revenue"] == -10.0
    assert got.loc[3, "xyz"] == "Z"


def test_no_purchase_in_window_means_no_class_but_a_status():
    tx = transactions(purchases(1, "2023-05-01") + purchases(2, "2024-06-01"))
    got = analyze(tx)
    assert pd.isna(got.loc[1, "abc"]) and pd.isna(got.loc[1, "xyz"])
    assert pd.isna(got.loc[1, "segment"])
    assert got.loc[1, "status"] == "lost"
    assert got.loc[2, "segment"] == "AZ"


def test_empty_window_for_everybody():
    got = analyze(transactions(purchases(1, "2020-01-01") + purchases(2, "2021-01-01")))
    assert got["abc"].isna().all() and got["segment"].isna().all()
    assert set(got["status"].astype(str)) == {"lost"}


# --- XYZ ---------------------------------------------------------------------


def monthly(client_id, months, amount=100.0):
    """One purchase on the 10th of each (year, month)."""
    return [(client_id, f"{y}-{m:02d}-10", amount) for y, m in months]


WINDOW = [(2023, m) for m in range(7, 13)] + [(2024, m) for m in range(1, 7)]


def test_xyz_by_frequency():
    tx = transactions(
        monthly(1, WINDOW[:9])  # 9 of 12 months = 75% -> X
        + monthly(2, WINDOW[:8])  # 8 of 12 -> Y
        + monthly(3, WINDOW[:2])  # 2 months -> Y
        + monthly(4, WINDOW[5:6])  # exactly one month -> Z
        + [(5, "2024-06-01", 10.0), (5, "2024-06-20", 10.0)]  # two days, one month -> Z
    )
    got = analyze(tx)["xyz"].astype(str).to_dict()
    assert got == {1: "X", 2: "Y", 3: "Y", 4: "Z", 5: "Z"}


def test_xyz_by_coefficient_of_variation():
    cv = SegmentationSettings(xyz_method="cv")
    steady = monthly(1, WINDOW)  # CV 0 -> X
    # 11 months of 100 and one of 150: mean 104.17, std 13.82 -> CV 0.133 -> Y
    wobbly = monthly(2, WINDOW[:11]) + monthly(2, WINDOW[11:], amount=150.0)
    # 12 months alternating 100/180: CV = 40/140 = 0.286 -> Z
    swinging = [
        (3, f"{y}-{m:02d}-10", 100.0 if i % 2 else 180.0) for i, (y, m) in enumerate(WINDOW)
    ]
    once = monthly(4, WINDOW[:1])  # one month: CV sqrt(11) -> Z
    got = analyze(transactions(steady + wobbly + swinging + once), cv)
    assert got["xyz"].astype(str).to_dict() == {1: "X", 2: "Y", 3: "Z", 4: "Z"}
    values = np.array([100.0] * 11 + [150.0])
    assert values.std() / values.mean() == pytest.approx(0.1327, abs=1e-4)


# --- lifecycle ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "status"),
    [
        (["2024-05-01"], "new"),  # 60 days old, cycle 90
        (["2024-04-02"], "new"),  # 89 days old
        (["2024-04-01"], "active"),  # exactly 90 days: no longer new
        (["2024-03-17", "2024-04-16", "2024-05-16"], "active"),  # 45 days = 1.5 x 30
        (["2024-03-16", "2024-04-15", "2024-05-15"], "dormant"),  # 46 days > 45
        (["2024-01-10", "2024-02-09", "2024-03-10", "2024-04-09"], "dormant"),  # 82 days
        (["2023-12-01", "2023-12-31", "2024-01-30", "2024-02-29"], "lost"),  # 122 > 4 x 30
        (["2020-01-01", "2021-01-01", "2022-01-01"], "lost"),  # 911 days > 365 cap
        (["2024-04-10", "2024-04-30", "2024-05-20"], "dormant"),  # new by age, dormant wins
        (["2024-05-01", "2024-05-03", "2024-05-05"], "lost"),  # new by age, lost wins
    ],
)
def test_lifecycle_status(dates, status):
    assert analyze(transactions(purchases(1, *dates))).loc[1, "status"] == status


def test_potential_clients():
    tx = transactions([*purchases(1, "2024-06-01"), (2, "2024-06-01", -5.0)])
    clients = pd.DataFrame({"client_id": [1, 2, 3], "vip": [False, False, True]})
    got = analyze(tx, clients=clients)
    assert got["status"].astype(str).to_dict() == {1: "new", 2: "potential", 3: "potential"}
    assert got.loc[3, "revenue"] == 0.0
    assert pd.isna(got.loc[3, "p_alive"]) and pd.isna(got.loc[3, "days_since_last_purchase"])
    assert got.loc[3, "cadence_days"] == 7  # VIP cap applies without a segment too


# --- reactivation, cadence, due dates -----------------------------------------

DORMANT = ["2024-01-10", "2024-02-09", "2024-03-10", "2024-04-09"]


def interactions(rows):
    return pd.DataFrame(
        {
            "client_id": [r[0] for r in rows],
            "last_contact": pd.to_datetime([r[1] for r in rows]),
            "planned_next_contact": pd.to_datetime([r[2] if len(r) > 2 else None for r in rows]),
        }
    )


def test_reactivation_suppressed_by_recent_contact():
    tx = transactions([p for cid in (1, 2, 3, 4, 5) for p in purchases(cid, *DORMANT)])
    contacts = interactions(
        [
            (2, "2024-06-20"),  # 10 days ago
            (3, "2024-06-17"),  # 13 days ago: still suppressed
            (4, "2024-06-16"),  # 14 days ago: back on the list
            (5, "2024-07-05"),  # after as_of: unknown on as_of
        ]
    )
    # Nobody at risk here, so every dormant client belongs on the win-back list.
    calm = SegmentationSettings(at_risk_p_alive=0.0, high_risk_p_alive=0.0)
    got = analyze(tx, calm, interactions=contacts)
    assert set(got["status"].astype(str)) == {"dormant"}
    assert got["reactivation"].to_dict() == {1: True, 2: False, 3: False, 4: True, 5: True}


def test_win_back_list_holds_lost_and_dormant_clients_not_at_risk():
    tx = transactions(
        purchases(1, *DORMANT, amount=1000.0)  # dormant and slipping: on /risk instead
        + purchases(2, "2024-06-01")  # new
        + purchases(3, "2022-01-01")  # lost 911 days ago: beyond reactivation_max_days
        + purchases(4, "2023-05-01")  # lost 426 days ago
        + purchases(5, "2024-02-01")  # dormant (150 days, default cycle 90), one purchase
    )
    got = analyze(tx)
    assert got["status"].astype(str).to_dict() == {
        1: "dormant",
        2: "new",
        3: "lost",
        4: "lost",
        5: "dormant",
    }
    assert got["at_risk"].to_dict() == {1: True, 2: False, 3: False, 4: False, 5: False}
    assert got["reactivation"].to_dict() == {1: False, 2: False, 3: False, 4: True, 5: True}
    longer = analyze(tx, SegmentationSettings(reactivation_max_days=1000))
    assert longer.loc[3, "reactivation"]


def test_cadence_by_segment_and_vip_cap():
    tx = transactions(
        monthly(1, WINDOW, amount=1000.0)  # AX
        + monthly(2, WINDOW, amount=1000.0)  # AX, VIP
        + monthly(3, WINDOW[:1], amount=10.0)  # CZ
        + monthly(4, WINDOW[:1], amount=10.0)  # CZ, VIP
        + purchases(5, "2022-01-01")  # no segment
        + purchases(6, "2022-01-01")  # no segment, VIP
    )
    clients = pd.DataFrame({"client_id": [1, 2, 3, 4, 5, 6], "vip": [0, 1, 0, 1, 0, 1]})
    got = analyze(tx, clients=clients.astype({"vip": bool}))
    assert got["segment"].astype(str).to_dict()[3] == "CZ"
    assert got["cadence_days"].to_dict() == {1: 7, 2: 7, 3: 90, 4: 7, 5: 90, 6: 7}

    looser = SegmentationSettings.from_dict(
        {"vip_cadence_cap_days": 10, "default_cadence_days": 120, "cadence_days": {"AX": 12}}
    )
    got = analyze(tx, looser, clients=clients.astype({"vip": bool}))
    assert got["cadence_days"].to_dict() == {1: 12, 2: 10, 3: 90, 4: 10, 5: 120, 6: 10}


def test_next_due_from_last_touch_and_manager_override():
    tx = transactions(
        purchases(1, "2024-06-01", amount=10)  # AZ? only client with revenue -> cadence 21
        + purchases(2, "2024-06-01", amount=10)
        + purchases(3, "2024-06-01", amount=10)
    )
    clients = pd.DataFrame({"client_id": [1, 2, 3, 4, 5], "vip": [False] * 5})
    contacts = interactions(
        [
            (2, "2024-06-10"),  # contact after the purchase is the last touch
            (3, "2024-06-10", "2024-06-12"),  # manager-set date wins
            (5, "2024-06-20"),  # potential client with a contact
        ]
    )
    got = analyze(tx, clients=clients, interactions=contacts)
    cadence = got["cadence_days"].to_dict()
    assert cadence[1] == cadence[2] == cadence[3]
    c = cadence[1]
    expected = {
        1: pd.Timestamp("2024-06-01") + pd.Timedelta(days=c),
        2: pd.Timestamp("2024-06-10") + pd.Timedelta(days=c),
        3: pd.Timestamp("2024-06-12"),
        4: pd.Timestamp("2024-06-30"),  # never touched: due now
        5: pd.Timestamp("2024-06-20") + pd.Timedelta(days=90),
    }
    assert got["next_due"].to_dict() == expected
    assert got.loc[2, "last_touch"] == pd.Timestamp("2024-06-10")
    assert pd.isna(got.loc[4, "last_touch"])


# --- churn risk and up-sell ---------------------------------------------------


def test_p_alive_and_at_risk():
    # Client 1: weekly buyer silent for 20 weeks -> almost surely gone: lost, not at risk.
    # Client 2: monthly buyer silent for 82 days (2.7 cycles) -> slipping: at risk.
    # Client 3: weekly in a single month, tiny amounts (C, Z) -> slipping but not valuable.
    # Client 4: single purchase -> x = 0 -> P(alive) = 1, no risk band.
    weekly = [f"2024-01-{d:02d}" for d in (1, 8, 15, 22, 29)] + ["2024-02-05", "2024-02-12"]
    tx = transactions(
        purchases(1, *weekly, amount=1000.0)
        + purchases(2, *DORMANT, amount=1000.0)
        + purchases(3, "2024-04-01", "2024-04-08", "2024-04-15", amount=0.01)
        + purchases(4, "2024-06-20", amount=1000.0)
    )
    got = analyze(tx)
    # x = 6, t_x = 6 weeks, T = (2024-06-30 - 2024-01-01) / 7
    T = 181 / 7
    hand = 1 / (
        1
        + PARAMS.a
        / (PARAMS.b + 6 - 1)
        * ((PARAMS.alpha + T) / (PARAMS.alpha + 6)) ** (PARAMS.r + 6)
    )
    assert got.loc[1, "p_alive"] == pytest.approx(hand, rel=1e-12)
    assert got.loc[1, "p_alive"] < 0.5
    assert got.loc[1, "status"] == "lost" and pd.isna(got.loc[1, "churn_risk"])
    assert not got.loc[1, "at_risk"] and got.loc[1, "reactivation"]
    assert got.loc[1, "revenue_at_risk"] == round(7000.0 * (1 - hand), 2)

    # x = 3, t_x = 90 days, T = 172 days; 82 days silent against a 30-day cycle.
    p2 = float(p_alive(PARAMS, 3, 90 / 7, 172 / 7))
    assert got.loc[2, "p_alive"] == pytest.approx(p2)
    assert 0.5 <= p2 < 0.8
    assert (got.loc[2, "status"], got.loc[2, "churn_risk"]) == ("dormant", "medium")
    assert got.loc[2, "at_risk"] and not got.loc[2, "reactivation"]
    assert got.loc[2, "silent_cycles"] == pytest.approx(82 / 30)

    assert got.loc[3, "segment"] == "CZ"
    assert got.loc[3, "p_alive"] < 0.8 and got.loc[3, "silent_cycles"] > 1
    assert not got.loc[3, "at_risk"]  # not valuable
    assert got.loc[4, "p_alive"] == 1.0 and pd.isna(got.loc[4, "churn_risk"])
    assert not got.loc[4, "at_risk"]


def test_lost_needs_p_alive_to_agree():
    # Three purchases 10 days apart, then one after 315 days, then 60 days of silence:
    # the rules say lost (60 > 4 x 10) but the model still gives 77 %.
    tx = transactions(
        purchases(1, "2023-06-01", "2023-06-11", "2023-06-21", "2024-05-01", amount=500.0)
        + purchases(2, "2024-06-01")
    )
    got = analyze(tx)
    expected_p = float(p_alive(PARAMS, 3, 335 / 7, 395 / 7))
    assert got.loc[1, "p_alive"] == pytest.approx(expected_p)
    assert got.loc[1, "deal_cycle_days"] == 10.0
    assert got.loc[1, "status"] == "dormant"
    assert got.loc[1, "churn_risk"] == "medium"
    strict = analyze(tx, SegmentationSettings(high_risk_p_alive=0.8, at_risk_p_alive=0.9))
    assert strict.loc[1, "status"] == "lost" and pd.isna(strict.loc[1, "churn_risk"])
    assert strict.loc[1, "reactivation"] and not strict.loc[1, "at_risk"]


def test_silent_for_over_a_year_but_believed_alive_is_dormant():
    # A yearly buyer for four years, 370 days silent: over lost_max_days, 1.0 cycle.
    tx = transactions(
        purchases(1, "2019-06-20", "2020-06-20", "2021-06-20", "2022-06-20", "2023-06-26")
    )
    got = analyze(tx)
    assert got.loc[1, "days_since_last_purchase"] == 370
    assert got.loc[1, "p_alive"] >= 0.5
    assert got.loc[1, "status"] == "dormant"


@pytest.mark.parametrize(
    ("p", "band"), [(0.95, "low"), (0.8, "low"), (0.79, "medium"), (0.5, "medium"), (0.49, "high")]
)
def test_churn_risk_bands(p, band):
    from services.analytics.segmentation import CHURN_RISK_DTYPE, churn_risk_band

    codes = churn_risk_band(
        np.array([2], dtype=np.int8), np.array([p]), np.array([3]), SegmentationSettings()
    )
    assert pd.Categorical.from_codes(codes, dtype=CHURN_RISK_DTYPE)[0] == band
    none = churn_risk_band(
        np.array([0, 4, 2], dtype=np.int8),
        np.array([np.nan, 0.1, 1.0]),
        np.array([0, 5, 0]),
        SegmentationSettings(),
    )
    assert list(none) == [-1, -1, -1]  # potential, lost, no repeat purchase


def test_expected_purchases_use_the_horizon_in_weeks():
    tx = transactions(purchases(1, "2024-01-01", "2024-03-01", "2024-06-01"))
    row = analyze(tx, SegmentationSettings(churn_horizon_days=70)).loc[1]
    from services.analytics import expected_purchases

    x, t_x, T = 2, (day("2024-06-01") - day("2024-01-01")).days / 7, 181 / 7
    assert row["expected_purchases_90d"] == pytest.approx(
        float(expected_purchases(PARAMS, 10.0, x, t_x, T))
    )


def test_upsell_flags_orders_below_class_median():
    tx = transactions(
        [
            (1, "2024-06-01", 300.0),  # avg 300
            (2, "2024-06-01", 200.0),
            (2, "2024-06-02", 200.0),  # avg 200
            (3, "2024-05-01", 100.0),
            (3, "2024-05-02", 100.0),
            (3, "2024-05-03", 100.0),
            (3, "2024-05-04", 100.0),  # avg 100, revenue 400
            (4, "2024-06-01", 10.0),  # alone in C
        ]
    )
    got = analyze(tx)
    assert got["abc"].astype(str).to_dict() == {1: "A", 2: "A", 3: "A", 4: "C"}
    assert got["avg_order"].to_dict() == {1: 300.0, 2: 200.0, 3: 100.0, 4: 10.0}
    assert got["upsell"].to_dict() == {1: False, 2: False, 3: True, 4: False}


def test_fits_the_model_when_none_is_given():
    rng = np.random.default_rng(3)
    rows = [
        (cid, str(day("2023-01-01") + pd.Timedelta(days=int(d)).to_pytimedelta()), 10.0)
        for cid in range(40)
        for d in np.sort(rng.choice(540, size=rng.integers(1, 8), replace=False))
    ]
    result = analyze_clients(transactions(rows), AS_OF)
    assert isinstance(result, ClientAnalysis)
    clients, model = result
    assert model is not None and model.n_clients == 40
    assert clients["p_alive"].between(0, 1).all()
    assert analyze_clients(transactions([]), AS_OF).model is None


def test_output_columns_and_dtypes():
    got = analyze_clients(transactions(purchases(1, "2024-06-01")), AS_OF, params=PARAMS).clients
    expected_columns = [
        "client_id",
        "revenue",
        "purchases",
        "active_months",
        "abc",
        "xyz",
        "segment",
        "status",
        "deal_cycle_days",
        "days_since_last_purchase",
        "p_alive",
        "expected_purchases_90d",
        "cadence_days",
        "vip",
        "first_purchase",
        "last_purchase",
        "last_touch",
        "next_due",
        "reactivation",
        "at_risk",
        "revenue_at_risk",
        "avg_order",
        "upsell",
    ]
    for column in expected_columns:
        assert column in got.columns
    assert got["vip"].dtype == bool and got["reactivation"].dtype == bool
    assert list(got["segment"].cat.categories) == list(SEGMENTS)


def test_input_validation_names_the_column():
    tx = transactions(purchases(1, "2024-06-01"))
    with pytest.raises(ValueError, match="vip"):
        analyze(tx, clients=pd.DataFrame({"client_id": [1]}))
    with pytest.raises(ValueError, match="last_contact"):
        analyze(tx, interactions=pd.DataFrame({"client_id": [1]}))
    with pytest.raises(ValueError, match="duplicated"):
        analyze(tx, clients=pd.DataFrame({"client_id": [1, 1], "vip": [True, False]}))


# --- summaries of a result ----------------------------------------------------


def small_result() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client_id": [1, 2, 3, 4, 5, 6, 7],
            "abc": ["A", "A", "B", "C", None, "A", "B"],
            "xyz": ["X", "Y", "X", "Z", None, "X", "Y"],
            "status": ["active", "active", "dormant", "new", "potential", "lost", "active"],
            "revenue": [60.0, 20.0, 15.0, 5.0, 0.0, 0.0, 0.0],
            "p_alive": [0.9, 0.3, 0.2, 0.1, np.nan, 0.05, 0.4],
            "silent_cycles": [2.0, 3.0, 2.5, 4.0, np.nan, 9.0, 0.5],
            "revenue_at_risk": [6.0, 14.0, 12.0, 4.5, np.nan, 0.0, 0.0],
            "value_at_risk": [5.0, 10.0, 30.0, 2.0, np.nan, 1.0, 3.0],
        }
    )


def test_segment_matrix():
    got = segment_matrix(small_result())
    index = pd.Index(["A", "B", "C"], name="abc")
    columns = pd.MultiIndex.from_product(
        [["clients", "revenue_share"], ["X", "Y", "Z"]], names=["metric", "xyz"]
    )
    expected = pd.DataFrame(
        [
            [2, 1, 0, 0.60, 0.20, 0.0],
            [1, 1, 0, 0.15, 0.0, 0.0],
            [0, 0, 1, 0.0, 0.0, 0.05],
        ],
        index=index,
        columns=columns,
    ).astype({("clients", x): np.int64 for x in "XYZ"})
    assert_frame_equal(got, expected)


def test_status_counts():
    expected = pd.DataFrame(
        {
            "status": ["potential", "new", "active", "dormant", "lost"],
            "clients": np.array([1, 1, 3, 1, 1], dtype=np.int64),
            "share": np.array([1, 1, 3, 1, 1]) / 7,
        }
    )
    assert_frame_equal(status_counts(small_result()), expected)


def test_at_risk_list_sorted_by_value_at_risk():
    got = at_risk_list(small_result(), SegmentationSettings())
    # 4 is C/Z: not valuable; 1 has P(alive) 0.9; 6 is lost; 7 is within its cycle.
    assert list(got["client_id"]) == [3, 2]
    got = at_risk_list(small_result(), SegmentationSettings(at_risk_p_alive=0.95))
    assert list(got["client_id"]) == [3, 2, 1]
    got = at_risk_list(small_result(), SegmentationSettings(at_risk_overdue_cycles=0.25))
    assert list(got["client_id"]) == [3, 2, 7]


def test_at_risk_list_matches_the_flag_of_the_analysis():
    tx = transactions(
        purchases(1, *DORMANT, amount=1000.0)
        + purchases(2, "2024-01-05", "2024-02-04", "2024-03-05", "2024-04-04", amount=3000.0)
        + purchases(3, "2024-06-01")
    )
    result = analyze_clients(tx, AS_OF, params=PARAMS)
    listed = at_risk_list(result)
    flagged = result.clients[result.clients["at_risk"]]
    assert sorted(listed["client_id"]) == sorted(flagged["client_id"]) == [1, 2]
    # Client 2 is worth more: first.
    assert list(listed["client_id"]) == [2, 1]
    assert listed["value_at_risk"].is_monotonic_decreasing


def test_segment_meanings():
    assert set(SEGMENT_MEANINGS) == set(SEGMENTS)
    assert SEGMENT_MEANINGS["AX"] == {
        "ru": "крупный, покупает регулярно",
        "en": "large, buys regularly",
    }
    assert SEGMENT_MEANINGS["CZ"] == {"ru": "мелкий, разовый", "en": "small, one-off"}
    assert SEGMENT_MEANINGS["BY"] == {
        "ru": "средний, покупает нерегулярно",
        "en": "medium, buys irregularly",
    }


def test_p_alive_helper_matches_analysis():
    # Guard against a unit mix-up between days and weeks in the wiring.
    tx = transactions(purchases(1, "2024-01-01", "2024-02-01", "2024-03-01"))
    got = analyze(tx).loc[1, "p_alive"]
    t_x = (day("2024-03-01") - day("2024-01-01")).days / 7
    assert got == pytest.approx(float(p_alive(PARAMS, 2, t_x, 181 / 7)))
    assert not math.isclose(got, float(p_alive(PARAMS, 2, t_x * 7, 181)))


def test_stored_params_are_used_as_given():
    tx = transactions(purchases(1, "2024-01-01", "2024-02-01"))
    other = BgNbdParams(1.0, 1.0, 2.0, 2.0, 0.0, 0)
    assert analyze_clients(tx, AS_OF, params=other).model is other


def test_string_ids_and_unknown_interaction_clients():
    tx = transactions(purchases("b", "2024-06-01") + purchases("a", "2024-05-01"))
    clients = pd.DataFrame({"client_id": ["c", "a", "b"], "vip": [True, False, False]})
    contacts = interactions([("zz", "2024-06-20"), ("c", "2024-06-25")])
    got = analyze_clients(tx, AS_OF, clients=clients, interactions=contacts, params=PARAMS).clients
    assert list(got["client_id"]) == ["a", "b", "c"]
    assert list(got["status"].astype(str)) == ["new", "new", "potential"]
    assert got.loc[2, "last_touch"] == pd.Timestamp("2024-06-25")
    assert got.loc[2, "next_due"] == pd.Timestamp("2024-06-25") + pd.Timedelta(days=7)
