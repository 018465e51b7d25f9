"""Exercise T7: one training step with ``torch.autograd`` and a ``torch.optim`` optimiser.

The NumPy track writes Adam by hand; here ``torch.optim.Adam(model.parameters(), lr=1e-3)`` does the same
update on every parameter tensor of the model. See docs/exercises/pytorch.md#ext7_1.
"""

import torch


def train_step(model, optimizer, x, eps):
    r"""One gradient step on the loss -mean_b ELBO(x_b) with the pathwise gradient (Exercise T7.1).

    .. math::
        \text{loss}(\theta, \phi) = -\frac1B \sum_b \mathcal L(x_b), \qquad
        (\theta, \phi) \leftarrow \mathrm{Adam}\big(\nabla \text{loss}\big) \text{ with } \varepsilon \text{ fixed}

    Zero the old gradients, compute the loss, back-propagate, step.

    Args:
        model: a :class:`~.networks.VAE`; ``model(x, eps)`` returns ``(elbo, log_lik, kl)``. Updated in place.
        optimizer: a ``torch.optim`` optimiser over ``model.parameters()``, e.g. Adam.
        x: a minibatch of images, tensor of shape (B, D_x).
        eps: standard normal noise, tensor of shape (K, B, D_z).

    Returns:
        The loss (a float, nats per image) *before* the step.

    See: docs/exercises/pytorch.md#ext7_1
    """
    # BEGIN SOLUTION T7.1: Training step (3 points; uses T6.3)
    optimizer.zero_grad()
    elbo, _, _ = model(x, eps)
    loss = -torch.mean(elbo)
    loss.backward()
    optimizer.step()
    return float(loss.detach())
    # END SOLUTION
