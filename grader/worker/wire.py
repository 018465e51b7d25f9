"""The narrow channel between the judge and the worker: length-prefixed JSON, nothing executable.

A message is a 4-byte big-endian length and that many bytes of UTF-8 JSON. Values that are not plain JSON
are tagged objects, and only these:

    {"__nd__": base64, "dtype": "float32", "shape": [2, 3]}    a NumPy array of a numeric, bool or str dtype
    {"__np__": "float32", "v": 1.5}                           a NumPy scalar
    {"__tensor__": <__nd__>, "requires_grad": true}           a torch tensor (its values, on the CPU)
    {"__tuple__": [...]}, {"__map__": [[key, value], ...]}    tuples, dicts with non-string keys
    {"__handle__": 7, "type": "VAE"}                          an object that stays in the worker
    {"__ref__": "kl.kl_to_standard_normal"}                   a function of the graded code, by name
    {"__npgen__": state}, {"__torchgen__": <__nd__>}          random generators, by their state
    {"__other__": "dtype('O')", "type": "ndarray"}            something that cannot cross (shown as text)

Nothing is unpickled and no tag creates anything but arrays, numbers, strings and containers, so the judge
can read what the worker sends without running any of its code. :func:`decode` checks sizes, depth, dtypes
and that every array's bytes fit its shape.
"""

from __future__ import annotations

import base64
import json
import math
import os
import struct

MAX_MESSAGE = 64 * 2**20  # bytes of one message
MAX_DEPTH = 32
MAX_TEXT = 20_000  # characters of any string that crosses
MAX_ITEMS = 200_000  # list elements and dict entries in one message (arrays count as one item)
ALLOWED_KINDS = set("biufcU")  # bool, int, uint, float, complex, str


class WireError(ValueError):
    """A message that breaks the format (too big, too deep, a wrong tag): the worker is not to be trusted."""


# --- framing -------------------------------------------------------------------------------------------------
def send(fd: int, message) -> None:
    """Write one message to the file descriptor ``fd``."""
    data = json.dumps(message, separators=(",", ":"), allow_nan=True).encode()
    if len(data) > MAX_MESSAGE:
        raise WireError(f"message of {len(data):,} bytes is over the limit of {MAX_MESSAGE:,}")
    payload = struct.pack(">I", len(data)) + data
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, n: int, wait=None) -> bytes:
    """``n`` bytes from ``fd``; ``wait()`` is called before each read (it may raise to give up). EOF -> EOFError."""
    chunks, got = [], 0
    while got < n:
        if wait is not None:
            wait()
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def receive(fd: int, wait=None):
    """Read one message from ``fd`` (raw JSON structure; decode it with :func:`decode`)."""
    (size,) = struct.unpack(">I", read_exactly(fd, 4, wait))
    if size > MAX_MESSAGE:
        raise WireError(f"message of {size:,} bytes announced; the limit is {MAX_MESSAGE:,}")
    raw = read_exactly(fd, size, wait)
    if raw.count(b"[") + raw.count(b"{") > MAX_ITEMS:  # before parsing: a small message must not make a huge one
        raise WireError(f"more than {MAX_ITEMS:,} lists and objects in one message")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise WireError(f"unreadable message: {type(err).__name__}") from None


# --- arrays --------------------------------------------------------------------------------------------------
def encode_array(arr) -> dict:
    import numpy as np

    arr = np.asarray(arr)
    if arr.dtype.kind not in ALLOWED_KINDS or arr.dtype.hasobject:
        return {"__other__": f"array of dtype {arr.dtype}", "type": "ndarray", "shape": list(arr.shape)}
    arr = np.array(arr, order="C", copy=True)  # (np.ascontiguousarray would make a 0-d array 1-d)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return {"__nd__": base64.b64encode(arr.tobytes()).decode(), "dtype": arr.dtype.str, "shape": list(arr.shape)}


def decode_array(obj: dict):
    import numpy as np

    try:
        dtype = np.dtype(obj["dtype"])
        shape = tuple(int(s) for s in obj["shape"])
        raw = base64.b64decode(obj["__nd__"], validate=True)
    except (TypeError, ValueError, KeyError) as err:
        raise WireError(f"bad array: {err}") from None
    if dtype.kind not in ALLOWED_KINDS or dtype.hasobject or any(s < 0 for s in shape) or len(shape) > 32:
        raise WireError(f"bad array dtype {dtype} or shape {shape}")
    if math.prod(shape) * dtype.itemsize != len(raw):
        raise WireError(f"array of shape {shape} and dtype {dtype} with {len(raw)} bytes")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


# --- values --------------------------------------------------------------------------------------------------
def encode(value, keep=None, depth: int = 0):
    """A JSON structure for ``value``; objects that cannot cross are given to ``keep(obj) -> handle``."""
    if depth > MAX_DEPTH:
        raise WireError("structure nested too deeply")
    if value is None or isinstance(value, (bool, int, float)) and type(value) in (bool, int, float):
        return value
    if type(value) is str:
        return value[:MAX_TEXT]
    if type(value) in (list, tuple):
        items = [encode(v, keep, depth + 1) for v in value]
        return items if type(value) is list else {"__tuple__": items}
    if type(value) is dict:
        if all(type(k) is str and not k.startswith("__") for k in value):
            return {k: encode(v, keep, depth + 1) for k, v in value.items()}
        return {"__map__": [[encode(k, keep, depth + 1), encode(v, keep, depth + 1)] for k, v in value.items()]}
    tag = _encode_special(value)
    if tag is not None:
        return tag
    if type(value) is Unreadable:  # a description made on purpose (a probe's result that is not data)
        return {"__other__": value.text[:200], "type": value.type_name[:100]}
    if keep is not None:  # the worker keeps the object and sends a handle; the judge sends its proxies' tags
        kept = keep(value)
        return kept if isinstance(kept, dict) else {"__handle__": kept, "type": type(value).__name__[:100]}
    return {"__other__": repr(value)[:200], "type": type(value).__name__[:100]}


def _encode_special(value):
    """Arrays, tensors, NumPy scalars and generators, or None. Reads types by module name, imports nothing."""
    module = type(value).__module__ or ""
    if module.startswith("numpy"):
        import numpy as np

        if type(value) is np.ndarray:
            return encode_array(value)
        if isinstance(value, np.generic) and value.dtype.kind in ALLOWED_KINDS:
            return {"__np__": value.dtype.str, "v": encode_array(np.asarray(value))}
        if type(value) is np.random.Generator:
            return {"__npgen__": _plain_state(value.bit_generator.state)}
        return None
    if module.startswith("torch"):
        import torch

        if type(value) is torch.Tensor or type(value) is torch.nn.Parameter:
            t = value.detach()
            if t.dtype == torch.bfloat16:
                t = t.float()
            return {"__tensor__": encode_array(t.cpu().numpy()), "requires_grad": bool(value.requires_grad),
                    "parameter": type(value) is torch.nn.Parameter}
        if type(value) is torch.Generator:
            return {"__torchgen__": encode_array(value.get_state().numpy())}
        if type(value) is torch.dtype:
            return {"__torchdtype__": str(value)}
        if type(value) is torch.Size:
            return {"__tuple__": list(value)}
    return None


def _plain_state(state):
    """A bit generator's state dict with its NumPy integers as Python ints (JSON)."""
    if isinstance(state, dict):
        return {k: _plain_state(v) for k, v in state.items()}
    if hasattr(state, "tolist"):
        return state.tolist()
    return state


def decode(obj, handle=None, ref=None, depth: int = 0, budget: list | None = None):
    """The value of a JSON structure made by :func:`encode`.

    ``handle(id, type)`` and ``ref(name)`` build what handles and function references stand for on this
    side; without them those tags are an error. At most ``MAX_ITEMS`` list elements and dict entries in all,
    so that a small message cannot make a huge structure.
    """
    if budget is None:
        budget = [MAX_ITEMS]
    if depth > MAX_DEPTH:
        raise WireError("structure nested too deeply")
    if isinstance(obj, (list, dict)):
        budget[0] -= len(obj) if isinstance(obj, list) else 1
        if budget[0] < 0:
            raise WireError(f"more than {MAX_ITEMS:,} items in one message")
    if obj is None or type(obj) in (bool, int, float):
        return obj
    if type(obj) is str:
        return obj[:MAX_TEXT]
    if type(obj) is list:
        return [decode(v, handle, ref, depth + 1, budget) for v in obj]
    if type(obj) is not dict:
        raise WireError(f"unexpected {type(obj).__name__} in a message")
    tags = [k for k in obj if k.startswith("__")]
    if not tags:
        return {k: decode(v, handle, ref, depth + 1, budget) for k, v in obj.items()}
    tag = tags[0]
    if tag == "__tuple__":
        return tuple(decode(v, handle, ref, depth + 1, budget) for v in _list(obj[tag]))
    if tag == "__map__":
        return {_key(decode(k, handle, ref, depth + 1, budget)): decode(v, handle, ref, depth + 1, budget) for k, v in _pairs(obj[tag])}
    if tag == "__nd__":
        return decode_array(obj)
    if tag == "__np__":
        arr = decode_array(_dict(obj["v"]))
        return arr.reshape(()).dtype.type(arr.reshape(())[()]) if arr.size == 1 else arr
    if tag == "__tensor__":
        import torch

        arr = decode_array(_dict(obj["__tensor__"]))
        tensor = torch.from_numpy(arr) if arr.dtype.kind != "U" else arr
        if obj.get("requires_grad") and hasattr(tensor, "requires_grad_") and tensor.is_floating_point():
            tensor.requires_grad_(True)
        return tensor
    if tag == "__torchgen__":
        import torch

        return torch.Generator().set_state(torch.from_numpy(decode_array(_dict(obj["__torchgen__"]))))
    if tag == "__torchdtype__":
        import torch

        name = str(obj[tag]).removeprefix("torch.")
        value = getattr(torch, name, None)
        if not isinstance(value, torch.dtype):
            raise WireError(f"unknown torch dtype {name!r}")
        return value
    if tag == "__npgen__":
        import numpy as np

        state = obj[tag]
        name = state.get("bit_generator") if isinstance(state, dict) else None
        if name not in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
            raise WireError(f"unknown bit generator {name!r}")
        bitgen = getattr(np.random, name)()
        bitgen.state = state
        return np.random.Generator(bitgen)
    if tag == "__handle__":
        if handle is None:
            raise WireError("a handle where none is allowed")
        return handle(int(obj[tag]), str(obj.get("type", ""))[:100])
    if tag == "__ref__":
        if ref is None:
            raise WireError("a function reference where none is allowed")
        return ref(str(obj[tag]))
    if tag == "__other__":
        return Unreadable(str(obj[tag])[:200], str(obj.get("type", ""))[:100])
    raise WireError(f"unknown tag {tag!r}")


class Unreadable:
    """A value that could not cross the channel (an object array, say): only its description came."""

    def __init__(self, text: str, type_name: str):
        self.text, self.type_name = text, type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}: {self.text}>"


def _list(v):
    if type(v) is not list:
        raise WireError("expected a list")
    return v


def _dict(v):
    if type(v) is not dict:
        raise WireError("expected an object")
    return v


def _pairs(v):
    if type(v) is not list or not all(type(p) is list and len(p) == 2 for p in v):
        raise WireError("expected key-value pairs")
    return v


def _key(k):
    if isinstance(k, (list, dict)):
        raise WireError("unhashable dict key")
    return k
