"""Exercise T4: the reparameterised sample z = mu + sigma * eps (docs/theory/gradients.md#pathwise)."""

import torch


def reparameterize(mu, log_var, eps):
    r"""Draw z ~ q(z|x) = N(mu, diag sigma^2) as a differentiable function of mu and log_var (Exercise T4.1).

    .. math::
        z = \mu + \sigma \odot \varepsilon, \qquad \sigma = \exp(\tfrac12\,\text{log\_var}),
        \qquad \varepsilon \sim \mathcal N(0, I)

    The randomness comes in as ``eps``, drawn by the caller (e.g. ``torch.randn(..., generator=generator)``);
    this function draws nothing, so gradients flow to mu and log_var with eps held fixed. Do not
    ``.detach()`` anything here: the pathwise gradient is the point.

    Args:
        mu: means, tensor of shape (B, D_z).
        log_var: log variances, tensor of shape (B, D_z).
        eps: standard normal noise, tensor of shape (K, B, D_z) for K samples per example (or (B, D_z)).

    Returns:
        Tensor z with the shape of ``eps``, e.g. (K, B, D_z).

    See: docs/exercises/pytorch.md#ext4_1
    """
    # BEGIN SOLUTION T4.1: Reparameterised sample (2 points)
    return mu + torch.exp(0.5 * log_var) * eps
    # END SOLUTION
