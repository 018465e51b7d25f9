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


def train_epoch(params, state, x_train, rng, batch_size=128, n_samples=1, lr=1e-3, progress=False,
                step=train_step):
    r"""One pass over the shuffled training set, one ``step`` per minibatch (Exercise 8.1).

    For each minibatch of B images draw eps ~ N(0, I) of shape (K, B, D_z) from ``rng`` and take a step:

    .. math::
        (\theta_{t+1}, s_{t+1}, \ell_t) = \mathrm{step}(\theta_t, s_t, x_{\mathrm{idx}_t}, \varepsilon_t),
        \qquad \text{mean\_loss} = \frac1T \sum_{t=1}^T \ell_t

    Args:
        params: the parameter pytree; D_z is ``params["encoder"]["to_mu"][1].shape[0]``.
        state: Adam state (see :func:`train_step`).
        x_train: all training images, shape (N, D_x), values in [0, 1].
        rng: a ``numpy.random.Generator``: the shuffling and every eps come from it.
        batch_size: B (the last minibatch may be smaller).
        n_samples: K, Monte Carlo samples per example.
        lr: Adam step size.
        progress: show a progress bar.
        step: the update of one minibatch, ``step(params, state, xb, eps, lr=lr) -> (params, state, loss)``
            with xb of shape (B, D_x), eps of shape (K, B, D_z) and loss a float in nats per image; called once
            per minibatch, each time with the params and state the previous call returned. Default
            :func:`train_step` (the negative ELBO, Exercise 7.2); another objective brings its own step.

    Returns:
        ``(params, state, mean_loss)``: those of the last step, and mean_loss the average over the T minibatches
        of the losses ``step`` returned, in nats per image.

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
