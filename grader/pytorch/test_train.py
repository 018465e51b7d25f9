"""Exercise T8: the training epoch and the evaluation (docs/exercises/pytorch.md#ext8_1)."""

import numpy as np
import pytest
import torch

from grader import seeds
from grader import tolerances as tol
from grader.harness import check_close, fail, to_numpy
from grader.montecarlo import check_mc_mean, check_mc_variance
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
    ``train_epochs``: losses, parameters after, global random states moved; with ``spy=True``, what its step got:
    a spy standing in for train_step as the default step, or with ``given=True`` passed as step=spy)."""
    run = probe(torch_track, "train_epochs", _toy_weights(), TOY_SIZES, x, generator, **kw)
    if kw.get("spy") and run["losses"] and not run["batches"]:
        fail("train_epoch never called the step it was given: it ignores its step argument; call "
             "step(model, optimizer, x_train[idx], eps) once per minibatch, not train_step by name (step's default "
             "is train_step)")
    return run


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
@pytest.mark.core
def test_train_epoch_visits_every_example_once_in_minibatches(torch_track):
    x = _toy_data(n=50)
    x[:, 0] = np.arange(50) / 100.0  # tag each example
    run = _epochs(torch_track, x, seeds.torch_generator(0), spy=True, stop_at_bad_eps=True,
                  batch_size=16, n_samples=2)
    seen, sizes = [], []
    for batch in run["batches"]:  # what the step got, in order
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
             "chunks, call step on x[idx]")
    if seen == sorted(seen):
        fail("train_epoch visited the examples in their stored order; shuffle them with torch.randperm each epoch")


@pytest.mark.ext8_1
@pytest.mark.core
def test_train_epoch_calls_the_step_it_is_given(torch_track):
    # train_epoch(model, optimizer, x (50 examples), generator, batch_size=16, n_samples=3, step=spy): the spy
    # returns a planted loss (and leaves the model as it is); it must be called once per minibatch, with the
    # minibatch and eps of shape (3, B, 2), and train_epoch must return the mean of the losses the step returned
    x = _toy_data(n=50)
    x[:, 0] = np.arange(50) / 100.0  # tag each example
    planted = [2.5, 40.0, -1.0, 7.25]
    run = _epochs(torch_track, x, seeds.torch_generator(7), spy=True, given=True, stop_at_bad_eps=True,
                  planted_losses=planted, batch_size=16, n_samples=3)
    for batch in run["batches"]:
        xb, eps = batch["x"], batch["eps"]
        if not isinstance(eps, torch.Tensor) or tuple(eps.shape) != (3, len(xb), 2):
            fail(f"train_epoch(..., n_samples=3, step=step) gave step eps of shape "
                 f"{tuple(getattr(eps, 'shape', ()))} for a minibatch of {len(xb)}; expected (3, {len(xb)}, 2)")
    sizes = [len(b["x"]) for b in run["batches"]]
    if sorted(sum((_tags(b) for b in run["batches"]), [])) != list(range(50)) or sizes != [16, 16, 16, 2]:
        fail(f"one epoch over 50 examples with batch_size 16 should call step once per minibatch, on minibatches of "
             f"16, 16, 16 and 2 examples that hold each example once; it called it on minibatches of {sizes}")
    _check_loss(run["losses"][0])
    step_losses = np.array([float(v) for v in run["step_losses"]])
    check_close(run["losses"][0], np.mean(step_losses), "train_epoch's result vs the mean of the losses its step "
                "returned", {"losses step returned": step_losses},
                hint="return the plain mean of the losses the step returned, one per minibatch (each minibatch "
                "counts once, unlike evaluate's average over images)")


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


def _tags(batch) -> list[int]:
    return torch.round(batch["x"][:, 0] * 100).long().tolist()


@pytest.mark.ext8_1
@pytest.mark.core
def test_train_epoch_returns_the_mean_minibatch_loss_with_fresh_standard_normal_eps(torch_track):
    x = _toy_data(n=50)
    x[:, 0] = np.arange(50) / 100.0  # tag each example
    run = _epochs(torch_track, x, seeds.torch_generator(4), spy=True, stop_at_bad_eps=True, batch_size=16,
                  n_samples=2)
    if len(run["step_losses"]) != len(run["batches"]) or not run["losses"]:
        fail(f"train_epoch passed eps of shape {tuple(getattr(run['batches'][-1]['eps'], 'shape', ()))} to step;"
             " expected (n_samples, B, D_z) = (2, B, 2) and the dtype of x")
    _check_loss(run["losses"][0])
    if len(run["batches"]) != 4:
        fail(f"one epoch over 50 examples with batch_size 16 should call step 4 times; it called it "
             f"{len(run['batches'])} times")
    step_losses = np.array([float(v) for v in run["step_losses"]])
    check_close(run["losses"][0], np.mean(step_losses), "train_epoch's result vs the mean of the losses its "
                "steps returned", {"minibatch losses": step_losses},
                hint="return the mean over the epoch's minibatches of the losses step returned (not the last "
                     "one, not their sum)")
    eps = [b["eps"] for b in run["batches"]]
    for i in range(len(eps)):
        for j in range(i):
            n = min(eps[i].shape[1], eps[j].shape[1])
            if torch.equal(eps[i][:, :n], eps[j][:, :n]):
                fail("train_epoch gave two minibatches the same eps: draw a fresh eps from the generator for every "
                     f"minibatch\n  hint: {GENERATOR_HINT}")
    pooled = torch.cat([e.reshape(-1) for e in eps]).double().numpy()  # 200 draws of N(0, 1)
    # mean and variance within MC_Z standard errors: a correct epoch fails with probability below 4e-9
    n = pooled.size
    if not (abs(pooled.mean()) <= tol.MC_Z / np.sqrt(n) and abs(pooled.var() - 1) <= tol.MC_Z * np.sqrt(2 / n)):
        fail(f"the eps train_epoch drew have mean {pooled.mean():.3f} and variance {pooled.var():.3f} over {n} "
             "draws; expected standard normal draws (torch.randn, not torch.rand)\n  hint: " + GENERATOR_HINT)


@pytest.mark.ext8_1
def test_train_epoch_shuffles_anew_every_epoch_with_its_generator(torch_track):
    x = _toy_data(n=48)
    x[:, 0] = np.arange(48) / 100.0  # tag each example
    orders = []
    for seed in (5, 6):
        run = _epochs(torch_track, x, seeds.torch_generator(seed), epochs=2, spy=True, batch_size=12)
        batches = [_tags(b) for b in run["batches"]]
        if len(batches) != 8:
            fail(f"two epochs over 48 examples with batch_size 12 should call step 8 times; it called it "
                 f"{len(batches)} times")
        first, second = sum(batches[:4], []), sum(batches[4:], [])
        if first == second:
            fail("train_epoch visited the examples in the same order in two epochs: shuffle anew every epoch with "
                 f"torch.randperm(N, generator=generator)\n  hint: {GENERATOR_HINT}")
        orders.append(first)
    if orders[0] == orders[1]:
        fail("generators of two different seeds gave the same order of examples: shuffle with the generator argument"
             f"\n  hint: {GENERATOR_HINT}")


def _evaluate(torch_track, flat, sizes, x, generators, **kw) -> dict:
    """train.evaluate(model, x, generator, ...) once per generator on one VAE with the weights of ``flat``, in
    the worker: the results, whether gradient tracking was on in each forward pass, whether any .grad was
    set, which global random states moved."""
    return probe(torch_track, "evaluate_runs", flat, sizes, x, generators, **kw)


@pytest.mark.ext8_2
@pytest.mark.core
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


@pytest.mark.ext8_2
@pytest.mark.parametrize("n_samples", [1, 4])
def test_evaluate_is_unbiased_with_the_variance_of_k_samples(torch_track, n_samples):
    # 300 evaluations, each with a generator of its own, on a network whose posteriors are wide (the eps matter):
    # their mean must be the expected ELBO (within MC_Z standard errors; the expected value's own standard error is
    # in the reference), and their variance that of a K-sample estimate, sum_n Var_1(ELBO(x_n)) / (K N^2). A
    # correct evaluate fails one of the two checks with probability below 4e-9.
    ref = reference("wider/evaluate_noisy")
    generators = [seeds.torch_generator(10 + n_samples, r) for r in range(300)]
    results = _evaluate(torch_track, ref.inputs, VAE_SIZES, ref.inputs["x"], generators, batch_size=3,
                        n_samples=n_samples)["results"]
    if not all(isinstance(r, (tuple, list)) and len(r) == 3 for r in results):
        fail(f"evaluate must return the tuple (elbo, log_lik, kl) of Python floats; got {results[0]!r}")
    values = np.array([[float(to_numpy(v)) for v in r] for r in results])
    name = f"evaluate(model, x of 10 images, generator, batch_size=3, n_samples={n_samples})[elbo] over 300 generators"
    if np.ptp(values[:, 0]) == 0:
        fail(f"{name} gave the same value for every generator: evaluate must draw eps ~ N(0, I) from the generator "
             "and decode the samples z = mu + sigma * eps (not mu)")
    check_mc_mean(values[:, 0], ref.outputs["expected_elbo"], name, expected_se=ref.outputs["expected_elbo_se"],
                  hint="evaluate averages the K-sample ELBO (samples z = mu + sigma * eps from the generator) over the "
                       "images: model(x_batch, eps)")
    check_mc_variance(values[:, 0], ref.outputs["single_draw_variance"] / n_samples, name,
                      hint=f"each image's ELBO averages n_samples = {n_samples} samples, so its variance is 1/K of a "
                           "single sample's: draw eps of shape (n_samples, B, D_z)")
    check_close(values[:, 2], np.full(len(values), ref.outputs["expected_kl"]), "evaluate(...)[kl] (the analytic KL)",
                {}, rtol=1e-9, atol=1e-9, hint="the KL term is analytic: the same for every eps; average it over images")
    check_close(values[:, 0], values[:, 1] - values[:, 2], "evaluate(...): elbo vs log_lik - kl", {}, rtol=1e-9,
                atol=1e-9, hint="the three results are the image averages of VAE(x, eps)'s (elbo, log_lik, kl)")
