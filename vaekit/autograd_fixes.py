"""Two fixes to autograd's derivatives, for float32 training: keep gradients in float32, and no overflow in tanh.

1. Under NumPy 2 a few of autograd's vector-Jacobian products (VJPs) return float64 for float32 inputs,
   because they mix in a NumPy int64 or float64 value that NumPy 2 no longer demotes:

   * ``mean`` divides by ``num_reps``, an ``int64`` NumPy scalar;
   * ``where`` fills the unselected branch with ``zeros(shape)``, which is float64;
   * ``maximum`` / ``minimum`` multiply by the tie-breaking mask ``(x == z) / (1.0 + (x == y))``, float64;
   * ``max`` / ``min`` divide by the number of maxima, an int64 array.

   One float64 gradient turns every later gradient of the backward pass into float64, which halves the
   speed of float32 training.

2. autograd differentiates tanh as ``g / cosh(x)**2``: for |x| > 89 (float32) or 710 (float64) ``cosh``
   overflows, and although the result is rightly 0, NumPy warns "overflow encountered in cosh". The
   continuous Bernoulli's ``tanh(logits / 2)`` meets such |logits| all the time. The same derivative is
   ``g * (1 - tanh(x)**2)``, which reuses the forward result and cannot overflow.

:func:`install_autograd_fixes` re-registers these VJPs with the same formulas (the tanh one in the
equivalent form above), computed in the dtype of the incoming gradient ``g``. The kit's own tests
check them against autograd's own VJPs and finite differences. Calling it more than once is harmless.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as onp
from autograd.extend import defvjp
from autograd.numpy import numpy_vjps, numpy_wrapper

# The primitive that ``anp.where`` forwards to (autograd wraps it to keep Python lists as lists).
_where = getattr(anp, "_original_where", numpy_wrapper.where)
_mean = getattr(numpy_wrapper, "_primitive_mean", anp.mean)

_installed = False


def _mean_vjp(ans, x, axis=None, keepdims=False, **kwargs):
    r"""d mean(x) / dx: g spread over the averaged axes and divided by their size n (a Python int)."""
    shape, dtype = anp.shape(x), anp.result_type(x)

    def vjp(g):
        g_repeated, num_reps = numpy_vjps.repeat_to_match_shape(g, shape, dtype, axis, keepdims)
        return g_repeated / int(num_reps)

    return vjp


def _where_vjp_x(ans, c, x=None, y=None):
    r"""d where(c, x, y) / dx = g where c, else 0."""
    return lambda g: anp.where(c, g, anp.zeros_like(g))


def _where_vjp_y(ans, c, x=None, y=None):
    r"""d where(c, x, y) / dy = 0 where c, else g."""
    return lambda g: anp.where(c, anp.zeros_like(g), g)


def _balanced_eq(x, z, y, dtype):
    r"""1 where x alone attains z = max(x, y) (or min), 1/2 where x == y, 0 elsewhere; in ``dtype``."""
    return onp.asarray(x == z).astype(dtype) / onp.asarray(1 + (x == y)).astype(dtype)


def _extremum_vjp_x(ans, x, y):
    return numpy_vjps.unbroadcast_f(x, lambda g: g * _balanced_eq(x, ans, y, anp.result_type(g)))


def _extremum_vjp_y(ans, x, y):
    return numpy_vjps.unbroadcast_f(y, lambda g: g * _balanced_eq(y, ans, x, anp.result_type(g)))


def _chooser_vjp(ans, x, axis=None, keepdims=None, **kwargs):
    r"""d max(x) / dx: g shared equally among the entries that attain the maximum (or minimum)."""
    shape, dtype = anp.shape(x), anp.result_type(x)

    def vjp(g):
        g_repeated, _ = numpy_vjps.repeat_to_match_shape(g, shape, dtype, axis, keepdims)
        is_max = x == numpy_vjps.repeat_to_match_shape(ans, shape, dtype, axis, keepdims)[0]
        count = onp.sum(is_max, axis=axis, keepdims=True).astype(anp.result_type(g))
        return g_repeated * is_max / count

    return vjp


def _tanh_vjp(ans, x):
    r"""d tanh(x) / dx = 1 - tanh(x)^2 = 1 / cosh(x)^2, from the forward result ``ans`` = tanh(x)."""
    return lambda g: g * (1.0 - ans * ans)


_PATCHED = (_mean, _where, anp.maximum, anp.minimum, anp.fmax, anp.fmin, anp.max, anp.min, anp.amax, anp.amin,
            anp.tanh)
_saved: dict = {}  # autograd's own VJPs of the functions above, while the fixes are installed


def install_autograd_fixes() -> None:
    """Register the VJPs of mean, where, maximum, minimum, max, min (dtype-preserving) and tanh (idempotent)."""
    global _installed
    if _installed:
        return
    from autograd.core import primitive_vjps

    _saved.update({fun: primitive_vjps[fun] for fun in _PATCHED if fun in primitive_vjps})
    defvjp(_mean, _mean_vjp)
    defvjp(_where, None, _where_vjp_x, _where_vjp_y)
    for fun in (anp.maximum, anp.minimum, anp.fmax, anp.fmin):
        defvjp(fun, _extremum_vjp_x, _extremum_vjp_y)
    for fun in (anp.max, anp.min, anp.amax, anp.amin):
        defvjp(fun, _chooser_vjp)
    defvjp(anp.tanh, _tanh_vjp)
    _installed = True


def uninstall_autograd_fixes() -> None:
    """Give autograd back its own VJPs (the process-wide change of :func:`install_autograd_fixes` undone)."""
    global _installed
    if not _installed:
        return
    from autograd.core import primitive_vjps

    for fun, vjps in _saved.items():
        primitive_vjps[fun] = vjps
    _saved.clear()
    _installed = False
