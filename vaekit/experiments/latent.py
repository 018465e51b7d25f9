r"""Experiment ``latent``: what the encoder does with the digits, in a 2-D and in a 20-D latent space.

* 2-D model: the test means mu(x) coloured by digit, and the decoder's CB mean on a grid of codes spanning the
  range of the test means (1st to 99th percentile on each axis).
* Both: how far the codes sit from the prior: the spread of the means and the typical posterior sigma.
* 20-D model: the test means projected on their first two principal components (PCA), with the fraction of
  variance each component explains, and the number of active units, Var_x[mu_d(x)] > 0.01.
* Both: a straight line between the codes of two test digits of different classes, decoded (CB mean), and
  the k-nearest-neighbour digit accuracy of the means (also of the 2-D PCA projection of the 20-D means).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import plotting
from ..plotting import new_figure, save_figure, show_tiles, tile
from .common import Settings, model_defaults, start
from .measures import active_units, encode_means, evaluate_elbo, knn_accuracy

GRID_SIZE = 15
INTERPOLATION_STEPS = 10


def sizes(settings: Settings) -> dict:
    """The experiment's settings at the default or the quick size."""
    s = settings.size
    return {
        "latent_dims": [2, 20],
        "epochs": {"2": s(50, 1), "20": s(30, 1)},
        "knn_k": 5,
        **{k: v for k, v in model_defaults().items() if k != "latent_dim"},
    }


def pca(mu: np.ndarray, n_components: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Principal axes of the rows of mu (N, D).

    .. math::
        \mu - \bar\mu = U S V^\top, \qquad \text{projection}(m) = (m - \bar\mu)\, V_{:, :n}, \qquad
        \text{explained}_i = S_i^2 / \textstyle\sum_j S_j^2

    Returns:
        ``(centre, axes, explained)``: the mean (D,), the first n principal axes (n, D) and the fraction of
        the variance explained by each of the min(N, D) components, in decreasing order.
    """
    centre = mu.mean(axis=0)
    _, s, vt = np.linalg.svd(mu - centre, full_matrices=False)
    return centre, vt[:n_components], s**2 / np.sum(s**2)


def code_spread(model, x: torch.Tensor, mu: np.ndarray) -> dict:
    r"""How the codes sit against the prior N(0, I): the spread of the means over the data, sqrt(mean_d Var_x mu_d),
    and the typical posterior standard deviation, exp(mean_{n,d} log sigma_{nd}) (both 1 when q matches the prior
    on average)."""
    with torch.no_grad():
        log_var = torch.cat([model.encoder(x[i : i + 2000])[1] for i in range(0, len(x), 2000)]).double().numpy()
    return {"code_spread": float(np.sqrt(np.mean(np.var(mu, axis=0)))),
            "posterior_sigma_geometric_mean": float(np.exp(0.5 * np.mean(log_var)))}


def cb_mean_of(track, model, z: np.ndarray) -> np.ndarray:
    """The decoder's continuous Bernoulli mean (N, 784) at codes z (N, D_z)."""
    with torch.no_grad():
        logits = model.decoder(torch.as_tensor(z, dtype=torch.float32))
        return track.continuous_bernoulli.cb_mean(logits).double().numpy()


def run(settings: Settings) -> dict:
    """Run the experiment (see the module docstring); write its figures and results.json."""
    ex = start(settings, sizes)
    cfg, track, data, out = ex.cfg, ex.track, ex.data, ex.out
    models, means, results = {}, {}, {}
    total = sum(cfg["epochs"].values()) + len(cfg["latent_dims"])
    with tqdm(total=total, desc="latent", unit="step") as progress:
        for z_dim in cfg["latent_dims"]:
            progress.set_postfix_str(f"training the {z_dim}-D model")
            model = ex.new_vae(z_dim)
            ex.train(model, cfg["epochs"][str(z_dim)], track.optim.train_step,
                     torch.Generator().manual_seed(settings.seed), progress)
            model.eval()
            mu_train, mu_test = encode_means(model, data.x_train), encode_means(model, data.x_test)
            results[f"{z_dim}d"] = {
                "test_elbo": evaluate_elbo(track, model, data.x_test, settings.seed + 1),
                **code_spread(model, data.x_test, mu_test),
                "active_units": active_units(mu_test),
                "knn_accuracy": knn_accuracy(mu_train, data.y_train, mu_test, data.y_test, cfg["knn_k"]),
            }
            models[z_dim], means[z_dim] = model, (mu_train, mu_test)
            progress.update(1)

    big = max(cfg["latent_dims"])
    centre, axes, explained = pca(means[big][0])  # the train means' principal axes, for both splits
    pc_train, pc_test = ((m - centre) @ axes.T for m in means[big])
    results[f"{big}d"]["pca_explained_variance"] = explained[:5].tolist()
    results[f"{big}d"]["pca2_knn_accuracy"] = knn_accuracy(pc_train, data.y_train, pc_test, data.y_test,
                                                           cfg["knn_k"])
    results["unit"] = "nats/image for the ELBO; accuracies as fractions of the test digits"

    small = min(cfg["latent_dims"])
    figures = [
        plotting.save_latent_scatter(out / "latent_2d_scatter.png", means[small][1], data.y_test,
                                     title=f"{small}-D model: test means $\\mu(x)$ by digit"),
        plot_grid(out / "latent_2d_grid.png", track, models[small], means[small][1]),
        plotting.save_latent_scatter(out / "latent_20d_pca.png", pc_test, data.y_test,
                                     title=f"{big}-D model: test means on their first two principal components "
                                           f"({100 * explained[:2].sum():.0f}% of the variance)"),
        plot_interpolation(out / "latent_interpolation.png", track, models, means, data.y_test),
    ]
    return ex.finish(results, figures)


def plot_grid(path: Path, track, model, mu: np.ndarray, n: int = GRID_SIZE) -> Path:
    """The CB mean decoded on an n x n grid of 2-D codes spanning the 1st to 99th percentile of the codes mu (N, 2)
    on each axis (the prior's central 95% is [-1.96, 1.96]; a model whose codes lie far outside it shows it here)."""
    lo, hi = np.percentile(mu, 1, axis=0), np.percentile(mu, 99, axis=0)
    v1, v2 = np.linspace(lo[0], hi[0], n), np.linspace(hi[1], lo[1], n)  # z_2 grows upwards
    z1, z2 = np.meshgrid(v1, v2)
    images = cb_mean_of(track, model, np.stack([z1.ravel(), z2.ravel()], axis=1))
    fig = new_figure(7.0, 7.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.imshow(tile(images, n), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ticks = [i * 29 + 14 for i in range(0, n, 2)]
    ax.set_xticks(ticks, [f"{v:.1f}" for v in v1[::2]], fontsize=7)
    ax.set_yticks(ticks, [f"{v:.1f}" for v in v2[::2]], fontsize=7)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title("2-D model: CB mean of decode(z) over the range of the test codes", fontsize=10)
    return save_figure(fig, path)


def plot_interpolation(path: Path, track, models: dict, means: dict, labels: np.ndarray,
                       steps: int = INTERPOLATION_STEPS) -> Path:
    """For each model, the CB mean along the straight line between the codes of two test digits."""
    first = 0
    second = int(np.flatnonzero(labels != labels[first])[0]) if np.any(labels != labels[first]) else 0
    alphas = np.linspace(0.0, 1.0, steps)
    fig = new_figure(0.6 * steps + 0.6, 0.8 * len(models) + 0.5)
    axes = fig.subplots(len(models), 1, squeeze=False)[:, 0]
    for ax, (z_dim, model) in zip(axes, models.items()):
        mu = means[z_dim][1]
        line = (1.0 - alphas)[:, None] * mu[first] + alphas[:, None] * mu[second]
        show_tiles(ax, cb_mean_of(track, model, line), steps)
        ax.set_ylabel(f"{z_dim}-D", rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(f"Interpolation from a {labels[first]} to a {labels[second]} (CB mean)", fontsize=10)
    return save_figure(fig, path)
