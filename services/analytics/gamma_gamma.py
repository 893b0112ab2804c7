"""Gamma-Gamma model of spend per purchase (Fader & Hardie 2013; Colombo & Jiang 1999).

The value of each purchase of a client is ``Z ~ Gamma(p, nu)`` (shape ``p``,
rate ``nu``), and the rate varies across clients as ``nu ~ Gamma(q, v)``
(shape ``q``, rate ``v``). A client is summarised by ``x``, the number of its
repeat purchases, and ``m``, their mean value; the first (acquisition)
purchase is left out, as in the paper and in the ``lifetimes`` library. The
model assumes that spend does not depend on how often a client buys.

Formulas:

- the mean of ``x`` purchases given ``nu`` is ``Gamma(p x, nu x)``; integrated
  over ``nu`` its log-density is::

      LL = ln G(p x + q) - ln G(p x) - ln G(q) + q ln v
           + (p x - 1) ln m + p x ln x - (p x + q) ln(x m + v)

- the mean spend of the population is ``p v / (q - 1)`` (finite for ``q > 1``);
- the expected spend per purchase of a client (conditional expectation)::

      E[Z | x, m] = p (v + x m) / (p x + q - 1)
                  = w * p v / (q - 1) + (1 - w) * m,  w = (q - 1) / (p x + q - 1)

  a weighted average of the population mean and the client's own mean that
  leans on the client's figures as it buys more; for ``x = 0`` it is the
  population mean.
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
from scipy.special import digamma, gammaln

MODEL_NAME = "gamma-gamma"
# Box for the log-parameters; money is rescaled to a mean of 1 before fitting,
# so the box is independent of the currency.
_LOG_BOUND = 12.0
_FTOL = 1e-12
_GTOL = 1e-8
_WARM_START_ROWS = 100_000


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters; ``v`` is in the currency of the amounts.

    Attributes
    ----------
    p : float
        Shape of the Gamma distribution of a client's purchase values.
    q, v : float
        Shape and rate of the Gamma distribution of the rate ``nu`` across clients.
    log_likelihood : float
        Total log-likelihood of the fit (sum over clients).
    n_clients : int
        Number of clients with repeat purchases the model was fitted on.
    """

    p: float
    q: float
    v: float
    log_likelihood: float
    n_clients: int

    @property
    def mean_spend(self) -> float:
        """Mean spend per purchase of the population, ``p v / (q - 1)``; NaN if ``q <= 1``."""
        return self.p * self.v / (self.q - 1.0) if self.q > 1.0 else math.nan

    def to_json_dict(self) -> dict[str, Any]:
        """Return the JSON form stored with the analysis (``model.json``: ``"spend"``)."""
        return {
            "model": MODEL_NAME,
            "p": self.p,
            "q": self.q,
            "v": self.v,
            "log_likelihood": self.log_likelihood,
            "n_clients": self.n_clients,
        }

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> GammaGammaParams:
        """Inverse of :meth:`to_json_dict`; rejects another model."""
        if data.get("model") != MODEL_NAME:
            raise ValueError(f"expected model {MODEL_NAME!r}, got {data.get('model')!r}")
        return cls(
            p=float(data["p"]),
            q=float(data["q"]),
            v=float(data["v"]),
            log_likelihood=float(data["log_likelihood"]),
            n_clients=int(data["n_clients"]),
        )


def _arrays(x: ArrayLike, m: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    x_, m_ = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(m, dtype=np.float64))
    return x_, m_


def gamma_gamma_log_likelihood(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> np.ndarray:
    """Per-client log-likelihood of ``x`` repeat purchases with mean value ``m`` (``x > 0``)."""
    x_, m_ = _arrays(x, m)
    p, q, v = params.p, params.q, params.v
    px = p * x_
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1.0) * np.log(m_)
        + px * np.log(x_)
        - (px + q) * np.log(x_ * m_ + v)
    )


def expected_spend(params: GammaGammaParams, x: ArrayLike, m: ArrayLike) -> np.ndarray:
    """Expected value of a client's future purchase, ``E[Z | x, m]``.

    Parameters
    ----------
    params : GammaGammaParams
    x, m : array-like
        Repeat purchases and their mean value; ``m`` is ignored (may be NaN)
        where ``x`` is 0, which gives the population mean ``p v / (q - 1)``
        (NaN when ``q <= 1``: the population has no finite mean).

    Returns
    -------
    ndarray of float64
    """
    x_, m_ = _arrays(x, m)
    p, q, v = params.p, params.q, params.v
    own = np.where(x_ > 0, x_ * np.nan_to_num(m_), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = p * (v + own) / (p * x_ + q - 1.0)
    return np.where((x_ == 0) & (q <= 1.0), np.nan, out)


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    # einsum's own loop, not BLAS: on a busy machine OpenBLAS threads for a
    # 1-D dot product stall for milliseconds, and this runs every iteration.
    return float(np.einsum("i,i->", u, v))


class _Objective:
    """Weighted mean negative log-likelihood and its gradient in log-parameters.

    The terms that depend on ``x`` alone (the Gamma functions and ``x ln x``)
    are evaluated once per distinct ``x``; only ``ln(x m + v)`` and its
    reciprocal are per row.
    """

    def __init__(self, x: np.ndarray, m: np.ndarray, w: np.ndarray) -> None:
        self.ux, ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(ix.reshape(-1), weights=w, minlength=len(self.ux))
        self.xm, self.w = x * m, w
        self.w_x = w * x
        self.total = float(w.sum())
        log_m = np.log(m)
        self.sum_x_log_m = _dot(self.w_x, log_m)
        self.sum_log_m = _dot(w, log_m)
        self.sum_x_log_x = float(np.dot(self.wx * self.ux, np.log(self.ux)))

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, v = (float(t) for t in np.exp(theta))
        ux, wx, total = self.ux, self.wx, self.total
        pux = p * ux
        shifted = self.xm + v
        log_s = np.log(shifted)
        inv_s = np.reciprocal(shifted, out=shifted)
        x_log_s, log_s_sum = _dot(self.w_x, log_s), _dot(self.w, log_s)
        x_inv_s, inv_s_sum = _dot(self.w_x, inv_s), _dot(self.w, inv_s)
        psi_sum = digamma(pux + q)
        ll = (
            float(np.dot(wx, gammaln(pux + q) - gammaln(pux)))
            + p * self.sum_x_log_x
            + total * (q * math.log(v) - math.lgamma(q))
            + p * self.sum_x_log_m
            - self.sum_log_m
            - p * x_log_s
            - q * log_s_sum
        )
        d_p = (
            float(np.dot(wx * ux, psi_sum - digamma(pux)))
            + self.sum_x_log_x
            + self.sum_x_log_m
            - x_log_s
        )
        d_q = float(np.dot(wx, psi_sum)) - total * float(digamma(q)) + total * math.log(v)
        d_q -= log_s_sum
        d_v = total * q / v - p * x_inv_s - q * inv_s_sum
        grad = np.array([d_p * p, d_q * q, d_v * v])
        return -ll / total, -grad / total


def fit_gamma_gamma(
    data: pd.DataFrame | tuple[ArrayLike, ArrayLike],
    *,
    weights: ArrayLike | None = None,
) -> GammaGammaParams:
    """Fit the Gamma-Gamma model by maximum likelihood on clients with repeat purchases.

    Amounts are divided by their mean before fitting (the model is scale
    invariant: ``v`` scales with the money, ``p`` and ``q`` do not), so the
    optimiser sees the same numbers in roubles or in millions. L-BFGS-B works
    on log-parameters with the analytic gradient.

    Parameters
    ----------
    data : DataFrame or tuple of array-like
        A frame with columns ``x`` (repeat purchases) and ``monetary_value``
        (their mean value), e.g. :func:`client_summary` — rows with ``x`` 0 or
        NA are skipped — or a tuple ``(x, m)`` of clients with ``x > 0``.
    weights : array-like, optional
        Number of clients each row stands for (default 1).

    Returns
    -------
    GammaGammaParams

    Raises
    ------
    ValueError
        Without any client with a repeat purchase, or when a mean value is not
        positive and finite.
    """
    if isinstance(data, pd.DataFrame):
        for column in ("x", "monetary_value"):
            if column not in data.columns:
                raise ValueError(f"summary is missing required column {column!r}")
        x = data["x"].to_numpy(dtype=np.float64, na_value=np.nan)
        keep = x > 0
        x = x[keep]
        m = data["monetary_value"].to_numpy(dtype=np.float64)[keep]
        w = np.ones(len(x)) if weights is None else np.asarray(weights, np.float64)[keep]
    else:
        x, m = (arr.ravel() for arr in _arrays(*data))
        w = np.ones(len(x)) if weights is None else np.asarray(weights, np.float64).ravel()
    if len(x) == 0:
        raise ValueError("cannot fit Gamma-Gamma without clients with repeat purchases")
    if len(w) != len(x) or (w < 0).any():
        raise ValueError("weights must be non-negative, one per client")
    if (x <= 0).any() or (x != np.floor(x)).any():
        raise ValueError("x must be positive whole numbers")
    if not np.isfinite(m).all() or (m <= 0).any():
        raise ValueError("mean purchase values must be positive and finite")

    scale = float(_dot(w, m) / w.sum())
    m = m / scale
    objective = _Objective(x, m, w)
    # Start: moderately heterogeneous clients whose mean spend matches the data.
    start = np.log([1.0, 3.0, 2.0])
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * 3
    options = {"maxiter": 1000, "ftol": _FTOL, "gtol": _GTOL}
    with np.errstate(all="ignore"):
        if len(x) > _WARM_START_ROWS:
            # Most iterations are spent far from the optimum: a fixed random
            # subset gets there for a fraction of the cost, the full data polish.
            pick = np.random.default_rng(0).choice(len(x), _WARM_START_ROWS, replace=False)
            subset = _Objective(x[pick], m[pick], w[pick])
            start = minimize(
                subset, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options
            ).x
        result = minimize(
            objective, start, jac=True, method="L-BFGS-B", bounds=bounds, options=options
        )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise RuntimeError(f"Gamma-Gamma fit failed: {result.message}")
    p, q, v = (float(t) for t in np.exp(result.x))
    # Rescaling m by 1/scale adds n ln(scale) to the log-likelihood of the
    # rescaled data; take it back off to report the likelihood of the money.
    total = objective.total
    return GammaGammaParams(
        p=p,
        q=q,
        v=v * scale,
        log_likelihood=float(-result.fun * total - total * math.log(scale)),
        n_clients=round(total),
    )
