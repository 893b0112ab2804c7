import math

import numpy as np
import pandas as pd
import pytest

from services.analytics import (
    BgNbdParams,
    GammaGammaParams,
    SegmentationSettings,
    analyze_clients,
    client_summary,
    customer_value,
    discounted_expected_purchases,
    expected_purchases,
    fit_gamma_gamma,
)
from services.analytics.value import DAYS_PER_MONTH
from tests.fixtures.cdnow import CALIBRATION_END, load_cdnow
from tests.unit.services.analytics.builders import CDNOW, by_client, day, purchases, transactions

BG = BgNbdParams(r=1.5, alpha=3.0, a=2.0, b=3.0, log_likelihood=0.0, n_clients=0)
GG = GammaGammaParams(p=2.0, q=3.0, v=4.0, log_likelihood=0.0, n_clients=0)
MONTH = DAYS_PER_MONTH / 7  # weeks


def summary_of(rows):
    """``(x, t_x, T, monetary_value)`` rows as a summary frame."""
    return pd.DataFrame(
        {
            "x": pd.array([r[0] for r in rows], dtype="Int64"),
            "t_x": [r[1] for r in rows],
            "T": [r[2] for r in rows],
            "monetary_value": [r[3] for r in rows],
        }
    )


def test_value_by_hand():
    # x = 2 repeat purchases of 10 on average, the last at week 8, observed 20 weeks.
    got = customer_value(summary_of([(2, 8.0, 20.0, 10.0)]), BG, GG, monthly_discount_rate=0.01)
    spend = 2.0 * (4.0 + 2 * 10.0) / (2.0 * 2 + 3.0 - 1.0)  # p (v + x m) / (p x + q - 1) = 8
    assert got.loc[0, "expected_spend_per_purchase"] == pytest.approx(8.0)
    assert spend == 8.0
    cumulative = [float(expected_purchases(BG, k * MONTH, 2, 8.0, 20.0)) for k in range(13)]
    value = sum(
        spend * (cumulative[k] - cumulative[k - 1]) / 1.01**k for k in range(1, 13)
    )  # month k's purchases valued at its end
    assert got.loc[0, "value"] == pytest.approx(round(value, 2), abs=0.005)
    assert got.loc[0, "discounted_purchases"] == pytest.approx(value / spend, rel=1e-12)
    # Without discounting the value is spend x the purchases expected in a year.
    flat = customer_value(summary_of([(2, 8.0, 20.0, 10.0)]), BG, GG, monthly_discount_rate=0.0)
    assert flat.loc[0, "discounted_purchases"] == pytest.approx(cumulative[12], rel=1e-12)
    assert value < spend * cumulative[12]


def test_clients_without_repeat_purchases_and_never_bought():
    got = customer_value(
        summary_of([(0, 0.0, 10.0, np.nan), (None, np.nan, np.nan, np.nan)]), BG, GG
    )
    assert got.loc[0, "expected_spend_per_purchase"] == pytest.approx(GG.mean_spend)  # 4.0
    assert got.loc[0, "value"] > 0
    assert got.loc[1].isna().all()


def test_a_population_without_a_finite_mean_uses_the_repeat_buyers_mean():
    heavy = GammaGammaParams(p=2.0, q=0.8, v=4.0, log_likelihood=0.0, n_clients=0)
    got = customer_value(summary_of([(0, 0.0, 10.0, np.nan), (2, 5.0, 10.0, 10.0)]), BG, heavy)
    spend = got["expected_spend_per_purchase"]
    assert spend[1] == pytest.approx(2.0 * (4.0 + 20.0) / (4.0 + 0.8 - 1.0))
    assert spend[0] == pytest.approx(spend[1])


def test_discounting_sums_months():
    x, t_x, T = np.array([0.0, 3.0, 10.0]), np.array([0.0, 5.0, 30.0]), np.array([4.0, 20, 40])
    flat = discounted_expected_purchases(CDNOW, 2.0, 6, 0.0, x, t_x, T)
    np.testing.assert_allclose(flat, expected_purchases(CDNOW, 12.0, x, t_x, T), rtol=1e-12)
    steep = discounted_expected_purchases(CDNOW, 2.0, 6, 0.2, x, t_x, T)
    assert (steep < flat).all() and (steep > flat / 1.2**6).all()
    with pytest.raises(ValueError, match="discount_rate"):
        discounted_expected_purchases(CDNOW, 2.0, 6, 1.0, x, t_x, T)


def test_cdnow_values_match_the_lifetimes_documentation():
    # The lifetimes docs fit both models on the CDNOW summary (in weeks) and
    # call customer_lifetime_value(time=12, discount_rate=0.01), which steps 30
    # time units of the data: 30 weeks here. Customers 1-3: 140.10, 18.94, 38.18.
    summary = client_summary(load_cdnow(), CALIBRATION_END).set_index("client_id")
    spend = fit_gamma_gamma(summary)
    first = summary.loc[[1, 2, 3]]
    x, t_x, T = (first[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    per_purchase = customer_value(first, CDNOW, spend)["expected_spend_per_purchase"]
    value = discounted_expected_purchases(CDNOW, 30.0, 12, 0.01, x, t_x, T) * per_purchase
    np.testing.assert_allclose(value, [140.0962, 18.9435, 38.1806], rtol=1e-3)


def test_value_columns_of_the_analysis():
    as_of = day("2024-06-30")
    tx = transactions(
        purchases(1, "2024-01-10", "2024-02-09", "2024-03-10", "2024-04-09", amount=1000.0)
        + purchases(2, "2024-05-01", "2024-05-20", "2024-06-10", amount=250.0)
        + purchases(3, "2024-06-01", amount=5000.0)
    )
    clients = pd.DataFrame({"client_id": [1, 2, 3, 4], "vip": False})
    result = analyze_clients(tx, as_of, clients=clients, params=CDNOW, spend_params=GG)
    got = by_client(result.clients)
    assert result.spend is GG
    summary = client_summary(tx, as_of).set_index("client_id")
    expected = customer_value(
        summary, CDNOW, GG, monthly_discount_rate=SegmentationSettings().monthly_discount_rate
    )
    for cid in (1, 2, 3):
        assert got.loc[cid, "value_12m"] == pytest.approx(expected.loc[cid, "value"])
        assert got.loc[cid, "expected_spend_per_purchase"] == pytest.approx(
            expected.loc[cid, "expected_spend_per_purchase"], abs=0.005
        )
        assert got.loc[cid, "value_at_risk"] == pytest.approx(
            got.loc[cid, "value_12m"] * (1 - got.loc[cid, "p_alive"]), abs=0.01
        )
    assert got.loc[3, "value_at_risk"] == 0.0  # one purchase: P(alive) = 1
    assert got.loc[4, ["expected_spend_per_purchase", "value_12m", "value_at_risk"]].isna().all()
    # A higher discount rate lowers every value.
    dearer = by_client(
        analyze_clients(
            tx,
            as_of,
            SegmentationSettings(monthly_discount_rate=0.05),
            params=CDNOW,
            spend_params=GG,
        ).clients
    )
    assert (dearer.loc[[1, 2, 3], "value_12m"] < got.loc[[1, 2, 3], "value_12m"]).all()


def test_no_spend_model_without_repeat_purchases():
    tx = transactions(purchases(1, "2024-06-01") + purchases(2, "2024-05-01"))
    result = analyze_clients(tx, day("2024-06-30"), params=CDNOW)
    assert result.spend is None
    assert result.clients["value_12m"].isna().all()
    assert math.isnan(result.clients["value_at_risk"].iloc[0])
