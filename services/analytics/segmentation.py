"""ABC/XYZ segmentation, lifecycle statuses, contact cadence, churn risk and value per client.

One model decides the status, the churn risk and the two work lists, so they
never contradict each other:

- The deal-cycle rules say how long a client has been silent against its own
  rhythm; BG/NBD's P(alive) says whether it is still likely to buy. A client
  silent for longer than the ``lost`` rules allow is ``lost`` only if P(alive)
  agrees (below ``high_risk_p_alive``) or P(alive) carries no information (no
  repeat purchase yet: BG/NBD then gives exactly 1); otherwise it is
  ``dormant``.
- Churn risk (low / medium / high by P(alive)) is given only to clients who
  can still leave: never to ``potential`` or ``lost`` clients (a lost client
  has *left*; ``days_since_last_purchase`` says when), nor to clients without
  a repeat purchase, for whom the model cannot tell yet.
- *At risk* (the ``/risk`` list): ``active`` or ``dormant`` clients of value
  (class A/B or X/Y), overdue against their own cycle, whose P(alive) is below
  ``at_risk_p_alive`` (risk medium or high), ranked by ``value_at_risk``.
- *Reactivation* (the win-back list): ``lost`` clients (silent for at most
  ``reactivation_max_days``) and ``dormant`` clients not at risk, unless
  contacted in the last ``reactivation_contact_days`` days. The two lists are
  disjoint, and every dormant client is on one of them unless just contacted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.analytics._frames import (
    days_to_datetime,
    encode_ids,
    optional_dates_to_days,
    require_columns,
    to_day,
)
from services.analytics.bgnbd import BgNbdParams, expected_purchases, fit_bgnbd, p_alive
from services.analytics.gamma_gamma import GammaGammaParams, fit_gamma_gamma
from services.analytics.settings import (
    ABC_CLASSES,
    CHURN_RISKS,
    SEGMENTS,
    STATUSES,
    XYZ_CLASSES,
    SegmentationSettings,
)
from services.analytics.summary import DAYS_PER_WEEK, client_summary
from services.analytics.value import customer_value

_ABC_MEANING = {
    "A": ("крупный", "large"),
    "B": ("средний", "medium"),
    "C": ("мелкий", "small"),
}
_XYZ_MEANING = {
    "X": ("покупает регулярно", "buys regularly"),
    "Y": ("покупает нерегулярно", "buys irregularly"),
    "Z": ("разовый", "one-off"),
}

SEGMENT_MEANINGS: dict[str, dict[str, str]] = {
    abc + xyz: {
        "ru": f"{_ABC_MEANING[abc][0]}, {_XYZ_MEANING[xyz][0]}",
        "en": f"{_ABC_MEANING[abc][1]}, {_XYZ_MEANING[xyz][1]}",
    }
    for abc in ABC_CLASSES
    for xyz in XYZ_CLASSES
}
"""Human meaning of each segment, e.g. ``SEGMENT_MEANINGS["AX"]["en"]`` is
"large, buys regularly"."""

ABC_DTYPE = pd.CategoricalDtype(list(ABC_CLASSES), ordered=True)
XYZ_DTYPE = pd.CategoricalDtype(list(XYZ_CLASSES), ordered=True)
SEGMENT_DTYPE = pd.CategoricalDtype(list(SEGMENTS), ordered=True)
STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES), ordered=True)
CHURN_RISK_DTYPE = pd.CategoricalDtype(list(CHURN_RISKS), ordered=True)

NEXT_DUE_SOURCES: tuple[str, ...] = ("manager", "contact", "purchase", "none")
"""Where ``next_due`` comes from: the date a manager set on the latest
interaction; the cadence counted from the last logged contact; the cadence
counted from the last purchase; nothing to count from (due on ``as_of``)."""
CADENCE_SOURCES: tuple[str, ...] = ("segment", "no_segment", "vip_cap")
"""Where ``cadence_days`` comes from: the segment's cadence; the default cadence
of clients without a segment; the VIP cap (shorter than either)."""
NEXT_DUE_SOURCE_DTYPE = pd.CategoricalDtype(list(NEXT_DUE_SOURCES))
CADENCE_SOURCE_DTYPE = pd.CategoricalDtype(list(CADENCE_SOURCES))

_POTENTIAL, _NEW, _ACTIVE, _DORMANT, _LOST = range(len(STATUSES))
_LOW, _MEDIUM, _HIGH = range(len(CHURN_RISKS))

RESULT_COLUMNS: tuple[str, ...] = (
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
    # Explanations and value (see analyze_clients).
    "revenue_share",
    "revenue_rank",
    "ranked_clients",
    "window_months",
    "revenue_cv",
    "purchase_days",
    "repeat_purchases",
    "history_days",
    "deal_cycle_known",
    "silent_cycles",
    "churn_risk",
    "cadence_source",
    "last_contact",
    "next_due_source",
    "next_due_set_by",
    "history_revenue",
    "expected_spend_per_purchase",
    "value_12m",
    "value_at_risk",
)


@dataclass(frozen=True, eq=False)
class ClientAnalysis:
    """Result of :func:`analyze_clients`.

    Unpacks like a tuple: ``clients, model = analyze_clients(...)``.

    Attributes
    ----------
    clients : DataFrame
        One row per client (see :func:`analyze_clients`).
    model : BgNbdParams or None
        The BG/NBD parameters used; None when nobody has bought yet.
    spend : GammaGammaParams or None
        The Gamma-Gamma parameters used; None when nobody has bought twice.
        Not part of the tuple unpacking, which stays ``(clients, model)``.
    """

    clients: pd.DataFrame
    model: BgNbdParams | None
    spend: GammaGammaParams | None = None

    def __iter__(self) -> Iterator[pd.DataFrame | BgNbdParams | None]:
        yield self.clients
        yield self.model


def classify_abc(
    revenue: np.ndarray, eligible: np.ndarray, a_share: float, b_share: float
) -> np.ndarray:
    """ABC codes (0=A, 1=B, 2=C, -1=none) for rows already sorted by client id.

    Positive revenues are ranked descending, ties by position (= client id).
    A row belongs to A while the cumulative share *before* it is below
    ``a_share``: the client whose revenue crosses the boundary is still A, so A
    is the smallest prefix holding at least ``a_share`` of revenue. Likewise
    for B. Eligible rows with revenue <= 0 are C.
    """
    return rank_abc(revenue, eligible, a_share, b_share)[0]


def rank_abc(
    revenue: np.ndarray, eligible: np.ndarray, a_share: float, b_share: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """:func:`classify_abc` plus the rank behind each class.

    Returns ``(codes, rank, total)``: ``rank`` is the 1-based position in the
    ABC order (revenue descending, ties by position) of the eligible rows
    with positive revenue, 0 elsewhere; ``total`` is their revenue (the
    denominator of every share).
    """
    codes = np.full(len(revenue), -1, dtype=np.int8)
    rank = np.zeros(len(revenue), dtype=np.int64)
    cents = np.rint(np.asarray(revenue, dtype=np.float64) * 100).astype(np.int64)
    codes[eligible] = 2
    rows = np.flatnonzero(eligible & (cents > 0))
    if len(rows) == 0:
        return codes, rank, 0.0
    order = _rank_descending(cents[rows], rows)
    ranked = cents[order]
    before = np.cumsum(ranked) - ranked
    # Integer cents make the shares exact up to one rounding of the division,
    # so a client sitting exactly on 80% is not pulled into A by float noise.
    total = float(ranked.sum())
    share_before = before / total
    codes[order] = np.where(share_before < a_share, 0, np.where(share_before < b_share, 1, 2))
    rank[order] = np.arange(1, len(order) + 1)
    return codes, rank, total / 100.0


def _rank_descending(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``rows`` ordered by ``values`` descending, ties by row (both non-negative)."""
    top = int(values.max())
    bits_row = max(int(rows.max()).bit_length(), 1)
    if top.bit_length() + bits_row <= 63:
        # One packed int64 value sort instead of a two-key lexsort.
        packed = ((top - values) << bits_row) | rows
        packed.sort()
        return packed & ((1 << bits_row) - 1)
    return rows[np.lexsort((rows, -values))]


def classify_xyz(
    active_months: np.ndarray,
    revenue_cv: np.ndarray,
    eligible: np.ndarray,
    settings: SegmentationSettings,
) -> np.ndarray:
    """XYZ codes (0=X, 1=Y, 2=Z, -1=none) for the rows marked ``eligible``.

    ``frequency``: X if purchases fall in at least ``xyz_x_month_share`` of the
    window's months, Z if in exactly one month (Z wins if a very short window
    makes both true), Y otherwise. ``cv``: X if CV <= ``xyz_cv_x``, Y if CV <=
    ``xyz_cv_y``, Z otherwise — including an undefined CV (mean monthly net
    revenue <= 0).
    """
    if settings.xyz_method == "frequency":
        needed = settings.xyz_x_month_share * settings.window_months - 1e-9
        codes = np.where(active_months == 1, 2, np.where(active_months >= needed, 0, 1))
    else:
        cv = np.asarray(revenue_cv, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            codes = np.where(cv <= settings.xyz_cv_x, 0, np.where(cv <= settings.xyz_cv_y, 1, 2))
    return np.where(eligible, codes, -1).astype(np.int8)


def lifecycle_status(
    has_purchase: np.ndarray,
    days_since_last: np.ndarray,
    days_since_first: np.ndarray,
    deal_cycle: np.ndarray,
    settings: SegmentationSettings,
    alive: np.ndarray | None = None,
    repeat_purchases: np.ndarray | None = None,
) -> np.ndarray:
    """Status codes in :data:`STATUSES` order.

    Precedence: potential (never bought), lost (more than
    ``lost_cycle_multiplier`` cycles or ``lost_max_days`` days without a
    purchase), dormant (more than ``dormant_cycle_multiplier`` cycles), new
    (first purchase less than ``new_days`` days ago), active. Silence is
    checked before novelty on purpose: a new client who went quiet for longer
    than its cycle allows needs a call, not a welcome.

    With ``alive`` (P(alive)) and ``repeat_purchases`` given, a client the
    rules call lost stays ``dormant`` while it has a repeat purchase and
    P(alive) of at least ``high_risk_p_alive``: the model still expects it
    to buy. Without a repeat purchase P(alive) is 1 by construction and the
    rules alone decide.
    """
    with np.errstate(invalid="ignore"):
        lost = (days_since_last > settings.lost_cycle_multiplier * deal_cycle) | (
            days_since_last > settings.lost_max_days
        )
        dormant = days_since_last > settings.dormant_cycle_multiplier * deal_cycle
        new = days_since_first < settings.new_days
        if alive is not None and repeat_purchases is not None:
            believed = (repeat_purchases > 0) & (alive >= settings.high_risk_p_alive)
            dormant = dormant | lost
            lost = lost & ~believed
    return np.select(
        [~has_purchase, lost, dormant, new],
        [_POTENTIAL, _LOST, _DORMANT, _NEW],
        default=_ACTIVE,
    ).astype(np.int8)


def churn_risk_band(
    status: np.ndarray,
    alive: np.ndarray,
    repeat_purchases: np.ndarray,
    settings: SegmentationSettings,
) -> np.ndarray:
    """Churn risk codes in :data:`CHURN_RISKS` order, -1 where there is none.

    ``high`` below ``high_risk_p_alive``, ``medium`` below ``at_risk_p_alive``,
    else ``low``; none for potential and lost clients and for clients without
    a repeat purchase (P(alive) tells nothing about them yet).
    """
    with np.errstate(invalid="ignore"):
        band = np.where(
            alive < settings.high_risk_p_alive,
            _HIGH,
            np.where(alive < settings.at_risk_p_alive, _MEDIUM, _LOW),
        )
    known = (status != _POTENTIAL) & (status != _LOST) & (repeat_purchases > 0)
    return np.where(known, band, -1).astype(np.int8)


def status_and_risk(
    has_purchase: np.ndarray,
    days_since_last: np.ndarray,
    days_since_first: np.ndarray,
    deal_cycle: np.ndarray,
    alive: np.ndarray,
    repeat_purchases: np.ndarray,
    settings: SegmentationSettings,
) -> tuple[np.ndarray, np.ndarray]:
    """Lifecycle status and churn risk decided together: ``(status codes, risk codes)``.

    The one place both labels come from, so they cannot contradict each other:
    the deal-cycle rules reconciled with P(alive) (:func:`lifecycle_status`),
    then the band (:func:`churn_risk_band`), which a lost or potential client
    never has (it has left, or never came: how long ago says more than a band).
    """
    status = lifecycle_status(
        has_purchase,
        days_since_last,
        days_since_first,
        deal_cycle,
        settings,
        alive,
        repeat_purchases,
    )
    return status, churn_risk_band(status, alive, repeat_purchases, settings)


def _categorical(codes: np.ndarray, dtype: pd.CategoricalDtype) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, dtype=dtype)


def _align_clients(
    summary: pd.DataFrame, clients: pd.DataFrame | None, settings: SegmentationSettings
) -> tuple[pd.DataFrame, np.ndarray]:
    """Add clients without transactions (potential) and return the VIP flags."""
    if clients is None:
        return summary, np.zeros(len(summary), dtype=bool)
    require_columns(clients, ("client_id", "vip"), "clients")
    if clients["client_id"].duplicated().any():
        raise ValueError("clients has duplicated client_id values")
    listed = pd.Index(clients["client_id"])
    ids = pd.Index(summary["client_id"])
    extra = listed.difference(ids)
    if len(extra):
        _, extra_sorted = encode_ids(pd.Series(extra))
        filler = pd.DataFrame(
            {
                "client_id": extra_sorted,
                "revenue": 0.0,
                "purchases": 0,
                "active_months": 0,
                "revenue_cv": np.nan,
                "first_purchase": np.datetime64("NaT", "s"),
                "last_purchase": np.datetime64("NaT", "s"),
                "purchase_days": 0,
                "days_since_last_purchase": pd.array([pd.NA] * len(extra), dtype="Int64"),
                "deal_cycle_days": float(settings.default_deal_cycle_days),
                "x": pd.array([pd.NA] * len(extra), dtype="Int64"),
                "t_x": np.nan,
                "T": np.nan,
                "monetary_value": np.nan,
                "history_revenue": 0.0,
            }
        )
        summary = pd.concat([summary, filler], ignore_index=True)
        codes, _ = encode_ids(summary["client_id"])
        summary = summary.take(np.argsort(codes, kind="stable")).reset_index(drop=True)
    vip_by_id = clients["vip"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    position = listed.get_indexer(pd.Index(summary["client_id"]))
    vip = np.zeros(len(summary), dtype=bool)
    found = position >= 0
    vip[found] = vip_by_id[position[found]]
    return summary, vip


def _contacts(
    ids: pd.Index, interactions: pd.DataFrame | None, as_of_day: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Last contact day, manager-planned next contact day (NaN if none) and who planned it.

    Interactions dated after ``as_of`` are dropped like later transactions;
    since the input holds only the latest interaction, an earlier one cannot
    take its place. ``planned_by`` is passed through as given (None if absent).
    """
    last = np.full(len(ids), np.nan)
    planned = np.full(len(ids), np.nan)
    planned_by = np.full(len(ids), None, dtype=object)
    if interactions is None:
        return last, planned, planned_by
    require_columns(interactions, ("client_id", "last_contact"), "interactions")
    if interactions["client_id"].duplicated().any():
        raise ValueError("interactions must hold one row per client_id")
    contact = optional_dates_to_days(interactions["last_contact"], "interactions.last_contact")
    if "planned_next_contact" in interactions.columns:
        plan = optional_dates_to_days(
            interactions["planned_next_contact"], "interactions.planned_next_contact"
        )
    else:
        plan = np.full(len(interactions), np.nan)
    with np.errstate(invalid="ignore"):
        future = contact > as_of_day
    contact[future] = np.nan
    plan[future] = np.nan
    position = ids.get_indexer(pd.Index(interactions["client_id"]))
    known = position >= 0
    last[position[known]] = contact[known]
    planned[position[known]] = plan[known]
    if "planned_by" in interactions.columns:
        by = interactions["planned_by"].astype(object).to_numpy()
        keep = known & ~np.isnan(plan)
        planned_by[position[keep]] = by[keep]
        planned_by[pd.isna(planned_by)] = None
    return last, planned, planned_by


def analyze_clients(
    transactions: pd.DataFrame,
    as_of: dt.date,
    settings: SegmentationSettings | None = None,
    clients: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
    params: BgNbdParams | None = None,
    spend_params: GammaGammaParams | None = None,
) -> ClientAnalysis:
    """Segment every client and compute what a manager should do with it, as of ``as_of``.

    Parameters
    ----------
    transactions : DataFrame
        Columns ``client_id`` (int or str), ``date``, ``amount`` (Decimal,
        float or numeric string; negative = return). Rows after ``as_of`` are
        ignored.
    as_of : datetime.date
        The day of the analysis; a past date reproduces what was known then.
    settings : SegmentationSettings, optional
        Thresholds; defaults if omitted.
    clients : DataFrame, optional
        Columns ``client_id``, ``vip`` (bool). Listed clients without
        transactions appear as ``potential``. Clients with transactions but
        not listed are analysed with ``vip=False``.
    interactions : DataFrame, optional
        One row per client: ``client_id``, ``last_contact`` (date of the latest
        logged interaction) and optionally ``planned_next_contact`` (the next
        contact date the manager set on that interaction, or NaT) and
        ``planned_by`` (who set it, any value; passed through to
        ``next_due_set_by``). Rows dated after ``as_of`` and clients unknown
        to ``transactions``/``clients`` are ignored.
    params : BgNbdParams, optional
        A stored BG/NBD model; by default the model is fitted on all clients
        who ever bought.
    spend_params : GammaGammaParams, optional
        A stored Gamma-Gamma model; by default it is fitted on all clients
        with a repeat purchase.

    Returns
    -------
    ClientAnalysis
        ``.model`` holds the BG/NBD parameters (None if nobody ever bought),
        ``.spend`` the Gamma-Gamma parameters (None if nobody bought twice)
        and ``.clients`` one row per client, sorted by ``client_id``, with the
        columns of :data:`RESULT_COLUMNS`:

        *Segment*

        - ``client_id``
        - ``revenue`` (float64, 2 dp): net revenue in the window (money is
          handled as int64 cents internally, outputs are floats in currency
          units — fine for analytics, not for accounting).
        - ``purchases``, ``active_months`` (int64): purchase days and months
          with a purchase day in the window.
        - ``abc``, ``xyz``, ``segment`` (ordered categoricals): NA for clients
          without a purchase in the window.
        - ``revenue_share`` (float64): the client's share of the window
          revenue of all ranked clients (``max(revenue, 0) / total``); NaN
          without a segment.
        - ``revenue_rank`` (Int64): 1-based place in the ABC ranking (revenue
          descending, ties by ``client_id``) among the ``ranked_clients``
          clients with positive window revenue; NA for the others.
        - ``ranked_clients`` (int64): how many clients are ranked (the same
          in every row: "3rd of 2,000").
        - ``window_months`` (int64): months in the window, the denominator of
          ``active_months`` ("bought in 11 of 12 months").
        - ``revenue_cv`` (float64): coefficient of variation of monthly
          revenue, the figure behind XYZ with ``xyz_method = "cv"``.

        *Status*

        - ``status`` (categorical): potential / new / active / dormant / lost,
          see :func:`lifecycle_status` (deal-cycle rules reconciled with
          P(alive)).
        - ``deal_cycle_days`` (float64): median gap between purchase days;
          ``deal_cycle_known`` (bool) is False when it is the default
          (fewer than 2 gaps).
        - ``days_since_last_purchase`` (Int64): days of silence; for a lost
          client, how long ago it left. ``silent_cycles`` (float64): the
          same in deal cycles; NaN for potential clients.
        - ``first_purchase``, ``last_purchase`` (datetime64[s]).

        *Churn risk*

        - ``p_alive``, ``expected_purchases_90d`` (float64): BG/NBD, NaN for
          potential clients; the horizon is ``settings.churn_horizon_days``.
        - ``churn_risk`` (ordered categorical low / medium / high): see
          :func:`churn_risk_band`; NA for potential and lost clients and for
          clients without a repeat purchase.
        - ``purchase_days`` (int64): purchase days over the whole history,
          ``repeat_purchases`` (Int64): the same minus the first (BG/NBD's
          ``x``; NA if never bought), ``history_days`` (Int64): days from the
          first purchase to ``as_of`` — the evidence behind P(alive) ("from
          14 purchases over 2 years").

        *Lists*

        - ``reactivation`` (bool): the win-back list — lost (silent for at
          most ``reactivation_max_days``) or dormant and not at risk, and no
          contact in the last ``reactivation_contact_days`` days
          (``0 <= as_of - contact < N``).
        - ``at_risk`` (bool): the ``/risk`` list — active or dormant, class
          A/B or X/Y, overdue (more than ``at_risk_overdue_cycles`` cycles of
          silence) and P(alive) below ``at_risk_p_alive``. Never together with
          ``reactivation``; never lost.
        - ``revenue_at_risk`` (float64, 2 dp): ``max(revenue, 0) * (1 - p_alive)``.

        *Next contact*

        - ``cadence_days`` (int64): per segment, ``default_cadence_days``
          without a segment, at most ``vip_cadence_cap_days`` for VIPs;
          ``cadence_source`` (categorical, :data:`CADENCE_SOURCES`) says which.
        - ``vip`` (bool).
        - ``last_contact`` (datetime64[s]): the latest logged contact; NaT if none.
        - ``last_touch`` (datetime64[s]): latest of the last contact and the
          last purchase; NaT if neither.
        - ``next_due`` (datetime64[s]): the manager-planned next contact when
          given, else last touch + cadence, else ``as_of`` (due now);
          ``next_due_source`` (categorical, :data:`NEXT_DUE_SOURCES`) says
          which, ``next_due_set_by`` (object) is the ``planned_by`` of a
          manager-set date (None otherwise); the manager set it on
          ``last_contact``.

        *Value*

        - ``history_revenue`` (float64, 2 dp): net revenue over the whole history.
        - ``expected_spend_per_purchase`` (float64, 2 dp): Gamma-Gamma
          expected value of the next purchase (see :func:`customer_value`).
        - ``value_12m`` (float64, 2 dp): expected revenue over the next 12
          months, discounted by ``monthly_discount_rate`` per month.
        - ``value_at_risk`` (float64, 2 dp): ``value_12m * (1 - p_alive)``, the
          ranking of ``/risk``. All three NaN for potential clients and when
          no spend model could be fitted.
        - ``avg_order`` (float64, 2 dp): revenue / purchases in the window.
        - ``upsell`` (bool): average order below the median of the client's
          ABC class.
    """
    settings = settings or SegmentationSettings()
    as_of_day = to_day(as_of)
    summary = client_summary(transactions, as_of, settings)
    summary, vip = _align_clients(summary, clients, settings)
    ids = pd.Index(summary["client_id"])
    n = len(summary)

    purchase_days = summary["purchase_days"].to_numpy()
    has_purchase = purchase_days > 0
    buyer_in_window = summary["purchases"].to_numpy() > 0
    revenue = summary["revenue"].to_numpy(dtype=np.float64)
    deal_cycle = summary["deal_cycle_days"].to_numpy(dtype=np.float64)
    first_day = _datetime_to_days(summary["first_purchase"])
    last_day = _datetime_to_days(summary["last_purchase"])
    days_silent = as_of_day - last_day
    repeat = np.where(has_purchase, purchase_days - 1, 0)

    abc, rank, ranked_total = rank_abc(
        revenue, buyer_in_window, settings.abc_a_share, settings.abc_b_share
    )
    xyz = classify_xyz(
        summary["active_months"].to_numpy(),
        summary["revenue_cv"].to_numpy(dtype=np.float64),
        buyer_in_window,
        settings,
    )
    segment = np.where(abc >= 0, abc * 3 + xyz, -1).astype(np.int8)

    # BG/NBD on everybody who ever bought.
    x = summary["x"].to_numpy(dtype=np.float64, na_value=np.nan)[has_purchase]
    t_x = summary["t_x"].to_numpy(dtype=np.float64)[has_purchase]
    T = summary["T"].to_numpy(dtype=np.float64)[has_purchase]
    if params is None and has_purchase.any():
        params = fit_bgnbd((x, t_x, T))
    alive = np.full(n, np.nan)
    expected = np.full(n, np.nan)
    if params is not None and has_purchase.any():
        alive[has_purchase] = p_alive(params, x, t_x, T)
        horizon = settings.churn_horizon_days / DAYS_PER_WEEK
        expected[has_purchase] = expected_purchases(params, horizon, x, t_x, T)

    status, risk = status_and_risk(
        has_purchase, days_silent, as_of_day - first_day, deal_cycle, alive, repeat, settings
    )

    # Gamma-Gamma on everybody who bought twice; value over the next 12 months.
    if spend_params is None and (repeat > 0).any():
        spend_params = fit_gamma_gamma(summary)
    spend_per_purchase = np.full(n, np.nan)
    value_12m = np.full(n, np.nan)
    if params is not None and spend_params is not None:
        value = customer_value(
            summary, params, spend_params, monthly_discount_rate=settings.monthly_discount_rate
        )
        spend_per_purchase = value["expected_spend_per_purchase"].to_numpy()
        value_12m = value["value"].to_numpy()

    # Contact cadence and due date.
    cadence_table = np.array([settings.cadence_days[s] for s in SEGMENTS], dtype=np.int64)
    cadence = np.where(
        segment >= 0, cadence_table[np.maximum(segment, 0)], settings.default_cadence_days
    )
    capped = vip & (cadence > settings.vip_cadence_cap_days)
    cadence_source = np.where(capped, 2, np.where(segment >= 0, 0, 1)).astype(np.int8)
    cadence = np.where(capped, settings.vip_cadence_cap_days, cadence)
    last_contact, planned, planned_by = _contacts(ids, interactions, as_of_day)
    last_touch = np.fmax(last_contact, last_day)
    has_plan = ~np.isnan(planned)
    no_touch = np.isnan(last_touch)
    next_due = np.where(
        has_plan, planned, np.where(no_touch, float(as_of_day), last_touch + cadence)
    )
    with np.errstate(invalid="ignore"):
        from_contact = last_contact >= np.nan_to_num(last_day, nan=-np.inf)
    next_due_source = np.select([has_plan, no_touch, from_contact], [0, 3, 1], default=2).astype(
        np.int8
    )
    planned_by[~has_plan] = None

    # The two work lists: at risk (still buying, slipping) and win-back.
    with np.errstate(invalid="ignore"):
        days_since_contact = as_of_day - last_contact
        recent_contact = (days_since_contact >= 0) & (
            days_since_contact < settings.reactivation_contact_days
        )
        silent_cycles = days_silent / deal_cycle
        overdue = silent_cycles > settings.at_risk_overdue_cycles
        slipping = (repeat > 0) & (alive < settings.at_risk_p_alive)
    valuable = ((abc >= 0) & (abc <= 1)) | ((xyz >= 0) & (xyz <= 1))
    at_risk = ((status == _ACTIVE) | (status == _DORMANT)) & valuable & overdue & slipping
    win_back = (status == _LOST) & (days_silent <= settings.reactivation_max_days)
    reactivation = (((status == _DORMANT) & ~at_risk) | win_back) & ~recent_contact

    revenue_at_risk = np.round(np.maximum(revenue, 0.0) * (1.0 - alive), 2)
    value_at_risk = np.round(value_12m * (1.0 - alive), 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        avg_order = np.where(
            buyer_in_window, revenue / np.maximum(summary["purchases"].to_numpy(), 1), np.nan
        )
        revenue_share = np.where(
            segment >= 0, np.maximum(revenue, 0.0) / ranked_total if ranked_total else 0.0, np.nan
        )
    upsell = np.zeros(n, dtype=bool)
    for code in range(len(ABC_CLASSES)):
        members = abc == code
        if members.any():
            upsell[members] = avg_order[members] < np.median(avg_order[members])

    out = pd.DataFrame(
        {
            "client_id": summary["client_id"],
            "revenue": revenue,
            "purchases": summary["purchases"],
            "active_months": summary["active_months"],
            "abc": _categorical(abc, ABC_DTYPE),
            "xyz": _categorical(xyz, XYZ_DTYPE),
            "segment": _categorical(segment, SEGMENT_DTYPE),
            "status": _categorical(status, STATUS_DTYPE),
            "deal_cycle_days": deal_cycle,
            "days_since_last_purchase": summary["days_since_last_purchase"],
            "p_alive": alive,
            "expected_purchases_90d": expected,
            "cadence_days": cadence.astype(np.int64),
            "vip": vip,
            "first_purchase": summary["first_purchase"],
            "last_purchase": summary["last_purchase"],
            "last_touch": days_to_datetime(last_touch),
            "next_due": days_to_datetime(next_due),
            "reactivation": reactivation,
            "at_risk": at_risk,
            "revenue_at_risk": revenue_at_risk,
            "avg_order": np.round(avg_order, 2),
            "upsell": upsell,
            "revenue_share": revenue_share,
            "revenue_rank": pd.arrays.IntegerArray(rank, rank == 0),
            "ranked_clients": np.full(n, int(np.count_nonzero(rank)), dtype=np.int64),
            "window_months": np.full(n, settings.window_months, dtype=np.int64),
            "revenue_cv": summary["revenue_cv"],
            "purchase_days": summary["purchase_days"],
            "repeat_purchases": pd.arrays.IntegerArray(repeat.astype(np.int64), ~has_purchase),
            "history_days": pd.arrays.IntegerArray(
                np.nan_to_num(as_of_day - first_day).astype(np.int64), ~has_purchase
            ),
            "deal_cycle_known": purchase_days >= 3,
            "silent_cycles": silent_cycles,
            "churn_risk": _categorical(risk, CHURN_RISK_DTYPE),
            "cadence_source": _categorical(cadence_source, CADENCE_SOURCE_DTYPE),
            "last_contact": days_to_datetime(last_contact),
            "next_due_source": _categorical(next_due_source, NEXT_DUE_SOURCE_DTYPE),
            "next_due_set_by": planned_by,
            "history_revenue": summary["history_revenue"],
            "expected_spend_per_purchase": np.round(spend_per_purchase, 2),
            "value_12m": value_12m,
            "value_at_risk": value_at_risk,
        }
    )
    return ClientAnalysis(clients=out, model=params, spend=spend_params)


def _datetime_to_days(values: pd.Series) -> np.ndarray:
    arr = values.to_numpy().astype("datetime64[D]")
    days = arr.view(np.int64).astype(np.float64)
    days[np.isnat(arr)] = np.nan
    return days


def _frame(result: ClientAnalysis | pd.DataFrame) -> pd.DataFrame:
    return result.clients if isinstance(result, ClientAnalysis) else result


def segment_matrix(result: ClientAnalysis | pd.DataFrame) -> pd.DataFrame:
    """The 3x3 ABC/XYZ matrix of client counts and revenue shares.

    Parameters
    ----------
    result : ClientAnalysis or DataFrame
        Output of :func:`analyze_clients`; uses columns ``abc``, ``xyz``,
        ``revenue``.

    Returns
    -------
    DataFrame
        Index ``abc`` (A, B, C); columns a MultiIndex ``(metric, xyz)`` with
        metric ``clients`` (int64 counts) and ``revenue_share`` (float64 share
        of the window revenue of all segmented clients; 0 when it is 0), so
        ``m["clients"]`` is the plain 3x3 count matrix. Every cell is present.
    """
    frame = _frame(result)
    require_columns(frame, ("abc", "xyz", "revenue"), "result")
    abc = pd.Categorical(frame["abc"], dtype=ABC_DTYPE).codes.astype(np.int64)
    xyz = pd.Categorical(frame["xyz"], dtype=XYZ_DTYPE).codes.astype(np.int64)
    both = (abc >= 0) & (xyz >= 0)
    cell = abc[both] * 3 + xyz[both]
    counts = np.bincount(cell, minlength=9).reshape(3, 3)
    revenue = np.bincount(
        cell, weights=frame["revenue"].to_numpy(dtype=np.float64)[both], minlength=9
    ).reshape(3, 3)
    total = revenue.sum()
    shares = revenue / total if total else np.zeros((3, 3))
    abc_index = pd.Index(list(ABC_CLASSES), name="abc")
    xyz_index = pd.Index(list(XYZ_CLASSES), name="xyz")
    return pd.concat(
        {
            "clients": pd.DataFrame(counts.astype(np.int64), index=abc_index, columns=xyz_index),
            "revenue_share": pd.DataFrame(shares, index=abc_index, columns=xyz_index),
        },
        axis=1,
        names=["metric"],
    )


def status_counts(result: ClientAnalysis | pd.DataFrame) -> pd.DataFrame:
    """Clients per lifecycle status.

    Returns
    -------
    DataFrame
        Columns ``status`` (str, every status in lifecycle order, zeros
        included), ``clients`` (int64) and ``share`` (float64 share of all
        clients; 0 when there are none).
    """
    frame = _frame(result)
    require_columns(frame, ("status",), "result")
    codes = pd.Categorical(frame["status"], dtype=STATUS_DTYPE).codes
    counts = np.bincount(codes[codes >= 0], minlength=len(STATUSES)).astype(np.int64)
    total = counts.sum()
    return pd.DataFrame(
        {
            "status": list(STATUSES),
            "clients": counts,
            "share": counts / total if total else np.zeros(len(STATUSES)),
        }
    )


def at_risk_list(
    result: ClientAnalysis | pd.DataFrame, settings: SegmentationSettings | None = None
) -> pd.DataFrame:
    """The ``/risk`` list: clients who still buy but are slipping, most value at risk first.

    The rule of ``at_risk`` in :func:`analyze_clients`, recomputed here so
    that other thresholds can be tried on a stored result: status active or
    dormant, class A or B or X or Y, more than ``at_risk_overdue_cycles``
    deal cycles of silence and P(alive) below ``at_risk_p_alive``.

    Parameters
    ----------
    result : ClientAnalysis or DataFrame
        Output of :func:`analyze_clients`; uses ``client_id``, ``status``,
        ``abc``, ``xyz``, ``p_alive``, ``silent_cycles``, ``value_at_risk`` and
        ``revenue_at_risk``.
    settings : SegmentationSettings, optional

    Returns
    -------
    DataFrame
        The matching rows with all their columns, sorted by ``value_at_risk``
        descending (missing values last), then ``revenue_at_risk`` descending,
        then ``client_id``, with a fresh index.
    """
    settings = settings or SegmentationSettings()
    frame = _frame(result)
    require_columns(
        frame,
        (
            "client_id",
            "status",
            "abc",
            "xyz",
            "p_alive",
            "silent_cycles",
            "value_at_risk",
            "revenue_at_risk",
        ),
        "result",
    )
    valuable = (frame["abc"].isin(["A", "B"]) | frame["xyz"].isin(["X", "Y"])).to_numpy()
    buying = frame["status"].isin(["active", "dormant"]).to_numpy()
    with np.errstate(invalid="ignore"):
        slipping = frame["p_alive"].to_numpy(dtype=np.float64) < settings.at_risk_p_alive
        overdue = (
            frame["silent_cycles"].to_numpy(dtype=np.float64) > settings.at_risk_overdue_cycles
        )
    listed = frame[valuable & buying & slipping & overdue]
    return listed.sort_values(
        ["value_at_risk", "revenue_at_risk", "client_id"],
        ascending=[False, False, True],
        kind="stable",
        na_position="last",
    ).reset_index(drop=True)
