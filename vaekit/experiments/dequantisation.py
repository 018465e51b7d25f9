r"""Experiment ``dequantisation``: the same VAE trained on raw, on dequantised and on raw pixels with eta clipped.

Three variants, each trained by ``vaekit train`` (:func:`vaekit.training.loop.run_with_trainer`) with the same
seed, the same epochs and the same model, once with D_z = 20 and once with D_z = 2:

* ``raw``: x = byte/255, the data as ``load_mnist`` gives them; the CB density is unbounded at 0 and 1;
* ``dequantised``: x = (byte + u)/256 with fresh u ~ U(0, 1) every epoch (Theis et al., 2016);
* ``clipped``: raw pixels, eta clipped to [1e-4, 1 - 1e-4] as in the continuous Bernoulli paper's code
  (logits clamped to +-log 9999), which caps log p(x|z) at 784 * 2.2204 = 1740.8 nats.

Measured: the test ELBO (nats/image, on each variant's own pixels) and the KL after every epoch; after training,
for every variant on the *same* dequantised test pixels, the bound on the 8-bit images in bits/dim from the ELBO
and from the IWAE estimate (K = 1000 on the first 1,000 test images); how far the 2-D codes spread. Figures:
curves, the 2-D code scatters, prior samples, reconstructions. See docs/theory/evaluation.md.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import IMAGE_DIM
from ..data import load_mnist_bytes
from ..pixels import CB_PAPER_ETA_MIN, EVAL_NOISE, cb_log_prob_ceiling, dequantise, noise_rng
from ..plotting import new_figure, save_figure, show_tiles
from ..training.config import TrainConfig
from ..training.loop import TrainError, run_with_trainer
from .common import ExperimentError, Settings, model_defaults, write_results

# variant -> the TrainConfig fields that make it
VARIANTS = {
    "raw": {"pixels": "raw", "eta_clip": 0.0},
    "dequantised": {"pixels": "dequantised", "eta_clip": 0.0},
    "clipped": {"pixels": "raw", "eta_clip": CB_PAPER_ETA_MIN},
}
COLOURS = {"raw": "tab:red", "dequantised": "tab:blue", "clipped": "tab:green"}
N_SAMPLES = 36
N_SCATTER = 5000


def sizes(settings: Settings) -> dict:
    """The experiment's settings at the default or the quick size."""
    s = settings.size
    return {
        "variants": VARIANTS,
        "latent_dims": [20, 2],
        "epochs": s(10, 1),
        "max_batches": s(None, 2),
        "batch_size": s(model_defaults()["batch_size"], 8),
        "hidden": s(model_defaults()["hidden"], [16]),
        "lr": model_defaults()["lr"],
        "samples": 1,
        "eval_draws": 1,
        "iwae_samples": s(1000, 10),
        "iwae_images": s(1000, 10),
        "track": "pytorch",
        "threads": 1,
    }


def config_for(settings: Settings, cfg: dict, variant: str, z_dim: int, out: Path) -> TrainConfig:
    """The ``vaekit train`` settings of one run: the variant's pixels and clip, the experiment's budget."""
    return TrainConfig(
        track=cfg["track"], code=settings.code, data_root=settings.data_root, dataset=settings.dataset,
        epochs=cfg["epochs"], batch_size=cfg["batch_size"], lr=cfg["lr"], latent_dim=z_dim,
        hidden=tuple(cfg["hidden"]), samples=cfg["samples"], seed=settings.seed, out=str(out),
        max_batches=cfg["max_batches"], threads=cfg["threads"], eval_draws=cfg["eval_draws"],
        iwae_samples=cfg["iwae_samples"] if z_dim == max(cfg["latent_dims"]) else 0,
        iwae_images=cfg["iwae_images"], **VARIANTS[variant])


def test_pixels(bytes_test: np.ndarray, config: TrainConfig) -> np.ndarray:
    """The test pixels a run evaluates on: its first fixed dequantisation draw, or byte/255."""
    if config.pixels == "dequantised":
        return dequantise(bytes_test, noise_rng(config.seed, EVAL_NOISE, 0))
    return bytes_test / np.float32(255.0)


def code_radius(mu: np.ndarray) -> dict:
    """How far the codes mu (N, D_z) lie from the origin: the median, 99th percentile and maximum of |mu|."""
    r = np.linalg.norm(mu, axis=1)
    return {"median": float(np.median(r)), "p99": float(np.percentile(r, 99)), "max": float(np.max(r))}


def summarise(metrics: dict) -> dict:
    """The numbers of one run: curves, its last epoch, and the bound after training."""
    rows = metrics["epochs"]
    last = rows[-1]
    return {
        "curves": {key: [row[key] for row in rows]
                   for key in ("epoch", "train_elbo", "test_elbo", "test_log_lik", "test_kl", "test_bits_per_dim")},
        "last": {key: last[key] for key in ("epoch", "test_elbo", "test_log_lik", "test_kl", "test_bits_per_dim")},
        "last_epoch_gain": (last["test_elbo"] - rows[-2]["test_elbo"]) if len(rows) > 2 else None,
        "dequantised_test": metrics["final"],
        "training_seconds": sum(row["seconds"] for row in rows),
    }


def run(settings: Settings, runs_dir: str | Path | None = None) -> dict:
    """Run the experiment (see the module docstring); write its figures and results.json into ``settings.out``.

    Args:
        settings: as for every experiment.
        runs_dir: keep the six ``vaekit train`` run folders (checkpoint, metrics.json, figures) in
            ``runs_dir/<variant>-dz<D_z>``; by default they go to a temporary folder that is deleted.
    """
    started = time.perf_counter()
    cfg = sizes(settings)
    out = Path(settings.out)
    try:
        bytes_test, y_test = load_mnist_bytes("test", settings.data_root, settings.dataset)
    except Exception as err:  # DataError: the same message vaekit train would give
        raise ExperimentError(str(err)) from err
    results: dict = {"variants": {}}
    shown: dict = {}
    n_runs = len(VARIANTS) * len(cfg["latent_dims"])
    with tempfile.TemporaryDirectory(prefix="vaekit-dequantisation-") as temporary, \
            tqdm(total=n_runs, desc="dequantisation", unit="run") as progress:
        work = Path(runs_dir) if runs_dir is not None else Path(temporary)
        for variant in VARIANTS:
            results["variants"][variant] = {}
            for z_dim in cfg["latent_dims"]:
                progress.set_postfix_str(f"{variant}, D_z = {z_dim}")
                config = config_for(settings, cfg, variant, z_dim, work / f"{variant}-dz{z_dim}")
                try:
                    metrics, trainer = run_with_trainer(config, log=lambda line: None)
                except TrainError as err:
                    raise ExperimentError(str(err), code=err.code) from err
                numbers = summarise(metrics)
                x = test_pixels(bytes_test, config)
                mu = trainer.encode_mean(x[:N_SCATTER])
                numbers["code_radius"] = code_radius(mu)
                z = np.random.default_rng(settings.seed).standard_normal((N_SAMPLES, z_dim)).astype(np.float32)
                pick = first_of_each_class(y_test)
                shown[variant, z_dim] = {"mu": mu, "samples": trainer.decode_mean(z),
                                         "inputs": x[pick], "recon": trainer.decode_mean(trainer.encode_mean(x[pick]))}
                results["variants"][variant][f"dz{z_dim}"] = numbers
                progress.update(1)

    ceiling = cb_log_prob_ceiling(CB_PAPER_ETA_MIN)
    results["clip"] = {"eta_min": CB_PAPER_ETA_MIN, "logit_bound": math.log((1 - CB_PAPER_ETA_MIN) / CB_PAPER_ETA_MIN),
                       "log_prob_ceiling_per_pixel": ceiling, "log_prob_ceiling_per_image": IMAGE_DIM * ceiling}
    results["unit"] = ("nats/image; bits/dim = bound on the 8-bit test images, -(L - 784 log 256)/(784 log 2), "
                       "from the ELBO or the IWAE estimate L on dequantised test pixels")
    big, small = max(cfg["latent_dims"]), min(cfg["latent_dims"])
    figures = [
        plot_curves(out / "dequantisation_curves.png", results["variants"], cfg["latent_dims"], settings.dataset),
        plot_scatter(out / "dequantisation_scatter.png", {v: shown[v, small]["mu"] for v in VARIANTS},
                     y_test[:N_SCATTER], small),
        plot_samples(out / "dequantisation_samples.png", shown, cfg["latent_dims"]),
        plot_reconstructions(out / "dequantisation_reconstructions.png", shown, big),
    ]
    return write_results(settings, {**cfg, "n_train": n_train(settings), "n_test": len(bytes_test)}, results,
                         figures, started)


def n_train(settings: Settings) -> int:
    """The number of training images found (the runs read them themselves)."""
    return int(len(load_mnist_bytes("train", settings.data_root, settings.dataset)[1]))


def first_of_each_class(labels: np.ndarray) -> np.ndarray:
    """The index of the first example of each label present, ordered by label."""
    return np.array([int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)])


def plot_curves(path: Path, variants: dict, latent_dims: list[int], dataset: str) -> Path:
    """Test ELBO (nats/image, each variant on its own test pixels, from epoch 1) and KL after every epoch (from
    epoch 0, the untrained model), one column per D_z."""
    fig = new_figure(4.2 * len(latent_dims), 6.4)
    axes = fig.subplots(2, len(latent_dims), squeeze=False)
    for col, z_dim in enumerate(latent_dims):
        for variant, runs in variants.items():
            c = runs[f"dz{z_dim}"]["curves"]
            axes[0, col].plot(c["epoch"][1:], c["test_elbo"][1:], "o-", ms=3, color=COLOURS[variant], label=variant)
            axes[1, col].plot(c["epoch"], c["test_kl"], "o-", ms=3, color=COLOURS[variant], label=variant)
        axes[0, col].set_title(f"D_z = {z_dim}: test ELBO (own pixels)", fontsize=10)
        axes[1, col].set_title(f"D_z = {z_dim}: test KL", fontsize=10)
        axes[0, col].set_ylabel("nats/image")
        axes[1, col].set_ylabel("nats/image")
        axes[1, col].set_xlabel("epoch")
        for ax in axes[:, col]:
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.suptitle(f"{dataset}: raw, dequantised and clipped pixels, same model, seed and epochs", fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_scatter(path: Path, mus: dict, labels: np.ndarray, z_dim: int) -> Path:
    """The 2-D test codes mu(x) of each variant, on common axes, coloured by label; the circle |z| = 3 marks where
    the prior N(0, I) puts 99% of its mass."""
    fig = new_figure(4.0 * len(mus), 4.4)
    axes = fig.subplots(1, len(mus), squeeze=False)[0]
    extent = max(float(np.percentile(np.abs(mu), 99.9)) for mu in mus.values()) * 1.05
    for ax, (variant, mu) in zip(axes, mus.items()):
        points = ax.scatter(mu[:, 0], mu[:, 1], c=labels[: len(mu)], cmap="tab10", vmin=-0.5, vmax=9.5, s=3,
                            alpha=0.6, linewidths=0)
        t = np.linspace(0, 2 * np.pi, 200)
        ax.plot(3.03 * np.cos(t), 3.03 * np.sin(t), "k--", lw=0.8)
        ax.set_xlim(-extent, extent)
        ax.set_ylim(-extent, extent)
        ax.set_aspect("equal")
        ax.set_title(f"{variant}", fontsize=10)
        ax.set_xlabel("$z_1$")
    axes[0].set_ylabel("$z_2$")
    fig.colorbar(points, ax=list(axes), ticks=range(10), shrink=0.8).set_label("digit")
    fig.suptitle(f"{z_dim}-D codes $\\mu(x)$ of test images (dashed: radius 3.03, 99% of the prior)", fontsize=10)
    return save_figure(fig, path)


def plot_samples(path: Path, shown: dict, latent_dims: list[int]) -> Path:
    """The CB mean at 36 codes z ~ N(0, I) (the same codes for every variant), one row per D_z."""
    variants = list(VARIANTS)
    fig = new_figure(3.2 * len(variants), 3.4 * len(latent_dims))
    axes = fig.subplots(len(latent_dims), len(variants), squeeze=False)
    for row, z_dim in enumerate(latent_dims):
        for col, variant in enumerate(variants):
            show_tiles(axes[row, col], shown[variant, z_dim]["samples"], 6, f"{variant}, D_z = {z_dim}")
    fig.suptitle("Prior samples: CB mean of decode(z), z ~ N(0, I)", fontsize=11)
    return save_figure(fig, path)


def plot_reconstructions(path: Path, shown: dict, z_dim: int) -> Path:
    """One test image of each class (top row) and each variant's reconstruction, CB mean of decode(mu(x))."""
    variants = list(VARIANTS)
    inputs = shown[variants[0], z_dim]["inputs"]
    rows = [inputs] + [shown[v, z_dim]["recon"] for v in variants]
    fig = new_figure(0.55 * len(inputs) + 1.2, 0.62 * len(rows) + 0.6)
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    for ax, images, name in zip(axes, rows, ["input", *variants]):
        show_tiles(ax, images, len(images))
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(f"Test images and reconstructions, D_z = {z_dim} (CB mean)", fontsize=10)
    return save_figure(fig, path)
