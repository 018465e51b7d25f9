"""The epoch loop of ``vaekit train``, shared by both tracks.

A track supplies a ``Trainer`` (``vaekit/training/numpy_ag.py`` or ``pytorch.py``) with the same methods:
``train_epoch(x)``, ``evaluate(x)``, ``save_checkpoint(path, epoch)``, ``load_checkpoint(path)``,
``encode_mean(x)``, ``decode_mean(z)``, ``iwae(x, n_samples)``. This module loads the data (the bytes, turned into
pixels in [0, 1] by ``config.pixels``: dequantised afresh every epoch, or divided by 255), runs the epochs, prints
the ELBO in nats per image and, on dequantised pixels, the bound in bits per dimension on the bytes, writes the
checkpoint and ``metrics.json`` atomically after every epoch, and at the end evaluates the bound on dequantised
test pixels (and the IWAE estimate if asked) and draws the figures.
"""

from __future__ import annotations

import importlib
import math
import re
import sys
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .. import IMAGE_DIM
from ..data import DataError, load_mnist_bytes
from ..registry import EXERCISES
from ..io import load_json, save_json
from ..pixels import EVAL_NOISE, LEVELS, TRAIN_NOISE, bits_per_dim, dequantise, noise_rng
from ..codefolder import SubmissionError
from .config import ARCHITECTURE_FIELDS, TrainConfig
from .figures import make_figures, make_training_curves

METRICS_NAME = "metrics.json"
UNIT = "nats/image"
EVAL_BATCH_SIZE = 500


class TrainError(Exception):
    """A run that cannot go on; ``str(err)`` is one line for the user, ``code`` the exit status."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def trainer_class(track: str):
    """The ``Trainer`` class of a track: ``vaekit.training.<track>.Trainer``."""
    return importlib.import_module(f"{__package__}.{track}").Trainer


def not_implemented_message(err: NotImplementedError, config: TrainConfig) -> str:
    """Say which exercise is missing and how to check it, from a stub's NotImplementedError."""
    text = str(err) or "a function raised NotImplementedError"
    m = re.search(r"Exercise (T?\d+\.\d+)", text)
    check = ""
    if m and m.group(1) in EXERCISES:
        check = f" (check it with `pytest grader -m {EXERCISES[m.group(1)].marker}`)"
    return (
        f"the {config.track} code in '{config.code}' is not finished: {text}. Write that exercise{check}, "
        f"or train the reference implementation with --code solutions."
    )


def run(config: TrainConfig, log=None) -> dict:
    """Train, checkpoint and draw figures as ``config`` says; return the metrics.

    Args:
        config: the run's settings.
        log: function printing one line (default: ``tqdm.write``, which keeps progress bars intact).

    Returns:
        ``{"config": ..., "unit": "nats/image", "epochs": [one dict per epoch], "figures": [paths]}``; epoch 0
        is the model before training (no train ELBO).

    Raises:
        TrainError: a problem the user can fix (missing data, unfinished exercise, bad resume, divergence).
    """
    return run_with_trainer(config, log)[0]


def run_with_trainer(config: TrainConfig, log=None) -> tuple[dict, object]:
    """:func:`run`, also returning the trained ``Trainer`` (for experiments that draw more from the model)."""
    try:
        return _run(config, log or tqdm.write)
    except NotImplementedError as err:
        raise TrainError(not_implemented_message(err, config), code=1) from err
    except (DataError, SubmissionError) as err:
        raise TrainError(str(err), code=2) from err


def _run(config: TrainConfig, log) -> tuple[dict, object]:
    out = config.out_dir
    bytes_train, _ = load_mnist_bytes("train", config.data_root, config.dataset, config.download)
    bytes_test, y_test = load_mnist_bytes("test", config.data_root, config.dataset, config.download)
    if config.max_batches is not None:
        n_eval = config.max_batches * config.batch_size
        bytes_test, y_test = bytes_test[:n_eval], y_test[:n_eval]
    dequantised = config.pixels == "dequantised"
    test_draws = dequantised_test(bytes_test, config) if dequantised else [bytes_test / np.float32(255.0)]

    trainer = trainer_class(config.track)(config)
    checkpoint = out / trainer.checkpoint_name
    metrics_path = out / METRICS_NAME
    history: list[dict] = []
    start = 0
    if config.resume:
        start, history = _resume(trainer, config, checkpoint, metrics_path)
        log(f"resuming from {checkpoint} after epoch {start}")
        if start >= config.epochs:
            log(f"nothing to train: the checkpoint has {start} epoch(s), --epochs is {config.epochs}")
    elif checkpoint.exists():
        log(f"note: starting afresh; {checkpoint} will be overwritten (use --resume to continue it)")

    progress = sys.stderr.isatty()
    per_epoch = f"{len(bytes_train)}" if config.max_batches is None else (
        f"{min(len(bytes_train), config.max_batches * config.batch_size)} random ones of {len(bytes_train)}")
    pixels = ("dequantised pixels (byte + u)/256, fresh u each epoch" if dequantised else "raw pixels byte/255")
    clip = f", eta clipped to [{config.eta_clip:g}, {1 - config.eta_clip:g}]" if config.eta_clip > 0 else ""
    log(f"training the {config.track} VAE from '{config.code}' on {per_epoch} {config.dataset} training images "
        f"per epoch ({pixels}{clip}); test ELBO on {len(bytes_test)} test images"
        + (f", {config.eval_draws} fixed dequantisation draw(s)" if dequantised else ""))
    log(f"{'epoch':>5}  {'train ELBO':>10}  {'test ELBO':>10}  {'log-lik':>10}  {'KL':>8}  {'bits/dim':>8}  "
        f"{'s':>6}   ({UNIT}; bits/dim: bound on the 8-bit test images)")
    if start == 0:
        history.append(_row(0, None, evaluate_draws(trainer, test_draws), 0.0, 0, dequantised))
        log(_format(history[-1]))
    for epoch in range(start + 1, config.epochs + 1):
        x_epoch = _epoch_data(bytes_train, config, epoch)
        t0 = time.perf_counter()
        loss = float(trainer.train_epoch(x_epoch, progress))
        seconds = time.perf_counter() - t0
        if not math.isfinite(loss):
            raise TrainError(f"training diverged: the loss is {loss} in epoch {epoch}; try a smaller --lr "
                             f"(now {config.lr}) or check your code for NaNs", code=1)
        history.append(_row(epoch, -loss, evaluate_draws(trainer, test_draws), seconds, len(x_epoch),
                            dequantised))
        trainer.save_checkpoint(checkpoint, epoch)
        save_json(metrics_path, _metrics(config, history))
        log(_format(history[-1]))

    final = final_evaluation(trainer, bytes_test, config, test_draws if dequantised else None)
    log(_format_final(final))
    save_json(metrics_path, _metrics(config, history, final))
    n_epoch = len(bytes_train) if config.max_batches is None else min(len(bytes_train), config.max_batches * config.batch_size)
    curves = make_training_curves(out, history, title=f"{config.track} track, code: {config.code}, D_z = "
                                  f"{config.latent_dim}, {n_epoch} {config.dataset} training images per epoch, "
                                  f"{config.pixels} pixels")
    figures = [curves] + make_figures(out, trainer.encode_mean, trainer.decode_mean, test_draws[0], y_test,
                                      config.latent_dim, seed=config.seed)
    log(f"checkpoint: {checkpoint}" if checkpoint.exists() else "no checkpoint (no epoch was run)")
    log(f"metrics:    {metrics_path}")
    log("figures:    " + ", ".join(str(p) for p in figures))
    return {**_metrics(config, history, final), "figures": [str(p) for p in figures]}, trainer


def dequantised_test(bytes_test: np.ndarray, config: TrainConfig) -> list[np.ndarray]:
    """The test set dequantised ``config.eval_draws`` times, draw j from ``noise_rng(seed, EVAL_NOISE, j)``: the
    same points after every epoch and in every run with that seed."""
    return [dequantise(bytes_test, noise_rng(config.seed, EVAL_NOISE, j)) for j in range(config.eval_draws)]


def evaluate_draws(trainer, draws: list[np.ndarray]) -> tuple[float, float, float]:
    """The trainer's (ELBO, log-lik, KL) in nats/image, averaged over the draws of the test set: an estimate of
    E_u[ELBO((b + u)/256)] when the draws are dequantised copies."""
    terms = np.array([trainer.evaluate(x) for x in draws], dtype=np.float64)
    return tuple(float(t) for t in terms.mean(axis=0))


def final_evaluation(trainer, bytes_test: np.ndarray, config: TrainConfig, draws: list[np.ndarray] | None) -> dict:
    """After training: the bound on the 8-bit test images from the ELBO and, with ``iwae_samples``, the IWAE estimate.

    Both are evaluated on dequantised test pixels (``draws``, or new ones drawn as in :func:`dequantised_test` for a
    model trained on raw pixels: any density on [0, 1]^D gives a valid bound there) and converted by
    :func:`vaekit.pixels.bits_per_dim`.
    """
    draws = draws if draws is not None else dequantised_test(bytes_test, config)
    elbo, log_lik, kl = evaluate_draws(trainer, draws)
    final = {
        "pixels": "dequantised", "eval_draws": len(draws), "n_images": int(len(bytes_test)), "levels": LEVELS,
        "elbo": elbo, "log_lik": log_lik, "kl": kl, "elbo_bits_per_dim": bits_per_dim(elbo, IMAGE_DIM),
        "iwae": None,
    }
    if config.iwae_samples > 0:
        m = min(config.iwae_images, len(bytes_test))
        iwae = float(np.mean([trainer.iwae(x[:m], config.iwae_samples) for x in draws]))
        elbo_m = float(np.mean([trainer.evaluate(x[:m])[0] for x in draws]))
        final["iwae"] = {"samples": config.iwae_samples, "n_images": m, "log_px": iwae,
                         "bits_per_dim": bits_per_dim(iwae, IMAGE_DIM),
                         "elbo_same_images": elbo_m, "elbo_same_images_bits_per_dim": bits_per_dim(elbo_m, IMAGE_DIM)}
    return final


def _format_final(final: dict) -> str:
    text = (f"bound on the {final['n_images']} 8-bit test images (dequantised, {final['eval_draws']} draw(s)): "
            f"ELBO {final['elbo']:.2f} nats/image = {final['elbo_bits_per_dim']:.4f} bits/dim")
    if final["iwae"] is not None:
        i = final["iwae"]
        text += (f"; IWAE K = {i['samples']} on the first {i['n_images']}: {i['log_px']:.2f} nats/image = "
                 f"{i['bits_per_dim']:.4f} bits/dim (ELBO on them {i['elbo_same_images_bits_per_dim']:.4f})")
    return text


def _resume(trainer, config: TrainConfig, checkpoint: Path, metrics_path: Path) -> tuple[int, list[dict]]:
    if not checkpoint.is_file():
        raise TrainError(f"--resume: there is no checkpoint {checkpoint}; run without --resume first, or "
                         f"point --out to the folder of the run to continue")
    saved = trainer.peek_config(checkpoint)
    different = [f"{name} ({saved.get(name)!r} in the checkpoint, {config.to_dict()[name]!r} now)"
                 for name in ARCHITECTURE_FIELDS if saved.get(name) != config.to_dict()[name]]
    if different:
        raise TrainError(f"--resume: the checkpoint {checkpoint} was made with other settings: "
                         f"{', '.join(different)}; use the same ones or another --out")
    start = trainer.load_checkpoint(checkpoint)
    history = []
    if metrics_path.is_file():
        history = [row for row in load_json(metrics_path).get("epochs", []) if row["epoch"] <= start]
    return start, history


def _epoch_data(bytes_train: np.ndarray, config: TrainConfig, epoch: int) -> np.ndarray:
    """The pixels of one epoch: all training images, or with ``max_batches`` a random subset of that many
    minibatches; dequantised with the epoch's own noise ``noise_rng(seed, TRAIN_NOISE, epoch)``, or byte/255."""
    if config.max_batches is not None:
        n = min(len(bytes_train), config.max_batches * config.batch_size)
        pick = np.random.default_rng([config.seed, epoch]).choice(len(bytes_train), size=n, replace=False)
        bytes_train = bytes_train[np.sort(pick)]
    if config.pixels == "dequantised":
        return dequantise(bytes_train, noise_rng(config.seed, TRAIN_NOISE, epoch))
    return bytes_train / np.float32(255.0)


def _row(epoch, train_elbo, test_terms, seconds, n_images, dequantised: bool) -> dict:
    elbo, log_lik, kl = (float(t) for t in test_terms)
    return {
        "epoch": epoch,
        "train_elbo": train_elbo,
        "test_elbo": elbo,
        "test_log_lik": log_lik,
        "test_kl": kl,
        "test_bits_per_dim": bits_per_dim(elbo, IMAGE_DIM) if dequantised else None,
        "seconds": round(seconds, 3),
        "images_per_second": round(n_images / seconds, 1) if seconds > 0 else None,
    }


def _format(row: dict) -> str:
    train = f"{row['train_elbo']:10.2f}" if row["train_elbo"] is not None else f"{'-':>10}"
    bpd = f"{row['test_bits_per_dim']:8.4f}" if row.get("test_bits_per_dim") is not None else f"{'-':>8}"
    return (f"{row['epoch']:5d}  {train}  {row['test_elbo']:10.2f}  {row['test_log_lik']:10.2f}  "
            f"{row['test_kl']:8.2f}  {bpd}  {row['seconds']:6.1f}")


def _metrics(config: TrainConfig, history: list[dict], final: dict | None = None) -> dict:
    return {
        "config": config.to_dict(),
        "unit": UNIT,
        "note": ("train_elbo is the mean minibatch ELBO during the epoch; test_* are evaluated after it, on the "
                 "pixels the model trains on; test_bits_per_dim = -(test_elbo - 784 log 256)/(784 log 2) is a "
                 "bound on the 8-bit test images (dequantised pixels only); final: the bound after training, "
                 "on dequantised test pixels whatever the training pixels"),
        "epochs": history,
        "final": final,
    }
