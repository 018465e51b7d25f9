"""Exercise T10.5: training on the importance-weighted bound instead of the ELBO (Burda et al., 2016).

See docs/theory/training.md#iwae and docs/exercises/estimators.md#ext10_5.
"""

import torch

from .iwae import iwae_log_px


def iwae_train_step(model, optimizer, x, eps):
    r"""One optimiser step on the loss -mean_b L_K(x_b), the importance-weighted bound with K samples (Exercise T10.5).

    .. math::
        \text{loss}(\theta, \phi) = -\frac1B\sum_b \log\frac1K\sum_{k=1}^K
        \frac{p_\theta(x_b\mid z_{bk})\,p(z_{bk})}{q_\phi(z_{bk}\mid x_b)}, \qquad
        z_{bk} = \mu_b + \sigma_b\odot\varepsilon_{kb}

    The pathwise gradient of L_K weighs each sample by its normalised importance weight
    w_k / sum_j w_j; with K = 1 it is the ELBO's gradient with a sampled KL.

    Args:
        model: a :class:`~.networks.VAE` (``model.encoder``, ``model.decoder``). Updated in place.
        optimizer: a ``torch.optim`` optimiser over ``model.parameters()``, e.g. Adam.
        x: a minibatch of images, tensor of shape (B, D_x).
        eps: standard normal noise, tensor of shape (K, B, D_z).

    Returns:
        The loss (a float, nats per image) *before* the step.

    See: docs/exercises/estimators.md#ext10_5
    """
    # BEGIN SOLUTION T10.5: IWAE training step (2 points; uses T6.1, T6.2, T9.1)
    optimizer.zero_grad()
    mu, log_var = model.encoder(x)
    loss = -torch.mean(iwae_log_px(x, mu, log_var, eps, model.decoder))
    loss.backward()
    optimizer.step()
    return float(loss.detach())
    # END SOLUTION
