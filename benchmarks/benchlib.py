"""Helpers shared by the benchmark scripts: arguments, data, the header and the report lines."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from vaekit import IMAGE_DIM  # noqa: E402
from vaekit.training.config import TrainConfig  # noqa: E402

# The benchmarks measure the model of the course, float32, with the defaults of ``vaekit train`` (TrainConfig):
# 784-400-20, batches of 128.
_DEFAULTS = TrainConfig()
X_DIM, HIDDEN, Z_DIM, BATCH_SIZE = IMAGE_DIM, tuple(_DEFAULTS.hidden), _DEFAULTS.latent_dim, _DEFAULTS.batch_size
SYNTHETIC_N = 5000


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data-root", default=None,
                   help="folder with MNIST IDX files (e.g. the value of $VAEKIT_DATA_ROOT); default: synthetic data")
    p.add_argument("--code", default="solutions", help="whose implementation to time (default: the reference)")
    cores = os.cpu_count() or 1
    p.add_argument("--threads", type=thread_list, default=sorted({1, cores}),
                   help=f"thread counts to measure, e.g. 1 or 1,2 (default: 1 and all {cores} cores)")
    p.add_argument("--epochs", type=int, default=3, help="timed epochs after one warm-up epoch")
    p.add_argument("--seed", type=int, default=0)
    return p


def thread_list(text: str) -> list[int]:
    try:
        values = [int(t) for t in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected thread counts like 1 or 1,2; got {text!r}") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"thread counts must be >= 1; got {text!r}")
    return values


def training_images(data_root: str | None, seed: int):
    """(x, source): the MNIST training images of ``data_root``, or SYNTHETIC_N uniform random images."""
    import numpy as np

    if data_root:
        from vaekit.data import load_mnist

        x, _ = load_mnist("train", data_root)
        return x, f"MNIST train split in {data_root} ({len(x)} images)"
    rng = np.random.default_rng(seed)
    return rng.random((SYNTHETIC_N, X_DIM), dtype=np.float32), f"synthetic uniform images ({SYNTHETIC_N})"


def header(title: str, source: str) -> None:
    print(f"== {title}")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"   python {platform.python_version()}, {os.cpu_count()} cores, load average {load} "
          f"(other work on the cores distorts the figures)")
    print(f"   data: {source}")
    print(f"   model {X_DIM}-{'-'.join(map(str, HIDDEN))}-{Z_DIM}, batch {BATCH_SIZE}, float32")


def report(name: str, rates: list[float], target: float | None = None) -> None:
    """One line: median (and min-max) of several images/s measurements, against a target if given."""
    med = statistics.median(rates)
    spread = f" (min {min(rates):,.0f}, max {max(rates):,.0f}, {len(rates)} runs)" if len(rates) > 1 else ""
    verdict = ""
    if target is not None:
        verdict = f"  target >= {target:,.0f}: {'met' if med >= target else 'NOT MET'}"
    print(f"   {name:<44} {med:>10,.0f} images/s{spread}{verdict}")


def matmul_shapes() -> list[tuple[tuple[int, int], tuple[int, int], bool, bool]]:
    """The matrix products of one training step (forward and backward) of a one-hidden-layer VAE.

    Returns (shape of A, shape of B, transpose A, transpose B) for each product A @ B, with K = 1 sample:
    forward x W1, h W_mu, h W_logvar, z W_d, h_d W_out; backward dW_out = h_d^T G, dh_d = G W_out^T,
    dW_d = z^T dh_d, dz = dh_d W_d^T, dW_mu = h^T g_mu, dW_logvar = h^T g_logvar, dh = g_mu W_mu^T +
    g_logvar W_logvar^T (two products), dW1 = x^T dh.
    """
    if len(HIDDEN) != 1:
        raise SystemExit(f"the matrix-product floor is written for one hidden layer; the default model has {HIDDEN}: "
                         "extend benchlib.matmul_shapes with the products of the other layers")
    B, D, H, Z = BATCH_SIZE, X_DIM, HIDDEN[0], Z_DIM
    return [
        ((B, D), (D, H), False, False), ((B, H), (H, Z), False, False), ((B, H), (H, Z), False, False),
        ((B, Z), (Z, H), False, False), ((B, H), (H, D), False, False),
        ((B, H), (B, D), True, False), ((B, D), (H, D), False, True), ((B, Z), (B, H), True, False),
        ((B, H), (Z, H), False, True), ((B, H), (B, Z), True, False), ((B, H), (B, Z), True, False),
        ((B, Z), (H, Z), False, True), ((B, Z), (H, Z), False, True), ((B, D), (B, H), True, False),
    ]


def matmul_floor(library: str, seed: int, repeats: int = 5, n: int = 200) -> list[float]:
    """Images/s of the bare matrix products of one training step (:func:`matmul_shapes`), float32, in
    ``library`` (``"numpy"`` or ``"torch"``): ``repeats`` measurements of ``n`` steps each. No code doing these
    products can train faster: the floor the benchmarks compare with."""
    if library == "numpy":
        import numpy as np

        rng = np.random.default_rng(seed)
        products = [(rng.random(a, dtype=np.float32), rng.random(b, dtype=np.float32), ta, tb)
                    for a, b, ta, tb in matmul_shapes()]
    elif library == "torch":
        import torch

        gen = torch.Generator().manual_seed(seed)
        products = [(torch.rand(a, generator=gen), torch.rand(b, generator=gen), ta, tb)
                    for a, b, ta, tb in matmul_shapes()]
    else:
        raise ValueError(f"library must be 'numpy' or 'torch', got {library!r}")
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            for a, b, ta, tb in products:
                (a.T if ta else a) @ (b.T if tb else b)
        rates.append(n * BATCH_SIZE / (time.perf_counter() - t0))
    return rates
