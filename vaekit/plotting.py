"""Figures of a trained VAE, drawn with matplotlib's Agg canvas (no display needed) and saved atomically as PNG.

Every function takes plain NumPy arrays of images with values in [0, 1], shape (N, 784) (rows of a 28x28
image), so it serves both tracks; what to show (the continuous Bernoulli *mean* of the decoder, not eta) is
the caller's choice. Nothing here touches pyplot's global state.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from . import IMAGE_SIDE
from .io import write_bytes

DPI = 100
_GREY = dict(cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")


def _images(images, name: str) -> np.ndarray:
    """Check and reshape images (N, 784) -> (N, 28, 28) float, values clipped to [0, 1]."""
    a = np.asarray(images, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != IMAGE_SIDE * IMAGE_SIDE:
        raise ValueError(f"{name} must have shape (N, {IMAGE_SIDE * IMAGE_SIDE}), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return np.clip(a, 0.0, 1.0).reshape(len(a), IMAGE_SIDE, IMAGE_SIDE)


def tile(images, n_cols: int, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """Arrange images (N, 784) in a grid of ``n_cols`` columns, row by row, ``pad`` pixels apart.

    Returns:
        A 2-D array of shape (rows * (28 + pad) - pad, n_cols * (28 + pad) - pad); unused cells and the
        gaps are ``fill`` (white).
    """
    a = _images(images, "images")
    if n_cols < 1:
        raise ValueError(f"n_cols must be >= 1, got {n_cols}")
    n_rows = max(1, -(-len(a) // n_cols))
    step = IMAGE_SIDE + pad
    canvas = np.full((n_rows * step - pad, n_cols * step - pad), fill)
    for i, img in enumerate(a):
        r, c = divmod(i, n_cols)
        canvas[r * step : r * step + IMAGE_SIDE, c * step : c * step + IMAGE_SIDE] = img
    return canvas


def new_figure(width: float, height: float) -> Figure:
    """A figure on an Agg canvas, sized in inches."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Render ``fig`` to PNG and write it atomically to ``path``."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return write_bytes(path, buffer.getvalue())


def show_tiles(ax, images, n_cols: int, title: str | None = None) -> None:
    """``images`` (N, 784) tiled ``n_cols`` to a row (:func:`tile`) on ``ax``, grey levels in [0, 1], no ticks."""
    ax.imshow(tile(images, n_cols), **_GREY)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)


def save_reconstructions(path, x, x_recon, n_cols: int = 10, title: str | None = None) -> Path:
    """Inputs and their reconstructions, in pairs of rows: a row of inputs, below it their reconstructions.

    Args:
        path: the PNG to write.
        x: input images, (N, 784).
        x_recon: reconstructions of the same images, (N, 784), e.g. the CB mean of decode(mu(x)).
        n_cols: images per row.
        title: figure title.
    """
    a, b = _images(x, "x"), _images(x_recon, "x_recon")
    if a.shape != b.shape:
        raise ValueError(f"x and x_recon must have the same shape, got {a.shape} and {b.shape}")
    n = len(a)
    rows = []
    for start in range(0, n, n_cols):
        for batch in (a, b):
            row = np.ones((n_cols, IMAGE_SIDE, IMAGE_SIDE))
            chunk = batch[start : start + n_cols]
            row[: len(chunk)] = chunk
            rows.append(row)
    n_pairs = len(rows) // 2
    fig = new_figure(1.0 + 0.6 * n_cols, 1.2 * n_pairs + 0.6)
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    for i, (ax, row) in enumerate(zip(axes, rows)):
        show_tiles(ax, row.reshape(n_cols, -1), n_cols)
        ax.set_ylabel("input" if i % 2 == 0 else "recon.", fontsize=8, rotation=0, ha="right", va="center")
    fig.suptitle(title or "Inputs (odd rows) and reconstructions (even rows)", fontsize=11)
    return save_figure(fig, path)


def save_image_grid(path, images, n_cols: int = 8, title: str | None = None) -> Path:
    """A grid of images, e.g. the decoder's CB mean at samples z ~ N(0, I) from the prior."""
    a = _images(images, "images")
    n_rows = max(1, -(-len(a) // n_cols))
    fig = new_figure(0.5 * n_cols + 0.4, 0.5 * n_rows + 0.7)
    show_tiles(fig.add_subplot(1, 1, 1), a.reshape(len(a), -1), n_cols, title)
    return save_figure(fig, path)


def save_latent_scatter(path, z, labels, title: str | None = None) -> Path:
    """Scatter of 2-D latent codes (e.g. the encoder means mu of the test set) coloured by digit label.

    Args:
        z: codes, shape (N, 2).
        labels: integer labels 0..9, shape (N,).
    """
    z = np.asarray(z, dtype=np.float64)
    labels = np.asarray(labels)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"z must have shape (N, 2) (a 2-D latent space), got {z.shape}")
    if labels.shape != (len(z),):
        raise ValueError(f"labels must have shape ({len(z)},), got {labels.shape}")
    fig = new_figure(6.0, 5.2)
    ax = fig.add_subplot(1, 1, 1)
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", vmin=-0.5, vmax=9.5, s=4, alpha=0.7,
                        linewidths=0)
    colorbar = fig.colorbar(points, ax=ax, ticks=range(10))
    colorbar.set_label("digit")
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title or "Latent means $\\mu(x)$ coloured by label", fontsize=11)
    return save_figure(fig, path)


def save_traversal(path, images, dims, column_labels, title: str | None = None) -> Path:
    """Latent traversal: row i changes latent coordinate ``dims[i]`` step by step, the others held fixed.

    Args:
        images: shape (len(dims), len(column_labels), 784): the decoded image of each (coordinate, step).
        dims: the (0-based) latent coordinates changed, one per row; shown as z_1, z_2, ...
        column_labels: what each column's step is, e.g. "-2.5σ" ... "+2.5σ".
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[:2] != (len(dims), len(column_labels)):
        raise ValueError(f"images must have shape ({len(dims)}, {len(column_labels)}, 784), got {images.shape}")
    n_rows, n_cols = len(dims), len(column_labels)
    fig = new_figure(0.55 * n_cols + 1.0, 0.55 * n_rows + 1.0)
    ax = fig.add_subplot(1, 1, 1)
    show_tiles(ax, images.reshape(n_rows * n_cols, -1), n_cols)
    step = IMAGE_SIDE + 1
    ax.set_yticks([r * step + IMAGE_SIDE / 2 for r in range(n_rows)], [f"$z_{{{d + 1}}}$" for d in dims], fontsize=8)
    ax.set_xticks([c * step + IMAGE_SIDE / 2 for c in range(n_cols)], list(column_labels), fontsize=8)
    ax.tick_params(length=0)
    ax.set_title(title or "Latent traversal (one coordinate per row)", fontsize=11)
    return save_figure(fig, path)


def save_interpolation(path, images, alphas, title: str | None = None) -> Path:
    """One row of images decoded along a straight line between two latent codes.

    Args:
        images: shape (len(alphas), 784): the decoded image at z = (1 - alpha) z_a + alpha z_b.
        alphas: the interpolation weights, from 0 (first digit) to 1 (second digit).
    """
    a = _images(images, "images")
    if len(a) != len(alphas):
        raise ValueError(f"need one image per alpha: {len(a)} images, {len(alphas)} alphas")
    n = len(a)
    fig = new_figure(0.6 * n + 0.4, 1.3)
    ax = fig.add_subplot(1, 1, 1)
    show_tiles(ax, a.reshape(n, -1), n, title or "Interpolation between two latent codes")
    step = IMAGE_SIDE + 1
    ax.set_xticks([c * step + IMAGE_SIDE / 2 for c in range(n)], [f"{t:.2f}" for t in alphas], fontsize=7)
    ax.tick_params(length=0)
    return save_figure(fig, path)


def save_training_curves(path, epochs, train_elbo, test_elbo, test_log_lik, test_kl, title: str | None = None) -> Path:
    """Training curves, in nats per image: the ELBO (train and test) and the test ELBO's two terms.

    test_elbo = test_log_lik - test_kl, with test_log_lik = E_q[log p(x|z)] and test_kl = KL(q(z|x) || p(z)).
    Left panel: train ELBO, test ELBO and test log-likelihood per epoch; right panel: test KL per epoch.

    Args:
        epochs: epoch numbers, shape (E,) (epoch 0 is the model before training).
        train_elbo: mean minibatch ELBO of each epoch, shape (E,); None or NaN where there is none (epoch 0).
        test_elbo, test_log_lik, test_kl: the test terms after each epoch, shape (E,) each.
    """
    epochs = np.asarray(epochs, dtype=np.float64)
    if epochs.ndim != 1 or len(epochs) == 0:
        raise ValueError(f"epochs must be a non-empty 1-D sequence, got shape {epochs.shape}")
    curves = {}
    for name, values in (("train_elbo", train_elbo), ("test_elbo", test_elbo), ("test_log_lik", test_log_lik),
                         ("test_kl", test_kl)):
        a = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        if a.shape != epochs.shape:
            raise ValueError(f"{name} must have one value per epoch, shape {epochs.shape}, got {a.shape}")
        if name != "train_elbo" and not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or infinite values")
        curves[name] = a
    fig = new_figure(9.0, 3.6)
    left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    seen = np.isfinite(curves["train_elbo"])
    left.plot(epochs[seen], curves["train_elbo"][seen], "o-", ms=3, label="train ELBO (mean over the epoch)")
    left.plot(epochs, curves["test_elbo"], "o-", ms=3, label="test ELBO")
    left.plot(epochs, curves["test_log_lik"], "--", label="test log-likelihood term")
    left.set_xlabel("epoch")
    left.set_ylabel("nats per image")
    left.set_title("ELBO (higher is better)", fontsize=10)
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    right.plot(epochs, curves["test_kl"], "o-", ms=3, color="tab:red", label="test KL")
    right.set_xlabel("epoch")
    right.set_ylabel("nats per image")
    right.set_title("KL(q(z|x) || p(z)) on the test set", fontsize=10)
    right.grid(alpha=0.3)
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return save_figure(fig, path)
