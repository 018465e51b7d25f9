"""Experiments that show why the kit fits the VAE the way it does; each is ``vaekit experiment NAME``.

* ``estimators``: the pathwise against the score-function gradient (toy problem, VAE gradient variance, training);
* ``iwae``: the importance-weighted bound as a training objective (K = 1, 5, 50) and as an estimate of log p(x);
* ``cb-vs-bernoulli``: a continuous Bernoulli decoder against the (unnormalised) Bernoulli one on grey levels;
* ``latent``: the latent space of a 2-D and a 20-D model;
* ``dequantisation``: raw, dequantised and eta-clipped pixels, and the bound in bits per dimension.

Each module has ``sizes(settings)`` (its settings at the default or the ``--quick`` size) and
``run(settings) -> dict`` (see :mod:`vaekit.experiments.common`).
"""

from __future__ import annotations

import importlib

# experiment name -> module in this package
EXPERIMENTS = {
    "estimators": "estimators",
    "iwae": "iwae",
    "cb-vs-bernoulli": "cb_vs_bernoulli",
    "latent": "latent",
    "dequantisation": "dequantisation",
}


def module_of(name: str):
    """The module of an experiment, e.g. ``module_of("iwae").run(settings)``."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of: {', '.join(EXPERIMENTS)}")
    return importlib.import_module(f"{__name__}.{EXPERIMENTS[name]}")
