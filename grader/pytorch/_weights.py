"""Frozen network weights of the PyTorch track, judge side.

The frozen cases store W of shape (fan_in, fan_out) under flat keys such as ``params/encoder/hidden/0/W``
(see grader/pytrees.py); an ``nn.Linear`` holds ``weight = W.T`` of shape (fan_out, fan_in) and ``bias = b``.
The worker builds the student's modules and loads these weights (grader/worker/torch_modules.py); its probes
send back parameters and gradients in the frozen layout (``{"encoder/to_mu/W": weight.T, ...}``), which are
compared here.
"""

from __future__ import annotations

import numpy as np

from grader import tolerances as tol
from grader.cases import NET_SIZES
from grader.harness import check_close, to_numpy

VAE_SIZES = (NET_SIZES["x_dim"], NET_SIZES["hidden_dims"], NET_SIZES["z_dim"])  # VAE(x_dim, hidden_dims, z_dim)


def parameter_vector(order: list[str], flat: dict, prefix: str) -> np.ndarray:
    """Frozen values in the order of a module's ``.parameters()`` (``order``: their keys, weights as (out, in))."""
    return np.concatenate([np.ravel(flat[f"{prefix}/{key}"].T if key.endswith("/W") else flat[f"{prefix}/{key}"])
                           for key in order])


# --- Adam ---------------------------------------------------------------------------------------------------
# The reference steps are those of the NumPy track's adam_update, in the documented form. Adam in Kingma & Ba's
# "efficient" form (eps outside the bias correction, as some optimisers have it) is published and accepted, as in
# the NumPy track (grader/numpy_ag): it differs from the documented step s by at most |s| * eps / (sqrt(v) + eps)
# per entry and step, and the grader allows tolerances.ADAM_EPS_SLACK times this bound, summed over the steps
# taken, on top of its usual tolerance; so are torch.optim.Adam's own implementations (foreach, fused), which
# differ from the reference only in floating-point order (tolerances.adam_slack). Every other mistake (the gradient
# of the ELBO instead of the loss's, an optimiser of one's own, a loss summed over the batch) is off by far more than
# eps / sqrt(v).
def check_steps(params: dict, before: dict, after: dict, slack: dict, what: str, hint: str, hints=None) -> None:
    """The step (new - old) of each parameter ``{"encoder/to_mu/W": ...}`` that a probe sent against the expected
    step ``after[key] - before[key]``, within the usual tolerance plus ``slack[key]`` (Adam's eps, see above)."""
    for key, value in params.items():
        step = after[key] - before[key]
        check_close(to_numpy(value, f"parameter {key}") - before[key], step,
                    f"the step of parameter {key} in {what} (new - old)", {}, rtol=0.0,
                    atol=tol.ATOL + tol.RTOL * np.abs(after[key]) + slack[key], hint=hint, hints=hints)


def unflattened(ref, vector, prefix: str = "params") -> dict:
    """A flat vector in the layout of autograd's flatten of the case's parameter pytree, as ``{"encoder/to_mu/W":
    ...}`` (W of shape (fan_in, fan_out))."""
    from autograd.misc import flatten

    from grader.pytrees import flat_to_tree, tree_to_flat

    _, unflatten = flatten(flat_to_tree(ref.inputs, prefix))
    return {key[2:]: value for key, value in tree_to_flat(unflatten(np.asarray(vector)), "p").items()}
