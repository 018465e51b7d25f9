"""Exercise 8: the training epoch and the evaluation (docs/exercises/numpy.md#ex8_1)."""

import numpy as np
import pytest
from autograd.misc import flatten

from grader import seeds
from grader.harness import call, check_close, fail
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
def test_train_epoch_visits_every_example_once_in_minibatches(np_track):
    x = _toy_data(seeds.numpy_rng(0), n=50)
    x[:, 0] = np.arange(50) / 100.0  # tag each example
    params = random_vae_params(seeds.numpy_rng(1), 16, (8,), 2)
    state = np_track.optim.adam_init(flatten(params)[0])
    # train_epoch(params, state, x, rng, batch_size=16) in the worker, with a spy in place of the train_step it
    # calls: the spy notes the tags of each minibatch and the shape of its eps (and stops at a wrong shape)
    spied = call("train_epoch", probe, np_track, "train_epoch_spy", params, state, x, seeds.numpy_rng(2), batch_size=16)
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
             "  hint: shuffle the indices with rng, slice them in batch_size chunks, call train_step on x[idx]")
    if seen == sorted(seen):
        fail("train_epoch visited the examples in their stored order; shuffle them with rng.permutation each epoch")


@pytest.mark.ex8_2
def test_evaluate_matches_reference_with_uneven_batches(np_track):
    ref = reference("train/evaluate_deterministic")  # sigma ~ 1e-13, so every eps gives the same ELBO
    params = flat_to_tree(ref.inputs, "params")
    got = call("evaluate", np_track.train.evaluate, params, ref.inputs["x"], seeds.numpy_rng(), batch_size=3)
    if not isinstance(got, (tuple, list)) or len(got) != 3:
        fail(f"evaluate must return the tuple (elbo, log_lik, kl) of floats; got {got!r}")
    for value, name in zip(got, ("elbo", "log_lik", "kl")):
        check_close(np.asarray(value, dtype=float), ref.outputs[name],
                    f"evaluate(params, x of 10 images, batch_size=3)[{name}]", {},
                    hint="average over images, not over batches: the last batch holds 1 image")
