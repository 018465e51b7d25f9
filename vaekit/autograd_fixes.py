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
   ``log1p`` (several times faster) and is put in place of ``autograd.numpy.logaddexp``, with autograd's own
   VJPs. Other VJPs get the same formulas with fewer passes over the arrays: ``maximum`` (a ReLU: ``g`` times
   1 where x is the maximum, 1/2 on a tie, 0 elsewhere); ``where`` (a scalar zero in the unselected entries,
   not a whole array of zeros); ``x**y`` for a number y (``g * y * x`` for y = 2, no power of an array);
   ``x / y`` with respect to y (``-g * (x / y) / y`` from the forward result); autograd's ``unbroadcast``
   (a sum over an axis of length 1, such as the K = 1 sample axis, is the array itself, not a copy) and
   ``repeat_to_match_shape`` of ``sum`` and ``mean`` (one pass instead of adding g to an array of zeros).
   Two primitives compute with faster functions of the same values: ``where`` (:func:`where`, two copies
   instead of ``numpy.where``, forward and in its VJPs) and ``power`` (:func:`power`: x**2 is ``numpy.square``).

4. autograd's own Python time: tens of microseconds per operation of the tape, some 70 operations per training
   step (the benchmark script bench_autograd.py of the kit prints the figures with and without these fixes).
   :mod:`vaekit.autograd_tracer` gives every primitive a wrapper that scans its arguments once instead of
   twice (autograd 1.9, whose wrapper it reimplements; older versions keep theirs); :mod:`vaekit.autograd_tape`
   is a backward pass that adds plain arrays directly and collects the gradients of a list's items (the
   parameter vector cut by ``np.split``) without a list of zeros the size of all parameters.

:func:`install_autograd_fixes` re-registers these VJPs with the same formulas (the tanh and divide ones in the
equivalent forms above), computed in the dtype of the incoming gradient ``g``, and installs 3 and 4. The
kit's own tests check them against autograd's own VJPs, NumPy's own ``logaddexp``, ``where`` and ``power``,
finite differences and gradients of gradients. Calling it more than once is harmless;
:func:`uninstall_autograd_fixes` puts everything back.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as onp
from autograd import builtins as ag_builtins
from autograd import core as ag_core
from autograd.extend import defvjp, primitive
from autograd.numpy import numpy_vjps, numpy_wrapper
from autograd.tracer import isbox

from . import autograd_tape, autograd_tracer

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


def _fast_where_ok(condition, x, y):
    """Whether :func:`where` may take its fast path: a boolean array and float arrays or real Python numbers."""
    if type(condition) is not onp.ndarray or condition.dtype != onp.bool_:
        return False
    for branch in (x, y):
        t = type(branch)
        if t is onp.ndarray:
            if branch.dtype.kind != "f":
                return False
        elif t is not float and t is not int:
            return False
    return True


def where(condition, x=None, y=None):
    r"""``numpy.where(condition, x, y)``: x where the condition holds, y elsewhere, broadcast together.

    .. math::
        \mathrm{out}_i = x_i \text{ if } c_i \text{ else } y_i

    For a boolean array c and float arrays (or Python numbers) x and y it writes y, then x where c holds, into a
    new array of the broadcast shape and of NumPy's result dtype (two copies, ``numpy.copyto``, about 3x faster
    than ``numpy.where`` on a (1, 128, 784) float32 array); the unselected entries are never read into the
    result, so a NaN or inf there stays out of it. Every other call is ``numpy.where`` itself.
    """
    if x is None or y is None or not _fast_where_ok(condition, x, y):
        if x is None and y is None:
            return onp.where(condition)
        return onp.where(condition, x, y)
    dtype = onp.result_type(x, y)
    if dtype.kind != "f":  # two Python ints: NumPy's own
        return onp.where(condition, x, y)
    out = onp.empty(onp.broadcast_shapes(condition.shape, onp.shape(x), onp.shape(y)), dtype=dtype)
    onp.copyto(out, y)
    onp.copyto(out, x, where=condition)
    return out


def _where_vjp_x(ans, c, x=None, y=None):
    r"""d where(c, x, y) / dx = g where c, else 0."""
    return lambda g: _where(c, g, _zero(g))


def _where_vjp_y(ans, c, x=None, y=None):
    r"""d where(c, x, y) / dy = 0 where c, else g."""
    return lambda g: _where(c, _zero(g), g)


def power(x1, x2, *args, **kwargs):
    r"""``numpy.power(x1, x2)``, with x^2 as ``numpy.square(x)`` for a float array x and the number 2.

    .. math::
        x^2 = x \cdot x

    one correctly rounded product, where ``numpy.power`` calls the C library's ``pow`` for every element
    (3.7x slower for a (1, 128, 784) float32 array; autograd's ``x ** 2`` calls ``numpy.power``, not the
    operator ``**`` of NumPy arrays, which has the same shortcut). Every other call is ``numpy.power`` itself.
    """
    if (not args and not kwargs and type(x1) is onp.ndarray and x1.dtype.kind == "f"
            and (type(x2) is int or type(x2) is float) and x2 == 2):
        return onp.square(x1)
    return onp.power(x1, x2, *args, **kwargs)


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


def _is_scalar(y):
    """Whether y is one real number (Python, NumPy or a 0-d array), not a traced value."""
    if isinstance(y, bool):
        return False
    if isinstance(y, (int, float, onp.integer, onp.floating)):
        return True
    return isinstance(y, onp.ndarray) and y.ndim == 0 and y.dtype.kind in "iuf"


def _power_vjp_x(ans, x, y):
    r"""d x^y / dx = y x^(y-1) (autograd's formula; x^1 is x itself, as when y = 0 autograd multiplies by 0)."""
    if not _is_scalar(y):
        return numpy_vjps.unbroadcast_f(x, lambda g: g * y * x ** anp.where(y, y - 1, 1.0))
    exponent = float(y) - 1.0 if y != 0 else 1.0
    if exponent == 1.0:  # y = 2 (a square) or y = 0: no power at all
        return numpy_vjps.unbroadcast_f(x, lambda g: g * y * x)
    return numpy_vjps.unbroadcast_f(x, lambda g: g * y * x ** exponent)


def _power_vjp_y(ans, x, y):
    r"""d x^y / dy = log(x) x^y (autograd's formula, log 0 taken as 0)."""
    return numpy_vjps.unbroadcast_f(y, lambda g: g * anp.log(numpy_vjps.replace_zero(x, 1.0)) * ans)


def _divide_vjp_x(ans, x, y):
    r"""d (x / y) / dx = 1 / y."""
    return numpy_vjps.unbroadcast_f(x, lambda g: g / y)


def _divide_vjp_y(ans, x, y):
    r"""d (x / y) / dy = -x / y^2 = -(x / y) / y, from the forward result ``ans`` = x / y."""
    return numpy_vjps.unbroadcast_f(y, lambda g: -g * ans / y)


def _unbroadcast(x, target_meta, broadcast_idx=0):
    r"""Sum the gradient x over the axes along which its operand was broadcast (autograd's ``unbroadcast``).

    A sum over an axis of length 1 is the array itself: it is dropped (a reshape) or skipped instead of being
    computed as a copy, which autograd's version does for every (1, B, D) array of a K = 1 training step.
    """
    target_shape, target_ndim, _, target_iscomplex = target_meta
    # A plain array (not a box of a nested trace) is summed with NumPy's own functions, which the primitives of
    # ``autograd.numpy`` would call: the same results, without going through the tracer.
    np_ = onp if type(x) is onp.ndarray else anp
    if np_ is onp and x.shape == target_shape and (target_iscomplex or x.dtype.kind != "c"):
        return x  # nothing was broadcast (the common case): what the steps below give, without their calls
    while np_.ndim(x) > target_ndim:
        if np_.shape(x)[broadcast_idx] == 1:
            x = np_.squeeze(x, axis=broadcast_idx)
        else:
            x = np_.sum(x, axis=broadcast_idx)
    for axis, size in enumerate(target_shape):
        if size == 1 and np_.shape(x)[axis] != 1:
            x = np_.sum(x, axis=axis, keepdims=True)
    if np_.iscomplexobj(x) and not target_iscomplex:
        x = np_.real(x)
    return x


def _repeat_to_match_shape(g, shape, dtype, axis, keepdims):
    r"""g (reduced over ``axis``) repeated to ``shape``, and the number of repetitions (autograd's function).

    One pass that writes g into a new array, where autograd's adds g to an array of zeros (two passes).
    """
    if shape == ():
        return g, 1
    axis = list(axis) if isinstance(axis, tuple) else axis
    new_shape = onp.array(shape)
    new_shape[axis] = 1
    num_reps = onp.prod(onp.array(shape)[axis])
    g = anp.reshape(g, new_shape)
    if isbox(g):  # differentiating a gradient: autograd's own form, made of primitives
        return g + onp.zeros(shape, dtype=dtype), num_reps
    out = onp.empty(shape, dtype=onp.result_type(g, dtype))
    out[...] = g
    return out, num_reps


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
    try:
        dtype = onp.result_type(x1, x2)
    except TypeError:  # e.g. Python lists
        dtype = None
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


_PATCHED = (ag_builtins.container_take, _mean, _where, anp.maximum, anp.minimum, anp.fmax, anp.fmin, anp.max,
            anp.min, anp.amax, anp.amin, anp.tanh, anp.power, anp.divide, anp.true_divide)
_saved: dict = {}  # autograd's own VJPs of the functions above, while the fixes are installed
_REPLACED = (anp, numpy_wrapper)  # the modules whose ``logaddexp`` is :func:`logaddexp` while installed
_saved_logaddexp: dict = {}
_HELPERS = {"unbroadcast": _unbroadcast, "repeat_to_match_shape": _repeat_to_match_shape,  # in numpy_vjps
            "unbroadcast_f": autograd_tape.unbroadcast_f}
_saved_helpers: dict = {}
_RAW = {_where: where, anp.power: power}  # primitives computed with the faster functions above while installed
_saved_raw: dict = {}
_saved_core: dict = {}  # autograd.core's backward_pass, while the fixes are installed


def _swap_raw(fun, raw):
    """Make the primitive ``fun`` compute with the function ``raw``; returns the one it used before.

    A primitive of autograd calls the NumPy function it wraps from a variable of its closure (``f_raw``);
    changing that variable keeps the primitive itself, its VJPs and every reference to it.
    """
    cell = fun.__closure__[fun.__code__.co_freevars.index("f_raw")]
    previous, cell.cell_contents = cell.cell_contents, raw
    return previous


def _copy_jvps(source, target) -> None:
    """Give the primitive ``target`` the forward-mode derivatives (JVPs) of ``source``, which it computes too."""
    from autograd.core import primitive_jvps

    if source in primitive_jvps:
        primitive_jvps[target] = primitive_jvps[source]


def install_autograd_fixes() -> None:
    """Register the VJPs of mean, where, maximum, minimum, max, min (dtype-preserving), tanh, power and divide,
    autograd's ``unbroadcast``, ``unbroadcast_f`` and ``repeat_to_match_shape`` of this module, put
    :func:`logaddexp` in place of ``autograd.numpy.logaddexp``, :func:`where` and :func:`power` in the primitives
    ``where`` and ``power``, and install the lean primitive wrappers and backward pass (idempotent; see the
    module docstring)."""
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
    defvjp(anp.power, _power_vjp_x, _power_vjp_y)
    for fun in (anp.divide, anp.true_divide):
        defvjp(fun, _divide_vjp_x, _divide_vjp_y)
    primitive_vjps[logaddexp] = primitive_vjps[anp.logaddexp]  # autograd's VJPs: g * exp(x - ans)
    _copy_jvps(anp.logaddexp, logaddexp)
    for fun, raw in _RAW.items():
        _saved_raw[fun] = _swap_raw(fun, raw)
    for module in _REPLACED:
        _saved_logaddexp[module] = module.logaddexp
        module.logaddexp = logaddexp
    for name, fun in _HELPERS.items():
        _saved_helpers[name] = getattr(numpy_vjps, name)
        setattr(numpy_vjps, name, fun)
    _saved_core["backward_pass"] = ag_core.backward_pass
    ag_core.backward_pass = autograd_tape.backward_pass  # what ``make_vjp`` (grad, value_and_grad, ...) calls
    defvjp(ag_builtins.container_take, autograd_tape.container_take_vjp)
    autograd_tracer.install()
    _installed = True


def uninstall_autograd_fixes() -> None:
    """Give autograd back its own VJPs (the process-wide change of :func:`install_autograd_fixes` undone)."""
    global _installed
    if not _installed:
        return
    from autograd.core import primitive_jvps, primitive_vjps

    for fun, raw in _saved_raw.items():
        _swap_raw(fun, raw)
    _saved_raw.clear()
    primitive_vjps.pop(logaddexp, None)
    primitive_jvps.pop(logaddexp, None)
    for module, fun in _saved_logaddexp.items():
        module.logaddexp = fun
    _saved_logaddexp.clear()
    for name, fun in _saved_helpers.items():
        setattr(numpy_vjps, name, fun)
    _saved_helpers.clear()
    for name, fun in _saved_core.items():
        setattr(ag_core, name, fun)
    _saved_core.clear()
    autograd_tracer.uninstall()
    for fun, vjps in _saved.items():
        primitive_vjps[fun] = vjps
    _saved.clear()
    _installed = False
