"""Gradients of the student's PyTorch functions: torch.autograd and gradcheck in the worker, checks here.

The PyTorch track is graded on the same frozen cases as the NumPy track (grader/reference.npz); inputs
become float64 tensors and gradients come from ``torch.autograd``, run by the worker's probes
(grader/worker/probes_pytorch.py), which send back the gradients as data. A result that autograd cannot
follow back to an input (``.detach()``, ``.numpy()``, ``torch.tensor(...)`` of an intermediate) fails here
with a message that says so.

``layout``: how the inputs are passed, by position; ``DECODER`` in it stands for the linear decoder
``z -> z @ W + b`` built in the worker from the inputs W and b (``ELBO_LAYOUT``).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from grader import tolerances as tol
from grader.harness import check_close, fail, to_numpy
from grader.remote import RemoteFunction, RemoteTrack, probe
from grader.worker.wire import Unreadable

DETACH_HINT = ("build the result with torch operations only: .detach(), .numpy(), .item(), torch.tensor(...) "
               "or in-place writes into a new tensor cut the graph, and the gradient does not flow back; the "
               "backward of a torch.autograd.Function returns one gradient per input of its forward, in order")

DECODER = ("W", "b")  # in a layout: the linear decoder z -> z @ W + b
ELBO_LAYOUT = ("x", "mu", "log_var", "eps", DECODER)  # elbo, iwae_log_px: (x, mu, log_var, eps, decode)


def as_tensor(value, requires_grad: bool = False, dtype: str = "float64"):
    """A tensor copy (float64, or ``dtype``) of a NumPy array (tensors pass through)."""
    if isinstance(value, torch.Tensor):
        return value
    return torch.tensor(np.asarray(value), dtype=getattr(torch, dtype), requires_grad=requires_grad)


def as_tensors(inputs: Mapping[str, object], requires_grad: tuple[str, ...] = (), dtype: str = "float64") -> dict:
    """Every input as a float64 (or ``dtype``) tensor; those named in ``requires_grad`` track gradients."""
    return {key: as_tensor(value, key in requires_grad, dtype) for key, value in inputs.items()}


def type_name(value) -> str:
    """The type of a result for a message (a value that could not cross is named by its type in the worker)."""
    return value.type_name if isinstance(value, Unreadable) else type(value).__name__


def track_of(function: RemoteFunction) -> RemoteTrack:
    if not isinstance(function, RemoteFunction):
        raise TypeError("expected a remote function of the PyTorch track (a grader bug)")
    return RemoteTrack(function._workers, function._track)


def check_tensor(out, name: str, wrt: str = "") -> torch.Tensor:
    """Fail unless ``out`` is a tensor that autograd can differentiate (with respect to ``wrt``, if given)."""
    if not isinstance(out, torch.Tensor):
        fail(f"{name} returned a {type_name(out)}; return a torch.Tensor\n  hint: {DETACH_HINT}")
    if wrt and not out.requires_grad:
        fail(f"{name}: the result does not depend on {wrt} as far as autograd can tell (requires_grad is False)"
             f"\n  hint: {DETACH_HINT}")
    return out


def call_with(function: RemoteFunction, inputs: Mapping[str, object], layout=ELBO_LAYOUT):
    """``function`` of the graded code on the inputs (float64 tensors in the worker), passed by ``layout``."""
    return probe(track_of(function), "torch_call", function, dict(inputs), layout)


def grad_report(function: RemoteFunction, inputs: Mapping[str, object], wrt: tuple[str, ...], index=None,
                layout=None, joint=False, dtype="float64", weights=None) -> dict:
    """What the worker's probe ``torch_grads`` saw: the result, its type, requires_grad and the gradients (of
    sum(weights * result) when ``weights`` is given)."""
    return probe(track_of(function), "torch_grads", function, dict(inputs), tuple(wrt), index=index, layout=layout,
                 joint=joint, dtype=dtype, weights=weights)


def torch_grads(function: RemoteFunction, inputs: Mapping[str, object], wrt: tuple[str, ...], name: str,
                index: int | None = None, layout=None, joint: bool = False,
                missing_ok: bool = False, weights=None) -> dict[str, np.ndarray]:
    """Gradients of sum(function(...)[index]) (of sum(weights * ...) when ``weights`` is given) w.r.t. the named
    inputs, by torch.autograd in the worker, as arrays.

    Each input on its own (``joint``: all together). A result that is not a tensor, or does not depend on an
    input, fails; so does a gradient that does not reach an input, unless ``missing_ok`` (then it is zero).
    """
    report = grad_report(function, inputs, wrt, index=index, layout=layout, joint=joint, weights=weights)
    if report["type"] != "Tensor":
        fail(f"{name} returned a {report['type']}; return a torch.Tensor\n  hint: {DETACH_HINT}")
    grads = {}
    for key in wrt:
        if not report["requires_grad"][key]:
            depends = (", ".join(wrt[:-1]) + " and " + wrt[-1] if len(wrt) > 1 else key) if joint else key
            fail(f"{name}: the result does not depend on {depends} as far as autograd can tell (requires_grad is "
                 f"False)\n  hint: {DETACH_HINT}")
        g = report["grads"][key]
        if g is None:
            if not missing_ok:
                fail(f"the gradient of {name} does not reach {key}\n  hint: {DETACH_HINT}")
            g = np.zeros(np.shape(inputs[key]))
        grads[key] = to_numpy(g, f"gradient of {name}")
    return grads


def check_torch_grads_match(function: RemoteFunction, ref, wrt: tuple[str, ...], name: str, index: int | None = None,
                            layout=None, prefix: str = "grad_", hint: str = "") -> None:
    """torch.autograd gradients of the student's function against the reference gradients of a frozen case."""
    got = torch_grads(function, ref.inputs, wrt, name, index=index, layout=layout)
    for key in wrt:
        check_close(got[key], ref.outputs[prefix + key], f"d sum({name}) / d {key}", ref.inputs,
                    rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL, hint=hint)


def check_gradcheck(function: RemoteFunction, inputs: Mapping[str, object], wrt: tuple[str, ...], name: str,
                    index: int | None = None, layout=None, hint: str = "") -> None:
    """``torch.autograd.gradcheck`` in float64 (in the worker): the autograd Jacobian against central finite
    differences. Only the inputs named in ``wrt`` are perturbed; the others are held fixed.
    """
    seen = probe(track_of(function), "torch_gradcheck", function, dict(inputs), tuple(wrt), index=index,
                 layout=layout, eps=tol.FD_STEP, atol=tol.FD_ATOL, rtol=tol.FD_RTOL)
    if seen["type"] != "Tensor":
        fail(f"{name} returned a {seen['type']}; return a torch.Tensor\n  hint: {DETACH_HINT}")
    if not seen["requires_grad"]:
        fail(f"{name}: the result does not depend on {', '.join(wrt)} as far as autograd can tell (requires_grad is "
             f"False)\n  hint: {DETACH_HINT}")
    if seen["error"]:
        first = "\n    ".join(str(seen["error"]).splitlines()[:8])
        fail(f"torch.autograd.gradcheck of {name} with respect to {', '.join(wrt)} failed: autograd's gradient "
             f"differs from finite differences (float64)\n    {first}" + (f"\n  hint: {hint}" if hint else ""))


def calls_watching_rngs(function: RemoteFunction, inputs: Mapping[str, object], times: int = 2) -> dict:
    """``function(**inputs)`` ``times`` times in the worker: ``{"results": [...], "changed": [global random
    states (torch's, NumPy's) that moved]}``."""
    return probe(track_of(function), "calls_watching_rngs", function, dict(inputs), times)
