"""The epoch loop of ``vaekit train``, shared by both tracks.

A track supplies a ``Trainer`` (``vaekit/training/numpy_ag.py`` or ``pytorch.py``) with the same methods:
``train_epoch(x)``, ``evaluate(x)``, ``save_checkpoint(path, epoch)``, ``load_checkpoint(path)``,
``encode_mean(x)``, ``decode_mean(z)``. This module loads the data, runs the epochs, prints the ELBO in nats per
image, writes the checkpoint and ``metrics.json`` atomically after every epoch and draws the figures.
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

from ..data import DataError, load_mnist
from ..exercises import EXERCISES
from ..io import load_json, save_json
from ..submission import SubmissionError
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
    try:
        return _run(config, log or tqdm.write)
    except NotImplementedError as err:
        raise TrainError(not_implemented_message(err, config), code=1) from err
    except (DataError, SubmissionError) as err:
        raise TrainError(str(err), code=2) from err


def _run(config: TrainConfig, log) -> dict:
    out = config.out_dir
    x_train, _ = load_mnist("train", config.data_root, config.dataset, config.download)
    x_test, y_test = load_mnist("test", config.data_root, config.dataset, config.download)
    if config.max_batches is not None:
        n_eval = config.max_batches * config.batch_size
        x_test, y_test = x_test[:n_eval], y_test[:n_eval]

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
    per_epoch = f"{len(x_train)}" if config.max_batches is None else (
        f"{min(len(x_train), config.max_batches * config.batch_size)} random ones of {len(x_train)}")
    log(f"training the {config.track} VAE from '{config.code}' on {per_epoch} {config.dataset} training images "
        f"per epoch; test ELBO on {len(x_test)} test images")
    log(f"{'epoch':>5}  {'train ELBO':>10}  {'test ELBO':>10}  {'log-lik':>10}  {'KL':>8}  {'s':>6}   ({UNIT})")
    if start == 0:
        history.append(_row(0, None, trainer.evaluate(x_test), 0.0, 0))
        log(_format(history[-1]))
    for epoch in range(start + 1, config.epochs + 1):
        x_epoch = _epoch_data(x_train, config, epoch)
        t0 = time.perf_counter()
        loss = float(trainer.train_epoch(x_epoch, progress))
        seconds = time.perf_counter() - t0
        if not math.isfinite(loss):
            raise TrainError(f"training diverged: the loss is {loss} in epoch {epoch}; try a smaller --lr "
                             f"(now {config.lr}) or check your code for NaNs", code=1)
        history.append(_row(epoch, -loss, trainer.evaluate(x_test), seconds, len(x_epoch)))
        trainer.save_checkpoint(checkpoint, epoch)
        save_json(metrics_path, _metrics(config, history))
        log(_format(history[-1]))
    if config.epochs == 0 or start >= config.epochs:
        save_json(metrics_path, _metrics(config, history))

    n_epoch = len(x_train) if config.max_batches is None else min(len(x_train), config.max_batches * config.batch_size)
    curves = make_training_curves(out, history, title=f"{config.track} track, code: {config.code}, D_z = "
                                  f"{config.latent_dim}, {n_epoch} {config.dataset} training images per epoch")
    figures = [curves] + make_figures(out, trainer.encode_mean, trainer.decode_mean, x_test, y_test,
                                      config.latent_dim, seed=config.seed)
    log(f"checkpoint: {checkpoint}" if checkpoint.exists() else "no checkpoint (no epoch was run)")
    log(f"metrics:    {metrics_path}")
    log("figures:    " + ", ".join(str(p) for p in figures))
    return {**_metrics(config, history), "figures": [str(p) for p in figures]}


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


def _epoch_data(x_train: np.ndarray, config: TrainConfig, epoch: int) -> np.ndarray:
    """All training images, or with ``max_batches`` a random subset of that many minibatches."""
    if config.max_batches is None:
        return x_train
    n = min(len(x_train), config.max_batches * config.batch_size)
    pick = np.random.default_rng([config.seed, epoch]).choice(len(x_train), size=n, replace=False)
    return x_train[np.sort(pick)]


def _row(epoch, train_elbo, test_terms, seconds, n_images) -> dict:
    elbo, log_lik, kl = (float(t) for t in test_terms)
    return {
        "epoch": epoch,
        "train_elbo": train_elbo,
        "test_elbo": elbo,
        "test_log_lik": log_lik,
        "test_kl": kl,
        "seconds": round(seconds, 3),
        "images_per_second": round(n_images / seconds, 1) if seconds > 0 else None,
    }


def _format(row: dict) -> str:
    train = f"{row['train_elbo']:10.2f}" if row["train_elbo"] is not None else f"{'-':>10}"
    return (f"{row['epoch']:5d}  {train}  {row['test_elbo']:10.2f}  {row['test_log_lik']:10.2f}  "
            f"{row['test_kl']:8.2f}  {row['seconds']:6.1f}")


def _metrics(config: TrainConfig, history: list[dict]) -> dict:
    return {
        "config": config.to_dict(),
        "unit": UNIT,
        "note": "train_elbo is the mean minibatch ELBO during the epoch; test_* are evaluated after it",
        "epochs": history,
    }
