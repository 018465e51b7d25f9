"""Fixes to autograd for float32 training: keep gradients in float32, no overflow in tanh, and less time.

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

3. Time. NumPy's ``logaddexp`` evaluates log(e^a + e^b) = max(a, b) + log1p(exp(-|a - b|)) one element at a
   time with the C library's scalar exp and log1p: 1.2 ms for the 100,352 logits of a minibatch, more than a
   large matrix product. :func:`logaddexp` computes the same formula with NumPy's vectorised ``exp`` and
   ``log1p`` (about 7 times faster) and is put in place of ``autograd.numpy.logaddexp``, with autograd's own
   VJPs. The VJP of ``maximum`` (a ReLU: ``g`` times 1 where x is the maximum, 1/2 on a tie, 0 elsewhere) is
   built with fewer passes over the array, and that of ``where`` fills the unselected entries with a scalar
   zero instead of a whole array of zeros.

:func:`install_autograd_fixes` re-registers these VJPs with the same formulas (the tanh one in the
equivalent form above), computed in the dtype of the incoming gradient ``g``. The kit's own tests
check them against autograd's own VJPs, NumPy's own ``logaddexp`` and finite differences. Calling it more
than once is harmless; :func:`uninstall_autograd_fixes` puts everything back.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as onp
from autograd.extend import defvjp, primitive
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


def _zero(g):
    """A scalar 0 of g's dtype: ``where`` fills with it without making an array of zeros."""
    return onp.zeros((), dtype=anp.result_type(g))


def _where_vjp_x(ans, c, x=None, y=None):
    r"""d where(c, x, y) / dx = g where c, else 0."""
    return lambda g: anp.where(c, g, _zero(g))


def _where_vjp_y(ans, c, x=None, y=None):
    r"""d where(c, x, y) / dy = 0 where c, else g."""
    return lambda g: anp.where(c, _zero(g), g)


def _balanced_eq(x, z, y, dtype):
    r"""1 where x alone attains z = max(x, y) (or min), 1/2 where x == y, 0 elsewhere; in ``dtype``."""
    share = onp.asarray(x == z).astype(dtype)
    tie = onp.asarray(x == y)
    if tie.any():  # rare for real numbers (a ReLU's input exactly 0): halve the share there
        share = share / (1 + tie).astype(dtype)
    return share


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


@primitive
def logaddexp(x1, x2, **kwargs):
    r"""log(e^{x1} + e^{x2}) elementwise, the values of ``numpy.logaddexp`` from vectorised exp and log1p.

    .. math::
        \log(e^{a} + e^{b}) = \max(a, b) + \log\big(1 + e^{-|a - b|}\big), \qquad = a + \log 2 \text{ if } a = b

    the formula NumPy's own ``logaddexp`` evaluates element by element (its last case also covers a = b = +-inf,
    where a - b is NaN). Shapes broadcast as in NumPy; float32 stays float32. Other dtypes and the ufunc's
    keyword arguments (``out``, ``where``, ...) go to ``numpy.logaddexp`` itself.
    """
    dtype = onp.result_type(x1, x2)
    if kwargs or dtype not in (onp.float32, onp.float64):
        return onp.logaddexp(x1, x2, **kwargs)
    with onp.errstate(invalid="ignore"):
        tail = onp.asarray(onp.subtract(x1, x2, dtype=dtype))
        onp.abs(tail, out=tail)
        onp.negative(tail, out=tail)
        onp.exp(tail, out=tail)  # in (0, 1]: no overflow
        onp.log1p(tail, out=tail)
        out = onp.asarray(onp.maximum(x1, x2, dtype=dtype))
        out += tail
        nan = onp.isnan(out)
        if nan.any():  # a = b = +-inf gives inf - inf = NaN above; NumPy's answer is a (NaN stays NaN)
            out = onp.where(nan & (x1 == x2), onp.broadcast_to(x1, out.shape), out).astype(dtype)
    return out if out.ndim else out[()]


_PATCHED = (_mean, _where, anp.maximum, anp.minimum, anp.fmax, anp.fmin, anp.max, anp.min, anp.amax, anp.amin,
            anp.tanh)
_saved: dict = {}  # autograd's own VJPs of the functions above, while the fixes are installed
_REPLACED = (anp, numpy_wrapper)  # the modules whose ``logaddexp`` is :func:`logaddexp` while installed
_saved_logaddexp: dict = {}


def install_autograd_fixes() -> None:
    """Register the VJPs of mean, where, maximum, minimum, max, min (dtype-preserving) and tanh, and put
    :func:`logaddexp` in place of ``autograd.numpy.logaddexp`` (idempotent)."""
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
    primitive_vjps[logaddexp] = primitive_vjps[anp.logaddexp]  # autograd's VJPs: g * exp(x - ans)
    for module in _REPLACED:
        _saved_logaddexp[module] = module.logaddexp
        module.logaddexp = logaddexp
    _installed = True


def uninstall_autograd_fixes() -> None:
    """Give autograd back its own VJPs (the process-wide change of :func:`install_autograd_fixes` undone)."""
    global _installed
    if not _installed:
        return
    from autograd.core import primitive_vjps

    for module, fun in _saved_logaddexp.items():
        module.logaddexp = fun
    _saved_logaddexp.clear()
    for fun, vjps in _saved.items():
        primitive_vjps[fun] = vjps
    primitive_vjps.pop(logaddexp, None)
    _saved.clear()
    _installed = False
