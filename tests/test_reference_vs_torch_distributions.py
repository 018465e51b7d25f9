"""Both tracks' densities, means and KL agree with ``torch.distributions``, an independent implementation.

``torch.distributions.ContinuousBernoulli`` works from eta = sigmoid(l), clamped to [eps, 1 - eps], and
switches to its own Taylor series for 0.499 < eta < 0.501, i.e. |l| < 0.004; the references use logits and
the window |l| < 0.01. The cases cover eta = 1/2 exactly, both sides of torch's window, both sides of the
references' window and |l| up to 15, where torch's clamping is not yet reached.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.distributions import ContinuousBernoulli, Normal, kl_divergence

from solutions.numpy_ag import continuous_bernoulli as np_cb
from solutions.numpy_ag import gaussian as np_gaussian
from solutions.numpy_ag import kl as np_kl
from solutions.pytorch import continuous_bernoulli as t_cb
from solutions.pytorch import gaussian as t_gaussian
from solutions.pytorch import kl as t_kl

TRACKS = {
    "numpy_ag": {"cb": np_cb, "gaussian": np_gaussian, "kl": np_kl},
    "pytorch": {"cb": t_cb, "gaussian": t_gaussian, "kl": t_kl},
}

TORCH_WINDOW_EDGE = float(np.log(0.501 / 0.499))  # |l| where torch's eta leaves (0.499, 0.501): 0.0040


def call(track, module, name, *arrays):
    """Call a reference function of ``track`` on float64 NumPy arrays; return a NumPy array."""
    fn = getattr(TRACKS[track][module], name)
    if track == "numpy_ag":
        return np.asarray(fn(*arrays))
    return fn(*(torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in arrays)).numpy()


def logit_cases():
    rng = np.random.default_rng(10)
    edge, window = TORCH_WINDOW_EDGE, np_cb.TAYLOR_WINDOW
    return {
        "eta=1/2": np.zeros(8),
        "inside torch window": rng.uniform(-0.97 * edge, 0.97 * edge, size=40),
        "outside torch window, inside Taylor window": np.concatenate(
            [s * rng.uniform(1.03 * edge, 0.99 * window, size=20) for s in (1.0, -1.0)]
        ),
        "around Taylor window edge": np.array([0.0099, -0.0099, 0.01, -0.01, 0.0101, -0.0101]),
        "moderate |l| <= 15": rng.uniform(-15.0, 15.0, size=200),
    }


LOGITS = logit_cases()


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("case", LOGITS)
def test_cb_log_prob_matches_torch_distribution(track, case):
    logits = LOGITS[case]
    rng = np.random.default_rng(11)
    x = rng.uniform(size=(6, logits.size))
    x[0], x[1] = 0.0, 1.0  # the ends of the support
    expected = ContinuousBernoulli(logits=torch.from_numpy(logits)).log_prob(torch.from_numpy(x)).sum(-1)
    actual = call(track, "cb", "cb_log_prob", x, logits)
    assert actual.shape == (6,)
    # torch's log C takes log(1 - eta) of eta = sigmoid(l), which costs it ~2e-11 per pixel at |l| = 15.
    np.testing.assert_allclose(actual, expected.numpy(), rtol=0, atol=1e-10 * logits.size)


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("case", LOGITS)
def test_cb_log_norm_matches_torch_distribution(track, case):
    logits = LOGITS[case]
    # log C = log p(0 | eta) - log(1 - eta), and -log(1 - eta) is the cross-entropy of l against x = 0
    l = torch.from_numpy(logits)
    zeros = torch.zeros_like(l)
    log_p0 = ContinuousBernoulli(logits=l).log_prob(zeros)
    expected = (log_p0 + F.binary_cross_entropy_with_logits(l, zeros, reduction="none")).numpy()
    np.testing.assert_allclose(call(track, "cb", "cb_log_norm", logits), expected, rtol=0, atol=1e-9)


def test_cb_log_norm_at_eta_one_half_is_log_2():
    for track in TRACKS:
        np.testing.assert_allclose(call(track, "cb", "cb_log_norm", np.zeros(3)), np.log(2.0), rtol=1e-15)


@pytest.mark.parametrize("track", TRACKS)
@pytest.mark.parametrize("case", LOGITS)
def test_cb_mean_matches_torch_distribution(track, case):
    logits = LOGITS[case]
    expected = ContinuousBernoulli(logits=torch.from_numpy(logits)).mean.numpy()
    actual = call(track, "cb", "cb_mean", logits)
    assert actual.shape == logits.shape
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("track", TRACKS)
def test_cb_mean_is_not_eta(track):
    """eta = 0.8: the mean eta / (2 eta - 1) + 1 / (2 atanh(1 - 2 eta)) is 0.612, well below eta."""
    eta = 0.8
    expected = eta / (2 * eta - 1) + 1 / (2 * np.arctanh(1 - 2 * eta))
    mean = call(track, "cb", "cb_mean", np.array([np.log(eta / (1 - eta))]))
    np.testing.assert_allclose(mean, expected, rtol=1e-12)
    np.testing.assert_allclose(mean, 0.612, atol=5e-4)


@pytest.mark.parametrize("track", TRACKS)
def test_kl_matches_torch_kl_divergence(track):
    rng = np.random.default_rng(12)
    mu = 2.0 * rng.standard_normal((7, 5))
    log_var = rng.uniform(-6.0, 3.0, size=(7, 5))
    q = Normal(torch.from_numpy(mu), torch.from_numpy(np.exp(0.5 * log_var)))
    p = Normal(torch.zeros(7, 5, dtype=torch.float64), torch.ones(7, 5, dtype=torch.float64))
    expected = kl_divergence(q, p).sum(-1).numpy()
    actual = call(track, "kl", "kl_to_standard_normal", mu, log_var)
    assert actual.shape == (7,)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("track", TRACKS)
def test_kl_is_zero_at_the_prior(track):
    np.testing.assert_allclose(call(track, "kl", "kl_to_standard_normal", np.zeros((3, 4)), np.zeros((3, 4))), 0.0)


@pytest.mark.parametrize("track", TRACKS)
def test_log_normal_diag_matches_torch_normal(track):
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3, 7, 5))  # (K, B, D) against mu, log_var of shape (B, D)
    mu = rng.standard_normal((7, 5))
    log_var = rng.uniform(-4.0, 2.0, size=(7, 5))
    dist = Normal(torch.from_numpy(mu), torch.from_numpy(np.exp(0.5 * log_var)))
    expected = dist.log_prob(torch.from_numpy(x)).sum(-1).numpy()
    actual = call(track, "gaussian", "log_normal_diag", x, mu, log_var)
    assert actual.shape == (3, 7)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("track", TRACKS)
def test_log_standard_normal_matches_torch_normal(track):
    z = np.random.default_rng(14).standard_normal((3, 7, 5))
    expected = Normal(0.0, 1.0).log_prob(torch.from_numpy(z)).sum(-1).numpy()
    actual = call(track, "gaussian", "log_standard_normal", z)
    assert actual.shape == (3, 7)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12)
