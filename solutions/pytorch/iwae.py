"""Exercise T9: the importance-weighted estimate of log p(x) (Burda et al., 2016; docs/theory/training.md#iwae)."""

import math

import torch

from .continuous_bernoulli import cb_log_prob
from .gaussian import log_normal_diag, log_standard_normal
from .reparam import reparameterize


def log_mean_exp(a, dim=0):
    r"""Stable log of the mean of exp(a) along ``dim``: logsumexp(a) - log K, with K = a.shape[dim]."""
    return torch.logsumexp(a, dim=dim) - math.log(a.shape[dim])


def iwae_log_px(x, mu, log_var, eps, decode):
    r"""Importance-weighted bound on log p(x) with K samples from q(z|x) (Exercise T9.1).

    .. math::
        \log p(x) \ge \mathcal L_K(x) = \log \frac1K \sum_{k=1}^K
        \frac{p_\theta(x\mid z_k)\,p(z_k)}{q_\phi(z_k\mid x)}, \qquad z_k = \mu + \sigma\odot\varepsilon_k

    computed in log space with :func:`log_mean_exp`. L_1 is the ELBO (with a sampled KL); L_K rises to
    log p(x) as K grows.

    Args:
        x: images in [0, 1], tensor of shape (B, D_x).
        mu: encoder means, tensor of shape (B, D_z).
        log_var: encoder log variances, tensor of shape (B, D_z).
        eps: standard normal noise, tensor of shape (K, B, D_z).
        decode: callable z (K, B, D_z) -> logits (K, B, D_x), e.g. a :class:`~.networks.Decoder`.

    Returns:
        Tensor of shape (B,): the bound in nats per example.

    See: docs/exercises/pytorch.md#ext9_1
    """
    # BEGIN SOLUTION T9.1: Importance-weighted log p(x) (3 points; uses T1.1, T1.2, T2.2, T4.1)
    z = reparameterize(mu, log_var, eps)  # (K, B, D_z)
    log_w = cb_log_prob(x, decode(z)) + log_standard_normal(z) - log_normal_diag(z, mu, log_var)  # (K, B)
    return log_mean_exp(log_w, dim=0)
    # END SOLUTION
