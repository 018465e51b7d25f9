"""Exercise 8: the training epoch and the evaluation (docs/exercises/numpy.md#ex8_1)."""

import numpy as np
import pytest
from autograd.misc import flatten

from grader import seeds
from grader import tolerances as tol
from grader.harness import call, check_close, fail, to_numpy
from grader.montecarlo import check_mc_mean, check_mc_variance
from grader.pytrees import flat_to_tree, random_vae_params
from grader.reference import reference
from grader.remote import probe


def _toy_data(rng, n=96, d=16):
    """Grey-level 'images' from two prototypes, values in [0, 1]."""
    protos = rng.uniform(size=(2, d))
    return np.clip(protos[rng.integers(2, size=n)] + rng.normal(0, 0.05, size=(n, d)), 0, 1)


def _mean_elbo(np_track, params, x):
    eps = np.zeros((1, len(x), params["encoder"]["to_mu"][1].shape[0]))
    return float(np.mean(np_track.networks.vae_forward(params, x, eps)[0]))


@pytest.mark.ex8_1
def test_a_short_training_run_raises_the_elbo(np_track):
    x = _toy_data(seeds.numpy_rng(0))
    params = random_vae_params(seeds.numpy_rng(1), 16, (8,), 2)
    state = np_track.optim.adam_init(flatten(params)[0])
    before = _mean_elbo(np_track, params, x)
    rng = seeds.numpy_rng(2)
    for _ in range(5):
        (params, state, loss), args, _ = call("train_epoch", np_track.train.train_epoch.echo, params, state, x, rng,
                                              batch_size=16, n_samples=1, lr=0.01)
        rng = args[3]  # the generator as train_epoch left it: the next epoch draws on from there
    after = _mean_elbo(np_track, params, x)
    if not after > before + 1.0:
        fail(f"5 epochs of train_epoch should raise the mean ELBO on a toy data set; it went {before:.3f} -> {after:.3f}")


@pytest.mark.ex8_1
@pytest.mark.core
def test_train_epoch_visits_every_example_once_in_minibatches(np_track):
    # train_epoch(params, state, x (50 examples), rng, batch_size=16, step=spy) in the worker: the spy step notes
    # the tags of each minibatch and the shape of its eps (and stops at a wrong shape), then calls train_step
    spied = _spied_epoch(np_track, 2, batch_size=16)
    seen, sizes = [], []
    for tags, eps_shape in zip(spied["batches"], spied["eps_shapes"]):
        seen.extend(tags)
        sizes.append(len(tags))
        if tuple(eps_shape[1:]) != (len(tags), 2):
            fail(f"train_epoch passed eps of shape {tuple(eps_shape)} for a minibatch of {len(tags)}; expected "
                 f"(K, {len(tags)}, 2)")
    if sorted(seen) != list(range(50)) or max(sizes, default=0) > 16:
        fail(f"one epoch over 50 examples with batch_size 16 should visit each example exactly once in minibatches "
             f"of at most 16; visited {len(seen)} examples ({len(set(seen))} distinct) in batches of {sizes}\n"
             "  hint: shuffle the indices with rng, slice them in batch_size chunks, call step on x[idx]")
    if seen == sorted(seen):
        fail("train_epoch visited the examples in their stored order; shuffle them with rng.permutation each epoch")


@pytest.mark.ex8_2
@pytest.mark.core
def test_evaluate_matches_reference_with_uneven_batches(np_track):
    ref = reference("train/evaluate_deterministic")  # sigma ~ 1e-13, so every eps gives the same ELBO
    params = flat_to_tree(ref.inputs, "params")
    got = call("evaluate", np_track.train.evaluate, params, ref.inputs["x"], seeds.numpy_rng(), batch_size=3)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        fail(f"evaluate must return the tuple (elbo, log_lik, kl) of floats; got {got!r}")
    for value, name in zip(got, ("elbo", "log_lik", "kl")):
        check_close(np.asarray(value, dtype=float), ref.outputs[name],
                    f"evaluate(params, x of 10 images, batch_size=3)[{name}]", {},
                    hint="average over images, not over batches: the last batch holds 1 image; the sum over the N "
                    "images divided by N")


def _cast(tree, dtype):
    """The parameter pytree with every array in ``dtype``."""
    if isinstance(tree, dict):
        return {k: _cast(v, dtype) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_cast(v, dtype) for v in tree)
    return np.asarray(tree, dtype=dtype)


def _spied_epoch(np_track, seed_stream: int, n=50, dtype=np.float64, **kwargs):
    """train_epoch(params, state, x of n tagged examples, rng, **kwargs) in the worker with a spy as its step (see
    the probe ``train_epoch_spy``: with ``given=True`` passed as step=spy, otherwise standing in for train_step
    as the default), from an Adam state that has taken 5 steps already (m, v zeros)."""
    x = _toy_data(seeds.numpy_rng(0), n=n)
    x[:, 0] = np.arange(n) / 100.0  # tag each example
    x = x.astype(dtype)
    params = _cast(random_vae_params(seeds.numpy_rng(1), 16, (8,), 2), dtype)
    state = {**np_track.optim.adam_init(flatten(params)[0]), "t": 5}
    spied = call("train_epoch", probe, np_track, "train_epoch_spy", params, state, x, seeds.numpy_rng(seed_stream),
                 **kwargs)
    if not spied["batches"]:
        fail("train_epoch never called the step it was given: it ignores its step argument; call "
             "step(params, state, x_train[idx], eps, lr=lr) once per minibatch, not train_step by name (step's "
             "default is train_step)")
    return spied


@pytest.mark.ex8_1
@pytest.mark.core
def test_train_epoch_calls_the_step_it_is_given(np_track):
    # train_epoch(params, state, x (50 examples), rng, batch_size=16, n_samples=3, step=spy): the spy returns the
    # params and state it got and a planted loss; it must be called once per minibatch, with the minibatch and eps
    # of shape (3, B, 2), and train_epoch must return the mean of the losses the step returned
    planted = [2.5, 40.0, -1.0, 7.25]
    spied = _spied_epoch(np_track, 6, batch_size=16, n_samples=3, planted_losses=planted, given=True)
    for tags, shape in zip(spied["batches"], spied["eps_shapes"]):
        if tuple(shape) != (3, len(tags), 2):
            fail(f"train_epoch(..., n_samples=3, step=step) gave step eps of shape {tuple(shape)} for a minibatch "
                 f"of {len(tags)}; expected (3, {len(tags)}, 2)")
    sizes = [len(tags) for tags in spied["batches"]]
    if sorted(sum(spied["batches"], [])) != list(range(50)) or sizes != [16, 16, 16, 2]:
        fail(f"one epoch over 50 examples with batch_size 16 should call step once per minibatch, on minibatches of "
             f"16, 16, 16 and 2 examples that hold each example once; it called it on minibatches of {sizes}")
    result = spied["result"]
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        fail(f"train_epoch must return (params, state, mean_loss); got {type(result).__name__}")
    check_close(result[2], np.mean(spied["losses"]), "train_epoch's mean_loss vs the mean of the losses its step "
                "returned", {"losses step returned": np.array(spied["losses"])},
                hint="mean_loss is the plain mean of the losses the step returned, one per minibatch (each "
                "minibatch counts once, unlike evaluate's average over images)")


@pytest.mark.ex8_1
@pytest.mark.core
def test_train_epoch_carries_the_state_and_returns_the_mean_minibatch_loss(np_track):
    # train_epoch(params, state, x (50 examples), rng, batch_size=16, n_samples=2, lr=0.02, step=spy); the spy step
    # calls train_step
    spied = _spied_epoch(np_track, 2, batch_size=16, n_samples=2, lr=0.02)
    if spied["stopped"]:
        fail(f"train_epoch passed eps of shape {tuple(spied['eps_shapes'][-1])} to step; expected (K, B, 2)")
    n_calls = len(spied["batches"])
    if n_calls != 4:
        fail(f"one epoch over 50 examples with batch_size 16 should call step 4 times; it called it {n_calls} times")
    if spied["lrs"] != [0.02] * n_calls:
        fail(f"train_epoch(..., lr=0.02) called step with lr {spied['lrs']}: pass lr on to every step")
    if [s[0] for s in spied["eps_shapes"]] != [2] * n_calls:
        fail(f"train_epoch(..., n_samples=2) drew eps of shapes {spied['eps_shapes']}: K = n_samples samples per "
             "example, eps of shape (n_samples, B, D_z)")
    if spied["t_given"] != [5.0 + i for i in range(n_calls)]:
        fail(f"train_epoch started with an Adam state at t = 5 and gave step states with t = {spied['t_given']}; "
             f"expected {[5 + i for i in range(n_calls)]}: each step gets the state the previous one returned")
    result = spied["result"]
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        fail(f"train_epoch must return (params, state, mean_loss); got {type(result).__name__}")
    params, state, mean_loss = result
    last_params, last_state = spied["last_step"]
    if not isinstance(state, dict) or float(state.get("t", -1)) != 5 + n_calls:
        fail(f"train_epoch must return the Adam state of the last step (t = {5 + n_calls}); got "
             f"{state.get('t') if isinstance(state, dict) else type(state).__name__}")
    check_close(flatten(params)[0], flatten(last_params)[0], "the parameters train_epoch returned vs those of its "
                "last step", {}, hint="return the parameters of the last step")
    check_close(mean_loss, np.mean(spied["losses"]), "train_epoch's mean_loss vs the mean of its minibatch losses",
                {"minibatch losses": np.array(spied["losses"])},
                hint="mean_loss is the average of the losses step returned over the epoch's minibatches")
    eps = [np.asarray(e) for e in spied["eps"]]
    if any(np.array_equal(eps[i][:, : len(eps[j][0])], eps[j][:, : len(eps[i][0])]) for i in range(n_calls)
           for j in range(i)):
        fail("train_epoch gave two minibatches the same eps: draw a fresh eps from rng for every minibatch")
    pooled = np.concatenate([e.ravel() for e in eps])  # 200 draws of N(0, 1): mean and variance within MC_Z s.e.
    n = pooled.size
    if not (abs(pooled.mean()) <= tol.MC_Z / np.sqrt(n) and abs(pooled.var() - 1) <= tol.MC_Z * np.sqrt(2 / n)):
        fail(f"the eps train_epoch drew have mean {pooled.mean():.3f} and variance {pooled.var():.3f} over {n} draws; "
             "expected standard normal draws (rng.standard_normal)")


@pytest.mark.ex8_1
def test_train_epoch_draws_everything_from_rng(np_track):
    # The same generator state gives the same epoch: the shuffling and every eps come from rng.
    first = _spied_epoch(np_track, 3, batch_size=16)
    again = _spied_epoch(np_track, 3, batch_size=16)
    other = _spied_epoch(np_track, 4, batch_size=16)
    same = first["batches"] == again["batches"] and all(
        np.array_equal(a, b) for a, b in zip(first["eps"], again["eps"]))
    if not same:
        fail("train_epoch with two generators in the same state shuffled or drew eps differently: draw everything "
             "from rng (no other generator)")
    if first["batches"] == other["batches"]:
        fail("train_epoch shuffled the same way for two different generators: shuffle with rng")


def _noisy_evaluations(np_track, n_samples: int, repeats: int):
    ref = reference("wider/evaluate_noisy")  # a network whose posteriors are wide: the eps matter
    params = flat_to_tree(ref.inputs, "params")
    values = []
    for r in range(repeats):
        got = call("evaluate", np_track.train.evaluate, params, ref.inputs["x"], seeds.numpy_rng(10 + n_samples, r),
                   batch_size=3, n_samples=n_samples)
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            fail(f"evaluate must return the tuple (elbo, log_lik, kl) of floats; got {got!r}")
        values.append([float(to_numpy(v)) for v in got])
    return ref, np.array(values)


@pytest.mark.ex8_2
@pytest.mark.parametrize("n_samples", [1, 4])
def test_evaluate_is_unbiased_with_the_variance_of_k_samples(np_track, n_samples):
    # 300 evaluations, each with a generator of its own: their mean must be the expected ELBO (within MC_Z
    # standard errors; the expected value's own standard error is in the reference, about 1/35 of the test's),
    # and their variance that of a K-sample estimate, sum_n Var_1(ELBO(x_n)) / (K N^2). A correct evaluate fails
    # one of the two checks with probability below 4e-9.
    ref, values = _noisy_evaluations(np_track, n_samples, 300)
    name = f"evaluate(params, x of 10 images, rng, batch_size=3, n_samples={n_samples})[elbo] over 300 generators"
    if np.ptp(values[:, 0]) == 0:
        fail(f"{name} gave the same value for every generator: evaluate must draw eps ~ N(0, I) from rng and decode "
             "the samples z = mu + sigma * eps (not mu)")
    check_mc_mean(values[:, 0], ref.outputs["expected_elbo"], name, expected_se=ref.outputs["expected_elbo_se"],
                  hint="evaluate averages the K-sample ELBO (samples z = mu + sigma * eps from rng) over the images")
    check_mc_variance(values[:, 0], ref.outputs["single_draw_variance"] / n_samples, name,
                      hint=f"each image's ELBO averages n_samples = {n_samples} samples, so its variance is 1/K of a "
                           "single sample's: draw eps of shape (n_samples, B, D_z)")
    check_close(values[:, 2], np.full(len(values), ref.outputs["expected_kl"]), "evaluate(...)[kl] (the analytic KL)",
                {}, rtol=1e-9, atol=1e-9, hint="the KL term is analytic: the same for every eps")


@pytest.mark.ex8_1
def test_train_epoch_draws_eps_in_the_dtype_of_the_data(np_track):
    # train_epoch on float32 images and parameters: every eps it hands to the step must be float32 too
    spied = _spied_epoch(np_track, 8, dtype=np.float32, batch_size=16)
    wrong = sorted(set(d for d in spied["eps_dtypes"] if d != "float32"))
    if wrong:
        fail(f"train_epoch on float32 images gave the step eps of dtype {', '.join(wrong)}: draw eps with "
             "rng.standard_normal(...).astype(x_train.dtype), or the whole float32 step runs in float64")
