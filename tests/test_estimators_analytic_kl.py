"""The like-for-like score-function estimator of the experiment ``estimators``: score function on log p(x|z)
only, plus the exact gradient of the closed-form KL (vaekit.experiments.estimators.encoder_gradient_sf_analytic_kl).
"""

from __future__ import annotations

import torch

from vaekit.experiments.common import new_vae
from vaekit.experiments.estimators import encoder_gradient_sf_analytic_kl
from vaekit.codefolder import Track

TRACK = Track("solutions", "pytorch")


class ConstantDecoder(torch.nn.Module):
    """Logits that do not depend on z: log p(x|z) is the same number for every z."""

    def __init__(self, logits: torch.Tensor):
        super().__init__()
        self.logits = logits

    def forward(self, z):
        return self.logits.expand(*z.shape[:-1], -1)


def _images(n: int, seed: int) -> torch.Tensor:
    return torch.rand((n, 784), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _model(seed: int = 0):
    return new_vae(TRACK, 2, (16,), seed).double()


def test_with_a_constant_likelihood_and_its_own_baseline_only_the_exact_kl_gradient_is_left():
    """If log p(x|z) = c for all z and b = c, every score term is zero: g = -grad KL exactly, for any eps."""
    model = _model()
    x = _images(5, 1)
    logits = torch.linspace(-3.0, 3.0, 784, dtype=torch.float64)
    model.decoder = ConstantDecoder(logits)
    c = TRACK.continuous_bernoulli.cb_log_prob(x, logits.expand(5, -1))  # (B,)
    eps = torch.randn((3, 5, 2), generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    g = encoder_gradient_sf_analytic_kl(TRACK, model, x, eps, baseline=c)

    phi = list(model.encoder.parameters())
    mu, log_var = model.encoder(x)
    expected = torch.autograd.grad(-torch.mean(TRACK.kl.kl_to_standard_normal(mu, log_var)), phi)
    expected = torch.cat([e.reshape(-1) for e in expected])
    assert g.shape == expected.shape
    assert torch.allclose(g, expected, rtol=1e-12, atol=1e-14)
    assert expected.abs().max() > 1e-3  # the KL gradient is not trivially zero


def test_it_is_unbiased_for_the_pathwise_gradient():
    """Averaged over many draws it matches the pathwise gradient of the same ELBO (both unbiased)."""
    model = _model(3)
    x = _images(4, 4)
    gen = torch.Generator().manual_seed(5)
    n_draws = 8_000  # 20 chunks of 400: the z-scores below use the measured standard error, whatever n_draws is
    eps = torch.randn((n_draws, 4, 2), generator=gen, dtype=torch.float64)
    path = TRACK.estimators.encoder_gradient(model, x, eps, "pathwise")
    with torch.no_grad():
        mu, log_var = model.encoder(x)
        z = mu + torch.exp(0.5 * log_var) * torch.randn((2000, 4, 2), generator=gen, dtype=torch.float64)
        b = TRACK.continuous_bernoulli.cb_log_prob(x, model.decoder(z)).mean(dim=0)  # independent of eps
    # R estimates, each averaging n_draws / R samples, give the standard error of the mean
    chunks = torch.chunk(eps, 20)
    sf = torch.stack([encoder_gradient_sf_analytic_kl(TRACK, model, x, e, b) for e in chunks])
    mean, se = sf.mean(0), sf.std(0) / len(chunks) ** 0.5
    used = path.abs() > 1e-6
    assert used.sum() > 20
    z_scores = ((mean - path) / (se + 1e-12))[used]
    assert z_scores.abs().max() < 5.0, z_scores.abs().max()
    # and it is not the pathwise estimator in disguise: one draw differs from the pathwise draw
    one = encoder_gradient_sf_analytic_kl(TRACK, model, x, eps[:1], b)
    assert not torch.allclose(one, TRACK.estimators.encoder_gradient(model, x, eps[:1], "pathwise"))
