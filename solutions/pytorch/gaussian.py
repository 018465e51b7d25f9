"""Exercise T1: Gaussian log densities (docs/theory/model.md, docs/exercises/pytorch.md#ext1_1)."""

import math

import torch

LOG_2PI = math.log(2.0 * math.pi)


def log_normal_diag(x, mu, log_var):
    r"""Log density of a diagonal Gaussian, summed over the last axis (Exercise T1.1).

    .. math::
        \log \mathcal N(x; \mu, \mathrm{diag}\,\sigma^2)
        = -\tfrac12 \sum_d \Big[\log 2\pi + \log\sigma_d^2 + \frac{(x_d-\mu_d)^2}{\sigma_d^2}\Big],
        \qquad \sigma_d^2 = \exp(\text{log\_var}_d)

    Args:
        x: points, tensor of shape (..., D).
        mu: means, shape broadcastable to x.
        log_var: log variances log sigma^2, shape broadcastable to x.

    Returns:
        Tensor of shape (...): the log density in nats, summed over the last axis D.

    See: docs/exercises/pytorch.md#ext1_1
    """
    # BEGIN SOLUTION T1.1: Diagonal Gaussian log density (2 points)
    sq = (x - mu) ** 2 * torch.exp(-log_var)
    return -0.5 * torch.sum(LOG_2PI + log_var + sq, dim=-1)
    # END SOLUTION


def log_standard_normal(z):
    r"""Log density of the prior p(z) = N(0, I), summed over the last axis (Exercise T1.2).

    .. math::
        \log \mathcal N(z; 0, I) = -\tfrac12 \sum_d \big[\log 2\pi + z_d^2\big]

    Args:
        z: latent points, tensor of shape (..., D_z).

    Returns:
        Tensor of shape (...): the log density in nats.

    See: docs/exercises/pytorch.md#ext1_2
    """
    # BEGIN SOLUTION T1.2: Standard normal log density (1 point)
    return -0.5 * torch.sum(LOG_2PI + z**2, dim=-1)
    # END SOLUTION
