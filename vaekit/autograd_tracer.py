"""A leaner call of an autograd primitive: the same tape, with fewer Python steps per operation.

Every differentiable NumPy function of autograd (``autograd.numpy.exp``, ``anp.add`` behind ``a + b``, ...)
is a "primitive": a wrapper ``f_wrapped`` made by ``autograd.tracer.primitive`` around the NumPy function
``f_raw``. On each call the wrapper looks for boxes (the traced values) among the arguments; if there are any
it records a node of the tape. autograd's wrapper does this in two rounds: it replaces the boxes of the newest
trace by their values and calls *itself* again on those values, which scans the arguments a second time before
it reaches ``f_raw``. A training step of the VAE records about 70 nodes and calls a hundred more primitives on
plain arrays in its backward pass, so these scans are a good part of autograd's Python time.

:func:`lean_f_wrapped` is the same wrapper with one scan: when the values left after unboxing hold no box (one
trace, the usual case) it calls ``f_raw`` directly, and otherwise itself, as autograd does (a gradient of a
gradient). The scan for NumPy ufunc overriders (another array type with its own ``__array_ufunc__``, such as an
xarray DataArray, next to a box) is done only for ufuncs, and it decides as autograd's does. The behaviour is
autograd's own in every case; only the number of Python calls changes.

:func:`install` puts this code in place of the code of every existing primitive wrapper (Python lets a
function's ``__code__`` be replaced when the new code uses the same closure variables: ``f_raw``,
``f_wrapped``, ``is_ufunc``), so every reference to a primitive, every VJP registered for it and every identity
check stays valid; :func:`uninstall` puts autograd's code back.
"""

from __future__ import annotations

import autograd
import numpy as np
from autograd import tracer
from autograd.builtins import container_take
from autograd.tracer import box_types, new_box, notrace_primitives


def _lean_wrapper_factory(f_raw, is_ufunc):
    """A primitive wrapper around ``f_raw``; only its ``__code__`` is used (see :func:`lean_f_wrapped`)."""

    def f_wrapped(*args, called_by_autograd_dispatcher=False, **kwargs):
        top_trace = -1
        boxed_args = None
        for argnum, arg in enumerate(args):
            if type(arg) in box_types:
                trace = arg._trace
                if trace > top_trace:
                    boxed_args = [(argnum, arg)]
                    top_trace = trace
                elif trace == top_trace:
                    boxed_args.append((argnum, arg))
        if boxed_args is None:
            return f_raw(*args, **kwargs)
        if is_ufunc and not called_by_autograd_dispatcher:
            # autograd's rule: an ArrayBox next to an unboxed argument that overrides ufuncs lets NumPy's ufunc
            # dispatch choose who handles the call.
            any_arraybox = False
            any_unboxed_ufunc_overrider = False
            for arg in args:
                t = type(arg)
                if t in box_types:
                    if t == autograd.numpy.numpy_boxes.ArrayBox:
                        any_arraybox = True
                elif getattr(t, "__array_ufunc__", None) not in (None, np.ndarray.__array_ufunc__):
                    any_unboxed_ufunc_overrider = True
            if any_arraybox and any_unboxed_ufunc_overrider:
                return f_raw(*args, **kwargs)
        node_constructor = type(boxed_args[0][1]._node)
        argvals = list(args)
        for argnum, box in boxed_args:
            argvals[argnum] = box._value
        argvals = tuple(argvals)
        if f_wrapped in notrace_primitives[node_constructor]:
            return f_wrapped(*argvals, called_by_autograd_dispatcher=called_by_autograd_dispatcher, **kwargs)
        parents = tuple([box._node for _, box in boxed_args])
        argnums = tuple([argnum for argnum, _ in boxed_args])
        for arg in argvals:
            if type(arg) in box_types:  # boxes of an outer trace: autograd's second round records them
                ans = f_wrapped(*argvals, called_by_autograd_dispatcher=called_by_autograd_dispatcher, **kwargs)
                break
        else:
            ans = f_raw(*argvals, **kwargs)
        node = node_constructor(ans, f_wrapped, argvals, kwargs, argnums, parents)
        try:
            return new_box(ans, top_trace, node)
        except Exception as e:
            if called_by_autograd_dispatcher:
                raise NotImplementedError from e
            raise

    return f_wrapped


lean_f_wrapped = _lean_wrapper_factory(None, False)
LEAN_CODE = lean_f_wrapped.__code__
AUTOGRAD_CODE = container_take.__code__  # the code of autograd's primitive wrappers (all share one)
_saved_code: dict = {}  # primitive wrapper -> autograd's code, while installed


def compatible() -> bool:
    """Whether autograd's wrappers are the ones the lean code reimplements (autograd 1.9: the closure variables,
    the keyword ``called_by_autograd_dispatcher`` and the registry ``trace_primitives_map``; older versions
    keep their own wrappers) and the globals it uses are autograd's."""
    code = AUTOGRAD_CODE
    if (code is LEAN_CODE or code.co_freevars != LEAN_CODE.co_freevars
            or "called_by_autograd_dispatcher" not in code.co_varnames
            or "find_top_boxed_args" not in code.co_names or not hasattr(tracer, "trace_primitives_map")):
        return False
    globals_used = [name for name in LEAN_CODE.co_names if name in globals()]
    return all(getattr(tracer, name, None) is globals()[name] for name in globals_used)


def install() -> bool:
    """Give every primitive wrapper of autograd the lean code; False (nothing changed) if autograd differs."""
    if _saved_code:
        return True
    if not compatible():
        return False
    code = AUTOGRAD_CODE
    for f_wrapped in list(tracer.trace_primitives_map.values()):
        if getattr(f_wrapped, "__code__", None) is code:
            _saved_code[f_wrapped] = code
            f_wrapped.__code__ = LEAN_CODE
    return True


def uninstall() -> None:
    """Give the wrappers changed by :func:`install` autograd's code back."""
    for f_wrapped, code in _saved_code.items():
        f_wrapped.__code__ = code
    _saved_code.clear()
