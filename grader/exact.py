"""Exact references of the challenge exercises (Exercise 11 / T11), computed by the judge with mpmath.

Every function takes float64 arrays (the inputs exactly as the graded code saw them: a float32 input is passed
here converted to float64, which is exact) and returns float64 arrays of the exact values, rounded once. They
work at 50 significant digits, so the cancellations that the exercises are about (l / tanh(l/2) near l = 0,
1/(1 - e^-l) - 1/l, exp(1000)) cost nothing here. Nothing here comes from the solutions or reference.npz.
"""

from __future__ import annotations

import mpmath as mp
import numpy as np

DPS = 50


def _elementwise(f, x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    with mp.workdps(DPS):
        return np.array([float(f(mp.mpf(float(v)))) for v in x.ravel()], dtype=np.float64).reshape(x.shape)


def _log_c(l):
    """log C(l) = log(l / tanh(l/2)), log 2 at l = 0: 1/C = int_0^1 eta^x (1 - eta)^(1 - x) dx, eta = sigmoid(l)."""
    return mp.log(2) if l == 0 else mp.log(l / mp.tanh(l / 2))


def _log_c_grad(l):
    """d log C / dl = 1/l - 1/sinh(l), 0 at l = 0."""
    return mp.mpf(0) if l == 0 else 1 / l - 1 / mp.sinh(l)


def log_c(l) -> np.ndarray:
    """log C(l) of the continuous Bernoulli, elementwise."""
    return _elementwise(_log_c, l)


def log_c_grad(l) -> np.ndarray:
    """d log C(l) / dl, elementwise."""
    return _elementwise(_log_c_grad, l)


def log_c_taylor_coefficients(n_terms: int) -> list:
    """a_0 .. a_{n-1} (mpf) of log C(l) = sum_n a_n l^(2n): a_0 = log 2, a_n = (2^(2n) - 2) B_2n / ((2n)! 2n).

    From d log C / dl = 1/l - 1/sinh(l) and the series of 1/sinh(l) in Bernoulli numbers B_2n.
    """
    with mp.workdps(DPS):
        coeffs = [mp.log(2)]
        for n in range(1, n_terms):
            coeffs.append((mp.mpf(2) ** (2 * n) - 2) * mp.bernoulli(2 * n) / (mp.factorial(2 * n) * 2 * n))
        return coeffs


def log_c_taylor_polynomials(l, max_power: int = 30) -> dict[int, np.ndarray]:
    """{2m: the Taylor polynomial of log C truncated after l^(2m), at l} for 2m = 2 .. max_power."""
    coeffs = log_c_taylor_coefficients(max_power // 2 + 1)
    x = np.asarray(l, dtype=np.float64)
    out = {}
    with mp.workdps(DPS):
        values = [mp.mpf(float(v)) for v in x.ravel()]
        partial = [coeffs[0]] * len(values)
        for n in range(1, len(coeffs)):
            partial = [p + coeffs[n] * v ** (2 * n) for p, v in zip(partial, values)]
            out[2 * n] = np.array([float(p) for p in partial]).reshape(x.shape)
    return out


def _cb_mean(l):
    """E[x] under p(x | l) = e^(l x) / int_0^1 e^(l x) dx: 1/(1 - e^-l) - 1/l, 1/2 at l = 0."""
    return mp.mpf(1) / 2 if l == 0 else 1 / (1 - mp.exp(-l)) - 1 / l


def _cb_mean_grad(l):
    """dE[x]/dl = Var[x] = 1/l^2 - 1/(4 sinh^2(l/2)), 1/12 at l = 0."""
    return mp.mpf(1) / 12 if l == 0 else 1 / l**2 - 1 / (4 * mp.sinh(l / 2) ** 2)


def cb_mean(l) -> np.ndarray:
    """The continuous Bernoulli's mean from its logit, elementwise."""
    return _elementwise(_cb_mean, l)


def cb_mean_grad(l) -> np.ndarray:
    """dE[x]/dl, elementwise."""
    return _elementwise(_cb_mean_grad, l)


def log_mean_exp(a, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log(mean(exp(a))) along ``axis`` at 50 digits (-inf entries count as 0; an all -inf slice gives -inf)."""
    a = np.moveaxis(np.asarray(a, dtype=np.float64), axis, -1)
    rows = a.reshape(-1, a.shape[-1])
    out = []
    with mp.workdps(DPS):
        for row in rows:
            total = mp.fsum(mp.exp(mp.mpf(float(v))) for v in row if v != -np.inf)
            out.append(-np.inf if total == 0 else float(mp.log(total / len(row))))
    result = np.array(out).reshape(a.shape[:-1])
    return np.expand_dims(result, axis) if keepdims else result


def log_mean_exp_grad(a, axis: int = -1) -> np.ndarray:
    """d sum(log_mean_exp(a)) / da: the softmax of each slice along ``axis`` (0 at -inf entries)."""
    moved = np.moveaxis(np.asarray(a, dtype=np.float64), axis, -1)
    rows = moved.reshape(-1, moved.shape[-1])
    out = np.zeros_like(rows)
    with mp.workdps(DPS):
        for i, row in enumerate(rows):
            weights = [mp.mpf(0) if v == -np.inf else mp.exp(mp.mpf(float(v))) for v in row]
            total = mp.fsum(weights)
            out[i] = [float(w / total) for w in weights]
    return np.moveaxis(out.reshape(moved.shape), -1, axis)


# --- the points the challenge exercises are checked at -----------------------------------------------------
def series_points() -> np.ndarray:
    """float64 logits in |l| <= 0.1 (both ends, 0, tiny ones), shape (9, 10): where the series must be accurate."""
    grid = np.linspace(-0.1, 0.1, 81)
    extra = np.array([0.0, 1e-8, -1e-8, 1e-4, -1e-4, np.nextafter(0.1, 0.0), -np.nextafter(0.1, 0.0), 0.0999, -0.0999])
    return np.concatenate([grid, extra]).reshape(9, 10)


def f32_sweep(window: float) -> np.ndarray:
    """float32 logits for the float32 log C: 1e-6 .. 10 on a log grid, 49 points between w/2 and 2w and +-3 ulps
    around w (the student's window), 0, and large logits (30, 80, 1e3, 1e5); both signs, sorted, no repeats."""
    w = np.float32(window)
    points = [np.logspace(-6, 1, 57), np.geomspace(w / 2, 2 * w, 49), [0.0, 30.0, 80.0, 1e3, 1e5]]
    edge, below, above = [w], w, w
    for _ in range(3):
        below, above = np.nextafter(below, np.float32(0)), np.nextafter(above, np.float32(np.inf))
        edge += [below, above]
    pos = np.concatenate([np.asarray(p, dtype=np.float32) for p in points] + [np.array(edge, dtype=np.float32)])
    return np.unique(np.concatenate([pos, -pos]))


def mean_points() -> np.ndarray:
    """float64 logits for the CB mean: 0, tiny (1e-12 .. 1e-4), 1e-3 .. 10 on a log grid, saturated (20 .. 1e8);
    both signs."""
    pos = np.concatenate([[1e-12, 1e-9, 1e-6, 1e-5, 1e-4, 3e-4], np.logspace(-3, 1, 33),
                          [20.0, 37.0, 50.0, 700.0, 710.0, 1e3, 1e5, 1e8]])
    return np.concatenate([[0.0], pos, -pos])


def lme_extreme_rows() -> np.ndarray:
    """Rows of 4 entries for log-mean-exp that overflow, underflow or hold -inf (none all -inf), shape (8, 4)."""
    inf = np.inf
    return np.array([
        [1000.0, 1000.0, 1000.0, 1000.0],
        [-1000.0, -1000.0, -1000.0, -1000.0],
        [1000.0, 0.0, -1000.0, 5.0],
        [-inf, 0.0, 1.0, -inf],
        [-inf, -inf, -inf, -750.0],
        [800.0, 799.5, -3.0, 1e-3],
        [1e4, 1e4 - 1.0, -1e4, 0.0],
        [-1e300, 2.0, 1e-300, -2.0],
    ])
