"""Monte Carlo checks: a sample mean or variance must lie within MC_Z standard errors of its exact value.

The draws come from the grader seed (grader/seeds.py), so a run is reproducible; MC_Z (grader/tolerances.py)
is wide enough that a correct implementation passes for almost every seed (tests/test_grader_seeds.py tries 200).
"""

from __future__ import annotations

import numpy as np

from vaekit.gradient_variance import mc_mean, mc_variance

from . import seeds
from . import tolerances as tol
from .harness import fail, to_numpy

def standard_normal(shape) -> np.ndarray:
    """Float64 eps ~ N(0, I) of ``shape``, drawn from the running test's grader seed."""
    return seeds.numpy_rng().standard_normal(shape)


def _check(got, se, expected, expected_se, what: str, name: str, hint: str) -> None:
    got, se = np.asarray(got, dtype=float), np.asarray(se, dtype=float)
    if not (np.all(np.isfinite(got)) and np.all(np.isfinite(se))):
        fail(f"{name}: the samples hold NaN or inf values, so their {what} is not finite" + (f"\n  hint: {hint}" if hint else ""))
    expected = np.broadcast_to(np.asarray(expected, dtype=float), got.shape)
    allowed = tol.MC_Z * np.sqrt(se**2 + np.asarray(expected_se, dtype=float) ** 2)
    bad = ~(np.abs(got - expected) <= allowed)  # also catches NaN
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        where = f" at index {i}" if got.ndim else ""
        fail(f"{name}: the {what}{where} is {got[i]:.6g} ± {se[i]:.2g} (one standard error), but the exact value "
             f"is {expected[i]:.6g}: more than {tol.MC_Z:g} standard errors away ({int(bad.sum())} of {bad.size} "
             "entries)" + (f"\n  hint: {hint}" if hint else ""))


def check_mc_mean(samples, expected, name: str, expected_se=0.0, hint: str = "") -> None:
    """Fail unless the mean of ``samples`` (N, ...) over axis 0 is within MC_Z standard errors of ``expected``.

    ``expected_se`` is the standard error of ``expected`` when it is itself a Monte Carlo estimate.
    """
    mean, se = mc_mean(to_numpy(samples, name))
    _check(mean, se, expected, expected_se, "Monte Carlo mean", name, hint)


def check_mc_variance(samples, expected, name: str, hint: str = "") -> None:
    """Fail unless the sample variance of ``samples`` (N, ...) is within MC_Z standard errors of ``expected``."""
    var, se = mc_variance(to_numpy(samples, name))
    _check(var, se, expected, 0.0, "variance of the single-sample estimates", name, hint)
