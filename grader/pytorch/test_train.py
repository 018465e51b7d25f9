"""Exercise T8: the training epoch and the evaluation (docs/exercises/pytorch.md#ext8_1)."""

import numpy as np
import pytest
import torch

from grader import seeds
from grader.cases import NET_SIZES
from grader.harness import call, check_close, fail
from grader.pytorch._autodiff import GlobalRandomness
from grader.pytorch._weights import build
from grader.pytrees import random_vae_params, tree_to_flat
from grader.reference import reference

GENERATOR_HINT = ("draw the shuffle and every eps from the generator argument: torch.randperm(N, generator=generator), "
                  "torch.randn(shape, generator=generator, dtype=x.dtype)")


def _toy_data(n=96, d=16, seed=0):
    """Grey-level 'images' from two prototypes, values in [0, 1]."""
    rng = seeds.numpy_rng(seed)
    protos = rng.uniform(size=(2, d))
    return torch.from_numpy(np.clip(protos[rng.integers(2, size=n)] + rng.normal(0, 0.05, size=(n, d)), 0, 1))


def _toy_model(torch_track, seed=1):
    flat = tree_to_flat(random_vae_params(seeds.numpy_rng(seed), 16, (8,), 2), "params")
    return build(torch_track, "VAE", flat, 16, (8,), 2)


def _mean_elbo(model, x):
    with torch.no_grad():
        return float(model(x, torch.zeros((1, len(x), 2), dtype=x.dtype))[0].mean())


def _epoch(torch_track, model, x, generator, **kw):
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    loss = call("train_epoch", torch_track.train.train_epoch, model, optimizer, x, generator, **kw)
    if not isinstance(loss, float):
        fail(f"train_epoch must return the mean loss as a Python float; got {type(loss).__name__}")
    return loss


@pytest.mark.ext8_1
def test_a_short_training_run_raises_the_elbo(torch_track):
    x = _toy_data()
    model = _toy_model(torch_track)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    before = _mean_elbo(model, x)
    generator = seeds.torch_generator(2)
    for _ in range(5):
        call("train_epoch", torch_track.train.train_epoch, model, optimizer, x, generator, batch_size=16, n_samples=1)
    after = _mean_elbo(model, x)
    if not after > before + 1.0:
        fail(f"5 epochs of train_epoch should raise the mean ELBO on a toy data set; it went {before:.3f} -> "
             f"{after:.3f}")


@pytest.mark.ext8_1
def test_train_epoch_visits_every_example_once_in_minibatches(torch_track, monkeypatch):
    x = _toy_data(n=50)
    x[:, 0] = torch.arange(50, dtype=x.dtype) / 100.0  # tag each example
    seen, sizes = [], []
    real_step = torch_track.train.train_step

    def spy(model, optimizer, xb, eps):
        seen.extend(torch.round(xb[:, 0] * 100).long().tolist())
        sizes.append(len(xb))
        if tuple(eps.shape) != (2, len(xb), 2) or eps.dtype != xb.dtype:
            fail(f"train_epoch passed eps of shape {tuple(eps.shape)} and dtype {eps.dtype} for a minibatch of "
                 f"{len(xb)} with n_samples=2; expected shape (2, {len(xb)}, 2) and dtype {xb.dtype}")
        return real_step(model, optimizer, xb, eps)

    monkeypatch.setattr(torch_track.train, "train_step", spy)
    _epoch(torch_track, _toy_model(torch_track), x, seeds.torch_generator(0), batch_size=16, n_samples=2)
    if sorted(seen) != list(range(50)) or max(sizes, default=0) > 16:
        fail(f"one epoch over 50 examples with batch_size 16 should visit each example exactly once in minibatches "
             f"of at most 16; visited {len(seen)} examples ({len(set(seen))} distinct) in batches of {sizes}\n"
             "  hint: shuffle the indices with torch.randperm(N, generator=generator), slice them in batch_size "
             "chunks, call train_step on x[idx]")
    if seen == sorted(seen):
        fail("train_epoch visited the examples in their stored order; shuffle them with torch.randperm each epoch")


@pytest.mark.ext8_1
def test_train_epoch_draws_only_from_its_generator(torch_track, monkeypatch):
    x = _toy_data(n=40)
    real_step = torch_track.train.train_step
    drawn = []

    def spy(model, optimizer, xb, eps):
        drawn[-1].append(eps.detach().clone())
        return real_step(model, optimizer, xb, eps)

    monkeypatch.setattr(torch_track.train, "train_step", spy)
    runs = []
    for seed in (0, 0, 1):
        model = _toy_model(torch_track)
        drawn.append([])
        with GlobalRandomness() as state:
            loss = _epoch(torch_track, model, x, seeds.torch_generator(seed), batch_size=8)
        if state.changed:
            fail(f"train_epoch changed {', '.join(state.changed)}\n  hint: {GENERATOR_HINT}")
        runs.append((loss, [p.detach().clone() for p in model.parameters()]))
    same = runs[0][0] == runs[1][0] and all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))
    if not same:
        fail(f"two epochs from the same weights with generators of the same seed gave different results\n"
             f"  hint: {GENERATOR_HINT}")
    if runs[0][0] == runs[2][0]:
        fail(f"generators of seeds 0 and 1 gave the very same epoch: the generator argument is not used\n"
             f"  hint: {GENERATOR_HINT}")
    first = drawn[0]
    if len(first) > 1 and all(torch.equal(first[0], e) for e in first[1:]):
        fail(f"every minibatch got the same eps: draw a fresh eps for each minibatch from the generator\n"
             f"  hint: {GENERATOR_HINT}")
    if all(torch.equal(a, b) for a, b in zip(drawn[0], drawn[2])):
        fail(f"generators of seeds 0 and 1 gave the same eps: draw eps from the generator argument\n"
             f"  hint: {GENERATOR_HINT}")


@pytest.mark.ext8_2
def test_evaluate_matches_reference_with_uneven_batches(torch_track):
    ref = reference("train/evaluate_deterministic")  # sigma ~ 1e-13, so every eps gives the same ELBO
    model = build(torch_track, "VAE", ref.inputs, NET_SIZES["x_dim"], NET_SIZES["hidden_dims"], NET_SIZES["z_dim"])
    got = call("evaluate", torch_track.train.evaluate, model, torch.from_numpy(ref.inputs["x"]),
               seeds.torch_generator(0), batch_size=3)
    if not isinstance(got, (tuple, list)) or len(got) != 3 or not all(isinstance(v, float) for v in got):
        fail(f"evaluate must return the tuple (elbo, log_lik, kl) of Python floats; got {got!r}")
    for value, name in zip(got, ("elbo", "log_lik", "kl")):
        check_close(np.asarray(value, dtype=float), ref.outputs[name],
                    f"evaluate(model, x of 10 images, batch_size=3)[{name}]", {},
                    hint="average over images, not over batches: the last batch holds 1 image")


@pytest.mark.ext8_2
def test_evaluate_builds_no_graph_and_draws_only_from_its_generator(torch_track):
    x = _toy_data(n=30)
    model = _toy_model(torch_track)
    grad_modes = []
    model.encoder.register_forward_pre_hook(lambda module, args: grad_modes.append(torch.is_grad_enabled()))
    results = []
    with GlobalRandomness() as state:
        for seed in (3, 3, 4):
            results.append(call("evaluate", torch_track.train.evaluate, model, x, seeds.torch_generator(seed),
                                batch_size=7, n_samples=2))
    if any(grad_modes):
        fail("evaluate ran the model with gradient tracking on; wrap the loop in `with torch.no_grad():` so that "
             "no graph is built (it costs memory and time)")
    if any(p.grad is not None for p in model.parameters()):
        fail("evaluate left gradients in the parameters; it must not call backward()")
    if state.changed:
        fail(f"evaluate changed {', '.join(state.changed)}\n  hint: {GENERATOR_HINT}")
    if results[0] != results[1] or results[0] == results[2]:
        fail(f"evaluate with generator seeds 3, 3, 4 gave {results}: the same seed must give the same result and "
             f"another seed (n_samples=2, a random eps) another one\n  hint: {GENERATOR_HINT}")
