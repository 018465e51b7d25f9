r"""Experiment ``iwae``: the importance-weighted bound as a training objective and as an estimate of log p(x).

Three VAEs from the same initial weights are trained on the loss -mean L_K with K = 1, 5, 50
(:func:`iwae_train_step`, Exercise T10.5; K = 1 is the ELBO with a sampled KL). Each is then evaluated on
test images with the bound L_K for K = 1, 5, 50, 500:

.. math::
    \mathcal L_1 \le \mathcal L_5 \le \mathcal L_{50} \le \mathcal L_{500} \le \log p(x)
    \quad\text{(in expectation)},

so L_500 is the best estimate of the test log-likelihood here, and L_500 - L_1 (on the same images) is the
part of log p(x) that the ELBO misses. Also reported: the test ELBO (analytic KL, all test images) and the number of active latent
units, Var_x[mu_d(x)] > 0.01.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..plotting import new_figure, save_figure
from .common import Settings, model_defaults, start
from .measures import active_units, encode_means, evaluate_elbo, iwae_bound


def sizes(settings: Settings) -> dict:
    """The experiment's settings at the default or the quick size."""
    s = settings.size
    return {
        "train_k": [1, 5, 50],
        "eval_k": s([1, 5, 50, 500], [1, 5, 50]),
        "epochs": s(5, 1),
        "eval_images": s(500, 32),  # test images for the bounds L_K
        **model_defaults(),
    }


def run(settings: Settings) -> dict:
    """Run the experiment (see the module docstring); write its figure and results.json."""
    ex = start(settings, sizes)
    cfg, track, data = ex.cfg, ex.track, ex.data
    x_eval = data.x_test[: cfg["eval_images"]]
    results = {"bounds": {}, "test_elbo": {}, "active_units": {}, "train_seconds": {}, "train_loss": {}}
    total = len(cfg["train_k"]) * (cfg["epochs"] + len(cfg["eval_k"]) + 1)
    with tqdm(total=total, desc="iwae", unit="step") as progress:
        for k in cfg["train_k"]:
            progress.set_postfix_str(f"training with K = {k}")
            model = ex.new_vae(cfg["latent_dim"])
            generator = torch.Generator().manual_seed(settings.seed)
            t0 = time.perf_counter()
            losses = ex.train(model, cfg["epochs"], track.iwae_train.iwae_train_step, generator, progress, n_samples=k)
            results["train_seconds"][str(k)] = time.perf_counter() - t0
            results["train_loss"][str(k)] = losses
            model.eval()
            progress.set_postfix_str(f"evaluating the K = {k} model")
            bounds = {}
            for k_eval in cfg["eval_k"]:
                bounds[str(k_eval)] = iwae_bound(track, model, x_eval, k_eval, settings.seed + 1)
                progress.update(1)
            results["bounds"][str(k)] = bounds
            results["test_elbo"][str(k)] = evaluate_elbo(track, model, data.x_test, settings.seed + 1)
            results["active_units"][str(k)] = active_units(encode_means(model, data.x_test))
            progress.update(1)
    best = str(cfg["eval_k"][-1])
    results["log_px_estimate"] = {k: b[best] for k, b in results["bounds"].items()}
    # on the same test images: what the largest K adds to the single-sample bound L_1 (the ELBO, sampled KL)
    results["gap_log_px_minus_l1"] = {k: b[best] - b["1"] for k, b in results["bounds"].items()}
    results["unit"] = "nats/image; bounds on the first eval_images test images, test_elbo on all of them"
    return ex.finish(results, [plot_bounds(ex.out / "iwae_bound_vs_k.png", results["bounds"], len(x_eval))])


def plot_bounds(path: Path, bounds: dict, n_eval: int) -> Path:
    """Mean test bound L_K against the evaluation K (log axis), one line per training K."""
    fig = new_figure(6.0, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    for i, (k_train, row) in enumerate(bounds.items()):
        ks = np.array([int(k) for k in row])
        ax.plot(ks, list(row.values()), "o-", color=f"C{i}", label=f"trained with K = {k_train}")
    ax.set_xscale("log")
    ax.set_xlabel("K of the evaluation bound $\\mathcal{L}_K$")
    ax.set_ylabel(f"mean test $\\mathcal{{L}}_K$ (nats/image, {n_eval} images)")
    ax.set_title("Importance-weighted bound: training K and evaluation K", fontsize=11)
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=9)
    return save_figure(fig, path)
