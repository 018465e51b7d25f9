"""Exercise 3: the closed-form KL divergence from q(z|x) to the prior (docs/theory/model.md#closed-form-kl)."""

import autograd.numpy as np


def kl_to_standard_normal(mu, log_var):
    r"""KL(q || p) for q = N(mu, diag exp(log_var)) and p = N(0, I), in closed form (Exercise 3.1).

    .. math::
        \mathrm{KL}\big(\mathcal N(\mu, \mathrm{diag}\,\sigma^2)\,\|\,\mathcal N(0, I)\big)
        = \tfrac12 \sum_d \big(\mu_d^2 + \sigma_d^2 - \log\sigma_d^2 - 1\big)

    (Kingma & Welling 2014, Appendix B.)

    Args:
        mu: posterior means, shape (B, D_z).
        log_var: posterior log variances log sigma^2, shape (B, D_z).

    Returns:
        Shape (B,): the KL in nats, summed over D_z (not averaged over the batch). Always >= 0.

    See: docs/exercises/numpy.md#ex3_1
    """
    # BEGIN SOLUTION 3.1: KL to the standard normal (3 points)
    return 0.5 * np.sum(mu**2 + np.exp(log_var) - log_var - 1.0, axis=-1)
    # END SOLUTION
