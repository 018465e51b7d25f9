"""Exercise 8: the training loop over minibatches and the evaluation of the test ELBO.

The data are one preloaded array of shape (N, D_x); a minibatch is ``x[idx]`` for an index array ``idx``
from :func:`vaekit.data.minibatch_indices`. See docs/exercises/numpy.md#ex8_1.
"""

import numpy as onp
from tqdm.auto import tqdm

from vaekit.data import minibatch_indices

from .networks import vae_forward
from .optim import train_step


def train_epoch(params, state, x_train, rng, batch_size=128, n_samples=1, lr=1e-3, progress=False):
    r"""One pass over the shuffled training set, one :func:`train_step` per minibatch (Exercise 8.1).

    For each minibatch of B images draw eps ~ N(0, I) of shape (K, B, D_z) from ``rng`` and take a step.

    Args:
        params: the parameter pytree; D_z is ``params["encoder"]["to_mu"][1].shape[0]``.
        state: Adam state (see :func:`train_step`).
        x_train: all training images, shape (N, D_x), values in [0, 1].
        rng: a ``numpy.random.Generator``: the shuffling and every eps come from it.
        batch_size: B (the last minibatch may be smaller).
        n_samples: K, Monte Carlo samples per example.
        lr: Adam step size.
        progress: show a progress bar.

    Returns:
        ``(params, state, mean_loss)`` with mean_loss the average minibatch loss in nats per image.

    See: docs/exercises/numpy.md#ex8_1
    """
    # BEGIN SOLUTION 8.1: Training epoch (3 points; uses 7.2)
    z_dim = params["encoder"]["to_mu"][1].shape[0]
    losses = []
    batches = minibatch_indices(len(x_train), batch_size, rng)
    for idx in tqdm(batches, desc="train", leave=False, disable=not progress):
        eps = rng.standard_normal((n_samples, len(idx), z_dim)).astype(x_train.dtype)
        params, state, loss = train_step(params, state, x_train[idx], eps, lr=lr)
        losses.append(loss)
    return params, state, float(onp.mean(losses))
    # END SOLUTION


def evaluate(params, x, rng, batch_size=500, n_samples=1):
    r"""Average ELBO over a data set, in nats per image (Exercise 8.2).

    .. math::
        \bar{\mathcal L} = \frac1N \sum_{n=1}^N \mathcal L(x_n)

    Args:
        params: the parameter pytree.
        x: images, shape (N, D_x).
        rng: a ``numpy.random.Generator`` for eps.
        batch_size: images per forward pass (in order, not shuffled).
        n_samples: K.

    Returns:
        ``(elbo, log_lik, kl)``: floats, each averaged over the N images, in nats per image.

    See: docs/exercises/numpy.md#ex8_2
    """
    # BEGIN SOLUTION 8.2: Evaluation (2 points; uses 6.4)
    z_dim = params["encoder"]["to_mu"][1].shape[0]
    totals = onp.zeros(3)
    for start in range(0, len(x), batch_size):
        xb = x[start : start + batch_size]
        eps = rng.standard_normal((n_samples, len(xb), z_dim)).astype(x.dtype)
        terms = vae_forward(params, xb, eps)
        totals += [float(onp.sum(t)) for t in terms]
    elbo, log_lik, kl = totals / len(x)
    return float(elbo), float(log_lik), float(kl)
    # END SOLUTION
