"""The part of the kit that the NumPy track's exercise files import, for the worker: ``vaekit.data.minibatch_indices``.

``numpy_ag/train.py`` starts with ``from vaekit.data import minibatch_indices``. The worker cannot see the kit's
``vaekit/`` (only ``grader/worker/``, the Python environment and the submission), so before any graded code is
imported, :func:`install` puts a package ``vaekit`` with a module ``vaekit.data`` holding a copy of that function
into ``sys.modules``, the same in the sandbox and in a plain subprocess. Nothing else of the kit is there: an
exercise file that imports more of ``vaekit`` gets an ImportError that names this stand-in.

Keep :func:`minibatch_indices` identical to ``vaekit/data.py``'s.
"""

from __future__ import annotations

import sys
import types

WHERE = "<the grader's stand-in for vaekit: only vaekit.data.minibatch_indices>"


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


def install() -> None:
    """Register the stand-in ``vaekit`` and ``vaekit.data`` (unless a ``vaekit`` is already imported)."""
    if "vaekit" in sys.modules:
        return
    package = types.ModuleType("vaekit", "The grader's stand-in for the kit's support package (see vaekit.data).")
    package.__path__ = []  # a package with no folder: ``import vaekit.<other>`` finds nothing
    package.__file__ = WHERE
    package.IMAGE_SIDE = 28
    package.IMAGE_DIM = 28 * 28
    data = types.ModuleType("vaekit.data", "Minibatches by index (the grader's copy of vaekit.data.minibatch_indices).")
    data.__file__ = WHERE
    data.minibatch_indices = minibatch_indices
    package.data = data
    sys.modules["vaekit"] = package
    sys.modules["vaekit.data"] = data
