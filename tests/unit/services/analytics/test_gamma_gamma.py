import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.optimize import check_grad

from services.analytics import (
    GammaGammaParams,
    client_summary,
    expected_spend,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
)
from services.analytics.gamma_gamma import _Objective
from tests.fixtures.cdnow import CALIBRATION_END, load_cdnow

NICE = GammaGammaParams(p=2.0, q=3.0, v=4.0, log_likelihood=0.0, n_clients=0)


def test_log_likelihood_by_hand():
    # x = 1, m = 5: Gamma(px, v x m)... written out term by term.
    p, q, v, x, m = 2.0, 3.0, 4.0, 1.0, 5.0
    hand = (
        math.lgamma(p * x + q)
        - math.lgamma(p * x)
        - math.lgamma(q)
        + q * math.log(v)
        + (p * x - 1) * math.log(m)
        + p * x * math.log(x)
        - (p * x + q) * math.log(x * m + v)
    )
    # = ln(G(5) / (G(2) G(3)) * 4^3 * 5 / 9^5) = ln(24 / 2 * 64 * 5 / 59049)
    assert hand == pytest.approx(math.log(12 * 64 * 5 / 59049))
    assert float(gamma_gamma_log_likelihood(NICE, x, m)) == pytest.approx(hand, rel=1e-12)


@pytest.mark.parametrize(("x", "m"), [(1, 0.7), (2, 3.0), (5, 1.2), (12, 2.5)])
def test_log_likelihood_matches_numerical_integration(x, m):
    # The mean of x purchases given the rate nu is Gamma(shape p x, rate nu x);
    # nu is Gamma(shape q, rate v) across clients.
    p, q, v = NICE.p, NICE.q, NICE.v

    def integrand(nu: float) -> float:
        log_mean = (
            p * x * math.log(nu * x) - math.lgamma(p * x) + (p * x - 1) * math.log(m) - nu * x * m
        )
        log_rate = q * math.log(v) - math.lgamma(q) + (q - 1) * math.log(nu) - v * nu
        return math.exp(log_mean + log_rate)

    value, _ = integrate.quad(integrand, 0, np.inf, epsabs=0, epsrel=1e-12, limit=200)
    assert float(gamma_gamma_log_likelihood(NICE, x, m)) == pytest.approx(math.log(value), rel=1e-9)


@pytest.mark.parametrize(("x", "m"), [(1, 0.7), (3, 6.0), (20, 1.5)])
def test_expected_spend_matches_the_posterior_mean(x, m):
    # Posterior of nu given x purchases of mean m: Gamma(q + p x, v + x m), so
    # E[Z] = p E[1/nu] = p (v + x m) / (q + p x - 1); check it by integration.
    p, q, v = NICE.p, NICE.q, NICE.v
    shape, rate = q + p * x, v + x * m
    mode = (shape - 1) / rate

    def posterior(nu: float, power: int) -> float:
        # Unnormalised, scaled to 1 at the mode so that nothing underflows.
        return math.exp((shape - 1 - power) * math.log(nu / mode) - rate * (nu - mode))

    top, _ = integrate.quad(posterior, 0, 50 * mode, args=(1,), points=[mode], epsrel=1e-12)
    bottom, _ = integrate.quad(posterior, 0, 50 * mode, args=(0,), points=[mode], epsrel=1e-12)
    top /= mode
    assert float(expected_spend(NICE, x, m)) == pytest.approx(p * top / bottom, rel=1e-8)


def test_expected_spend_weighs_the_population_and_the_client():
    # x = 0: the population mean p v / (q - 1) = 2 * 4 / 2 = 4, whatever m says.
    np.testing.assert_allclose(expected_spend(NICE, [0, 0], [np.nan, 100.0]), [4.0, 4.0])
    # x = 3, m = 10: weight (q - 1) / (p x + q - 1) = 2 / 8 on the population.
    assert float(expected_spend(NICE, 3, 10.0)) == pytest.approx(0.25 * 4.0 + 0.75 * 10.0)
    assert float(expected_spend(NICE, 3, 10.0)) == pytest.approx(2 * (4 + 30) / (6 + 2))
    # Heavy buyers converge on their own mean.
    assert float(expected_spend(NICE, 10_000, 10.0)) == pytest.approx(10.0, rel=1e-3)
    heavy_tail = GammaGammaParams(p=2.0, q=0.8, v=4.0, log_likelihood=0.0, n_clients=0)
    assert math.isnan(heavy_tail.mean_spend)
    assert np.isnan(expected_spend(heavy_tail, 0, np.nan))
    assert np.isfinite(expected_spend(heavy_tail, 2, 10.0))


def test_analytic_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 10, 400).astype(float)
    m = rng.gamma(3.0, 1.0, 400)
    objective = _Objective(x, m, rng.integers(1, 4, 400).astype(float))
    for theta in (np.log([2.0, 3.0, 1.5]), np.log([6.0, 0.9, 12.0])):
        error = check_grad(lambda th: objective(th)[0], lambda th: objective(th)[1], theta)
        assert error < 1e-5


def simulate(n, p, q, v, seed):
    """Repeat purchases and their mean value drawn from the Gamma-Gamma process."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(3.0, n) + 1
    nu = rng.gamma(q, 1.0 / v, n)
    # The sum of x Gamma(p, nu) values is Gamma(p x, nu).
    m = rng.gamma(p * x, 1.0 / nu) / x
    return x, m


def test_fit_recovers_simulated_parameters():
    # Spend that varies a lot within and across clients: at 100,000 clients the
    # standard error of each estimate is at most about 1.5 %, so 5 % is over three of them.
    # (With CDNOW's p = 6.25 purchases vary so little within a client that p and
    # v are only known to about 4 % at this size; the CDNOW test checks those.)
    truth = {"p": 2.0, "q": 4.0, "v": 10.0}
    x, m = simulate(100_000, **truth, seed=11)
    fit = fit_gamma_gamma((x, m))
    for name, value in truth.items():
        assert getattr(fit, name) == pytest.approx(value, rel=0.05), name
    assert fit.n_clients == 100_000
    true_params = GammaGammaParams(**truth, log_likelihood=0.0, n_clients=0)
    assert fit.log_likelihood == pytest.approx(
        float(gamma_gamma_log_likelihood(fit, x, m).sum()), rel=1e-9
    )
    assert fit.log_likelihood >= float(gamma_gamma_log_likelihood(true_params, x, m).sum())


def test_fit_does_not_depend_on_the_currency():
    x, m = simulate(5_000, 3.0, 4.0, 20.0, seed=3)
    dollars = fit_gamma_gamma((x, m))
    kopecks = fit_gamma_gamma((x, m * 10_000.0))
    assert kopecks.p == pytest.approx(dollars.p, rel=1e-5)
    assert kopecks.q == pytest.approx(dollars.q, rel=1e-5)
    assert kopecks.v == pytest.approx(dollars.v * 10_000.0, rel=1e-5)
    # Densities of money scale by 1 / 10,000 per client.
    assert kopecks.log_likelihood == pytest.approx(
        dollars.log_likelihood - len(x) * math.log(10_000.0), rel=1e-7
    )


def test_cdnow_reproduces_the_published_estimates():
    # Fader & Hardie (2013): 946 CDNOW customers with repeat purchases in the
    # 39-week calibration period; p = 6.25, q = 3.74, gamma = 15.44.
    summary = client_summary(load_cdnow(), CALIBRATION_END)
    fit = fit_gamma_gamma(summary)
    assert fit.n_clients == 946
    assert fit.p == pytest.approx(6.25, abs=0.01)
    assert fit.q == pytest.approx(3.74, abs=0.01)
    assert fit.v == pytest.approx(15.44, abs=0.02)
    # The lifetimes documentation's conditional expectations for customers 1-3
    # (2 repeat purchases of 22.35 on average, 1 of 11.77, none).
    first = summary.set_index("client_id").loc[[1, 2, 3]]
    np.testing.assert_allclose(
        expected_spend(fit, first["x"].to_numpy(float), first["monetary_value"]),
        [24.6586, 18.9115, 35.1710],
        rtol=5e-4,
    )


def test_frames_skip_clients_without_repeat_purchases():
    frame = pd.DataFrame(
        {
            "x": pd.array([2, 0, None, 1, 3], dtype="Int64"),
            "monetary_value": [10.0, np.nan, np.nan, 4.0, 7.0],
        }
    )
    assert fit_gamma_gamma(frame) == fit_gamma_gamma(([2, 1, 3], [10.0, 4.0, 7.0]))


def test_weights_equal_repeated_rows():
    x, m = simulate(2_000, 2.0, 5.0, 8.0, seed=5)
    weights = np.arange(len(x)) % 3 + 1
    repeated = fit_gamma_gamma((np.repeat(x, weights), np.repeat(m, weights)))
    weighted = fit_gamma_gamma((x, m), weights=weights)
    for name in ("p", "q", "v", "log_likelihood"):
        assert getattr(weighted, name) == pytest.approx(getattr(repeated, name), rel=1e-4)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (([], []), "without clients"),
        (([0, 2], [5.0, 6.0]), "positive whole"),
        (([1.5], [5.0]), "positive whole"),
        (([1, 2], [5.0, -1.0]), "positive and finite"),
        (([1, 2], [5.0, np.inf]), "positive and finite"),
    ],
)
def test_fit_rejects_bad_input(data, message):
    with pytest.raises(ValueError, match=message):
        fit_gamma_gamma(data)


def test_json_round_trip():
    params = GammaGammaParams(6.25, 3.74, 15.44, -4055.9, 946)
    data = params.to_json_dict()
    assert data == {
        "model": "gamma-gamma",
        "p": 6.25,
        "q": 3.74,
        "v": 15.44,
        "log_likelihood": -4055.9,
        "n_clients": 946,
    }
    assert GammaGammaParams.from_json_dict(data) == params
    with pytest.raises(ValueError, match="gamma-gamma"):
        GammaGammaParams.from_json_dict({**data, "model": "bg/nbd"})
    assert params.mean_spend == pytest.approx(6.25 * 15.44 / 2.74)


def test_warm_start_on_a_subset_reaches_the_same_fit(monkeypatch):
    import services.analytics.gamma_gamma as module

    x, m = simulate(20_000, 2.0, 4.0, 10.0, seed=2)
    direct = fit_gamma_gamma((x, m))
    monkeypatch.setattr(module, "_WARM_START_ROWS", 2_000)
    warm = fit_gamma_gamma((x, m))
    for name in ("p", "q", "v", "log_likelihood"):
        assert getattr(warm, name) == pytest.approx(getattr(direct, name), rel=1e-6)
