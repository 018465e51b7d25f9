"""The student's Encoder / Decoder / VAE modules and the frozen NumPy parameter pytrees.

The frozen cases store W of shape (fan_in, fan_out) under flat keys such as ``params/encoder/hidden/0/W``
(see grader/pytrees.py); an ``nn.Linear`` holds ``weight = W.T`` of shape (fan_out, fan_in) and ``bias = b``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from grader.harness import call, fail

HEADS = {"encoder": ("to_mu", "to_log_var"), "decoder": ("to_logits",)}
CLASS_OF = {"encoder": "Encoder", "decoder": "Decoder"}


def _attribute(module, attr: str, where: str):
    if not hasattr(module, attr):
        fail(f"{where} has no attribute {attr!r}; name the layers as the docstring says "
             f"(hidden, to_mu and to_log_var in Encoder; hidden and to_logits in Decoder; encoder and decoder in VAE)")
    return getattr(module, attr)


def layers(module, part: str) -> dict[str, nn.Linear]:
    """``{"encoder/hidden/0": Linear, "encoder/to_mu": Linear, ...}`` of an Encoder (part "encoder") or Decoder."""
    where = CLASS_OF[part]
    if not isinstance(module, nn.Module):
        fail(f"{where} must be a torch.nn.Module subclass; got {type(module).__name__}")
    hidden = _attribute(module, "hidden", where)
    if not isinstance(hidden, nn.Module):
        fail(f"{where}.hidden must be an nn.Module (an nn.Sequential of Linear and ReLU layers), got "
             f"{type(hidden).__name__}; a plain Python list hides its layers from .parameters() and the optimiser")
    found = {f"{part}/hidden/{i}": m for i, m in enumerate(m for m in hidden.modules() if isinstance(m, nn.Linear))}
    for head in HEADS[part]:
        linear = _attribute(module, head, where)
        if not isinstance(linear, nn.Linear):
            fail(f"{where}.{head} must be an nn.Linear, got {type(linear).__name__}")
        found[f"{part}/{head}"] = linear
    return found


def vae_layers(vae) -> dict[str, nn.Linear]:
    """The Linear layers of a VAE's encoder and decoder, keyed like the frozen parameter pytree."""
    if not isinstance(vae, nn.Module):
        fail(f"VAE must be a torch.nn.Module subclass; got {type(vae).__name__}")
    return {**layers(_attribute(vae, "encoder", "VAE"), "encoder"),
            **layers(_attribute(vae, "decoder", "VAE"), "decoder")}


def load(found: dict[str, nn.Linear], flat: dict, prefix: str = "params") -> None:
    """Copy the frozen ``prefix/<layer>/W`` (transposed) and ``/b`` into the layers, in place, as float64."""
    parts = {key.split("/")[0] for key in found}
    wanted = sorted({k[len(prefix) + 1:].rsplit("/", 1)[0] for k in flat
                     if k.startswith(prefix + "/") and k.split("/")[1] in parts})
    if sorted(found) != wanted:
        fail(f"the module has the Linear layers {sorted(found)}; expected {wanted}: one Linear per hidden width, "
             "in the order the docstring gives, plus the heads")
    with torch.no_grad():
        for key in wanted:
            linear = found[key]
            W, b = flat[f"{prefix}/{key}/W"], flat[f"{prefix}/{key}/b"]
            if tuple(linear.weight.shape) != W.T.shape or tuple(linear.bias.shape) != b.shape:
                fail(f"layer {key}: weight {tuple(linear.weight.shape)} and bias {tuple(linear.bias.shape)}; "
                     f"expected weight {W.T.shape} (out, in) and bias {b.shape}")
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
            linear.bias.copy_(torch.from_numpy(np.asarray(b)))


def build(torch_track, cls: str, flat: dict, *args):
    """``torch_track.networks.<cls>(*args)`` in float64 with the frozen weights of ``flat`` loaded."""
    module = call(cls, getattr(torch_track.networks, cls), *args)
    if not isinstance(module, nn.Module):
        fail(f"{cls}(...) must be a torch.nn.Module; got {type(module).__name__}")
    module = module.double()
    found = vae_layers(module) if cls == "VAE" else layers(module, cls.lower())
    load(found, flat)
    return module


def layer_grads(found: dict[str, nn.Linear], prefix: str = "grad_params") -> dict[str, np.ndarray]:
    """The ``.grad`` of every layer in the frozen layout: ``{"grad_params/encoder/to_mu/W": weight.grad.T}``."""
    out = {}
    for key, linear in found.items():
        for name, param, transpose in (("W", linear.weight, True), ("b", linear.bias, False)):
            g = param.grad
            out[f"{prefix}/{key}/{name}"] = None if g is None else (g.T if transpose else g).detach().numpy()
    return out
