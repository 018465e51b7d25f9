"""The grader seed: every freshly drawn input of a grader test derives from it and from the test's name.

The seed is ``--grader-seed`` (or VAEKIT_GRADER_SEED; default 0), so grading is reproducible and an
instructor can grade with a seed of their own. Tests take the fixtures ``rng`` / ``torch_generator`` (see
grader/conftest.py); helpers without a fixture at hand call :func:`numpy_rng` / :func:`torch_generator`,
which read the seed of the test that is running. Every call is noted, so ``--seed-report`` can list the
tests whose inputs depend on the seed (``tests/test_grader_seeds.py`` reruns those under many seeds).
"""

from __future__ import annotations

import zlib

import numpy as np

_current = {"seed": 0, "stream": 0, "used": False}


def stream_of(nodeid: str) -> int:
    """A number that tells tests apart, the same in every checkout: CRC32 of the node ID without parameters."""
    return zlib.crc32(nodeid.split("[")[0].encode())


def start_test(seed: int, nodeid: str) -> None:
    """Called by the grader before each test."""
    _current.update(seed=int(seed), stream=stream_of(nodeid), used=False)


def used() -> bool:
    """Whether the running test drew from the grader seed."""
    return _current["used"]


def seed_sequence(*extra: int) -> np.random.SeedSequence:
    """The SeedSequence of the running test (``extra`` numbers give independent sub-streams)."""
    _current["used"] = True
    return np.random.SeedSequence([_current["seed"], _current["stream"], *extra])


def numpy_rng(*extra: int) -> np.random.Generator:
    """A NumPy Generator for the running test's fresh inputs."""
    return np.random.default_rng(seed_sequence(*extra))


def integer_seed(*extra: int) -> int:
    """A seed in [0, 2**31) for code that takes an integer seed (e.g. to call a function twice alike)."""
    return int(seed_sequence(*extra).generate_state(1)[0] % 2**31)


def torch_generator(*extra: int):
    """A ``torch.Generator`` for the running test's fresh inputs."""
    import torch

    return torch.Generator().manual_seed(integer_seed(*extra))
