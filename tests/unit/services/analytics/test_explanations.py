"""Every label comes with the figures behind it, as columns of the analysis."""

import pandas as pd
import pytest

from services.analytics import SegmentationSettings, analyze_clients
from services.analytics.segmentation import RESULT_COLUMNS
from tests.unit.services.analytics.builders import CDNOW, by_client, day, purchases, transactions

AS_OF = day("2024-06-30")


def analyze(tx, settings=None, **kwargs) -> pd.DataFrame:
    return by_client(analyze_clients(tx, AS_OF, settings, params=CDNOW, **kwargs).clients)


def test_segment_figures():
    monthly = [f"2023-{m:02d}-15" for m in range(7, 13)] + [f"2024-{m:02d}-15" for m in range(1, 6)]
    tx = transactions(
        purchases(1, *monthly, amount=50.0)  # 550 in 11 of 12 months: "AX, 55 %, 1st of 3"
        + purchases(2, "2024-06-01", amount=350.0)
        + purchases(3, "2024-05-01", amount=100.0)
        + [(4, "2024-06-02", 50.0), (4, "2024-06-03", -80.0)]  # net -30 in the window: C
        + purchases(5, "2021-01-01")  # no purchase in the window: no segment
    )
    got = analyze(tx)
    assert got.loc[1, "segment"] == "AX"
    assert got.loc[1, ["active_months", "window_months"]].tolist() == [11, 12]
    assert got["revenue_rank"].loc[[1, 2, 3]].tolist() == [1, 2, 3]
    assert got["revenue_rank"].loc[[4, 5]].isna().all()
    assert (got["ranked_clients"] == 3).all()
    assert got.loc[1, "revenue_share"] == pytest.approx(0.55)
    assert got.loc[2, "revenue_share"] == pytest.approx(0.35)
    assert got.loc[3, "revenue_share"] == pytest.approx(0.1)
    assert got.loc[4, "abc"] == "C" and got.loc[4, "revenue_share"] == 0.0
    assert pd.isna(got.loc[5, "revenue_share"]) and pd.isna(got.loc[5, "segment"])
    cv = analyze(tx, SegmentationSettings(xyz_method="cv"))
    assert cv.loc[1, "revenue_cv"] == pytest.approx(got.loc[1, "revenue_cv"])
    assert cv.loc[1, "revenue_cv"] == pytest.approx((1 / 11) ** 0.5, rel=1e-6)  # 11 of 12 equal


def test_status_and_risk_figures():
    tx = transactions(
        # Every 30 days from 2023-07-01 to 2024-03-27: "usually every 30 days, silent 95".
        purchases(1, *[str(day("2023-07-01") + pd.Timedelta(days=30 * k)) for k in range(10)])
        + purchases(2, "2024-03-01", "2024-04-01")  # one gap: the default cycle of 90 days
    )
    got = analyze(tx)
    one = got.loc[1]
    assert one["deal_cycle_days"] == 30.0 and one["deal_cycle_known"]
    assert one["days_since_last_purchase"] == 95
    assert one["silent_cycles"] == pytest.approx(95 / 30)
    assert one["status"] == "dormant"
    assert (one["purchase_days"], one["repeat_purchases"]) == (10, 9)
    assert one["history_days"] == (AS_OF - day("2023-07-01")).days  # "over a year"
    two = got.loc[2]
    assert two["deal_cycle_days"] == 90.0 and not two["deal_cycle_known"]
    assert two["silent_cycles"] == pytest.approx(90 / 90)


def test_next_contact_sources():
    tx = transactions(
        purchases(1, "2024-06-01", amount=1000.0)
        + purchases(2, "2024-06-01", amount=1000.0)
        + purchases(3, "2024-06-20", amount=1000.0)
        + purchases(4, "2024-06-01", amount=1000.0)
        + purchases(6, "2021-06-01", amount=10.0)
    )
    clients = pd.DataFrame({"client_id": [1, 2, 3, 4, 5, 6], "vip": [0, 0, 0, 1, 0, 0]})
    contacts = pd.DataFrame(
        {
            "client_id": [2, 3, 1],
            "last_contact": pd.to_datetime(["2024-06-10", "2024-06-15", "2024-06-28"]),
            "planned_next_contact": pd.to_datetime([None, None, "2024-07-03"]),
            "planned_by": ["Анна Смирнова", "Анна Смирнова", "Пётр Иванов"],
        }
    )
    got = analyze(tx, clients=clients.astype({"vip": bool}), interactions=contacts)
    source = got["next_due_source"].astype(str).to_dict()
    assert source == {
        1: "manager",  # "set by Пётр Иванов on 28.06"
        2: "contact",  # "every N days from the call of 10.06"
        3: "purchase",  # the purchase of 20.06 came after the call of 15.06
        4: "purchase",
        5: "none",  # never touched: due now
        6: "purchase",
    }
    assert got.loc[1, "next_due_set_by"] == "Пётр Иванов"
    assert got.loc[1, "last_contact"] == pd.Timestamp("2024-06-28")
    assert got.loc[1, "next_due"] == pd.Timestamp("2024-07-03")
    assert got["next_due_set_by"].drop(1).isna().all()  # only a planned date has an author
    assert got.loc[2, "next_due"] == pd.Timestamp("2024-06-10") + pd.Timedelta(
        days=int(got.loc[2, "cadence_days"])
    )
    cadence = got["cadence_source"].astype(str).to_dict()
    assert cadence == {
        1: "segment",
        2: "segment",
        3: "segment",
        4: "vip_cap",  # its segment's cadence is longer than the VIP cap of 7
        5: "no_segment",
        6: "no_segment",
    }
    assert got.loc[4, "cadence_days"] == 7
    # A VIP whose segment is already more frequent than the cap keeps the segment's cadence.
    fast = SegmentationSettings.from_dict({"cadence_days": {s: 3 for s in ("AZ", "BZ", "CZ")}})
    again = analyze(tx, fast, clients=clients.astype({"vip": bool}), interactions=contacts)
    assert again.loc[4, "cadence_source"] == "segment" and again.loc[4, "cadence_days"] == 3


def test_every_documented_column_is_there():
    got = analyze_clients(transactions(purchases(1, "2024-06-01")), AS_OF, params=CDNOW).clients
    assert list(got.columns) == list(RESULT_COLUMNS)
    assert str(got["churn_risk"].dtype) == "category"
    assert list(got["churn_risk"].cat.categories) == ["low", "medium", "high"]
    assert list(got["next_due_source"].cat.categories) == ["manager", "contact", "purchase", "none"]
    assert list(got["cadence_source"].cat.categories) == ["segment", "no_segment", "vip_cap"]
