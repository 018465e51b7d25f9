"""Exercise T8: the training epoch and the evaluation (docs/exercises/pytorch.md#ext8_1)."""

import numpy as np
import pytest
import torch

from grader import seeds
from grader.harness import check_close, fail, to_numpy
from grader.pytorch._autodiff import type_name
from grader.pytorch._weights import VAE_SIZES
from grader.pytrees import random_vae_params, tree_to_flat
from grader.reference import reference
from grader.remote import probe

GENERATOR_HINT = ("draw the shuffle and every eps from the generator argument: torch.randperm(N, generator=generator), "
                  "torch.randn(shape, generator=generator, dtype=x.dtype)")
TOY_SIZES = (16, (8,), 2)  # VAE(x_dim, hidden_dims, z_dim) of the toy runs


def _toy_data(n=96, d=16, seed=0):
    """Grey-level 'images' from two prototypes, values in [0, 1]."""
    rng = seeds.numpy_rng(seed)
    protos = rng.uniform(size=(2, d))
    return np.clip(protos[rng.integers(2, size=n)] + rng.normal(0, 0.05, size=(n, d)), 0, 1)


def _toy_weights(seed=1):
    """Weights of a toy VAE(16, (8,), 2), in the frozen layout (``params/encoder/hidden/0/W`` ...)."""
    return tree_to_flat(random_vae_params(seeds.numpy_rng(seed), *TOY_SIZES), "params")


def _epochs(torch_track, x, generator, **kw) -> dict:
    """train_epoch(model, Adam(lr=0.01), x, generator, ...) on the toy VAE, in the worker (see the probe
    ``train_epochs``: losses, parameters after, global random states moved, what train_step got)."""
    return probe(torch_track, "train_epochs", _toy_weights(), TOY_SIZES, x, generator, **kw)


def _check_loss(loss) -> None:
    if not isinstance(loss, float):
        fail(f"train_epoch must return the mean loss as a Python float; got {type_name(loss)}")


def _mean_elbo(values) -> float:
    return float(np.mean(to_numpy(values, "VAE(x, eps)[0]")))


@pytest.mark.ext8_1
def test_a_short_training_run_raises_the_elbo(torch_track):
    run = _epochs(torch_track, _toy_data(), seeds.torch_generator(2), epochs=5, measure=True, batch_size=16,
                  n_samples=1)
    before, after = _mean_elbo(run["before"]), _mean_elbo(run["after"])  # mean ELBO at eps = 0
    if not after > before + 1.0:
        fail(f"5 epochs of train_epoch should raise the mean ELBO on a toy data set; it went {before:.3f} -> "
             f"{after:.3f}")


@pytest.mark.ext8_1
def test_train_epoch_visits_every_example_once_in_minibatches(torch_track):
    x = _toy_data(n=50)
    x[:, 0] = np.arange(50) / 100.0  # tag each example
    run = _epochs(torch_track, x, seeds.torch_generator(0), spy=True, stop_at_bad_eps=True,
                  batch_size=16, n_samples=2)
    seen, sizes = [], []
    for batch in run["batches"]:  # what train_step got, in order
        xb, eps = batch["x"], batch["eps"]
        seen.extend(torch.round(xb[:, 0] * 100).long().tolist())
        sizes.append(len(xb))
        if not isinstance(eps, torch.Tensor) or tuple(eps.shape) != (2, len(xb), 2) or eps.dtype != xb.dtype:
            fail(f"train_epoch passed eps of shape {tuple(getattr(eps, 'shape', ()))} and dtype "
                 f"{getattr(eps, 'dtype', type_name(eps))} for a minibatch of {len(xb)} with n_samples=2; expected "
                 f"shape (2, {len(xb)}, 2) and dtype {xb.dtype}")
    _check_loss(run["losses"][0])
    if sorted(seen) != list(range(50)) or max(sizes, default=0) > 16:
        fail(f"one epoch over 50 examples with batch_size 16 should visit each example exactly once in minibatches "
             f"of at most 16; visited {len(seen)} examples ({len(set(seen))} distinct) in batches of {sizes}\n"
             "  hint: shuffle the indices with torch.randperm(N, generator=generator), slice them in batch_size "
             "chunks, call train_step on x[idx]")
    if seen == sorted(seen):
        fail("train_epoch visited the examples in their stored order; shuffle them with torch.randperm each epoch")


@pytest.mark.ext8_1
def test_train_epoch_draws_only_from_its_generator(torch_track):
    x = _toy_data(n=40)
    runs = []
    for seed in (0, 0, 1):  # each from the same toy weights
        run = _epochs(torch_track, x, seeds.torch_generator(seed), spy=True, batch_size=8)
        _check_loss(run["losses"][0])
        if run["changed"]:
            fail(f"train_epoch changed {', '.join(run['changed'])}\n  hint: {GENERATOR_HINT}")
        runs.append(run)
    same = runs[0]["losses"] == runs[1]["losses"] and all(torch.equal(a, b) for a, b in zip(runs[0]["params"],
                                                                                             runs[1]["params"]))
    if not same:
        fail(f"two epochs from the same weights with generators of the same seed gave different results\n"
             f"  hint: {GENERATOR_HINT}")
    if runs[0]["losses"] == runs[2]["losses"]:
        fail(f"generators of seeds 0 and 1 gave the very same epoch: the generator argument is not used\n"
             f"  hint: {GENERATOR_HINT}")
    first, other = ([b["eps"] for b in run["batches"]] for run in (runs[0], runs[2]))
    if len(first) > 1 and all(torch.equal(first[0], e) for e in first[1:]):
        fail(f"every minibatch got the same eps: draw a fresh eps for each minibatch from the generator\n"
             f"  hint: {GENERATOR_HINT}")
    if all(torch.equal(a, b) for a, b in zip(first, other)):
        fail(f"generators of seeds 0 and 1 gave the same eps: draw eps from the generator argument\n"
             f"  hint: {GENERATOR_HINT}")


def _evaluate(torch_track, flat, sizes, x, generators, **kw) -> dict:
    """train.evaluate(model, x, generator, ...) once per generator on one VAE with the weights of ``flat``, in
    the worker: the results, whether gradient tracking was on in each forward pass, whether any .grad was
    set, which global random states moved."""
    return probe(torch_track, "evaluate_runs", flat, sizes, x, generators, **kw)


@pytest.mark.ext8_2
def test_evaluate_matches_reference_with_uneven_batches(torch_track):
    ref = reference("train/evaluate_deterministic")  # sigma ~ 1e-13, so every eps gives the same ELBO
    (got,) = _evaluate(torch_track, ref.inputs, VAE_SIZES, ref.inputs["x"], [seeds.torch_generator(0)],
                       batch_size=3)["results"]
    if not isinstance(got, (tuple, list)) or len(got) != 3 or not all(isinstance(v, float) for v in got):
        fail(f"evaluate must return the tuple (elbo, log_lik, kl) of Python floats; got {got!r}")
    for value, name in zip(got, ("elbo", "log_lik", "kl")):
        check_close(np.asarray(value, dtype=float), ref.outputs[name],
                    f"evaluate(model, x of 10 images, batch_size=3)[{name}]", {},
                    hint="average over images, not over batches: the last batch holds 1 image")


@pytest.mark.ext8_2
def test_evaluate_builds_no_graph_and_draws_only_from_its_generator(torch_track):
    generators = [seeds.torch_generator(seed) for seed in (3, 3, 4)]
    run = _evaluate(torch_track, _toy_weights(), TOY_SIZES, _toy_data(n=30), generators, batch_size=7, n_samples=2)
    results = run["results"]
    if any(run["grad_modes"]):
        fail("evaluate ran the model with gradient tracking on; wrap the loop in `with torch.no_grad():` so that "
             "no graph is built (it costs memory and time)")
    if run["grads_left"]:
        fail("evaluate left gradients in the parameters; it must not call backward()")
    if run["changed"]:
        fail(f"evaluate changed {', '.join(run['changed'])}\n  hint: {GENERATOR_HINT}")
    if results[0] != results[1] or results[0] == results[2]:
        fail(f"evaluate with generator seeds 3, 3, 4 gave {results}: the same seed must give the same result and "
             f"another seed (n_samples=2, a random eps) another one\n  hint: {GENERATOR_HINT}")
