"""Property tests of the segmentation invariants (hypothesis)."""

from fractions import Fraction

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics import SEGMENTS, SegmentationSettings, analyze_clients, segment_matrix
from tests.unit.services.analytics.builders import CDNOW, day

AS_OF = day("2024-06-30")
WINDOW_START = pd.Timestamp("2023-07-01")
FAST = settings(max_examples=30, deadline=None)


@st.composite
def client_bases(draw):
    """Clients with 1-5 purchase days anywhere in the last two years."""
    n = draw(st.integers(1, 25))
    rows = []
    for client_id in range(1, n + 1):
        for _ in range(draw(st.integers(1, 5))):
            date = pd.Timestamp("2022-07-01") + pd.Timedelta(days=draw(st.integers(0, 730)))
            # Repeated amounts create ties; negative ones are returns.
            cents = draw(st.sampled_from([100, 250, 1000]) | st.integers(-50_000, 1_000_000))
            rows.append((client_id, date, cents / 100))
    return pd.DataFrame(rows, columns=["client_id", "date", "amount"])


def _smallest_prefix(cents: list[int], share: float) -> int:
    """Length of the shortest prefix whose sum reaches ``share`` of the total (exactly)."""
    target = Fraction(share).limit_denominator(1000) * sum(cents)
    running, k = 0, 0
    while running < target:
        running += cents[k]
        k += 1
    return k


@given(base=client_bases(), a_share=st.sampled_from([0.5, 0.8, 0.9]))
@FAST
def test_a_is_the_smallest_prefix_holding_the_share(base, a_share):
    settings_ = SegmentationSettings(abc_a_share=a_share, abc_b_share=0.95)
    got = analyze_clients(base, AS_OF, settings_, params=CDNOW).clients
    ranked = got[got["revenue"] > 0].sort_values(
        ["revenue", "client_id"], ascending=[False, True], kind="stable"
    )
    labels = list(ranked["abc"].astype(str))
    cents = [round(v * 100) for v in ranked["revenue"]]
    k_a = _smallest_prefix(cents, a_share)
    k_ab = _smallest_prefix(cents, 0.95)
    assert labels == ["A"] * k_a + ["B"] * (k_ab - k_a) + ["C"] * (len(labels) - k_ab)
    classified = got[got["abc"].notna()]
    assert (classified.loc[classified["revenue"] <= 0, "abc"] == "C").all()


@given(base=client_bases(), method=st.sampled_from(["frequency", "cv"]))
@FAST
def test_segments_partition_the_buyers(base, method):
    got = analyze_clients(
        base, AS_OF, SegmentationSettings(xyz_method=method), params=CDNOW
    ).clients
    daily = base.groupby(["client_id", "date"], as_index=False)["amount"].sum()
    purchase_day = (daily["amount"] > 0) & (daily["date"] >= WINDOW_START)
    buyers = set(daily.loc[purchase_day, "client_id"])
    segmented = got[got["segment"].notna()]
    assert set(segmented["client_id"]) == buyers
    assert (
        segmented["segment"].astype(str)
        == segmented["abc"].astype(str) + segmented["xyz"].astype(str)
    ).all()
    assert set(segmented["segment"].astype(str)) <= set(SEGMENTS)
    others = got[got["segment"].isna()]
    assert others["abc"].isna().all() and others["xyz"].isna().all()
    assert segment_matrix(got)["clients"].to_numpy().sum() == len(buyers)


@given(
    base=client_bases(),
    cap=st.integers(1, 60),
    vip_mask=st.lists(st.booleans(), min_size=25, max_size=25),
    cadence=st.lists(st.integers(1, 120), min_size=9, max_size=9),
    default=st.integers(1, 120),
)
@FAST
def test_vip_cadence_never_exceeds_the_cap(base, cap, vip_mask, cadence, default):
    ids = np.arange(1, 26)
    clients = pd.DataFrame({"client_id": ids, "vip": vip_mask})
    settings_ = SegmentationSettings(
        vip_cadence_cap_days=cap,
        default_cadence_days=default,
        cadence_days=dict(zip(SEGMENTS, cadence, strict=True)),
    )
    got = analyze_clients(base, AS_OF, settings_, clients=clients, params=CDNOW).clients
    vip = got[got["vip"]]
    assert (vip["cadence_days"] <= cap).all()
    regular = got[~got["vip"]]
    table = regular["segment"].astype(object).map(settings_.cadence_days).fillna(default)
    assert (regular["cadence_days"] == table.astype(int)).all()
