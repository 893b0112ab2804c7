import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.optimize import check_grad

from services.analytics import (
    BgNbdParams,
    bgnbd_log_likelihood,
    expected_purchases,
    fit_bgnbd,
    p_alive,
)
from services.analytics.bgnbd import _Objective
from tests.unit.services.analytics.builders import CDNOW

# Published reference values (Fader, Hardie & Lee 2005 and the accompanying
# spreadsheet, as quoted by the lifetimes test-suite).


def test_conditional_expectation_matches_published_value():
    # Customer 1 of CDNOW: 2 repeat purchases, last at week 30.43, observed 38.86 weeks.
    assert float(expected_purchases(CDNOW, 39, 2, 30.43, 38.86)) == pytest.approx(1.226, abs=1e-3)


def test_unconditional_expectation_matches_published_curve():
    # With x = t_x = T = 0 eq. 10 reduces to E[X(t)] of a new customer.
    weeks = np.array([0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0])
    published = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    np.testing.assert_allclose(expected_purchases(CDNOW, weeks, 0, 0, 0), published, atol=1e-3)


# Independent checks: integrate the individual-level model over the
# Gamma(r, alpha) x Beta(a, b) heterogeneity numerically.
NICE = BgNbdParams(r=1.5, alpha=3.0, a=2.0, b=3.0, log_likelihood=0.0, n_clients=0)
CASES = [(0, 0.0, 10.0), (1, 4.0, 10.0), (3, 2.5, 20.0), (5, 18.0, 20.0)]


def _integrate(params, integrand):
    # Plain math densities: scipy.stats pdfs are far too slow inside dblquad.
    log_gamma_norm = params.r * math.log(params.alpha) - math.lgamma(params.r)
    log_beta_norm = -(
        math.lgamma(params.a) + math.lgamma(params.b) - math.lgamma(params.a + params.b)
    )

    def density(lam, p):
        return math.exp(
            log_gamma_norm
            + (params.r - 1) * math.log(lam)
            - params.alpha * lam
            + log_beta_norm
            + (params.a - 1) * math.log(p)
            + (params.b - 1) * math.log1p(-p)
        )

    value, _ = integrate.dblquad(
        lambda lam, p: integrand(lam, p) * density(lam, p),
        0,
        1,
        0,
        np.inf,
        epsabs=0,
        epsrel=1e-11,
    )
    return value


def _alive_part(x, T):
    return lambda lam, p: (1 - p) ** x * lam**x * math.exp(-lam * T)


def _likelihood(x, t_x, T):
    def f(lam, p):
        dead = p * (1 - p) ** (x - 1) * lam**x * math.exp(-lam * t_x) if x > 0 else 0.0
        return _alive_part(x, T)(lam, p) + dead

    return f


@pytest.mark.parametrize(("x", "t_x", "T"), CASES)
def test_log_likelihood_matches_numerical_integration(x, t_x, T):
    numeric = math.log(_integrate(NICE, _likelihood(x, t_x, T)))
    assert float(bgnbd_log_likelihood(NICE, x, t_x, T)) == pytest.approx(numeric, rel=1e-7)


@pytest.mark.parametrize(("x", "t_x", "T"), CASES)
def test_p_alive_and_expectation_match_numerical_integration(x, t_x, T):
    horizon = 7.0
    total = _integrate(NICE, _likelihood(x, t_x, T))
    alive = _integrate(NICE, _alive_part(x, T))
    # An alive client with rate lam and dropout p buys (1 - e^{-lam p t}) / p
    # times in the next t weeks.
    future = _integrate(
        NICE,
        lambda lam, p: _alive_part(x, T)(lam, p) * (1 - math.exp(-lam * p * horizon)) / p,
    )
    assert float(p_alive(NICE, x, t_x, T)) == pytest.approx(alive / total, rel=1e-7)
    assert float(expected_purchases(NICE, horizon, x, t_x, T)) == pytest.approx(
        future / total, rel=1e-6
    )


def test_p_alive_is_one_without_repeat_purchases():
    np.testing.assert_array_equal(p_alive(CDNOW, [0, 0], [0, 0], [1.0, 500.0]), [1.0, 1.0])
    # ... whereas one repeat purchase followed by silence makes death ever likelier.
    fading = p_alive(CDNOW, 1, 1.0, [2.0, 50.0, 500.0])
    assert fading[0] > fading[1] > fading[2] > 0


def test_expectation_is_stable_for_heavy_buyers_and_extreme_params():
    big_x = expected_purchases(CDNOW, 13.0, [500, 2000], [100.0, 150.0], [100.0, 150.0])
    assert np.isfinite(big_x).all() and (big_x > 0).all()
    # Nearly homogeneous dropout (a, b huge): the transformed 2F1 overflows here.
    flat = BgNbdParams(0.6, 0.7, 4600.0, 144000.0, 0.0, 0)
    values = expected_purchases(flat, 13.0, [0, 3, 40], [0.0, 5.0, 100.0], [0.5, 10.0, 150.0])
    assert np.isfinite(values).all() and (values > 0).all()
    # a = 1 is a removable singularity of the closed form.
    around = [
        float(expected_purchases(BgNbdParams(0.24, 4.4, a, 2.4, 0, 0), 13, 3, 10, 30))
        for a in (1 - 1e-3, 1.0, 1 + 1e-3)
    ]
    assert around[0] > around[1] > around[2]
    assert around[1] == pytest.approx((around[0] + around[2]) / 2, rel=1e-6)


def test_analytic_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 8, 300).astype(float)
    T = rng.uniform(5, 50, 300)
    t_x = np.where(x > 0, T * rng.uniform(0, 1, 300), 0.0)
    objective = _Objective(x, t_x, T, rng.integers(1, 4, 300).astype(float))
    for theta in (np.log([0.5, 6.0, 0.7, 2.5]), np.log([2.0, 0.5, 3.0, 0.4])):
        error = check_grad(lambda th: objective(th)[0], lambda th: objective(th)[1], theta)
        assert error < 1e-5


def simulate(n, r, alpha, a, b, seed):
    """Draw (x, t_x, T) from the BG/NBD generative process."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(52, 156, n)
    arrivals = rng.poisson(lam * T)  # purchases if the client never dropped out
    survived = rng.geometric(p)  # drops out right after this many repeat purchases
    x = np.minimum(arrivals, survived)
    # The x-th of `arrivals` uniform times on (0, T) is T * Beta(x, arrivals - x + 1).
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1)), 0.0)
    return x, t_x, T


def test_fit_recovers_simulated_parameters():
    truth = {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}
    x, t_x, T = simulate(100_000, **truth, seed=11)
    fit = fit_bgnbd((x, t_x, T))
    for name, value in truth.items():
        assert getattr(fit, name) == pytest.approx(value, rel=0.05), name
    assert fit.n_clients == 100_000
    true_params = BgNbdParams(**truth, log_likelihood=0.0, n_clients=0)
    assert fit.log_likelihood == pytest.approx(
        float(bgnbd_log_likelihood(fit, x, t_x, T).sum()), rel=1e-9
    )
    assert fit.log_likelihood >= float(bgnbd_log_likelihood(true_params, x, t_x, T).sum())


def test_weights_equal_repeated_rows_and_frames_skip_non_buyers():
    x, t_x, T = simulate(3000, 0.5, 6.0, 0.7, 2.5, seed=5)
    weights = np.arange(len(x)) % 3 + 1
    repeated = fit_bgnbd((np.repeat(x, weights), np.repeat(t_x, weights), np.repeat(T, weights)))
    weighted = fit_bgnbd((x, t_x, T), weights=weights)
    for name in ("r", "alpha", "a", "b", "log_likelihood"):
        assert getattr(weighted, name) == pytest.approx(getattr(repeated, name), rel=1e-4)
    assert weighted.n_clients == repeated.n_clients == weights.sum()

    frame = pd.DataFrame(
        {
            "x": pd.array([*x, None], dtype="Int64"),
            "t_x": [*t_x, np.nan],
            "T": [*T, np.nan],
        }
    )
    from_frame = fit_bgnbd(frame)
    direct = fit_bgnbd((x, t_x, T))
    assert from_frame == direct


def test_json_round_trip():
    params = BgNbdParams(0.25, 4.0, 0.8, 2.5, -1234.5, 42)
    data = params.to_json_dict()
    assert data == {
        "model": "bg/nbd",
        "time_unit": "weeks",
        "r": 0.25,
        "alpha": 4.0,
        "a": 0.8,
        "b": 2.5,
        "log_likelihood": -1234.5,
        "n_clients": 42,
    }
    assert BgNbdParams.from_json_dict(data) == params
    with pytest.raises(ValueError, match="pareto"):
        BgNbdParams.from_json_dict({**data, "model": "pareto/nbd"})


@pytest.mark.parametrize(
    "summary",
    [
        ([], [], []),
        ([1], [5.0], [4.0]),  # t_x > T
        ([0], [1.0], [4.0]),  # t_x without repeat purchases
        ([1.5], [1.0], [4.0]),  # fractional x
    ],
)
def test_fit_rejects_bad_summaries(summary):
    with pytest.raises(ValueError):
        fit_bgnbd(summary)


def test_deduplicated_evaluation_matches_direct_one(monkeypatch):
    import services.analytics.bgnbd as bgnbd

    rng = np.random.default_rng(2)
    x = rng.integers(0, 20, 3000).astype(float)
    T = rng.integers(0, 400, 3000) / 7
    t_x = np.where(x > 0, np.floor(T * 7 * rng.random(3000)) / 7, 0.0)
    direct = expected_purchases(CDNOW, 13.0, x, t_x, T)
    monkeypatch.setattr(bgnbd, "_DEDUPE_ABOVE", 100)
    np.testing.assert_allclose(expected_purchases(CDNOW, 13.0, x, t_x, T), direct, rtol=1e-14)
