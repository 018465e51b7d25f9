"""Frozen network weights of the PyTorch track, judge side.

The frozen cases store W of shape (fan_in, fan_out) under flat keys such as ``params/encoder/hidden/0/W``
(see grader/pytrees.py); an ``nn.Linear`` holds ``weight = W.T`` of shape (fan_out, fan_in) and ``bias = b``.
The worker builds the student's modules and loads these weights (grader/worker/torch_modules.py); its probes
send back parameters and gradients in the frozen layout (``{"encoder/to_mu/W": weight.T, ...}``), which are
compared here.
"""

from __future__ import annotations

import numpy as np

from grader.cases import NET_SIZES
from grader.harness import check_close

VAE_SIZES = (NET_SIZES["x_dim"], NET_SIZES["hidden_dims"], NET_SIZES["z_dim"])  # VAE(x_dim, hidden_dims, z_dim)


def check_params_after(params: dict, expected: dict, what: str, hint: str, prefix: str = "new_params") -> None:
    """Each parameter ``{"encoder/to_mu/W": ...}`` that a probe sent against the frozen ``<prefix>/<key>``."""
    for key, value in params.items():
        check_close(value, expected[f"{prefix}/{key}"], f"parameter {key} after {what}", {}, hint=hint)


def parameter_vector(order: list[str], flat: dict, prefix: str) -> np.ndarray:
    """Frozen values in the order of a module's ``.parameters()`` (``order``: their keys, weights as (out, in))."""
    return np.concatenate([np.ravel(flat[f"{prefix}/{key}"].T if key.endswith("/W") else flat[f"{prefix}/{key}"])
                           for key in order])
