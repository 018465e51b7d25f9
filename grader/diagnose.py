"""What the numbers of a wrong result show, before any guess at a cause.

:func:`diagnose` compares a result with its expected value and returns observations, each with a kind:

    "transposed"  the result is the expected array transposed
    "factor"      the result is a constant multiple of the expected (2x, 1/2x, -1x, or the length of an axis)
    "offset"      the result is off by a constant (named when it is a multiple of log 2 or of (1/2) log 2 pi)
    "formula"     the result equals a known wrong formula that the test passed in (``wrong=``)

A test's hints can be keyed by these kinds (``check_close(..., hints={"offset": ...})``), so that a hint is shown
only when the numbers point to it; the general hint is shown only when nothing more specific was found.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

FACTORS = {2.0: "2x", 0.5: "1/2x", -1.0: "-1x (the sign is flipped)", -2.0: "-2x", -0.5: "-1/2x"}
LOG2, HALF_LOG_2PI = math.log(2.0), 0.5 * math.log(2 * math.pi)


def _close(a, b, rtol=1e-6, atol=1e-9) -> bool:
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= atol + rtol * np.abs(b)))


def _constant(values: np.ndarray, rtol: float = 1e-6) -> float | None:
    if values.size == 0 or not np.all(np.isfinite(values)):
        return None
    mid = float(np.median(values))
    return mid if np.all(np.abs(values - mid) <= 1e-9 + rtol * abs(mid)) else None


def _multiple(value: float, unit: float) -> int | None:
    k = value / unit
    return int(round(k)) if abs(k - round(k)) < 1e-6 * max(1.0, abs(k)) and round(k) != 0 else None


def diagnose(got: np.ndarray, expected: np.ndarray, wrong: Mapping[str, object] | None = None,
             axis_lengths: tuple[int, ...] = ()) -> list[tuple[str, str]]:
    """``[(kind, text), ...]`` of what ``got`` (float64) shows against ``expected`` (float64)."""
    found: list[tuple[str, str]] = []
    for name, formula in (wrong or {}).items():
        arr = np.asarray(formula, dtype=np.float64)
        if _close(got, arr):
            found.append(("formula", f"your result equals {name}"))
    if got.shape != expected.shape:
        if got.ndim == 2 and got.T.shape == expected.shape and _close(got.T, expected):
            found.append(("transposed", f"your result is the expected one transposed (shape {got.shape} instead of "
                                        f"{expected.shape})"))
        return found
    ok = np.isfinite(got) & np.isfinite(expected)
    if not ok.any():
        return found
    # One wrong number is always some multiple of, and some offset from, the expected one: for a single value only
    # the factors and offsets that name a mistake are worth saying.
    single = int(ok.sum()) == 1
    every = "the value is" if single else "every entry is"
    big = ok & (np.abs(expected) > 1e-12)
    if big.sum() >= 1:
        ratio = _constant(got[big] / expected[big])
        if ratio is not None and abs(ratio - 1.0) > 1e-6:
            named = next((text for c, text in FACTORS.items() if abs(ratio - c) < 1e-6), None)
            axis = next((n for n in axis_lengths if n > 1 and abs(ratio - n) < 1e-6 * n), None)
            inverse = next((n for n in axis_lengths if n > 1 and abs(ratio * n - 1) < 1e-6), None)
            if axis is not None:
                found.append(("factor", f"{every} {axis}x the expected one: a sum over an axis of length "
                                        f"{axis} where the mean is wanted?"))
            elif inverse is not None:
                found.append(("factor", f"{every} 1/{inverse} of the expected one: a mean over an axis of length "
                                        f"{inverse} where the sum is wanted?"))
            elif named is not None or not single:
                found.append(("factor", f"{every} {named or f'{ratio:.6g}x'} the expected one"))
            if found or not single:
                return found
    offset = _constant((got - expected)[ok], rtol=1e-7)
    if offset is not None and abs(offset) > 1e-9:
        text = f"{every} off by the same constant {offset:+.10g}" if not single else f"{every} off by {offset:+.10g}"
        k = _multiple(offset, LOG2)
        if k is not None:
            text += f" = {k:+d} x log 2" + (f" (log 2 per entry of an axis of length {abs(k)})" if abs(k) in axis_lengths else "")
        else:
            k = _multiple(offset, HALF_LOG_2PI)
            if k is not None:
                text += (f" = {k:+d} x (1/2) log 2 pi: a term (1/2) log 2 pi counted {abs(k)} time"
                         f"{'s' if abs(k) > 1 else ''} too often or too rarely (it belongs once per dimension of x or z)")
            elif single:
                return found
        found.append(("offset", text))
    return found
