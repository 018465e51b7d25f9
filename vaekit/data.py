"""MNIST as float arrays in [0, 1] (not binarised), and minibatches by index."""

import numpy as np


def minibatch_indices(n, batch_size, rng):
    """Shuffled index arrays that cover range(n) once, each of length batch_size (the last may be shorter).

    Args:
        n: number of examples N.
        batch_size: B.
        rng: a ``numpy.random.Generator`` that shuffles.

    Returns:
        A list of int arrays; ``x[idx]`` is one minibatch.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]
