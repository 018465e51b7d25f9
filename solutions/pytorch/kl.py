"""Exercise T3: the closed-form KL divergence from q(z|x) to the prior (docs/theory/model.md#closed-form-kl)."""

import torch


def kl_to_standard_normal(mu, log_var):
    r"""KL(q || p) for q = N(mu, diag exp(log_var)) and p = N(0, I), in closed form (Exercise T3.1).

    .. math::
        \mathrm{KL}\big(\mathcal N(\mu, \mathrm{diag}\,\sigma^2)\,\|\,\mathcal N(0, I)\big)
        = \tfrac12 \sum_d \big(\mu_d^2 + \sigma_d^2 - \log\sigma_d^2 - 1\big)

    (Kingma & Welling 2014, Appendix B.)

    Args:
        mu: posterior means, tensor of shape (B, D_z).
        log_var: posterior log variances log sigma^2, tensor of shape (B, D_z).

    Returns:
        Tensor of shape (B,): the KL in nats, summed over D_z (not averaged over the batch). Always >= 0.

    See: docs/exercises/pytorch.md#ext3_1
    """
    # BEGIN SOLUTION T3.1: KL to the standard normal (3 points)
    return 0.5 * torch.sum(mu**2 + torch.exp(log_var) - log_var - 1.0, dim=-1)
    # END SOLUTION
