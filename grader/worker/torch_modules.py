"""The graded Encoder / Decoder / VAE modules with frozen weights, for the PyTorch probes.

The frozen cases store W of shape (fan_in, fan_out) under flat keys such as ``params/encoder/hidden/0/W``
(the layout of grader/pytrees.py); an ``nn.Linear`` holds ``weight = W.T`` of shape (fan_out, fan_in) and
``bias = b``. Layers are named by the same keys without the prefix: ``encoder/hidden/0``, ``decoder/to_logits``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .probes import fail
from .torch_inputs import call

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


def layers_of(module, cls: str) -> dict[str, nn.Linear]:
    return vae_layers(module) if cls == "VAE" else layers(module, cls.lower())


def make(track, cls: str, *args, **kwargs):
    """``networks.<cls>(*args, **kwargs)`` of the graded code; it must be an ``nn.Module``."""
    module = call(cls, track.function(f"networks.{cls}"), *args, **kwargs)
    if not isinstance(module, nn.Module):
        fail(f"{cls}(...) must be a torch.nn.Module; got {type(module).__name__}")
    return module


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
            W, b = np.asarray(flat[f"{prefix}/{key}/W"]), np.asarray(flat[f"{prefix}/{key}/b"])
            if tuple(linear.weight.shape) != W.T.shape or tuple(linear.bias.shape) != b.shape:
                fail(f"layer {key}: weight {tuple(linear.weight.shape)} and bias {tuple(linear.bias.shape)}; "
                     f"expected weight {W.T.shape} (out, in) and bias {b.shape}")
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)).to(linear.weight.dtype))
            linear.bias.copy_(torch.from_numpy(b).to(linear.bias.dtype))


def build(track, cls: str, flat: dict, *args, dtype: str = "float64"):
    """``networks.<cls>(*args)`` in float64 (or ``dtype``) with the frozen weights of ``flat`` loaded."""
    module = make(track, cls, *args).to({"float64": torch.float64, "float32": torch.float32}[dtype])
    load(layers_of(module, cls), flat)
    return module


def layer_values(found: dict[str, nn.Linear], attr: str = "data") -> dict[str, object]:
    """``{"encoder/to_mu/W": weight.T, "encoder/to_mu/b": bias}`` (``attr`` "grad": their gradients or None)."""
    out = {}
    for key, linear in found.items():
        for name, param, transpose in (("W", linear.weight, True), ("b", linear.bias, False)):
            value = param.detach() if attr == "data" else param.grad
            out[f"{key}/{name}"] = None if value is None else (value.T if transpose else value).detach().clone()
    return out


def parameter_keys(module, found: dict[str, nn.Linear]) -> list[str]:
    """The frozen key (``encoder/to_mu/W``, ...) of each tensor of ``module.parameters()``, in that order."""
    where = {}
    for key, linear in found.items():
        where[id(linear.weight)], where[id(linear.bias)] = f"{key}/W", f"{key}/b"
    keys = []
    for p in module.parameters():
        if id(p) not in where:
            fail(f"{type(module).__name__}.parameters() holds a tensor of shape {tuple(p.shape)} that is not the "
                 "weight or bias of one of the documented Linear layers; keep only the layers of the docstring")
        keys.append(where[id(p)])
    return keys
