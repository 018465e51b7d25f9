"""Copy the NumPy track's VAE parameters into the PyTorch track's modules (any number of hidden layers).

The NumPy track keeps an affine layer as ``(W, b)``, W of shape (fan_in, fan_out), so h_out = h_in W + b; an
``nn.Linear`` keeps ``weight`` = W^T of shape (fan_out, fan_in) and ``bias`` = b. The NumPy parameters::

    {"encoder": {"hidden": [(W, b), ...], "to_mu": (W, b), "to_log_var": (W, b)},
     "decoder": {"hidden": [(W, b), ...], "to_logits": (W, b)}}

are, in the PyTorch VAE, ``encoder.hidden.<2i>.weight`` (``hidden`` is ``nn.Sequential(Linear, ReLU, ...)``),
``encoder.to_mu.weight``, ..., ``decoder.to_logits.bias``.
"""

from __future__ import annotations

import numpy as np
import torch

HEADS = {"encoder": ("to_mu", "to_log_var"), "decoder": ("to_logits",)}


def torch_layout(params: dict, part: str | None = None) -> dict[str, np.ndarray]:
    """``{PyTorch parameter name: array}`` of NumPy parameters (or of their gradients), each W transposed.

    Args:
        params: the VAE's tree (both parts), or with ``part`` the tree of that part alone.
        part: None, ``"encoder"`` or ``"decoder"``; with a part, the names are those inside that module
            (``hidden.0.weight``, ``to_logits.bias``, ...).

    Returns:
        weight arrays of shape (fan_out, fan_in) and bias arrays of shape (fan_out,), by parameter name.
    """
    trees = {part: params} if part else params
    out = {}
    for name, tree in trees.items():
        prefix = "" if part else f"{name}."
        for i, (W, b) in enumerate(tree["hidden"]):
            out[f"{prefix}hidden.{2 * i}.weight"] = np.asarray(W).T
            out[f"{prefix}hidden.{2 * i}.bias"] = np.asarray(b)
        for head in HEADS[name]:
            W, b = tree[head]
            out[f"{prefix}{head}.weight"] = np.asarray(W).T
            out[f"{prefix}{head}.bias"] = np.asarray(b)
    return out


def load_numpy_params(module: torch.nn.Module, params: dict, part: str | None = None) -> torch.nn.Module:
    """Copy NumPy parameters into ``module`` in place, each in the dtype of the parameter it replaces.

    Args:
        module: a PyTorch ``VAE``, or with ``part`` its ``Encoder`` or ``Decoder``.
        params, part: as for :func:`torch_layout`.

    Returns:
        ``module``. Raises ValueError when the module's parameters do not have the names and shapes of ``params``
        (another number of hidden layers, other widths).
    """
    arrays = torch_layout(params, part)
    named = dict(module.named_parameters())
    if named.keys() != arrays.keys():
        raise ValueError(f"the module's parameters {sorted(named)} are not those of the NumPy tree "
                         f"{sorted(arrays)}: build the module with the same hidden widths")
    wrong = [f"{k}: {tuple(p.shape)} vs {arrays[k].shape}" for k, p in named.items() if tuple(p.shape) != arrays[k].shape]
    if wrong:
        raise ValueError("shapes differ (module vs NumPy, W transposed): " + "; ".join(wrong))
    with torch.no_grad():
        for name, p in named.items():
            p.copy_(torch.from_numpy(np.ascontiguousarray(arrays[name])).to(p.dtype))
    return module
