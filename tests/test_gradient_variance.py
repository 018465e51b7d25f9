"""The exact variances of the toy gradient estimators (vaekit/gradient_variance.py) against quadrature."""

import numpy as np
import pytest

from vaekit import gradient_variance as gv

# E[h(eps)] for eps ~ N(0, 1) by Gauss-Hermite quadrature: exact for polynomials of degree < 2 * 40.
NODES, WEIGHTS = np.polynomial.hermite_e.hermegauss(40)
WEIGHTS = WEIGHTS / WEIGHTS.sum()


def _moments(estimates):
    mean = np.sum(WEIGHTS * estimates)
    return mean, np.sum(WEIGHTS * estimates**2) - mean**2


@pytest.mark.parametrize("mu, sigma, k, b", [(1.0, 1.0, 1.0, 0.0), (1.0, 1.0, -3.0, 0.0), (0.3, 2.5, 1.7, 4.0),
                                             (-1.2, 0.4, 0.5, -2.0), (2.0, 1.3, -0.7, 11.0)])
def test_exact_moments_match_quadrature(mu, sigma, k, b):
    x = mu + sigma * NODES
    mean, var = _moments(2 * (x - k))
    assert mean == pytest.approx(gv.exact_grad_mu(mu, sigma, k), rel=1e-10, abs=1e-10)
    assert var == pytest.approx(gv.exact_variance_pathwise(mu, sigma, k), rel=1e-10)
    mean, var = _moments(((x - k) ** 2 - b) * NODES / sigma)
    assert mean == pytest.approx(gv.exact_grad_mu(mu, sigma, k), rel=1e-10, abs=1e-10)
    assert var == pytest.approx(gv.exact_variance_score_function(mu, sigma, k, b), rel=1e-10)


def test_the_quoted_numbers():
    ks = np.array([1.0, 0.0, -1.0, -3.0])
    np.testing.assert_allclose(gv.exact_variance_pathwise(1.0, 1.0, ks), [4, 4, 4, 4])
    np.testing.assert_allclose(gv.exact_variance_score_function(1.0, 1.0, ks), [15, 30, 87, 495])
    mean_f = (1.0 - ks) ** 2 + 1.0  # the baseline b = E[f(x)]
    np.testing.assert_allclose(gv.exact_variance_score_function(1.0, 1.0, ks, mean_f), [10, 18, 42, 138])


def test_optimal_baseline_minimises_the_variance():
    mu, sigma, k = 0.4, 1.7, -1.1
    b_star = gv.optimal_baseline(mu, sigma, k)
    grid = b_star + np.linspace(-3, 3, 61)
    variances = gv.exact_variance_score_function(mu, sigma, k, grid)
    assert np.argmin(variances) == 30
    assert gv.exact_variance_score_function(mu, sigma, k, b_star) < gv.exact_variance_score_function(mu, sigma, k)


def test_monte_carlo_helpers():
    rng = np.random.default_rng(0)
    g = rng.normal(3.0, 2.0, size=(200_000, 2))
    mean, se = gv.mc_mean(g)
    var, var_se = gv.mc_variance(g)
    assert np.all(np.abs(mean - 3.0) < 6 * se) and np.allclose(se, 2.0 / np.sqrt(len(g)), rtol=0.01)
    assert np.all(np.abs(var - 4.0) < 6 * var_se)
    # for a normal, Var[(g - mean)^2] = 2 sigma^4
    np.testing.assert_allclose(var_se, np.sqrt(2 * 16.0 / len(g)), rtol=0.02)
    np.testing.assert_allclose(gv.per_parameter_variance(g), var)
    with pytest.raises(ValueError, match="at least 2"):
        gv.mc_variance(g[:1])
    with pytest.raises(ValueError, match=r"shape \(R, P\)"):
        gv.per_parameter_variance(g[:, 0])


def test_running_moments_match_the_batch_formulas():
    g = np.random.default_rng(1).normal(5.0, 3.0, size=(50, 7))
    moments = gv.RunningMoments()
    with pytest.raises(ValueError, match="at least 2"):
        moments.variance
    for row in g:
        moments.update(row)
    np.testing.assert_allclose(moments.mean, g.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(moments.variance, gv.per_parameter_variance(g), rtol=1e-10)
    with pytest.raises(ValueError, match=r"shape \(7,\)"):
        moments.update(np.zeros(3))
