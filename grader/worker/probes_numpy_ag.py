"""Probes of the NumPy/autograd track (see :mod:`.probes`)."""

from __future__ import annotations

import numpy as np

from .probes import fail, probe

GRAD_HINT = ("write the function with autograd.numpy (import autograd.numpy as np), not plain numpy, and without "
             "in-place assignment (x[i] = ..., +=) on arrays that depend on the inputs")


def _select(out, index):
    """``out[index]`` for a tuple result (``index`` None: ``out`` itself)."""
    return out if index is None else out[index]


@probe
def autograd_grads(track, function, inputs: dict, wrt, index=None) -> dict:
    """Gradients of sum(function(**inputs)[index]) with respect to each input named in ``wrt``, by autograd.

    ``function``: a function of the graded code (sent as a reference). Returns ``{name: float64 array}``.
    """
    from autograd import grad

    grads = {}
    for key in wrt:
        def scalar(value, key=key):
            return _select(function(**{**inputs, key: value}), index).sum()
        try:
            g = grad(scalar)(np.asarray(inputs[key], dtype=np.float64))
        except (NotImplementedError, MemoryError, ImportError, OSError, SystemExit):
            raise
        except Exception as err:  # noqa: BLE001
            fail(f"autograd could not differentiate {getattr(function, '__name__', 'the function')} with respect to "
                 f"{key}: {type(err).__name__}: {str(err)[:300]}\n  hint: {GRAD_HINT}")
        grads[key] = np.asarray(getattr(g, "_value", g), dtype=np.float64)
    return grads
