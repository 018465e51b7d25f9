"""vaekit.pixels: dequantised values stay in their byte's cell, bits/dim against hand computations, the discrete
bound against an exact integral, and the ceiling that clipping eta puts on the continuous Bernoulli density."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vaekit.pixels import (CB_PAPER_ETA_MIN, bits_per_dim, cb_log_prob_ceiling, dequantise, discrete_log_prob_bound,
                           eta_clip_logit, noise_rng)


def all_bytes(repeats: int = 200) -> np.ndarray:
    return np.tile(np.arange(256, dtype=np.uint8), (repeats, 1))


def test_dequantised_pixels_stay_in_their_cell_and_in_the_unit_interval():
    b = all_bytes()
    x = dequantise(b, np.random.default_rng(0))
    assert x.dtype == np.float32 and x.shape == b.shape
    assert x.min() >= 0.0 and x.max() <= 1.0
    assert np.all(x >= b / 256.0) and np.all(x <= (b + 1.0) / 256.0)
    u = x.astype(np.float64) * 256.0 - b  # the noise, back out: uniform on [0, 1)
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1.0 / 12.0) < 0.005
    assert np.mean(u < 0.25) == pytest.approx(0.25, abs=0.01)


def test_dequantise_refuses_scaled_pixels_and_out_of_range_values():
    with pytest.raises(ValueError, match="integer grey levels"):
        dequantise(np.zeros((2, 3), dtype=np.float32), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"0\.\.255"):
        dequantise(np.array([[0, 256]]), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"0\.\.255"):
        dequantise(np.array([[-1, 3]]), np.random.default_rng(0))


def test_noise_streams_are_reproducible_and_distinct():
    b = all_bytes(4)
    same = [dequantise(b, noise_rng(7, 1, 3)) for _ in range(2)]
    np.testing.assert_array_equal(*same)
    for other in (noise_rng(7, 1, 4), noise_rng(7, 2, 3), noise_rng(8, 1, 3)):
        assert not np.array_equal(dequantise(b, other), same[0])


def test_bits_per_dim_against_hand_computations():
    # a uniform density on [0, 1]^D: log p = 0, i.e. every byte has probability 1/256: 8 bits per pixel
    assert bits_per_dim(0.0, 784) == pytest.approx(8.0, abs=1e-12)
    # density 256^D on the right cells: log p = D log 256, every byte certain: 0 bits
    assert bits_per_dim(784 * math.log(256), 784) == pytest.approx(0.0, abs=1e-12)
    # by hand: (784 * 5.545177444479562 - 3000) / (784 * 0.6931471805599453) = 1347.419116 / 543.427390 = 2.479483
    assert bits_per_dim(3000.0, 784) == pytest.approx(2.479483, abs=1e-6)
    assert discrete_log_prob_bound(3000.0, 784) == pytest.approx(3000.0 - 4347.419116, abs=1e-5)
    # 4 levels, 2 pixels, log p = 1 nat: (2 log 4 - 1) / (2 log 2) = 1.278652
    assert bits_per_dim(1.0, 2, levels=4) == pytest.approx(1.278652, abs=1e-6)
    np.testing.assert_allclose(bits_per_dim(np.array([0.0, 3000.0]), 784), [8.0, 2.479483], atol=1e-6)


def cb_density(x, eta):
    """The continuous Bernoulli density from its definition (independent of the kit's code)."""
    c = 2.0 * np.arctanh(1.0 - 2.0 * eta) / (1.0 - 2.0 * eta)
    return c * eta**x * (1.0 - eta) ** (1.0 - x)


def cb_cdf(x, eta):
    """Its distribution function: (eta^x (1-eta)^(1-x) + eta - 1) / (2 eta - 1)."""
    return (eta**x * (1.0 - eta) ** (1.0 - x) + eta - 1.0) / (2.0 * eta - 1.0)


@pytest.mark.parametrize("eta", [0.001, 0.2, 0.93])
def test_the_dequantised_elbo_bounds_the_probability_of_the_byte(eta):
    """For one pixel: E_u log p((b + u)/256) - log 256 <= log P(b) = log(F((b+1)/256) - F(b/256)), by Jensen."""
    u = (np.arange(20000) + 0.5) / 20000  # midpoint rule for E_u
    for b in (0, 1, 17, 128, 254, 255):
        expected_log_density = np.mean(np.log(cb_density((b + u) / 256.0, eta)))
        log_p_byte = math.log(cb_cdf((b + 1) / 256.0, eta) - cb_cdf(b / 256.0, eta))
        bound = discrete_log_prob_bound(expected_log_density, 1)
        assert bound <= log_p_byte + 1e-9, (b, bound, log_p_byte)
        assert bound > log_p_byte - 0.05  # tight for a density that is smooth on the cell


def test_clipping_eta_bounds_the_continuous_bernoulli_density():
    eta_min = CB_PAPER_ETA_MIN
    bound = eta_clip_logit(eta_min)
    assert bound == pytest.approx(math.log(9999.0), rel=1e-12)
    assert 1.0 / (1.0 + math.exp(-bound)) == pytest.approx(1.0 - eta_min, rel=1e-12)
    ceiling = cb_log_prob_ceiling(eta_min)
    # by hand: log(1 - 1e-4) + log(9.21024 / tanh(4.60512)) = -0.0001 + log(9.21208) = 2.22043
    assert ceiling == pytest.approx(2.22043, abs=2e-5)
    assert 784 * ceiling == pytest.approx(1740.81, abs=0.01)
    # a brute-force search over x and eta in the clipped range never exceeds it, and reaches it at the corners
    x = np.linspace(0.0, 1.0, 201)[:, None]
    eta = np.concatenate([np.geomspace(eta_min, 0.49, 300), 1.0 - np.geomspace(eta_min, 0.49, 300)])[None, :]
    log_p = np.log(cb_density(x, eta))
    assert log_p.max() <= ceiling + 1e-9
    assert log_p.max() == pytest.approx(ceiling, abs=1e-9)
    # without the clip there is no ceiling: at x = 0 the density is about |logit(eta)|, 27.6 at eta = 1e-12
    beyond = math.log(cb_density(0.0, 1e-12))
    assert math.isfinite(beyond) and beyond == pytest.approx(math.log(math.log(1e12)), abs=1e-3)
    assert beyond > ceiling + 1.0
    for bad in (0.0, 0.5, -1e-3):
        with pytest.raises(ValueError, match="eta_min"):
            eta_clip_logit(bad)
