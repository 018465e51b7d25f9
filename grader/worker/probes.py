"""Computations the judge asks the worker for by name: ``PROBES[name](track, *args, **kwargs)``.

A probe is trusted harness code that calls the graded code and returns plain data (arrays, numbers, strings,
lists, dicts). It never sees reference values: the judge compares what it returns. When what it observes is
already a finding (an object that is not an ``nn.Module``, say), it calls :func:`fail` with a message for the
student, and the judge fails the test with that message.

The track-specific probes live in ``probes_numpy_ag.py`` and ``probes_pytorch.py`` and register here.
"""

from __future__ import annotations

from typing import Callable

PROBES: dict[str, Callable] = {}


class ProbeFailure(Exception):
    """A finding of a probe; its text is shown to the student as the test's failure."""


def fail(message: str) -> None:
    raise ProbeFailure(message)


def probe(function: Callable) -> Callable:
    """Register ``function`` under its name."""
    PROBES[function.__name__] = function
    return function


@probe
def call_each(track, function: Callable, args: list, kwargs: dict, vary: int, values: list) -> list:
    """``[function(*args with args[vary] = v, **kwargs) for v in values]``: the many calls of a Monte Carlo test
    (one per draw of eps) in one request, each exactly as a single call would be made."""
    results = []
    for value in values:
        args[vary] = value
        results.append(function(*args, **kwargs))
    return results
