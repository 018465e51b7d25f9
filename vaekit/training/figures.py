"""The figures drawn at the end of ``vaekit train``, for either track.

A track hands over two functions on NumPy arrays:

* ``encode_mean(x)``: images (N, 784) -> the encoder means mu (N, D_z);
* ``decode_mean(z)``: codes (N, D_z) -> the continuous Bernoulli mean E[x | z] = cb_mean(logits) (N, 784),
  which is what a CB decoder "draws" (not eta = sigmoid(logits), which is too contrasted).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from .. import plotting

Array = np.ndarray

N_RECONSTRUCTIONS_PER_DIGIT = 2
N_SAMPLES = 64
N_SCATTER = 5000
TRAVERSAL_DIMS = 8
TRAVERSAL_STEPS = np.linspace(-2.5, 2.5, 9)  # in standard deviations of mu_d over the data
INTERPOLATION_STEPS = 10


CURVES_NAME = "training_curves.png"


def make_training_curves(out: str | Path, epochs: list[dict], title: str | None = None) -> Path:
    """Draw ``training_curves.png`` into ``out`` from the per-epoch rows that ``metrics.json`` records.

    Each row holds ``epoch``, ``train_elbo`` (None for epoch 0, the model before training), ``test_elbo``,
    ``test_log_lik`` and ``test_kl`` in nats per image, with test_elbo = test_log_lik - test_kl. The file is
    written atomically (:func:`vaekit.plotting.save_figure`).
    """
    if not epochs:
        raise ValueError("no epoch to draw: metrics.json has no rows")
    return plotting.save_training_curves(
        Path(out) / CURVES_NAME, [r["epoch"] for r in epochs], [r["train_elbo"] for r in epochs],
        [r["test_elbo"] for r in epochs], [r["test_log_lik"] for r in epochs], [r["test_kl"] for r in epochs],
        title=title)


def pick_examples(labels: Array, per_class: int) -> Array:
    """Indices of the first ``per_class`` examples of each label present, ordered by label."""
    idx = [np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)]
    return np.concatenate(idx) if idx else np.arange(0)


def in_chunks(f: Callable[[Array], Array], a: Array, size: int = 1000) -> Array:
    """``f`` applied to ``a`` in chunks of ``size`` rows, results stacked (bounds the memory of a big batch)."""
    return np.concatenate([f(a[i : i + size]) for i in range(0, len(a), size)])


def make_figures(
    out: str | Path,
    encode_mean: Callable[[Array], Array],
    decode_mean: Callable[[Array], Array],
    x: Array,
    labels: Array,
    z_dim: int,
    seed: int = 0,
    traversal: bool = True,
) -> list[Path]:
    """Draw the figures of a trained model into ``out``; return the paths written.

    Writes ``reconstructions.png`` (inputs vs CB mean of decode(mu(x))), ``samples.png`` (CB mean at
    z ~ N(0, I)), ``latent_scatter.png`` when D_z = 2, and, with ``traversal``, ``traversal.png`` (the most
    used latent coordinates, one per row, moved by -2.5 to +2.5 standard deviations of mu_d over the data
    from the code mu(x) of one digit) and ``interpolation.png``
    (between the codes of two digits of different classes).

    Args:
        out: output folder.
        encode_mean, decode_mean: see the module docstring.
        x: test images (N, 784) in [0, 1]; labels: their digits (N,).
        z_dim: D_z.
        seed: seeds the prior samples.
        traversal: also draw the traversal and the interpolation.
    """
    out = Path(out)
    rng = np.random.default_rng(seed)
    written = []

    idx = pick_examples(labels, N_RECONSTRUCTIONS_PER_DIGIT)
    x_show = x[idx]
    recon = decode_mean(encode_mean(x_show))
    written.append(plotting.save_reconstructions(
        out / "reconstructions.png", x_show, recon,
        title="Test digits (odd rows) and reconstructions: CB mean of decode($\\mu(x)$)"))

    z = rng.standard_normal((N_SAMPLES, z_dim)).astype(x.dtype)
    written.append(plotting.save_image_grid(
        out / "samples.png", decode_mean(z), n_cols=8, title="Samples: CB mean of decode(z), z ~ N(0, I)"))

    n_codes = min(len(x), N_SCATTER)
    mu = in_chunks(encode_mean, x[:n_codes])
    if z_dim == 2:
        written.append(plotting.save_latent_scatter(out / "latent_scatter.png", mu, labels[:n_codes]))

    if traversal:
        # the coordinates the encoder uses most: largest spread of mu over the data
        spread = mu.std(axis=0)
        dims = np.argsort(-spread)[: min(TRAVERSAL_DIMS, z_dim)]
        base = encode_mean(x[idx[:1]])[0] if len(idx) else np.zeros(z_dim, dtype=x.dtype)
        codes = np.tile(base, (len(dims), len(TRAVERSAL_STEPS), 1))
        for row, d in enumerate(dims):
            codes[row, :, d] = base[d] + TRAVERSAL_STEPS * spread[d]
        images = decode_mean(codes.reshape(-1, z_dim).astype(x.dtype))
        written.append(plotting.save_traversal(
            out / "traversal.png", images.reshape(len(dims), len(TRAVERSAL_STEPS), -1), [int(d) for d in dims],
            [f"{k:+.1f}σ" for k in TRAVERSAL_STEPS],
            title="Latent traversal: $z_d$ moved by k std. dev. of $\\mu_d$ (CB mean)"))

        first = 0
        other = np.flatnonzero(labels[:n_codes] != labels[first])
        second = int(other[0]) if len(other) else min(1, n_codes - 1)
        alphas = np.linspace(0.0, 1.0, INTERPOLATION_STEPS)
        z_line = ((1.0 - alphas)[:, None] * mu[first] + alphas[:, None] * mu[second]).astype(x.dtype)
        written.append(plotting.save_interpolation(
            out / "interpolation.png", decode_mean(z_line), alphas,
            title=f"Interpolation from a {labels[first]} to a {labels[second]} (CB mean)"))
    return written
