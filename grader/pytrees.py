"""The NumPy track's parameter pytree as flat ``{"prefix/encoder/hidden/0/W": array}`` dicts, and back.

A layer is a tuple ``(W, b)``; lists are indexed by number. This is how network parameters are stored in
``reference.npz`` and handed to the PyTorch modules (whose Linear weight is W transposed).
"""

from __future__ import annotations

import numpy as np


def tree_to_flat(tree, prefix: str) -> dict[str, np.ndarray]:
    """``{"encoder": {"to_mu": (W, b)}}`` -> ``{"<prefix>/encoder/to_mu/W": W, "<prefix>/encoder/to_mu/b": b}``."""
    if isinstance(tree, dict):
        items = tree.items()
    elif isinstance(tree, tuple) and len(tree) == 2 and all(np.ndim(leaf) >= 1 for leaf in tree):
        items = zip(("W", "b"), tree)
    elif isinstance(tree, (list, tuple)):
        items = ((str(i), sub) for i, sub in enumerate(tree))
    else:
        return {prefix: np.asarray(tree)}
    out = {}
    for key, sub in items:
        out.update(tree_to_flat(sub, f"{prefix}/{key}"))
    return out


def flat_to_tree(flat: dict, prefix: str):
    """The inverse of :func:`tree_to_flat` for the keys that start with ``prefix/``."""
    root: dict = {}
    for key, value in flat.items():
        if not key.startswith(prefix + "/"):
            continue
        node = root
        *path, leaf = key[len(prefix) + 1 :].split("/")
        for part in path:
            node = node.setdefault(part, {})
        node[leaf] = value
    return _rebuild(root)


def _rebuild(node):
    if not isinstance(node, dict):
        return node
    if set(node) == {"W", "b"}:
        return (node["W"], node["b"])
    if node and all(k.isdigit() for k in node):
        return [_rebuild(node[str(i)]) for i in range(len(node))]
    return {k: _rebuild(v) for k, v in node.items()}


def random_vae_params(rng: np.random.Generator, x_dim: int, hidden_dims: tuple, z_dim: int) -> dict:
    """A parameter pytree with the layout of ``init_vae_params`` and N(0, 0.5^2) entries (float64)."""

    def layer(i, o):
        return (rng.normal(0, 0.5, size=(i, o)), rng.normal(0, 0.5, size=(o,)))

    enc = [x_dim, *hidden_dims]
    dec = [z_dim, *reversed(hidden_dims)]
    return {
        "encoder": {
            "hidden": [layer(i, o) for i, o in zip(enc[:-1], enc[1:])],
            "to_mu": layer(enc[-1], z_dim),
            "to_log_var": layer(enc[-1], z_dim),
        },
        "decoder": {"hidden": [layer(i, o) for i, o in zip(dec[:-1], dec[1:])], "to_logits": layer(dec[-1], x_dim)},
    }
