"""Computations the judge asks the worker for by name: ``PROBES[name](track, *args, **kwargs)``.

A probe is trusted harness code that calls the graded code and returns plain data (arrays, numbers, strings,
lists, dicts). It never sees reference values: the judge compares what it returns. When what it observes is
already a finding (an object that is not an ``nn.Module``, say), it calls :func:`fail` with a message for the
student, and the judge fails the test with that message.

The track-specific probes live in ``probes_numpy_ag.py`` and ``probes_pytorch.py`` and register here.
"""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def spy_as_the_default_step(function: Callable, modules: list, real: Callable, spy: Callable):
    """While active, ``spy`` stands wherever the graded code can find its own ``real`` step: in the defaults of
    ``function`` (``train_epoch(..., step=train_step)``) and under every name of ``modules`` that held ``real``;
    it also carries real's name, module and docstring. Calling ``function`` without ``step`` then runs the
    default path, and code that tells a grader's spy from its own train_step (``step is train_step``,
    ``step.__name__``) cannot behave differently there."""
    for attr in ("__name__", "__qualname__", "__module__", "__doc__"):
        with contextlib.suppress(AttributeError, TypeError):
            setattr(spy, attr, getattr(real, attr))
    defaults, kwdefaults = function.__defaults__, function.__kwdefaults__
    patched = []
    try:
        if defaults:
            function.__defaults__ = tuple(spy if value is real else value for value in defaults)
        if kwdefaults:
            function.__kwdefaults__ = {k: (spy if value is real else value) for k, value in kwdefaults.items()}
        for module in modules:
            for name, value in list(vars(module).items()):
                if value is real:
                    setattr(module, name, spy)
                    patched.append((module, name))
        yield
    finally:
        function.__defaults__, function.__kwdefaults__ = defaults, kwdefaults
        for module, name in patched:
            setattr(module, name, real)
