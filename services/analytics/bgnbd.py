"""BG/NBD churn model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way").

Each client buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``
while alive and, after every repeat purchase, drops out with probability
``p ~ Beta(a, b)``. A client is summarised by ``x`` (repeat purchases),
``t_x`` (time of the last purchase since the first) and ``T`` (time since the
first purchase). Time is in weeks throughout this module.

Formulas (numbered as in the paper):

- log-likelihood (eq. 6)::

      LL = ln G(r+x) - ln G(r) + r ln(alpha)
           + ln B(a, b+x) - ln B(a, b)
           + ln[ (alpha+T)^-(r+x) + [x>0] a/(b+x-1) (alpha+t_x)^-(r+x) ]

- P(alive | x, t_x, T) (eq. 13)::

      1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))

  which is exactly 1 for ``x = 0``: in BG/NBD a client can only drop out
  right after a repeat purchase, so a client who never came back is alive.

- E[Y(t) | x, t_x, T] (eq. 10), purchases in the next ``t`` weeks::

      (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
                           2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t))]
      / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))

  The hypergeometric term is evaluated after Euler's transformation
  ``2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z)``, which turns it into
  ``(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``: the same value, but its
  parameters no longer grow with ``x``, so heavy buyers neither overflow nor
  lose precision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1

MODEL_NAME = "bg/nbd"
TIME_UNIT = "weeks"
# Log-parameter box: e^-12..e^12 covers every plausible population while
# keeping the optimiser away from overflow in gammaln/exp.
_LOG_BOUND = 12.0
# Stopping rule on the mean log-likelihood per client. When the data favour a
# homogeneous dropout (a, b -> infinity along a flat ridge) tighter values
# only buy many more iterations for no change in any prediction.
_FTOL = 1e-10
_GTOL = 1e-6
_A_ONE_TOLERANCE = 1e-6
_DEDUPE_ABOVE = 50_000
_WARM_START_ROWS = 100_000
_A_ONE_STEP = 1e-4


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters (time unit: weeks).

    Attributes
    ----------
    r, alpha : float
        Shape and rate of the Gamma distribution of purchase rates.
    a, b : float
        Shape parameters of the Beta distribution of dropout probabilities.
    log_likelihood : float
        Total log-likelihood of the fit (sum over clients).
    n_clients : int
        Number of clients the model was fitted on.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_clients: int

    def to_json_dict(self) -> dict[str, Any]:
        """Return the JSON form stored in the database."""
        return {
            "model": MODEL_NAME,
            "time_unit": TIME_UNIT,
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "log_likelihood": self.log_likelihood,
            "n_clients": self.n_clients,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> BgNbdParams:
        """Inverse of :meth:`to_json_dict`; rejects another model or time unit."""
        if data.get("model") != MODEL_NAME or data.get("time_unit") != TIME_UNIT:
            raise ValueError(
                f"expected model {MODEL_NAME!r} in {TIME_UNIT!r}, got "
                f"{data.get('model')!r} in {data.get('time_unit')!r}"
            )
        return cls(
            r=float(data["r"]),
            alpha=float(data["alpha"]),
            a=float(data["a"]),
            b=float(data["b"]),
            log_likelihood=float(data["log_likelihood"]),
            n_clients=int(data["n_clients"]),
        )


def _as_float_arrays(*arrays: ArrayLike) -> list[np.ndarray]:
    out = [np.asarray(arr, dtype=np.float64) for arr in arrays]
    return list(np.broadcast_arrays(*out))


def _check_summary(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
    if np.isnan(x).any() or np.isnan(t_x).any() or np.isnan(T).any():
        raise ValueError("x, t_x and T must not contain NaN")
    if (x < 0).any() or (x != np.floor(x)).any():
        raise ValueError("x must be non-negative whole numbers")
    if (t_x < 0).any() or (t_x > T).any():
        raise ValueError("need 0 <= t_x <= T")
    if ((x == 0) & (t_x != 0)).any():
        raise ValueError("t_x must be 0 when x is 0")


def bgnbd_log_likelihood(
    params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """Per-client BG/NBD log-likelihood (eq. 6) for summary arrays in weeks."""
    x_, t_x_, T_ = _as_float_arrays(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_a3 = -(r + x_) * np.log(alpha + T_)
    repeat = x_ > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a4 = np.where(
            repeat, np.log(a) - np.log(b + x_ - 1) - (r + x_) * np.log(alpha + t_x_), -np.inf
        )
    return (
        gammaln(r + x_)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x_)
        - gammaln(b)
        - gammaln(a + b + x_)
        + np.logaddexp(log_a3, log_a4)
    )


def p_alive(params: BgNbdParams, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> np.ndarray:
    """Probability that each client is still alive (eq. 13); exactly 1 when ``x == 0``.

    Parameters
    ----------
    params : BgNbdParams
    x, t_x, T : array-like
        Repeat purchases, recency and age in weeks (broadcast together).

    Returns
    -------
    ndarray of float64
    """
    x_, t_x_, T_ = _as_float_arrays(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    repeat = x_ > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        log_odds_dead = (
            np.log(a) - np.log(b + x_ - 1) + (r + x_) * (np.log(alpha + T_) - np.log(alpha + t_x_))
        )
    # expit(-z) = 1/(1+e^z) without overflow for very long silences.
    return np.where(repeat, expit(-np.where(repeat, log_odds_dead, 0.0)), 1.0)


def expected_purchases(
    params: BgNbdParams, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> np.ndarray:
    """Expected purchases in the next ``t`` weeks given ``(x, t_x, T)`` (eq. 10).

    Parameters
    ----------
    params : BgNbdParams
        At ``a = 1`` the closed form is 0/0; its limit is used there.
    t : float or array-like
        Horizon in weeks.
    x, t_x, T : array-like
        Repeat purchases, recency and age in weeks.

    Returns
    -------
    ndarray of float64
    """
    t_, x_, t_x_, T_ = _as_float_arrays(t, x, t_x, T)
    if np.ndim(t) == 0 and x_.size > _DEDUPE_ABOVE:
        # The costly hypergeometric part depends on (x, T) only; a client base
        # summarised in days has far fewer distinct pairs than clients.
        ux, ix = _codes(x_)
        uT, iT = _codes(T_)
        pair, pairs = pd.factorize(ix * len(uT) + iT)
        pair_x, pair_T = ux[pairs // len(uT)], uT[pairs % len(uT)]
        horizon = np.full(len(pairs), float(np.asarray(t)))
        if_alive = _if_alive(params, horizon, pair_x, pair_T)[pair].reshape(x_.shape)
    else:
        if_alive = _if_alive(params, t_, x_, T_)
    return if_alive * p_alive(params, x_, t_x_, T_)


def discounted_expected_purchases(
    params: BgNbdParams,
    step: float,
    steps: int,
    discount_rate: float,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
) -> np.ndarray:
    """Expected purchases over ``steps`` periods of ``step`` weeks, each discounted.

    ``sum_k (E[Y(k step)] - E[Y((k-1) step)]) / (1 + discount_rate)^k`` for
    ``k = 1..steps``: the purchases expected in period ``k`` are valued at its
    end (the ``customer_lifetime_value`` of the ``lifetimes`` library). With a
    zero rate it equals ``expected_purchases(params, steps * step, ...)``.

    Parameters
    ----------
    params : BgNbdParams
    step : float
        Length of one period in weeks.
    steps : int
        Number of periods.
    discount_rate : float
        Discount rate per period (0.01 = 1 %).
    x, t_x, T : array-like
        Repeat purchases, recency and age in weeks.

    Returns
    -------
    ndarray of float64
    """
    if steps < 1 or step <= 0:
        raise ValueError("need at least one period of positive length")
    if not 0 <= discount_rate < 1:
        raise ValueError("discount_rate must be in [0, 1)")
    x_, t_x_, T_ = _as_float_arrays(x, t_x, T)
    # The horizon enters only the "if alive" factor, a function of (x, T):
    # evaluate it once per distinct pair and period.
    ux, ix = _codes(x_)
    uT, iT = _codes(T_)
    pair, pairs = pd.factorize(ix * len(uT) + iT)
    pair_x, pair_T = ux[pairs // len(uT)], uT[pairs % len(uT)]
    total = np.zeros(len(pairs))
    previous = np.zeros(len(pairs))
    for k in range(1, steps + 1):
        current = _if_alive(params, np.full(len(pairs), k * step), pair_x, pair_T)
        total += (current - previous) / (1.0 + discount_rate) ** k
        previous = current
    return total[pair].reshape(x_.shape) * p_alive(params, x_, t_x_, T_)


def _if_alive(params: BgNbdParams, t: np.ndarray, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    if abs(a - 1.0) < _A_ONE_TOLERANCE:
        # a = 1 is a removable singularity (0/0) of the closed form; the mean
        # of both sides is exact to O(step^2) since the function is smooth in a.
        return (
            _expected_if_alive(r, alpha, 1.0 - _A_ONE_STEP, b, t, x, T)
            + _expected_if_alive(r, alpha, 1.0 + _A_ONE_STEP, b, t, x, T)
        ) / 2.0
    return _expected_if_alive(r, alpha, a, b, t, x, T)


def _expected_if_alive(
    r: float, alpha: float, a: float, b: float, t: np.ndarray, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Numerator of eq. 10: expected purchases in ``t`` for a client known to be alive."""
    one_minus_z = (alpha + T) / (alpha + T + t)
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):
        # Euler-transformed 2F1 (see module docstring): accurate for any x,
        # where the textbook form underflows to 0 * huge.
        hyp = np.array(one_minus_z ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z))
        bad = ~np.isfinite(hyp)
        if bad.any():
            # For very large a (nearly homogeneous dropout) the transformed
            # 2F1 itself overflows, while the textbook form stays finite there.
            zb, xb = z[bad], x[bad]
            hyp[bad] = one_minus_z[bad] ** (r + xb) * hyp2f1(r + xb, b + xb, a + b + xb - 1, zb)
    return (a + b + x - 1) / (a - 1) * (1.0 - hyp)


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (in order of appearance) and the int64 code of each element.

    Hash-based ``pd.factorize``: no sort, unlike ``np.unique(return_inverse=True)``.
    """
    codes, unique = pd.factorize(np.asarray(values).reshape(-1))
    return np.asarray(unique), codes.astype(np.int64, copy=False)


def _unique_rows(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Collapse identical ``(x, t_x, T)`` rows, summing their weights."""
    if len(x) == 0:
        return x, t_x, T, weights
    ux, ix = _codes(x)
    utx, itx = _codes(t_x)
    uT, iT = _codes(T)
    n_tx, n_T = len(utx), len(uT)
    if len(ux) * n_tx * n_T >= 2**62:  # pragma: no cover - needs ~1e6 distinct of each
        order = np.lexsort((T, t_x, x))
        xs, txs, Ts = x[order], t_x[order], T[order]
        new = np.empty(len(xs), dtype=bool)
        new[0] = True
        new[1:] = (xs[1:] != xs[:-1]) | (txs[1:] != txs[:-1]) | (Ts[1:] != Ts[:-1])
        starts = np.flatnonzero(new)
        return xs[starts], txs[starts], Ts[starts], np.add.reduceat(weights[order], starts)
    # One int64 key per row; with unit weights a plain value sort (fast SIMD
    # sort, no argsort) both deduplicates and counts.
    key = (ix * n_tx + itx) * n_T + iT
    if np.all(weights == 1):
        keys, counts = np.unique(key, return_counts=True)
        summed = counts.astype(np.float64)
    else:
        keys, inverse = np.unique(key, return_inverse=True)
        summed = np.bincount(inverse.reshape(-1), weights=weights).astype(np.float64)
    row_T = keys % n_T
    rest = keys // n_T
    return ux[rest // n_tx], utx[rest % n_tx], uT[row_T], summed


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    # einsum's own loop, not BLAS: on a busy 2-core box OpenBLAS threads for a
    # 1-D dot product can stall for milliseconds, and this runs every iteration.
    return float(np.einsum("i,i->", u, v))


class _Objective:
    """Weighted mean negative log-likelihood and its analytic gradient in log-parameters.

    Everything that depends on a single variable is computed once per
    distinct value and gathered: the Gamma-function terms per ``x``,
    ``ln(alpha + T)`` per ``T``, ``ln(alpha + t_x)`` per ``t_x`` (summaries in
    days have only a few thousand distinct values). Rows without repeat
    purchases reduce to ``-r ln(alpha + T)`` and are summed per ``T``. Only the
    two-term mixture of eq. 6 is evaluated per row, as a softplus of the log
    ratio ``d = ln A4 - ln A3`` (one ``exp`` and one ``log1p`` per row).
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, w: np.ndarray) -> None:
        self.ux, ix = _codes(x)
        self.wx = np.bincount(ix, weights=w, minlength=len(self.ux))
        self.total = float(w.sum())
        self.uT, iT = _codes(T)
        repeat = x > 0
        n_T = len(self.uT)
        self.w0_T = np.bincount(iT[~repeat], weights=w[~repeat], minlength=n_T)
        self.u_tx, self.itx1 = _codes(t_x[repeat])
        self.ix1, self.iT1, self.w1 = ix[repeat], iT[repeat], w[repeat]
        self.w1_T = np.bincount(self.iT1, weights=self.w1, minlength=n_T)
        self.w1x_T = np.bincount(self.iT1, weights=self.w1 * x[repeat], minlength=n_T)
        self.ux_repeat = self.ux > 0

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = (float(v) for v in np.exp(theta))
        ux, wx, total = self.ux, self.wx, self.total

        per_x = (
            gammaln(r + ux)
            - gammaln(r)
            + gammaln(a + b)
            + gammaln(b + ux)
            - gammaln(b)
            - gammaln(a + b + ux)
        )
        log_alpha = math.log(alpha)
        ll = _dot(wx, per_x) + total * r * log_alpha
        d_r = _dot(wx, digamma(r + ux) - digamma(r)) + total * log_alpha
        d_alpha = total * r / alpha
        d_a = _dot(wx, digamma(a + b) - digamma(a + b + ux))
        d_b = _dot(wx, digamma(a + b) + digamma(b + ux) - digamma(b) - digamma(a + b + ux))

        log_T = np.log(alpha + self.uT)
        inv_T = 1.0 / (alpha + self.uT)
        # ln A3 = -(r + x) ln(alpha + T) is linear in x: sum it per T.
        w_T = self.w0_T + self.w1_T
        ll -= r * _dot(w_T, log_T) + _dot(self.w1x_T, log_T)
        d_r -= _dot(w_T, log_T)
        d_alpha -= r * _dot(w_T, inv_T) + _dot(self.w1x_T, inv_T)

        # x > 0: ln(A3 + A4) = ln A3 + softplus(d), d = ln A4 - ln A3.
        if len(self.w1):
            ix, iT, itx = self.ix1, self.iT1, self.itx1
            log_bx = np.log(b + ux - 1.0, where=self.ux_repeat, out=np.zeros_like(ux))
            rx = (r + ux)[ix]
            log_gap = log_T[iT] - np.log(alpha + self.u_tx)[itx]  # ln((alpha+T)/(alpha+t_x))
            d = (math.log(a) - log_bx)[ix] + rx * log_gap
            e = np.exp(-np.abs(d))
            inv = 1.0 / (1.0 + e)
            share4 = np.where(d >= 0, inv, e * inv)  # A4 / (A3 + A4)
            softplus = np.maximum(d, 0.0) + np.log1p(e)
            w1 = self.w1
            ws4 = w1 * share4
            ll += _dot(w1, softplus)
            d_r += _dot(ws4, log_gap)
            inv_gap = inv_T[iT] - (1.0 / (alpha + self.u_tx))[itx]
            d_alpha += _dot(ws4 * rx, inv_gap)
            d_a += float(ws4.sum()) / a
            inv_bx = np.divide(1.0, b + ux - 1.0, where=self.ux_repeat, out=np.zeros_like(ux))
            d_b -= _dot(ws4, inv_bx[ix])

        grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
        return -ll / total, -grad / total


def fit_bgnbd(
    data: pd.DataFrame | tuple[ArrayLike, ArrayLike, ArrayLike],
    *,
    weights: ArrayLike | None = None,
) -> BgNbdParams:
    """Fit BG/NBD by maximum likelihood over the whole client base.

    Identical ``(x, t_x, T)`` rows are collapsed into weights, the objective
    has an analytic gradient, and L-BFGS-B searches over log-parameters (so
    they stay positive) inside a wide box.

    Parameters
    ----------
    data : DataFrame or tuple of array-like
        Either a frame with columns ``x``, ``t_x``, ``T`` (weeks; e.g. the
        output of :func:`client_summary` — rows with missing ``x``, i.e.
        clients who never bought, are skipped) or a tuple ``(x, t_x, T)``.
    weights : array-like, optional
        Number of clients each row stands for (default 1).

    Returns
    -------
    BgNbdParams

    Raises
    ------
    ValueError
        Without any client, or on inconsistent summaries (``t_x > T`` ...).
    """
    if isinstance(data, pd.DataFrame):
        for column in ("x", "t_x", "T"):
            if column not in data.columns:
                raise ValueError(f"summary is missing required column {column!r}")
        known = data["x"].notna().to_numpy()
        x = data["x"].to_numpy(dtype=np.float64, na_value=np.nan)[known]
        t_x = data["t_x"].to_numpy(dtype=np.float64)[known]
        T = data["T"].to_numpy(dtype=np.float64)[known]
        w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64)[known]
    else:
        x, t_x, T = _as_float_arrays(*data)
        x, t_x, T = x.ravel(), t_x.ravel(), T.ravel()
        w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
    if len(x) == 0:
        raise ValueError("cannot fit BG/NBD without clients")
    if len(w) != len(x) or (w < 0).any():
        raise ValueError("weights must be non-negative, one per client")
    _check_summary(x, t_x, T)

    x, t_x, T, w = _unique_rows(x, t_x, T, w)
    objective = _Objective(x, t_x, T, w)
    # Start from a unit-shape Gamma whose mean matches the observed repeat
    # rate, and a flat-ish Beta: close enough for L-BFGS-B to converge fast.
    rate = max(_dot(w, x) / max(_dot(w, T), 1e-9), 1e-6)
    start = np.log([1.0, 1.0 / rate, 1.0, 2.0]).clip(-_LOG_BOUND + 1, _LOG_BOUND - 1)
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 4
    options = {"maxiter": 500, "ftol": _FTOL, "gtol": _GTOL}
    with np.errstate(all="ignore"):
        if len(x) > _WARM_START_ROWS:
            # Most iterations are spent far from the optimum; a fixed random
            # subset of the distinct rows (weights kept) gets there for a
            # fraction of the cost, and the full data only polishes.
            pick = np.random.default_rng(0).choice(len(x), _WARM_START_ROWS, replace=False)
            subset = _Objective(x[pick], t_x[pick], T[pick], w[pick])
            start = minimize(
                subset, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options
            ).x
        result = minimize(
            objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options
        )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise RuntimeError(f"BG/NBD fit failed: {result.message}")
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    return BgNbdParams(
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        log_likelihood=float(-result.fun * objective.total),
        n_clients=round(objective.total),
    )
