"""A few epochs of the PyTorch reference on a small synthetic data set raise the ELBO that evaluate reports."""

import numpy as np
import pytest
import torch

from solutions.pytorch import networks, train

SIDE, N = 6, 384


def synthetic_images(seed):
    """N grey-level 6x6 images in [0, 1]: one of four bar patterns, at a random contrast, plus noise."""
    rng = np.random.default_rng(seed)
    bars = np.zeros((4, SIDE, SIDE))
    bars[0, :, 1], bars[1, :, 4], bars[2, 1, :], bars[3, 4, :] = 1.0, 1.0, 1.0, 1.0
    which = rng.integers(0, 4, size=N)
    contrast = rng.uniform(0.6, 1.0, size=(N, 1))
    x = contrast * bars[which].reshape(N, -1) + 0.1 * rng.standard_normal((N, SIDE * SIDE))
    return torch.from_numpy(np.clip(x, 0.0, 1.0)).float()


def new_model(seed):
    with torch.random.fork_rng():  # the initial weights only; the global RNG is left as it was
        torch.manual_seed(seed)
        return networks.VAE(SIDE * SIDE, (32,), 4)


def test_training_raises_the_elbo():
    x = synthetic_images(0)
    model = new_model(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    before = train.evaluate(model, x, torch.Generator().manual_seed(1), batch_size=100)
    generator = torch.Generator().manual_seed(2)
    losses = [train.train_epoch(model, optimizer, x, generator, batch_size=32) for _ in range(4)]
    after = train.evaluate(model, x, torch.Generator().manual_seed(1), batch_size=100)

    assert all(isinstance(v, float) for v in (*before, *after, *losses))
    for elbo, log_lik, kl in (before, after):
        assert abs(elbo - (log_lik - kl)) < 1e-3 and kl >= 0.0
    assert losses[-1] < losses[0]
    assert after[0] > before[0] + 5.0, f"ELBO {before[0]:.2f} -> {after[0]:.2f} nats per image"


def test_training_is_reproduced_by_the_generator_seed():
    x = synthetic_images(0)
    runs = []
    for _ in range(2):
        model = new_model(0)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        loss = train.train_epoch(model, optimizer, x, torch.Generator().manual_seed(5), batch_size=64)
        runs.append((loss, train.evaluate(model, x, torch.Generator().manual_seed(6), batch_size=100)))
    assert runs[0] == runs[1]


def test_evaluate_builds_no_graph_and_leaves_the_weights_alone():
    x = synthetic_images(1)
    model = new_model(3)
    weights = [p.detach().clone() for p in model.parameters()]
    elbo, log_lik, kl = train.evaluate(model, x, torch.Generator().manual_seed(0), batch_size=50, n_samples=3)
    assert all(torch.equal(w, p) for w, p in zip(weights, model.parameters()))
    assert all(p.grad is None for p in model.parameters())
    assert np.isfinite([elbo, log_lik, kl]).all()


def test_train_epoch_rejects_an_empty_data_set_and_a_bad_batch_size():
    model = new_model(4)
    optimizer = torch.optim.Adam(model.parameters())
    with pytest.raises(ValueError, match="empty"):
        train.train_epoch(model, optimizer, torch.zeros((0, SIDE * SIDE)), torch.Generator())
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        train.train_epoch(model, optimizer, synthetic_images(0), torch.Generator(), batch_size=0)
