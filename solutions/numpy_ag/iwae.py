"""Exercise 9: the importance-weighted estimate of log p(x) (Burda et al., 2016; docs/theory/training.md#iwae)."""

import autograd.numpy as np

from .continuous_bernoulli import cb_log_prob
from .gaussian import log_normal_diag, log_standard_normal
from .reparam import reparameterize


def log_mean_exp(a, axis=0):
    r"""Stable log of the mean of exp(a) along ``axis``: m + log mean exp(a - m), with m = max a."""
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.mean(np.exp(a - m), axis=axis))


def iwae_log_px(x, mu, log_var, eps, decode):
    r"""Importance-weighted bound on log p(x) with K samples from q(z|x) (Exercise 9.1).

    .. math::
        \log p(x) \ge \mathcal L_K(x) = \log \frac1K \sum_{k=1}^K
        \frac{p_\theta(x\mid z_k)\,p(z_k)}{q_\phi(z_k\mid x)}, \qquad z_k = \mu + \sigma\odot\varepsilon_k

    computed in log space with :func:`log_mean_exp`. L_1 is the ELBO (with a sampled KL); L_K rises to
    log p(x) as K grows.

    Args:
        x: images in [0, 1], shape (B, D_x).
        mu: encoder means, shape (B, D_z).
        log_var: encoder log variances, shape (B, D_z).
        eps: standard normal noise, shape (K, B, D_z).
        decode: function z (K, B, D_z) -> logits (K, B, D_x).

    Returns:
        Shape (B,): the bound in nats per example.

    See: docs/exercises/numpy.md#ex9_1
    """
    # BEGIN SOLUTION 9.1: Importance-weighted log p(x) (3 points; uses 1.1, 1.2, 2.2, 4.1)
    z = reparameterize(mu, log_var, eps)  # (K, B, D_z)
    log_w = cb_log_prob(x, decode(z)) + log_standard_normal(z) - log_normal_diag(z, mu, log_var)  # (K, B)
    return log_mean_exp(log_w, axis=0)
    # END SOLUTION
