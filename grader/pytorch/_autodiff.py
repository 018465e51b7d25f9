"""Gradients of the student's PyTorch functions: tensors from the frozen cases, torch.autograd, gradcheck.

The PyTorch track is graded on the same frozen cases as the NumPy track (grader/reference.npz); inputs
become float64 tensors and gradients come from ``torch.autograd``. A result that autograd cannot follow back
to an input (``.detach()``, ``.numpy()``, ``torch.tensor(...)`` of an intermediate) fails with a message
that says so.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import torch

from grader import tolerances as tol
from grader.harness import call, check_close, fail, to_numpy

DETACH_HINT = ("build the result with torch operations only: .detach(), .numpy(), .item(), torch.tensor(...) "
               "or in-place writes into a new tensor cut the graph, and the gradient does not flow back")


def as_tensor(value, requires_grad: bool = False):
    """A float64 tensor copy of a NumPy array (callables and tensors pass through)."""
    if callable(value) or isinstance(value, torch.Tensor):
        return value
    return torch.tensor(np.asarray(value), dtype=torch.float64, requires_grad=requires_grad)


def as_tensors(inputs: Mapping[str, object], requires_grad: tuple[str, ...] = ()) -> dict:
    """Every input as a float64 tensor; those named in ``requires_grad`` track gradients."""
    return {key: as_tensor(value, key in requires_grad) for key, value in inputs.items()}


def check_tensor(out, name: str, wrt: str = "") -> torch.Tensor:
    """Fail unless ``out`` is a tensor that autograd can differentiate (with respect to ``wrt``, if given)."""
    if not isinstance(out, torch.Tensor):
        fail(f"{name} returned a {type(out).__name__}; return a torch.Tensor\n  hint: {DETACH_HINT}")
    if wrt and not out.requires_grad:
        fail(f"{name}: the result does not depend on {wrt} as far as autograd can tell (requires_grad is False)"
             f"\n  hint: {DETACH_HINT}")
    return out


def torch_grads(function: Callable, inputs: Mapping[str, object], wrt: tuple[str, ...], name: str,
                output: Callable = lambda out: out) -> dict[str, np.ndarray]:
    """Gradients of sum(output(function(**inputs))) w.r.t. the named inputs, by torch.autograd, as arrays."""
    grads = {}
    for key in wrt:
        args = as_tensors(inputs, requires_grad=(key,))
        out = check_tensor(output(call(name, function, **args)), name, wrt=key)
        (g,) = torch.autograd.grad(out.sum(), args[key], allow_unused=True)
        if g is None:
            fail(f"the gradient of {name} does not reach {key}\n  hint: {DETACH_HINT}")
        grads[key] = to_numpy(g, f"gradient of {name}")
    return grads


def check_torch_grads_match(function: Callable, ref, wrt: tuple[str, ...], name: str,
                            output: Callable = lambda out: out, prefix: str = "grad_") -> None:
    """torch.autograd gradients of the student's function against the reference gradients of a frozen case."""
    got = torch_grads(function, ref.inputs, wrt, name, output)
    for key in wrt:
        check_close(got[key], ref.outputs[prefix + key], f"d sum({name}) / d {key}", ref.inputs,
                    rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL)


def check_gradcheck(function: Callable, inputs: Mapping[str, object], wrt: tuple[str, ...], name: str,
                    output: Callable = lambda out: out, hint: str = "") -> None:
    """``torch.autograd.gradcheck`` in float64: the autograd Jacobian against central finite differences.

    Only the inputs named in ``wrt`` are perturbed; the others are held fixed.
    """
    args = as_tensors(inputs, requires_grad=wrt)

    def f(*values):
        out = output(call(name, function, **{**args, **dict(zip(wrt, values))}))
        return check_tensor(out, name, wrt=", ".join(wrt))

    try:
        torch.autograd.gradcheck(f, tuple(args[k] for k in wrt), eps=tol.FD_STEP, atol=tol.FD_ATOL,
                                 rtol=tol.FD_RTOL)
    except NotImplementedError:
        raise
    except (RuntimeError, ValueError) as err:
        first = "\n    ".join(str(err).strip().splitlines()[:8])
        fail(f"torch.autograd.gradcheck of {name} with respect to {', '.join(wrt)} failed: autograd's gradient "
             f"differs from finite differences (float64)\n    {first}" + (f"\n  hint: {hint}" if hint else ""))


class GlobalRandomness:
    """Snapshot of the global random states (torch and NumPy), to check that code draws only from its arguments.

    ``with GlobalRandomness() as rng_state: ...`` then ``rng_state.changed`` names the states that moved.
    """

    def __enter__(self):
        self.torch_before = torch.get_rng_state()
        self.numpy_before = np.random.get_state()[1].copy()
        return self

    def __exit__(self, *exc):
        self.changed = []
        if not torch.equal(self.torch_before, torch.get_rng_state()):
            self.changed.append("torch's global random state (torch.randn/torch.rand without generator=)")
        if not np.array_equal(self.numpy_before, np.random.get_state()[1]):
            self.changed.append("NumPy's global random state (np.random.*)")
        return False
