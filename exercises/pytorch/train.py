# Exercise file: fill in the parts marked TODO; leave signatures and docstrings as they are.
# The grader: bash scripts/grade.sh (all exercises) or bash scripts/grade.sh 2.1 (one).
"""Exercise T8: the training loop over minibatches and the evaluation of the test ELBO.

The data are one preloaded tensor of shape (N, D_x); a minibatch is ``x[idx]`` for an index tensor ``idx``
from :func:`minibatch_indices`. Every random number comes from the ``torch.Generator`` passed in, never
from the global RNG, so a run is reproduced by its seed. See docs/exercises/pytorch.md#ext8_1.
"""

import torch
from tqdm.auto import tqdm

from .optim import train_step


def minibatch_indices(n, batch_size, generator):
    """Shuffled index tensors that cover range(n) once, each of length batch_size (the last may be shorter).

    Args:
        n: number of examples N.
        batch_size: B.
        generator: a ``torch.Generator`` that shuffles (``torch.randperm(n, generator=generator)``).

    Returns:
        A tuple of int64 tensors; ``x[idx]`` is one minibatch.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    if n < 1:
        raise ValueError("there are no examples to split into minibatches: the data set is empty (N = 0)")
    return torch.split(torch.randperm(n, generator=generator), batch_size)


def train_epoch(model, optimizer, x_train, generator, batch_size=128, n_samples=1, progress=False, step=train_step):
    r"""One pass over the shuffled training set, one ``step`` per minibatch (Exercise T8.1).

    For each minibatch of B images draw eps ~ N(0, I) of shape (K, B, D_z) with
    ``torch.randn(..., generator=generator, dtype=x_train.dtype)`` and take a step:

    .. math::
        \ell_t = \mathrm{step}(\text{model}, \text{optimizer}, x_{\mathrm{idx}_t}, \varepsilon_t), \qquad
        \text{result} = \frac1T \sum_{t=1}^T \ell_t

    Args:
        model: a :class:`~.networks.VAE`; D_z is ``model.encoder.to_mu.out_features``. Updated in place.
        optimizer: a ``torch.optim`` optimiser over ``model.parameters()``.
        x_train: all training images, tensor of shape (N, D_x), values in [0, 1].
        generator: a ``torch.Generator``: the shuffling and every eps come from it.
        batch_size: B (the last minibatch may be smaller).
        n_samples: K, Monte Carlo samples per example.
        progress: show a progress bar.
        step: the update of one minibatch, ``step(model, optimizer, xb, eps) -> loss`` with xb of shape (B, D_x),
            eps of shape (K, B, D_z) and loss a float in nats per image; it updates the model in place. Default
            :func:`~.optim.train_step` (the negative ELBO, Exercise T7.1); another objective (the IWAE bound,
            a score-function gradient) brings its own step.

    Returns:
        The mean over the epoch's T minibatches of the losses ``step`` returned, a float in nats per image.

    See: docs/exercises/pytorch.md#ext8_1
    """
    # TODO(Exercise T8.1): Training epoch.
    raise NotImplementedError("Exercise T8.1 (train_epoch): not implemented yet; see docs/exercises/pytorch.md#ext8_1")


def evaluate(model, x, generator, batch_size=500, n_samples=1):
    r"""Average ELBO over a data set, in nats per image, without building a graph (Exercise T8.2).

    .. math::
        \bar{\mathcal L} = \frac1N \sum_{n=1}^N \mathcal L(x_n)

    Args:
        model: a :class:`~.networks.VAE`.
        x: images, tensor of shape (N, D_x).
        generator: a ``torch.Generator`` for eps.
        batch_size: images per forward pass (in order, not shuffled).
        n_samples: K.

    Returns:
        ``(elbo, log_lik, kl)``: floats, each averaged over the N images, in nats per image.

    See: docs/exercises/pytorch.md#ext8_2
    """
    # TODO(Exercise T8.2): Evaluation.
    raise NotImplementedError("Exercise T8.2 (evaluate): not implemented yet; see docs/exercises/pytorch.md#ext8_2")
