"""Exercise T5: the Monte Carlo ELBO with the analytic KL (docs/theory/training.md#monte-carlo-elbo)."""

import torch

from .continuous_bernoulli import cb_log_prob
from .kl import kl_to_standard_normal
from .reparam import reparameterize


def elbo(x, mu, log_var, eps, decode):
    r"""Per-example ELBO: K-sample estimate of the expected log-likelihood minus the analytic KL (Exercise T5.1).

    .. math::
        \mathcal L(x) \approx \frac1K \sum_{k=1}^K \log p_\theta(x \mid z_k)
        - \mathrm{KL}\big(q_\phi(z\mid x)\,\|\,p(z)\big),
        \qquad z_k = \mu + \sigma \odot \varepsilon_k

    with p(x|z) the continuous Bernoulli of the decoder's logits.

    Args:
        x: images in [0, 1], tensor of shape (B, D_x).
        mu: encoder means, tensor of shape (B, D_z).
        log_var: encoder log variances, tensor of shape (B, D_z).
        eps: standard normal noise, tensor of shape (K, B, D_z).
        decode: callable z (K, B, D_z) -> logits (K, B, D_x), e.g. a :class:`~.networks.Decoder`.

    Returns:
        A tuple ``(elbo, log_lik, kl)`` of tensors, each of shape (B,) in nats: the ELBO, the K-sample mean
        of log p(x|z_k), and the KL; ``elbo = log_lik - kl``. The training loss is ``-elbo.mean()``.

    See: docs/exercises/pytorch.md#ext5_1
    """
    # BEGIN SOLUTION T5.1: Monte Carlo ELBO (4 points; uses T2.2, T3.1, T4.1)
    z = reparameterize(mu, log_var, eps)  # (K, B, D_z)
    log_lik = torch.mean(cb_log_prob(x, decode(z)), dim=0)  # (K, B) -> (B,)
    kl = kl_to_standard_normal(mu, log_var)  # (B,)
    return log_lik - kl, log_lik, kl
    # END SOLUTION
