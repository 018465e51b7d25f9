"""Probes of the NumPy/autograd track (see :mod:`.probes`).

Importing this module also installs the stand-in for ``vaekit.data`` that ``numpy_ag/train.py`` imports
(:mod:`.numpy_vaekit`): the worker imports it before any graded code.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

from . import numpy_vaekit
from .probes import ProbeFailure, fail, probe, spy_as_the_default_step

numpy_vaekit.install()

GRAD_HINT = ("write the function with autograd.numpy (import autograd.numpy as np), not plain numpy, and without "
             "in-place assignment (x[i] = ..., +=) on arrays that depend on the inputs")
LINEAR_DECODER_INPUTS = ("x", "mu", "log_var", "eps", "W", "b")


def _select(out, index):
    """``out[index]`` for a tuple result (``index`` None: ``out`` itself)."""
    return out if index is None else out[index]


def _value(a):
    """The array inside an autograd box (or ``a`` itself)."""
    return getattr(a, "_value", a)


def linear_decoder(W, b):
    """The decoder of the ELBO and IWAE checks: z (K, B, D_z) -> logits z @ W + b (K, B, D_x)."""
    def decode(z):
        return z @ W + b
    return decode


def _caller(function, linear: bool):
    """``f(**inputs)``: the function itself, or (``linear``) the function given the linear decoder built from
    the inputs W and b, and the inputs after ``LINEAR_DECODER_INPUTS`` positionally in their order."""
    if not linear:
        return function

    def f(**inputs):
        missing = [key for key in LINEAR_DECODER_INPUTS if key not in inputs]
        if missing:
            fail(f"the grader asked for a linear decoder without the inputs {missing} (a grader bug)")
        rest = [value for key, value in inputs.items() if key not in LINEAR_DECODER_INPUTS]
        x, mu, log_var, eps, W, b = (inputs[key] for key in LINEAR_DECODER_INPUTS)
        return function(x, mu, log_var, eps, linear_decoder(W, b), *rest)
    return f


def _grad_or_fail(scalar, at, what: str, wrt: str):
    """``autograd.grad(scalar)(at)``; a failure of autograd (not of a stub) becomes a finding with a hint."""
    from autograd import grad

    try:
        with warnings.catch_warnings():  # a gradient that is zero because the output does not depend on ``wrt``
            warnings.filterwarnings("ignore", message="Output seems independent of input", category=UserWarning)
            return grad(scalar)(at)
    except (NotImplementedError, MemoryError, ImportError, OSError, SystemExit, ProbeFailure):
        raise
    except Exception as err:  # noqa: BLE001
        fail(f"autograd could not differentiate {what} with respect to {wrt}: {type(err).__name__}: "
             f"{str(err)[:300]}\n  hint: {GRAD_HINT}")


@probe
def autograd_grads(track, function, inputs: dict, wrt, index=None, linear_decoder=False, keep_dtype=False) -> dict:
    """Gradients of sum(function(**inputs)[index]) with respect to each input named in ``wrt``, by autograd.

    ``function``: a function of the graded code (sent as a reference). With ``linear_decoder`` the inputs hold
    x, mu, log_var, eps, W, b (and maybe more, e.g. baseline) and the function is called as
    ``function(x, mu, log_var, eps, lambda z: z @ W + b, *more)``. Returns ``{name: float64 array}``. With
    ``keep_dtype`` the inputs keep their dtype (float32 stays float32: the gradient is that of the float32
    computation; it is returned in the dtype autograd gives).
    """
    f = _caller(function, linear_decoder)
    grads = {}
    for key in wrt:
        def scalar(value, key=key):
            return _select(f(**{**inputs, key: value}), index).sum()
        at = np.asarray(inputs[key]) if keep_dtype else np.asarray(inputs[key], dtype=np.float64)
        # in float32, autograd's tanh VJP, cosh(l)^2, overflows (harmlessly)
        with np.errstate(over="ignore") if keep_dtype else contextlib.nullcontext():
            g = _grad_or_fail(scalar, at, getattr(function, "__name__", "the function"), key)
        grads[key] = np.asarray(_value(g)) if keep_dtype else np.asarray(_value(g), dtype=np.float64)
    return grads


@probe
def with_linear_decoder(track, function, x, mu, log_var, eps, W, b, *rest):
    """``function(x, mu, log_var, eps, decode, *rest)`` (elbo, iwae_log_px, score_function_surrogate) with the
    linear decoder ``decode(z) = z @ W + b``; returns what the function returns."""
    return function(x, mu, log_var, eps, linear_decoder(W, b), *rest)


@probe
def with_vae_networks(track, function, params, x, eps, *rest):
    """``function(x, mu, log_var, eps, decode, *rest)`` with the graded encoder and decoder of ``params``:
    ``mu, log_var = networks.encode(params["encoder"], x)``, ``decode(z) = networks.decode(params["decoder"], z)``."""
    networks = track.networks
    mu, log_var = networks.encode(params["encoder"], x)

    def decode(z):
        return networks.decode(params["decoder"], z)
    return function(x, mu, log_var, eps, decode, *rest)


@probe
def autograd_params_grad(track, function, params, *args, index=None):
    """The gradient of sum(function(params, *args)[index]) with respect to every parameter, by autograd.

    ``params`` is a parameter pytree; it is flattened with ``autograd.misc.flatten`` and the function is given
    ``unflatten(theta)``. Returns the gradient as one flat float64 vector in the layout of ``flatten(params)``.
    """
    from autograd.misc import flatten

    theta, unflatten = flatten(params)

    def scalar(th):
        return _select(function(unflatten(th), *args), index).sum()
    g = _grad_or_fail(scalar, theta, getattr(function, "__name__", "the function"), "its parameters")
    return np.asarray(_value(g), dtype=np.float64)


@probe
def init_vae_params_with_dtype(track, rng, dtype: str, **sizes):
    """``networks.init_vae_params(rng, **sizes, dtype=np.<dtype>)``: the NumPy scalar type cannot cross the wire."""
    scalar_type = getattr(np, dtype, None)
    if not (isinstance(scalar_type, type) and issubclass(scalar_type, np.generic)):
        fail(f"{dtype!r} is not a NumPy dtype (a grader bug)")
    return track.networks.init_vae_params(rng, **sizes, dtype=scalar_type)


class _StopEpoch(BaseException):
    """Ends a spied ``train_epoch`` at a minibatch whose eps has the wrong shape (graded code cannot catch it
    with ``except Exception``)."""


@probe
def train_epoch_spy(track, params, state, x, rng, tag_column=0, planted_losses=None, given=False,
                    **kwargs) -> dict:
    """``train.train_epoch(params, state, x, rng, **kwargs)`` with a spy as its step: with ``given``, passed as
    ``step=spy``; otherwise the spy stands in for train_step as the default step
    (:func:`~.probes.spy_as_the_default_step`), so that the default path is the one observed.

    Each example of ``x`` carries its index n as ``x[n, tag_column] = n / 100``. The spy records, per call,
    the indices of the minibatch, the shape of its eps, the eps itself, the lr, the step count t of the state it
    was given and the loss it returned: that of the real ``train_step`` (the spy calls it), or with
    ``planted_losses`` the next of those numbers (the spy then returns the params and state it was given
    unchanged); it stops the epoch at the first eps whose shape is not (K, len(minibatch), D_z). Returns
    ``{"batches": [[n, ...], ...], "eps_shapes": [[K, B, D_z], ...], "eps": [array, ...], "eps_dtypes": [...],
    "lrs": [...],
    "t_given": [...], "losses": [...], "stopped": bool, "result": what train_epoch returned (or None),
    "last_step": the (params, state) the last step returned}``.
    """
    train = track.train
    real_step = getattr(train, "train_step", None)
    if real_step is None and planted_losses is None:
        fail("numpy_ag/train.py has no train_step: keep the stub's import `from .optim import train_step`, the "
             "default of train_epoch's step")
    z_dim = int(np.shape(params["encoder"]["to_mu"][1])[0])
    record = {"batches": [], "eps_shapes": [], "eps": [], "eps_dtypes": [], "lrs": [], "t_given": [], "losses": []}
    last = {}

    def spy(params, state, xb, eps, lr=1e-3):
        record["batches"].append(np.round(np.asarray(_value(xb))[:, tag_column] * 100).astype(int).tolist())
        record["eps_shapes"].append([int(s) for s in np.shape(eps)])
        record["eps"].append(np.array(_value(eps), dtype=np.float64))
        record["eps_dtypes"].append(str(np.asarray(_value(eps)).dtype))
        record["lrs"].append(float(lr))
        record["t_given"].append(float(state["t"]) if isinstance(state, dict) and "t" in state else float("nan"))
        if tuple(np.shape(eps)[1:]) != (len(xb), z_dim):
            raise _StopEpoch
        if planted_losses is None:
            out = real_step(params, state, xb, eps, lr=lr)
        else:
            out = (params, state, float(planted_losses[len(record["losses"]) % len(planted_losses)]))
        record["losses"].append(float(out[2]))
        last["step"] = [out[0], out[1]]
        return out

    stopped, result = False, None
    if given or real_step is None:
        kwargs["step"] = spy
        default = contextlib.nullcontext()
    else:
        default = spy_as_the_default_step(train.train_epoch, [train, track.optim], real_step, spy)
    try:
        with default:
            result = train.train_epoch(params, state, x, rng, **kwargs)
    except _StopEpoch:
        stopped = True
    return {**record, "stopped": stopped, "result": result, "last_step": last.get("step")}
