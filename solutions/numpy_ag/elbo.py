"""Exercise 5: the Monte Carlo ELBO with the analytic KL (docs/theory/training.md#monte-carlo-elbo)."""

import autograd.numpy as np

from .continuous_bernoulli import cb_log_prob
from .kl import kl_to_standard_normal
from .reparam import reparameterize


def elbo(x, mu, log_var, eps, decode):
    r"""Per-example ELBO: K-sample estimate of the expected log-likelihood minus the analytic KL (Exercise 5.1).

    .. math::
        \mathcal L(x) \approx \frac1K \sum_{k=1}^K \log p_\theta(x \mid z_k)
        - \mathrm{KL}\big(q_\phi(z\mid x)\,\|\,p(z)\big),
        \qquad z_k = \mu + \sigma \odot \varepsilon_k

    with p(x|z) the continuous Bernoulli of the decoder's logits.

    Args:
        x: images in [0, 1], shape (B, D_x).
        mu: encoder means, shape (B, D_z).
        log_var: encoder log variances, shape (B, D_z).
        eps: standard normal noise, shape (K, B, D_z).
        decode: function z (K, B, D_z) -> logits (K, B, D_x).

    Returns:
        A tuple ``(elbo, log_lik, kl)``, each of shape (B,) in nats: the ELBO, the K-sample mean of
        log p(x|z_k), and the KL; ``elbo = log_lik - kl``. The training loss is ``-elbo.mean()``.

    See: docs/exercises/numpy.md#ex5_1
    """
    # BEGIN SOLUTION 5.1: Monte Carlo ELBO (4 points; uses 2.2, 3.1, 4.1)
    z = reparameterize(mu, log_var, eps)  # (K, B, D_z)
    log_lik = np.mean(cb_log_prob(x, decode(z)), axis=0)  # (K, B) -> (B,)
    kl = kl_to_standard_normal(mu, log_var)  # (B,)
    return log_lik - kl, log_lik, kl
    # END SOLUTION
