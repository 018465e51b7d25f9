"""What every experiment shares: its settings, the data, a fresh PyTorch VAE, the epoch loop and the results file.

An experiment is a function ``run(settings) -> dict`` in ``vaekit/experiments/<name>.py``. It uses the PyTorch
track of the folder ``settings.code`` (the reference ``solutions`` by default, or a student's ``exercises``),
shows one tqdm progress bar, writes its figures (PNG) and ``results.json`` atomically into ``settings.out``,
and returns what it wrote in ``results.json``. One that trains VAEs begins with :func:`start` (the track, the
data, a fresh VAE and the training through the track's ``train_epoch``) and ends with :meth:`Run.finish`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .. import IMAGE_DIM
from ..data import DataError, load_mnist
from ..io import save_json
from ..codefolder import SubmissionError, Track

RESULTS_NAME = "results.json"
DTYPE = torch.float32


class ExperimentError(Exception):
    """An experiment that cannot run; ``str(err)`` is one line for the user, ``code`` the exit status."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def model_defaults() -> dict:
    """The model's default architecture and optimiser, from the one config object (``TrainConfig``): every
    experiment at its default size uses these, so changing a default there changes it everywhere."""
    from ..training.config import TrainConfig

    d = TrainConfig()
    return {"hidden": list(d.hidden), "latent_dim": d.latent_dim, "batch_size": d.batch_size, "lr": d.lr}


@dataclass(frozen=True)
class Settings:
    """How to run an experiment (the flags of ``vaekit experiment``).

    Attributes:
        name: the experiment, e.g. ``"estimators"``.
        out: output folder of the figures and ``results.json``.
        data_root: folder of the IDX files (None: ``$VAEKIT_DATA_ROOT``, else ``./data``).
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        code: the folder whose PyTorch track runs: ``"solutions"``, ``"exercises"`` or a path.
        quick: the small size (seconds, for tests) instead of the default size (minutes).
        seed: seeds the initial weights, the shuffling and every eps.
    """

    name: str
    out: str
    data_root: str | None = None
    dataset: str = "mnist"
    code: str = "solutions"
    quick: bool = False
    seed: int = 0

    def size(self, default, quick):
        """``quick`` at the quick size, else ``default``."""
        return quick if self.quick else default


@dataclass(frozen=True)
class Data:
    """Images in [0, 1] as float32 tensors (N, 784) and their labels as int64 arrays (N,)."""

    x_train: torch.Tensor
    y_train: np.ndarray
    x_test: torch.Tensor
    y_test: np.ndarray


def new_vae(track: Track, z_dim: int, hidden: tuple[int, ...], seed: int) -> torch.nn.Module:
    """``track.networks.VAE(784, hidden, z_dim)`` in float32, initialised from ``seed`` (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return track.networks.VAE(IMAGE_DIM, tuple(hidden), z_dim).to(DTYPE)


def train_epochs(track: Track, model, x: torch.Tensor, epochs: int, step: Callable, generator: torch.Generator,
                 progress, batch_size: int = 128, lr: float = 1e-3, n_samples: int = 1,
                 after_epoch: Callable | None = None) -> list[float]:
    r"""``epochs`` calls of the track's ``train_epoch`` with ``step`` and one Adam optimiser; returns the loss of
    each epoch (the mean of its minibatch losses).

    Args:
        track: the PyTorch track (its ``train.train_epoch``, Exercise T8.1, is the minibatch loop).
        model: the VAE, updated in place.
        x: training images (N, 784).
        epochs: number of passes over x.
        step: ``step(model, optimizer, xb, eps) -> float loss``, e.g. ``track.optim.train_step``.
        generator: the source of the shuffling and of eps ~ N(0, I) of shape (K, B, D_z).
        progress: a tqdm bar, advanced by one per epoch.
        batch_size, lr, n_samples: B, Adam's step size, K.
        after_epoch: called as ``after_epoch(epoch)`` after each epoch (e.g. to evaluate).
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for epoch in range(1, epochs + 1):
        model.train()
        losses.append(float(track.train.train_epoch(model, optimizer, x, generator, batch_size, n_samples,
                                                    step=step)))
        if not math.isfinite(losses[-1]):
            raise ExperimentError(f"training diverged: the loss is {losses[-1]} in epoch {epoch}", code=1)
        if after_epoch is not None:
            after_epoch(epoch)
        progress.update(1)
    return losses


@dataclass
class Run:
    """What an experiment that trains PyTorch VAEs starts from (see :func:`start`): its settings, its sizes
    ``cfg`` (with ``hidden``, ``batch_size`` and ``lr``), the output folder, the track, the data, the start time."""

    settings: Settings
    cfg: dict
    out: Path
    track: Track
    data: Data
    started: float

    def new_vae(self, z_dim: int) -> torch.nn.Module:
        """A fresh VAE with D_z = z_dim and the hidden widths of ``cfg``, initialised from the seed."""
        return new_vae(self.track, z_dim, tuple(self.cfg["hidden"]), self.settings.seed)

    def train(self, model, epochs: int, step: Callable, generator: torch.Generator, progress, **kwargs) -> list[float]:
        """:func:`train_epochs` on the training images with the batch size and learning rate of ``cfg``."""
        return train_epochs(self.track, model, self.data.x_train, epochs, step, generator, progress,
                            self.cfg["batch_size"], self.cfg["lr"], **kwargs)

    def finish(self, results: dict, figures: list[Path]) -> dict:
        """:func:`write_results` with ``cfg`` and the sizes of both splits as the settings."""
        sizes = {**self.cfg, "n_train": len(self.data.x_train), "n_test": len(self.data.x_test)}
        return write_results(self.settings, sizes, results, figures, self.started)


def start(settings: Settings, sizes: Callable[[Settings], dict]) -> Run:
    """Start the clock, then load the PyTorch track of ``settings.code`` (its modules are imported on first use)
    and both splits of ``settings.dataset`` (a missing or broken folder or file becomes an ExperimentError);
    ``cfg`` is ``sizes(settings)``."""
    started = time.perf_counter()
    try:
        track = Track(settings.code, "pytorch")
        x_train, y_train = load_mnist("train", settings.data_root, settings.dataset)
        x_test, y_test = load_mnist("test", settings.data_root, settings.dataset)
    except (SubmissionError, DataError) as err:
        raise ExperimentError(str(err)) from err
    data = Data(torch.from_numpy(x_train), y_train, torch.from_numpy(x_test), y_test)
    return Run(settings, sizes(settings), Path(settings.out), track, data, started)


def rounded(value, digits: int = 4):
    """Floats (also inside lists and dicts) rounded for a readable JSON; NaN/inf become None."""
    if isinstance(value, dict):
        return {k: rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v, digits) for v in value]
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return round(v, digits) if math.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_results(settings: Settings, sizes: dict, results: dict, figures: list[Path], started: float) -> dict:
    """Write ``results.json`` atomically; return its content.

    Args:
        settings: the run's settings (the data folder and the output folder are not recorded).
        sizes: the experiment's own settings at this size (epochs, repeats, ...).
        results: the numbers.
        figures: the PNG files written.
        started: ``time.perf_counter()`` at the start.
    """
    payload = {
        "experiment": settings.name,
        "settings": {"dataset": settings.dataset, "code": settings.code, "seed": settings.seed,
                     "size": "quick" if settings.quick else "default", **rounded(sizes)},
        "results": rounded(results),
        "figures": [Path(f).name for f in figures],
        "seconds": round(time.perf_counter() - started, 1),
        "torch_threads": torch.get_num_threads(),
    }
    save_json(Path(settings.out) / RESULTS_NAME, payload)
    return payload
