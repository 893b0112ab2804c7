"""ABC/XYZ segmentation, lifecycle statuses, contact cadence and churn risk per client."""

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
from services.analytics.settings import (
    ABC_CLASSES,
    SEGMENTS,
    STATUSES,
    XYZ_CLASSES,
    SegmentationSettings,
)
from services.analytics.summary import DAYS_PER_WEEK, client_summary

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

_POTENTIAL, _NEW, _ACTIVE, _DORMANT, _LOST = range(len(STATUSES))

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
    """

    clients: pd.DataFrame
    model: BgNbdParams | None

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
    codes = np.full(len(revenue), -1, dtype=np.int8)
    cents = np.rint(np.asarray(revenue, dtype=np.float64) * 100).astype(np.int64)
    codes[eligible] = 2
    rows = np.flatnonzero(eligible & (cents > 0))
    if len(rows) == 0:
        return codes
    order = _rank_descending(cents[rows], rows)
    ranked = cents[order]
    before = np.cumsum(ranked) - ranked
    # Integer cents make the shares exact up to one rounding of the division,
    # so a client sitting exactly on 80% is not pulled into A by float noise.
    share_before = before / float(ranked.sum())
    codes[order] = np.where(share_before < a_share, 0, np.where(share_before < b_share, 1, 2))
    return codes


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
) -> np.ndarray:
    """Status codes in :data:`STATUSES` order.

    Precedence: potential (never bought), lost (more than
    ``lost_cycle_multiplier`` cycles or ``lost_max_days`` days without a
    purchase), dormant (more than ``dormant_cycle_multiplier`` cycles), new
    (first purchase less than ``new_days`` days ago), active. Silence is
    checked before novelty on purpose: a new client who went quiet for longer
    than its cycle allows needs a call, not a welcome.
    """
    with np.errstate(invalid="ignore"):
        lost = (days_since_last > settings.lost_cycle_multiplier * deal_cycle) | (
            days_since_last > settings.lost_max_days
        )
        dormant = days_since_last > settings.dormant_cycle_multiplier * deal_cycle
        new = days_since_first < settings.new_days
    return np.select(
        [~has_purchase, lost, dormant, new],
        [_POTENTIAL, _LOST, _DORMANT, _NEW],
        default=_ACTIVE,
    ).astype(np.int8)


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
) -> tuple[np.ndarray, np.ndarray]:
    """Last contact day and manager-planned next contact day per client (NaN if none).

    Interactions dated after ``as_of`` are dropped like later transactions;
    since the input holds only the latest interaction, an earlier one cannot
    take its place.
    """
    last = np.full(len(ids), np.nan)
    planned = np.full(len(ids), np.nan)
    if interactions is None:
        return last, planned
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
    return last, planned


def analyze_clients(
    transactions: pd.DataFrame,
    as_of: dt.date,
    settings: SegmentationSettings | None = None,
    clients: pd.DataFrame | None = None,
    interactions: pd.DataFrame | None = None,
    params: BgNbdParams | None = None,
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
        contact date the manager set on that interaction, or NaT). Rows dated
        after ``as_of`` and clients unknown to ``transactions``/``clients`` are
        ignored.
    params : BgNbdParams, optional
        A stored BG/NBD model; by default the model is fitted on all clients
        who ever bought.

    Returns
    -------
    ClientAnalysis
        ``.model`` holds the BG/NBD parameters (None if nobody ever bought) and
        ``.clients`` one row per client, sorted by ``client_id``:

        - ``client_id``
        - ``revenue`` (float64, 2 dp): net revenue in the window (money is
          handled as int64 cents internally, outputs are floats in currency
          units — fine for analytics, not for accounting).
        - ``purchases``, ``active_months`` (int64): purchase days and months
          with a purchase day in the window.
        - ``abc``, ``xyz``, ``segment`` (ordered categoricals): NA for clients
          without a purchase in the window.
        - ``status`` (categorical): potential / new / active / dormant / lost,
          see :func:`lifecycle_status` for the precedence.
        - ``deal_cycle_days`` (float64), ``days_since_last_purchase`` (Int64).
        - ``p_alive``, ``expected_purchases_90d`` (float64): BG/NBD, NaN for
          potential clients; the horizon is ``settings.churn_horizon_days``.
        - ``cadence_days`` (int64): per segment, ``default_cadence_days``
          without a segment, at most ``vip_cadence_cap_days`` for VIPs.
        - ``vip`` (bool), ``first_purchase``, ``last_purchase`` (datetime64[s]).
        - ``last_touch`` (datetime64[s]): latest of the last contact and the
          last purchase; NaT if neither.
        - ``next_due`` (datetime64[s]): the manager-planned next contact when
          given, else last touch + cadence, else ``as_of`` (due now).
        - ``reactivation`` (bool): dormant and no contact in the last
          ``reactivation_contact_days`` days (``0 <= as_of - contact < N``).
        - ``at_risk`` (bool): class A/B or X/Y and P(alive) below
          ``at_risk_p_alive``.
        - ``revenue_at_risk`` (float64, 2 dp): ``max(revenue, 0) * (1 - p_alive)``.
        - ``avg_order`` (float64, 2 dp): revenue / purchases in the window.
        - ``upsell`` (bool): average order below the median of the client's
          ABC class.
    """
    settings = settings or SegmentationSettings()
    as_of_day = to_day(as_of)
    summary = client_summary(transactions, as_of, settings)
    summary, vip = _align_clients(summary, clients, settings)
    ids = pd.Index(summary["client_id"])

    purchase_days = summary["purchase_days"].to_numpy()
    has_purchase = purchase_days > 0
    buyer_in_window = summary["purchases"].to_numpy() > 0
    revenue = summary["revenue"].to_numpy(dtype=np.float64)
    deal_cycle = summary["deal_cycle_days"].to_numpy(dtype=np.float64)
    first_day = _datetime_to_days(summary["first_purchase"])
    last_day = _datetime_to_days(summary["last_purchase"])

    abc = classify_abc(revenue, buyer_in_window, settings.abc_a_share, settings.abc_b_share)
    xyz = classify_xyz(
        summary["active_months"].to_numpy(),
        summary["revenue_cv"].to_numpy(dtype=np.float64),
        buyer_in_window,
        settings,
    )
    segment = np.where(abc >= 0, abc * 3 + xyz, -1).astype(np.int8)
    status = lifecycle_status(
        has_purchase, as_of_day - last_day, as_of_day - first_day, deal_cycle, settings
    )

    # BG/NBD on everybody who ever bought.
    x = summary["x"].to_numpy(dtype=np.float64, na_value=np.nan)[has_purchase]
    t_x = summary["t_x"].to_numpy(dtype=np.float64)[has_purchase]
    T = summary["T"].to_numpy(dtype=np.float64)[has_purchase]
    if params is None and has_purchase.any():
        params = fit_bgnbd((x, t_x, T))
    alive = np.full(len(summary), np.nan)
    expected = np.full(len(summary), np.nan)
    if params is not None and has_purchase.any():
        alive[has_purchase] = p_alive(params, x, t_x, T)
        horizon = settings.churn_horizon_days / DAYS_PER_WEEK
        expected[has_purchase] = expected_purchases(params, horizon, x, t_x, T)

    # Contact cadence and due date.
    cadence_table = np.array([settings.cadence_days[s] for s in SEGMENTS], dtype=np.int64)
    cadence = np.where(
        segment >= 0, cadence_table[np.maximum(segment, 0)], settings.default_cadence_days
    )
    cadence = np.where(vip, np.minimum(cadence, settings.vip_cadence_cap_days), cadence)
    last_contact, planned = _contacts(ids, interactions, as_of_day)
    last_touch = np.fmax(last_contact, last_day)
    next_due = np.where(
        ~np.isnan(planned),
        planned,
        np.where(np.isnan(last_touch), float(as_of_day), last_touch + cadence),
    )
    with np.errstate(invalid="ignore"):
        days_since_contact = as_of_day - last_contact
        recent_contact = (days_since_contact >= 0) & (
            days_since_contact < settings.reactivation_contact_days
        )
    reactivation = (status == _DORMANT) & ~recent_contact

    # Churn risk and up-sell.
    valuable = ((abc >= 0) & (abc <= 1)) | ((xyz >= 0) & (xyz <= 1))
    with np.errstate(invalid="ignore"):
        at_risk = valuable & (alive < settings.at_risk_p_alive)
    revenue_at_risk = np.round(np.maximum(revenue, 0.0) * (1.0 - alive), 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        avg_order = np.where(
            buyer_in_window, revenue / np.maximum(summary["purchases"].to_numpy(), 1), np.nan
        )
    upsell = np.zeros(len(summary), dtype=bool)
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
        }
    )
    return ClientAnalysis(clients=out, model=params)


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
    """Valuable clients likely to churn, most revenue at risk first.

    A client is listed when it is of class A or B, or X or Y, and its
    P(alive) is below ``settings.at_risk_p_alive`` (recomputed here, so a
    different threshold than the one used by :func:`analyze_clients` works).

    Returns
    -------
    DataFrame
        The matching rows of the result with all its columns, sorted by
        ``revenue_at_risk`` descending then ``client_id``, with a fresh index.
    """
    settings = settings or SegmentationSettings()
    frame = _frame(result)
    require_columns(frame, ("client_id", "abc", "xyz", "p_alive", "revenue_at_risk"), "result")
    valuable = frame["abc"].isin(["A", "B"]) | frame["xyz"].isin(["X", "Y"])
    risky = frame["p_alive"].to_numpy(dtype=np.float64) < settings.at_risk_p_alive
    listed = frame[valuable.to_numpy() & risky]
    return listed.sort_values(
        ["revenue_at_risk", "client_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
