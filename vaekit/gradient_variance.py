r"""Exact and Monte Carlo variances of single-sample gradient estimators.

The toy problem of Exercises 10.1 and 10.2: x ~ N(mu, sigma^2), f(x) = (x - k)^2, and the gradient

.. math::
    \frac{\partial}{\partial\mu}\,\mathbb E[f(x)] = \frac{\partial}{\partial\mu}\big[(\mu-k)^2 + \sigma^2\big]
    = 2(\mu - k).

With x = mu + sigma * eps, eps ~ N(0, 1), and a = mu - k, the two single-sample estimators are

.. math::
    g_{\text{path}} = f'(x)\,\frac{\partial x}{\partial\mu} = 2(x - k), \qquad
    g_{\text{SF}} = \big(f(x) - b\big)\,\frac{\partial}{\partial\mu}\log\mathcal N(x;\mu,\sigma^2)
    = \big(f(x) - b\big)\,\frac{\varepsilon}{\sigma},

both with mean 2a. Expanding in the moments of eps (E eps^2 = 1, E eps^4 = 3, E eps^6 = 15, odd ones 0):

.. math::
    \mathrm{Var}\,g_{\text{path}} = 4\sigma^2, \qquad
    \mathrm{Var}\,g_{\text{SF}} = \frac{a^4 + 18a^2\sigma^2 + 15\sigma^4 - 2b\,(a^2 + 3\sigma^2) + b^2}{\sigma^2}
    - 4a^2.

At mu = sigma = 1 the score-function variance without baseline is 15, 30, 87, 495 for k = 1, 0, -1, -3,
against 4 for the pathwise estimator at every k; the baseline b* = a^2 + 3 sigma^2 minimises it (to
8a^2 + 6 at sigma = 1). The kit's own tests check these formulas by Gauss-Hermite quadrature.
"""

from __future__ import annotations

import numpy as np


def exact_grad_mu(mu, sigma, k):
    r"""The true gradient d/dmu E[(x - k)^2] = 2 (mu - k), for x ~ N(mu, sigma^2). Any broadcastable shapes."""
    del sigma  # the gradient does not depend on it
    return 2.0 * (np.asarray(mu, dtype=float) - k)


def exact_variance_pathwise(mu, sigma, k):
    r"""Variance of the single-sample pathwise estimator 2 (x - k): Var = 4 sigma^2, whatever mu and k."""
    shape = np.broadcast(np.asarray(mu), np.asarray(sigma), np.asarray(k)).shape
    return np.broadcast_to(4.0 * np.asarray(sigma, dtype=float) ** 2, shape).copy()


def exact_variance_score_function(mu, sigma, k, baseline=0.0):
    r"""Variance of the single-sample score-function estimator ((x - k)^2 - b) eps / sigma.

    .. math::
        \mathrm{Var} = \frac{a^4 + 18a^2\sigma^2 + 15\sigma^4 - 2b(a^2 + 3\sigma^2) + b^2}{\sigma^2} - 4a^2,
        \qquad a = \mu - k

    Args:
        mu, sigma, k, baseline: floats or broadcastable arrays (sigma > 0).

    Returns:
        The variance, broadcast shape of the arguments.
    """
    a = np.asarray(mu, dtype=float) - k
    s2 = np.asarray(sigma, dtype=float) ** 2
    b = np.asarray(baseline, dtype=float)
    second_moment = (a**4 + 18 * a**2 * s2 + 15 * s2**2 - 2 * b * (a**2 + 3 * s2) + b**2) / s2
    return second_moment - 4 * a**2


def optimal_baseline(mu, sigma, k):
    r"""The constant baseline b* = E[f eps^2] / E[eps^2] = (mu - k)^2 + 3 sigma^2 that minimises the variance."""
    return (np.asarray(mu, dtype=float) - k) ** 2 + 3 * np.asarray(sigma, dtype=float) ** 2


def mc_mean(samples):
    r"""Sample mean of i.i.d. draws along axis 0 and its standard error s / sqrt(N).

    Args:
        samples: shape (N, ...).

    Returns:
        ``(mean, standard_error)``, each of shape (...).
    """
    g = np.asarray(samples, dtype=float)
    n = len(g)
    return g.mean(axis=0), g.std(axis=0, ddof=1) / np.sqrt(n)


def mc_variance(samples):
    r"""Sample variance of i.i.d. draws along axis 0 and its (estimated) standard error.

    .. math::
        \hat v = \frac1{N-1}\sum_n (g_n - \bar g)^2, \qquad
        \mathrm{se}(\hat v) \approx \sqrt{\mathrm{Var}\big[(g - \bar g)^2\big] / N}

    Args:
        samples: shape (N, ...), N >= 2.

    Returns:
        ``(variance, standard_error)``, each of shape (...).
    """
    g = np.asarray(samples, dtype=float)
    n = len(g)
    if n < 2:
        raise ValueError(f"a sample variance needs at least 2 draws along axis 0, got shape {g.shape}")
    sq = (g - g.mean(axis=0)) ** 2
    return sq.sum(axis=0) / (n - 1), sq.std(axis=0, ddof=1) / np.sqrt(n)


def per_parameter_variance(grads):
    r"""Variance of each parameter's gradient over R independent estimates.

    Args:
        grads: shape (R, P): R gradient estimates of the same P parameters (different noise, same data).

    Returns:
        Shape (P,): the unbiased sample variance of each column.
    """
    grads = np.asarray(grads, dtype=float)
    if grads.ndim != 2 or grads.shape[0] < 2:
        raise ValueError(f"grads must have shape (R, P) with R >= 2 repeated estimates, got {grads.shape}")
    return grads.var(axis=0, ddof=1)


class RunningMoments:
    r"""Mean and variance of a stream of vectors g_1, g_2, ... of shape (P,), without storing them (Welford).

    .. math::
        n \leftarrow n + 1, \quad \delta = g - m, \quad m \leftarrow m + \delta / n, \quad
        S \leftarrow S + \delta \odot (g - m), \qquad \hat v = S / (n - 1)
    """

    def __init__(self):
        self.count = 0
        self.mean = None
        self._sum_sq = None

    def update(self, g) -> None:
        """Add one draw g of shape (P,) (any array-like; kept in float64)."""
        g = np.asarray(g, dtype=np.float64)
        if self.mean is None:
            self.mean, self._sum_sq = np.zeros_like(g), np.zeros_like(g)
        if g.shape != self.mean.shape:
            raise ValueError(f"every draw must have shape {self.mean.shape}, got {g.shape}")
        self.count += 1
        delta = g - self.mean
        self.mean += delta / self.count
        self._sum_sq += delta * (g - self.mean)

    @property
    def variance(self) -> np.ndarray:
        """The unbiased sample variance of each entry, shape (P,); needs at least 2 draws."""
        if self.count < 2:
            raise ValueError(f"a sample variance needs at least 2 draws, got {self.count}")
        return self._sum_sq / (self.count - 1)
