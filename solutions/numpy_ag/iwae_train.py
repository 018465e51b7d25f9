"""Exercise 10.5: training on the importance-weighted bound instead of the ELBO (Burda et al., 2016).

See docs/theory/training.md#iwae and docs/exercises/estimators.md#ex10_5.
"""

from functools import partial

import autograd.numpy as np
from autograd import value_and_grad

from .iwae import iwae_log_px
from .networks import decode, encode
from .optim import adam_update, flatten_params


def iwae_train_step(params, state, x, eps, lr=1e-3):
    r"""One Adam step on the loss -mean_b L_K(x_b), the importance-weighted bound with K samples (Exercise 10.5).

    .. math::
        \text{loss}(\theta, \phi) = -\frac1B\sum_b \log\frac1K\sum_{k=1}^K
        \frac{p_\theta(x_b\mid z_{bk})\,p(z_{bk})}{q_\phi(z_{bk}\mid x_b)}, \qquad
        z_{bk} = \mu_b + \sigma_b\odot\varepsilon_{kb}

    The pathwise gradient of L_K weighs each sample by its normalised importance weight
    w_k / sum_j w_j; with K = 1 it is the ELBO's gradient with a sampled KL.

    Args:
        params: the parameter pytree of :func:`~.networks.init_vae_params`.
        state: Adam state of the flattened parameters (as for :func:`~.optim.train_step`).
        x: a minibatch of images, shape (B, D_x).
        eps: standard normal noise, shape (K, B, D_z).
        lr: Adam step size.

    Returns:
        ``(params, state, loss)``: the updated pytree, the new Adam state, and the loss (a float, nats per
        image) *before* the step.

    See: docs/exercises/estimators.md#ex10_5
    """
    # BEGIN SOLUTION 10.5: IWAE training step (2 points; uses 6.2, 6.3, 7.1, 9.1)
    theta, unflatten = flatten_params(params)

    def loss(theta):
        p = unflatten(theta)
        mu, log_var = encode(p["encoder"], x)
        return -np.mean(iwae_log_px(x, mu, log_var, eps, partial(decode, p["decoder"])))

    value, grad = value_and_grad(loss)(theta)
    theta, state = adam_update(theta, grad, state, lr=lr)
    return unflatten(theta), state, float(value)
    # END SOLUTION
