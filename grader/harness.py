"""Checks that grader tests use: each failure says which function, which input, what was expected, what came.

All checks call :func:`fail`, which stops the test with a short message and no traceback; the score table
adds the docs page of the exercise.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import pytest

from . import tolerances as tol


def fail(message: str) -> None:
    """Fail the current test with ``message`` only (no traceback: the message is the feedback)."""
    pytest.fail(message, pytrace=False)


def to_numpy(value, name: str = "the result") -> np.ndarray:
    """A float64 NumPy copy of an array-like result (NumPy array, torch tensor, number) sent by the worker."""
    from .remote import RemoteObject
    from .worker.wire import Unreadable

    if isinstance(value, (RemoteObject, Unreadable)):
        fail(f"{name} should be a numeric array, got {value!r}")
    if isinstance(value, (dict, str)) or value is None:
        fail(f"{name} should be a numeric array, got {type(value).__name__}: {str(value)[:200]}")
    if hasattr(value, "detach"):  # torch.Tensor
        value = value.detach().cpu().numpy()
    if hasattr(value, "_value"):  # autograd ArrayBox
        value = value._value
    try:
        arr = np.asarray(value)
    except Exception as err:  # ragged lists and the like
        fail(f"{name} should be an array, got {type(value).__name__} that NumPy cannot read ({err})")
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        fail(f"{name} should be a numeric array, got {type(value).__name__} with dtype {arr.dtype}")
    return arr.astype(np.float64)


def describe_inputs(inputs: Mapping[str, object] | None, index: tuple | None = None) -> str:
    """A short text of the inputs: small ones in full, large ones by shape (and their value at ``index``)."""
    if not inputs:
        return ""
    parts = []
    for key, value in inputs.items():
        arr = np.asarray(value) if not callable(value) else None
        if arr is None:
            parts.append(f"{key}=<function>")
        elif arr.size <= 6:
            parts.append(f"{key}={np.array2string(arr, precision=6, separator=', ')}")
        else:
            text = f"{key}: shape {arr.shape}"
            at = _entry_at(arr, index)
            if at is not None:
                text += f" (at {index}: {at})"
            parts.append(text)
    return "; ".join(parts)


def _entry_at(arr: np.ndarray, index: tuple | None) -> str | None:
    """The input entry (or small row) that produced the output at ``index``, when the shapes line up."""
    if index is None or arr.ndim < len(index) or not all(i < s for i, s in zip(index, arr.shape)):
        return None
    sub = np.asarray(arr[index]) if index else arr
    if sub.size > 8:
        return None
    return f"{float(sub):.6g}" if sub.ndim == 0 else np.array2string(sub, precision=6, separator=", ")


def check_shape(got: np.ndarray, shape: tuple, name: str, inputs=None, hint: str = "") -> None:
    """Fail unless ``got`` has exactly ``shape``."""
    if got.shape != tuple(shape):
        msg = f"{name}: expected shape {tuple(shape)}, got {got.shape}"
        if inputs:
            msg += f"\n  inputs: {describe_inputs(inputs)}"
        if hint:
            msg += f"\n  hint: {hint}"
        fail(msg)


def check_close(
    got,
    expected,
    name: str,
    inputs: Mapping[str, object] | None = None,
    rtol: float = tol.RTOL,
    atol: float = tol.ATOL,
    hint: str = "",
    dtype=None,
    wrong: Mapping[str, object] | None = None,
    hints: Mapping[str, str] | None = None,
) -> None:
    """Fail unless ``got`` has the dtype (if given) and shape of ``expected``, is finite where it is, and is close.

    Args:
        got: the student's result (any array-like sent by the worker).
        expected: the reference result.
        name: what is compared, e.g. ``"kl_to_standard_normal(mu, log_var)"``.
        inputs: the inputs, reported on failure (for elementwise functions the input at the worst element).
        rtol, atol: |got - expected| <= atol + rtol * |expected| elementwise.
        hint: the general hint, shown unless ``hints`` has one for what the numbers show (grader/diagnose.py);
            a function of the failing entry's index gives a hint that depends on where the result is wrong.
        dtype: the dtype the result must have (e.g. ``np.float32`` for float32 inputs).
        wrong: known wrong formulas, ``{"the Bernoulli log-likelihood": array}``: named when the result equals one.
        hints: hints keyed by what the numbers show (``"factor"``, ``"offset"``, ``"transposed"``, ``"formula"``);
            a test must not give a hint for a kind of observation that rules its cause out.
    """
    from .diagnose import diagnose

    if dtype is not None:
        got_dtype = getattr(got, "dtype", None)
        got_dtype = str(got_dtype).removeprefix("torch.") if got_dtype is not None else type(got).__name__
        want = str(np.dtype(dtype)) if not hasattr(dtype, "is_floating_point") else str(dtype).removeprefix("torch.")
        if got_dtype != want:
            fail(f"{name}: returned dtype {got_dtype}; expected {want} (the dtype of the inputs): a NumPy float64 "
                 "scalar such as np.log(2 * np.pi) or np.sqrt(2.0), or a float64 array or tensor mixed in, upcasts "
                 "the result; keep the computation in the inputs' dtype (Python floats, math.log, math.sqrt)"
                 + (f"\n  inputs: {describe_inputs(inputs)}" if inputs else ""))
    got = to_numpy(got, name)
    expected = np.asarray(expected, dtype=np.float64)
    general = hint
    lengths = tuple(sorted({n for v in (inputs or {}).values() if not callable(v) for n in np.shape(v)}))

    def explain(found) -> str:
        text = "".join(f"\n  the numbers show: {t}" for _, t in found)
        keyed = [hints[k] for k, _ in found if hints and k in hints]
        if keyed:  # the hints the numbers point to replace the general one
            text += "".join(f"\n  hint: {h}" for h in dict.fromkeys(keyed))
        elif hint:
            text += f"\n  hint: {hint}"
        return text

    hint = general(()) if callable(general) else general
    if got.shape != expected.shape:
        found = diagnose(got, expected, wrong, lengths)
        msg = f"{name}: expected shape {expected.shape}, got {got.shape}"
        if inputs:
            msg += f"\n  inputs: {describe_inputs(inputs)}"
        fail(msg + (explain(found) if found else (f"\n  hint: {hint}" if hint else "")))
    bad_finite = np.isfinite(expected) & ~np.isfinite(got)
    if bad_finite.any():
        index = tuple(int(i) for i in np.argwhere(bad_finite)[0])
        hint = general(index) if callable(general) else general
        fail(
            f"{name}: got {got[index]} at index {index}, expected the finite value {expected[index]:.10g}"
            f" ({int(bad_finite.sum())} non-finite entries in all; the first is at {index})\n  inputs: "
            f"{describe_inputs(inputs, index)}" + (f"\n  hint: {hint}" if hint else "")
        )
    err = np.abs(got - expected)
    allowed = atol + rtol * np.abs(expected)
    if (err > allowed).any():
        index = tuple(int(i) for i in np.unravel_index(np.argmax(err - allowed), err.shape)) if err.ndim else ()
        hint = general(index) if callable(general) else general
        fail(
            f"{name}: wrong value{f' at index {index}' if index else ''}: expected {expected[index]:.10g}, got "
            f"{got[index]:.10g} "
            f"(|error| {err[index]:.3g} > tolerance {allowed[index]:.3g}; {int((err > allowed).sum())} of "
            f"{err.size} entries wrong)\n  inputs: {describe_inputs(inputs, index)}"
            + explain(diagnose(got, expected, wrong, lengths))
        )


def check_finite(got, name: str, inputs=None, hint="") -> None:
    """Fail unless every entry of ``got`` is finite (no NaN, no inf); ``hint`` may be a function of the index."""
    arr = to_numpy(got, name)
    if not np.isfinite(arr).all():
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        hint = hint(index) if callable(hint) else hint
        fail(
            f"{name}: got {arr[index]} at index {index}; it must be finite\n  inputs: {describe_inputs(inputs, index)}"
            + (f"\n  hint: {hint}" if hint else "")
        )


def finite_difference_grad(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = tol.FD_STEP) -> np.ndarray:
    """Central differences (f(x + h e_i) - f(x - h e_i)) / 2h for every entry i of ``x`` (float64)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = float(to_numpy(f(x)))
        x[i] = old - h
        down = float(to_numpy(f(x)))
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def call(name: str, function: Callable, *args, **kwargs):
    """Call student code; a TypeError from a wrong signature becomes a clear failure.

    NotImplementedError passes through untouched so that the score table can say "not attempted".
    """
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise
    except TypeError as err:
        if "argument" in str(err):
            fail(f"{name} could not be called as the docstring says: {err}")
        raise


def autograd_grads(function, inputs: Mapping[str, object], wrt: tuple[str, ...], name: str,
                   index: int | None = None, linear_decoder: bool = False) -> dict[str, np.ndarray]:
    """Gradients of sum(function(**inputs)[index]) w.r.t. the named inputs, by autograd, in the worker.

    ``function`` is a remote function of the NumPy track (``np_track.kl.kl_to_standard_normal``); the probe
    ``autograd_grads`` (grader/worker/probes_numpy_ag.py) differentiates it. A function written with plain NumPy
    (or with in-place assignment) cannot be differentiated by autograd; that becomes a failure that says so.
    With ``linear_decoder`` the inputs are x, mu, log_var, eps, W, b (and maybe more, e.g. baseline) and the
    function (elbo, iwae_log_px, ...) is called as ``function(x, mu, log_var, eps, lambda z: z @ W + b, *more)``.
    """
    from .remote import RemoteFunction

    if not isinstance(function, RemoteFunction):
        raise TypeError("autograd_grads takes a remote function of the NumPy track (a grader bug)")
    workers = function._workers
    from .remote import RemoteTrack, probe

    grads = probe(RemoteTrack(workers, function._track), "autograd_grads", function, dict(inputs), tuple(wrt), index,
                  linear_decoder=linear_decoder)
    return {key: to_numpy(grads[key], f"gradient of {name}") for key in wrt}


def check_grads_match(function, ref, wrt: tuple[str, ...], name: str, index: int | None = None,
                      prefix: str = "grad_", hint: str = "", linear_decoder: bool = False) -> None:
    """Autograd gradients of the student's function against the reference gradients of a frozen case."""
    got = autograd_grads(function, ref.inputs, wrt, name, index, linear_decoder=linear_decoder)
    for key in wrt:
        check_close(got[key], ref.outputs[prefix + key], f"d sum({name}) / d {key}", ref.inputs,
                    rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL, hint=hint)
