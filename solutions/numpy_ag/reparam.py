"""Exercise 4: the reparameterised sample z = mu + sigma * eps (docs/theory/gradients.md#pathwise)."""

import autograd.numpy as np


def reparameterize(mu, log_var, eps):
    r"""Draw z ~ q(z|x) = N(mu, diag sigma^2) as a differentiable function of mu and log_var (Exercise 4.1).

    .. math::
        z = \mu + \sigma \odot \varepsilon, \qquad \sigma = \exp(\tfrac12\,\text{log\_var}),
        \qquad \varepsilon \sim \mathcal N(0, I)

    The randomness comes in as ``eps``, drawn by the caller (e.g. ``rng.standard_normal``); this function
    draws nothing, so gradients flow to mu and log_var with eps held fixed.

    Args:
        mu: means, shape (B, D_z).
        log_var: log variances, shape (B, D_z).
        eps: standard normal noise, shape (K, B, D_z) for K samples per example (or (B, D_z)).

    Returns:
        z with the shape of ``eps``, e.g. (K, B, D_z).

    See: docs/exercises/numpy.md#ex4_1
    """
    # BEGIN SOLUTION 4.1: Reparameterised sample (2 points)
    return mu + np.exp(0.5 * log_var) * eps
    # END SOLUTION
