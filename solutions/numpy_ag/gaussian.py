"""Exercise 1: Gaussian log densities (docs/theory/model.md, docs/exercises/numpy.md#ex1_1)."""

import autograd.numpy as np

LOG_2PI = float(np.log(2.0 * np.pi))


def log_normal_diag(x, mu, log_var):
    r"""Log density of a diagonal Gaussian, summed over the last axis (Exercise 1.1).

    .. math::
        \log \mathcal N(x; \mu, \mathrm{diag}\,\sigma^2)
        = -\tfrac12 \sum_d \Big[\log 2\pi + \log\sigma_d^2 + \frac{(x_d-\mu_d)^2}{\sigma_d^2}\Big],
        \qquad \sigma_d^2 = \exp(\text{log\_var}_d)

    Args:
        x: points, shape (..., D).
        mu: means, shape broadcastable to x.
        log_var: log variances log sigma^2, shape broadcastable to x.

    Returns:
        Shape (...): the log density in nats, summed over the last axis D.

    See: docs/exercises/numpy.md#ex1_1
    """
    # BEGIN SOLUTION 1.1: Diagonal Gaussian log density (2 points)
    sq = (x - mu) ** 2 * np.exp(-log_var)
    return -0.5 * np.sum(LOG_2PI + log_var + sq, axis=-1)
    # END SOLUTION


def log_standard_normal(z):
    r"""Log density of the prior p(z) = N(0, I), summed over the last axis (Exercise 1.2).

    .. math::
        \log \mathcal N(z; 0, I) = -\tfrac12 \sum_d \big[\log 2\pi + z_d^2\big]

    Args:
        z: latent points, shape (..., D_z).

    Returns:
        Shape (...): the log density in nats.

    See: docs/exercises/numpy.md#ex1_2
    """
    # BEGIN SOLUTION 1.2: Standard normal log density (1 point)
    return -0.5 * np.sum(LOG_2PI + z**2, axis=-1)
    # END SOLUTION
