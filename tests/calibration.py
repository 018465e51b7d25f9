"""How slow this machine is right now, for the few tests that must give graded code a time limit.

:func:`slowness` times a fixed mix of Python and NumPy work once per test session and divides by how long it takes
on an idle 2-core machine (``IDLE_SECONDS``); tests multiply their time limits by it (never by less than 1), so
that a machine kept busy by other work (``scripts/busy_check.sh`` does that on purpose) gives the same verdicts.
"""

from __future__ import annotations

import functools
import time

import numpy as np

IDLE_SECONDS = 0.12  # the workload below on an idle core of the development machine


def _workload() -> None:
    total = 0
    for i in range(300_000):
        total += i * i
    a = np.random.default_rng(0).normal(size=(200, 200))
    for _ in range(20):
        a = np.tanh(a @ a.T / 200.0)


@functools.lru_cache(maxsize=None)
def slowness() -> float:
    """The factor by which time limits are stretched: >= 1, the best of three timings over IDLE_SECONDS."""
    best = min(_timed() for _ in range(3))
    return max(1.0, best / IDLE_SECONDS)


def _timed() -> float:
    start = time.perf_counter()
    _workload()
    return time.perf_counter() - start


def scaled(seconds: float) -> float:
    """``seconds`` stretched by :func:`slowness`."""
    return seconds * slowness()
