"""Property tests: status, churn risk and the two work lists never contradict each other."""

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics import (
    SegmentationSettings,
    analyze_clients,
    at_risk_list,
    monthly_accounting,
)
from tests.unit.services.analytics.builders import CDNOW, day

AS_OF = day("2024-06-30")
AS_OF_TS = pd.Timestamp(AS_OF)
FAST = settings(max_examples=60, deadline=None)


@st.composite
def client_bases(draw, max_jitter=0.9):
    """Clients buying in a rhythm of their own, stopped some time ago, some contacted lately.

    Regular weekly buyers, monthly ones, irregular ones, one-off buyers, clients
    who stopped long ago and clients who never bought: every status and list.
    """
    n = draw(st.integers(1, 30))
    rows, contacts = [], []
    for client_id in range(1, n + 1):
        count = draw(st.integers(0, 25))
        cycle = draw(st.integers(2, 150))
        stopped = draw(st.integers(0, 900))  # days before as_of of the last purchase
        jitter = draw(st.floats(0.0, max_jitter))
        seed = draw(st.integers(0, 2**16))
        rng = np.random.default_rng(seed)
        gaps = np.maximum(1, np.rint(cycle * (1 + jitter * rng.uniform(-1, 1, count))))
        days_ago = stopped + np.concatenate(([0], np.cumsum(gaps[:-1]))) if count else []
        size = draw(st.sampled_from([10.0, 1_000.0, 100_000.0]))
        for ago in days_ago:
            amount = round(float(size * rng.lognormal(0, 0.5)), 2)
            rows.append((client_id, AS_OF_TS - pd.Timedelta(days=int(ago)), amount))
        if draw(st.booleans()):
            contact = AS_OF_TS - pd.Timedelta(days=draw(st.integers(0, 60)))
            plan = contact + pd.Timedelta(days=draw(st.integers(1, 30)))
            contacts.append((client_id, contact, plan if draw(st.booleans()) else pd.NaT))
    tx = pd.DataFrame(rows, columns=["client_id", "date", "amount"])
    clients = pd.DataFrame({"client_id": range(1, n + 1), "vip": False})
    interactions = pd.DataFrame(
        contacts, columns=["client_id", "last_contact", "planned_next_contact"]
    )
    return tx, clients, interactions


@st.composite
def risk_settings(draw):
    at_risk = draw(st.floats(0.3, 1.0))
    return SegmentationSettings(
        at_risk_p_alive=at_risk,
        high_risk_p_alive=draw(st.floats(0.0, at_risk)),
        at_risk_overdue_cycles=draw(st.sampled_from([0.0, 1.0, 1.5, 3.0])),
        reactivation_max_days=draw(st.sampled_from([60, 365, 730, 5000])),
        lost_cycle_multiplier=draw(st.sampled_from([2.0, 4.0])),
        lost_max_days=draw(st.sampled_from([180, 365])),
    )


def _analyze(base, config, fitted):
    tx, clients, interactions = base
    return analyze_clients(
        tx,
        AS_OF,
        config,
        clients=clients,
        interactions=interactions,
        params=None if fitted else CDNOW,
    ).clients


@given(base=client_bases(), config=risk_settings(), fitted=st.booleans())
@FAST
def test_lists_and_statuses_never_contradict(base, config, fitted):
    got = _analyze(base, config, fitted)
    status = got["status"].astype(str)
    lost = status == "lost"
    at_risk, reactivation = got["at_risk"], got["reactivation"]

    assert not (lost & at_risk).any(), "a lost client is never at risk"
    assert status[at_risk].isin(["active", "dormant"]).all(), "at risk = still buying"
    assert not (at_risk & reactivation).any(), "the two lists are disjoint"
    assert got["churn_risk"][status.isin(["potential", "lost"])].isna().all()
    assert got["churn_risk"][at_risk].isin(["medium", "high"]).all()
    assert (got["p_alive"][at_risk] < config.at_risk_p_alive).all()
    # Lost needs the model to agree, whenever the model knows something.
    informed = lost & (got["repeat_purchases"] > 0).fillna(False)
    assert (got["p_alive"][informed] < config.high_risk_p_alive).all()

    # Whom the rules alone call lost but the model still believes in is dormant.
    silent = got["days_since_last_purchase"].astype("float64")
    by_rules = (silent > config.lost_cycle_multiplier * got["deal_cycle_days"]) | (
        silent > config.lost_max_days
    )
    assert status[by_rules & ~lost].eq("dormant").all()

    # Every dormant client not contacted lately is on exactly one of the lists.
    since_contact = (AS_OF_TS - got["last_contact"]).dt.days
    recent = (since_contact >= 0) & (since_contact < config.reactivation_contact_days)
    dormant = (status == "dormant") & ~recent
    assert (at_risk[dormant] ^ reactivation[dormant]).all()
    assert not reactivation[recent].any()


@given(base=client_bases(), config=risk_settings())
@FAST
def test_risk_list_is_the_flagged_clients_by_value_at_risk(base, config):
    got = _analyze(base, config, fitted=False)
    listed = at_risk_list(got, config)
    assert sorted(listed["client_id"]) == sorted(got.loc[got["at_risk"], "client_id"])
    values = listed["value_at_risk"].dropna().to_numpy()
    assert (np.diff(values) <= 0).all()


@given(base=client_bases())
@FAST
def test_explanations_add_up(base):
    got = _analyze(base, SegmentationSettings(), fitted=False)
    ranked = got[got["revenue_rank"].notna()]
    n = len(ranked)
    assert (got["ranked_clients"] == n).all()
    assert sorted(ranked["revenue_rank"]) == list(range(1, n + 1))
    if n:
        assert ranked["revenue_share"].sum() == np.float64(1.0) or np.isclose(
            ranked["revenue_share"].sum(), 1.0
        )
        by_rank = ranked.sort_values("revenue_rank")
        assert by_rank["revenue"].is_monotonic_decreasing
    assert (got.loc[got["segment"].isna(), "revenue_share"].isna()).all()
    bought = got["purchase_days"] > 0
    assert (got.loc[bought, "repeat_purchases"] == got.loc[bought, "purchase_days"] - 1).all()
    assert np.allclose(
        got.loc[bought, "silent_cycles"],
        got.loc[bought, "days_since_last_purchase"].astype(float)
        / got.loc[bought, "deal_cycle_days"],
    )
    source = got["next_due_source"].astype(str)
    assert (got.loc[source == "none", "next_due"] == AS_OF_TS).all()
    assert got.loc[source == "none", "last_touch"].isna().all()
    from_purchase = source == "purchase"
    assert (
        got.loc[from_purchase, "next_due"]
        == got.loc[from_purchase, "last_purchase"]
        + pd.to_timedelta(got.loc[from_purchase, "cadence_days"], unit="D")
    ).all()


@given(base=client_bases(max_jitter=0.3), fitted=st.booleans())
@FAST
def test_monthly_lost_clients_are_the_clients_whose_status_is_lost(base, fitted):
    # Each client its own "manager", so the accounting counts per client. Gaps
    # stay within 30 % of the rhythm: no client is lost and back in between.
    tx, clients, _ = base
    config = SegmentationSettings()
    analysis = analyze_clients(tx, AS_OF, config, clients=clients, params=None if fitted else CDNOW)
    if analysis.model is None:
        return
    owners = pd.DataFrame({"client_id": clients["client_id"], "manager_id": clients["client_id"]})
    months = monthly_accounting(tx, AS_OF, config, owners=owners, months=60, params=analysis.model)
    got = analysis.clients.set_index("client_id")
    bought = got[got["purchase_days"] > 0]
    per_client = months.dropna(subset=["manager_id"])
    for client_id, row in bought.iterrows():
        mine = per_client[per_client["manager_id"] == client_id]
        after_last = mine[mine["month"] >= pd.Period(row["last_purchase"], freq="M")]
        left = int(after_last["lost_clients"].sum())
        assert left == int(row["status"] == "lost"), (client_id, row["status"], left)
