"""What the experiments measure on a trained VAE: test ELBO, importance-weighted bound, latent means and what
they tell (active units, k-nearest-neighbour digit accuracy)."""

from __future__ import annotations

import numpy as np
import torch

from ..codefolder import Track


def evaluate_elbo(track: Track, model, x: torch.Tensor, seed: int) -> dict:
    """The track's ``evaluate``: mean ELBO, log-likelihood and KL over x, nats per image."""
    model.eval()
    elbo, log_lik, kl = track.train.evaluate(model, x, torch.Generator().manual_seed(seed), 500, 1)
    return {"elbo": float(elbo), "log_lik": float(log_lik), "kl": float(kl)}


def iwae_bound(track: Track, model, x: torch.Tensor, k: int, seed: int, max_draws: int = 25_000) -> float:
    r"""Mean importance-weighted bound L_K over the images x (nats per image), in batches of <= max_draws / K images.

    .. math::
        \bar{\mathcal L}_K = \frac1N\sum_n \log\frac1K\sum_k \frac{p(x_n\mid z_{nk})\,p(z_{nk})}{q(z_{nk}\mid x_n)}
    """
    generator = torch.Generator().manual_seed(seed)
    batch = max(1, max_draws // k)
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(x), batch):
            xb = x[start : start + batch]
            mu, log_var = model.encoder(xb)
            eps = torch.randn((k, len(xb), mu.shape[-1]), generator=generator, dtype=xb.dtype)
            total += float(torch.sum(track.iwae.iwae_log_px(xb, mu, log_var, eps, model.decoder)))
    return total / len(x)


def encode_means(model, x: torch.Tensor, batch: int = 2000) -> np.ndarray:
    """Encoder means mu(x), shape (N, D_z), as a float64 array."""
    with torch.no_grad():
        return np.concatenate([model.encoder(x[i : i + batch])[0].double().numpy() for i in range(0, len(x), batch)])


def active_units(mu: np.ndarray, threshold: float = 0.01) -> int:
    r"""Latent coordinates the encoder uses: Var_x[mu_d(x)] > threshold (Burda et al., 2016). mu: (N, D_z)."""
    return int(np.sum(np.var(mu, axis=0) > threshold))


def knn_accuracy(train: np.ndarray, train_labels: np.ndarray, test: np.ndarray, test_labels: np.ndarray,
                 k: int = 5, chunk: int = 1000) -> float:
    r"""Fraction of test points whose k nearest train points (Euclidean) vote for their label (ties: smallest).

    Args:
        train: (N, D) reference points, train_labels (N,); test: (M, D) points to classify, test_labels (M,).
    """
    train = np.asarray(train, dtype=np.float64)
    k = min(k, len(train))
    sq_train = np.sum(train**2, axis=1)
    correct = 0
    for start in range(0, len(test), chunk):
        t = np.asarray(test[start : start + chunk], dtype=np.float64)
        d2 = sq_train[None, :] - 2.0 * t @ train.T  # + |t|^2, the same for every train point
        nearest = np.argpartition(d2, k - 1, axis=1)[:, :k]
        votes = np.apply_along_axis(np.bincount, 1, train_labels[nearest], minlength=10)
        correct += int(np.sum(np.argmax(votes, axis=1) == test_labels[start : start + chunk]))
    return correct / len(test)
