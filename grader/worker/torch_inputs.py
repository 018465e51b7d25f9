"""Helpers of the PyTorch probes: inputs as tensors, argument layouts, plain results, the global generators.

Pure harness code, no graded code is imported here. The probes (:mod:`.probes_pytorch`) call the graded
functions with these.
"""

from __future__ import annotations

import numpy as np
import torch

from .probes import fail
from .wire import Unreadable

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def as_tensor(value, requires_grad: bool = False, dtype: str = "float64"):
    """A tensor copy of a NumPy array or number in ``dtype`` (tensors pass through)."""
    if isinstance(value, torch.Tensor):
        return value
    return torch.tensor(np.asarray(value), dtype=DTYPES[dtype], requires_grad=requires_grad)


def as_tensors(inputs: dict, requires_grad=(), dtype: str = "float64") -> dict:
    """Every input as a tensor; those named in ``requires_grad`` track gradients."""
    return {key: as_tensor(value, key in requires_grad, dtype) for key, value in inputs.items()}


def linear_decoder(W, b):
    """The decoder of the ELBO and IWAE cases: z (K, B, D_z) -> logits z @ W + b (K, B, D_x)."""
    return lambda z: z @ W + b


def arguments(args: dict, layout=None) -> tuple[list, dict]:
    """``(positional, keyword)`` arguments of a call from named tensors.

    ``layout`` None: every input by keyword. Otherwise a sequence of input names, in the order of the
    parameters; an entry that is a pair of names ``("W", "b")`` stands for ``linear_decoder(W, b)``. Inputs
    that the layout does not name are not passed.
    """
    if layout is None:
        return [], dict(args)
    positional = []
    for entry in layout:
        if isinstance(entry, (list, tuple)):
            positional.append(linear_decoder(*(args[name] for name in entry)))
        elif entry in args:
            positional.append(args[entry])
    return positional, {}


def call(name: str, function, *args, **kwargs):
    """Call graded code; a TypeError from a wrong signature becomes a clear finding (as harness.call)."""
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise
    except TypeError as err:
        if "argument" in str(err):
            fail(f"{name} could not be called as the docstring says: {err}")
        raise


def select(out, index):
    """``out[index]`` of a tuple result (``index`` None: ``out``); None if there is no such item."""
    if index is None:
        return out
    if isinstance(out, (tuple, list)) and -len(out) <= index < len(out):
        return out[index]
    return None


def type_of(out, index=None) -> str:
    """The type name of ``out[index]`` for the messages, or what ``out`` was when it has no such item."""
    if index is not None and not (isinstance(out, (tuple, list)) and -len(out) <= index < len(out)):
        return f"{type(out).__name__} (not a tuple with an item {index})"
    value = select(out, index)
    return "Tensor" if isinstance(value, torch.Tensor) else type(value).__name__


PLAIN_LEAVES = (type(None), bool, int, float, str, np.ndarray, np.generic, torch.Tensor, torch.dtype, torch.Size)


def plain(value, depth: int = 0):
    """``value`` with every part that is not data replaced by a description (it crosses as text, not a handle)."""
    if depth > 20:
        return Unreadable("a structure nested too deeply", type(value).__name__)
    if isinstance(value, PLAIN_LEAVES) and not (isinstance(value, np.ndarray) and value.dtype == object):
        return value
    if type(value) in (list, tuple):
        return type(value)(plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return {k: plain(v, depth + 1) for k, v in value.items()}
    try:
        text = repr(value)[:200]
    except Exception:  # noqa: BLE001 - a repr of the graded code's that fails
        text = "?"
    return Unreadable(text, type(value).__name__)


class GlobalRandomness:
    """The global random states (torch and NumPy), to check that code draws only from its arguments.

    ``with GlobalRandomness() as state: ...`` then ``state.changed`` names the states that moved.
    """

    def __enter__(self):
        self.torch_before = torch.get_rng_state()
        self.numpy_before = np.random.get_state()[1].copy()
        self.changed: list[str] = []
        return self

    def __exit__(self, *exc):
        if not torch.equal(self.torch_before, torch.get_rng_state()):
            self.changed.append("torch's global random state (torch.randn/torch.rand without generator=)")
        if not np.array_equal(self.numpy_before, np.random.get_state()[1]):
            self.changed.append("NumPy's global random state (np.random.*)")
        return False
