# Exercise file: fill in the parts marked TODO; leave signatures and docstrings as they are.
# The grader: bash scripts/grade.sh (all exercises) or bash scripts/grade.sh 2.1 (one).
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
    # TODO(Exercise 8.1): Training epoch.
    raise NotImplementedError("Exercise 8.1 (train_epoch): not implemented yet; see docs/exercises/numpy.md#ex8_1")


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
    # TODO(Exercise 8.2): Evaluation.
    raise NotImplementedError("Exercise 8.2 (evaluate): not implemented yet; see docs/exercises/numpy.md#ex8_2")
