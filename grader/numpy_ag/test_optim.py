"""Exercise 7: Adam and the training step (docs/exercises/numpy.md#ex7_1)."""

import numpy as np
import pytest
from autograd.misc import flatten

from grader.harness import call, check_close, fail, to_numpy
from grader.pytrees import flat_to_tree, tree_to_flat
from grader.reference import reference

ADAM_HINT = ("m and v are running averages of g and g^2; divide by the bias corrections (1 - b1^t), (1 - b2^t) "
             "with t counted from 1; step theta - lr * m_hat / (sqrt(v_hat) + adam_eps)")


@pytest.mark.ex7_1
def test_adam_three_steps_match_reference(np_track):
    ref = reference("optim/adam_three_steps")
    theta = ref.inputs["theta"]
    state = call("adam_init", np_track.optim.adam_init, theta)
    for step, g in enumerate(ref.inputs["grads"]):
        theta, state = call("adam_update", np_track.optim.adam_update, theta, g, state, lr=0.01)
        where = f"after step {step + 1}"
        check_close(state["m"], ref.outputs["m"][step], f"Adam state m {where}", {"grad": g}, hint=ADAM_HINT)
        check_close(state["v"], ref.outputs["v"][step], f"Adam state v {where}", {"grad": g}, hint=ADAM_HINT)
        check_close(theta, ref.outputs["theta"][step], f"Adam parameters {where}", {"grad": g}, hint=ADAM_HINT)


@pytest.mark.ex7_1
def test_adam_first_step_moves_each_parameter_by_lr_against_its_gradient(np_track):
    # With bias correction, m_hat = g and v_hat = g^2 at t = 1, so the first step is -lr * sign(g).
    theta, g = np.zeros(4), np.array([3.0, -0.02, 1e3, -5.0])
    state = call("adam_init", np_track.optim.adam_init, theta)
    (new, _), args, _ = call("adam_update", np_track.optim.adam_update.echo, theta, g, state, lr=0.1)
    check_close(new, -0.1 * np.sign(g), "theta after one Adam step from 0 with lr 0.1", {"grad": g}, rtol=1e-6,
                hint="without the bias correction the first step is far too small; descend: minus the step")
    given = args[2]  # the state dict adam_update was given, as it was after the call
    if set(given) != set(state) or any(not np.array_equal(state[k], given[k]) for k in state):
        fail("adam_update modified the state it was given; return a new state dict instead")


@pytest.mark.ex7_2
def test_train_step_matches_reference(np_track):
    ref = reference("optim/train_step")
    params = flat_to_tree(ref.inputs, "params")
    state = call("adam_init", np_track.optim.adam_init, flatten(params)[0])
    new_params, _, loss = call("train_step", np_track.optim.train_step, params, state, ref.inputs["x"],
                               ref.inputs["eps"], lr=0.01)
    check_close(np.asarray(loss, dtype=float), ref.outputs["loss"], "train_step loss (before the step)", {},
                hint="the loss is -mean over the batch of the ELBO")
    got = tree_to_flat(new_params, "new_params")
    for key, expected in ref.outputs.items():
        if key.startswith("new_params/"):
            check_close(got.get(key, np.nan), expected, f"parameter {key[len('new_params/'):]} after train_step", {},
                        hint="gradient of the loss (not of the ELBO) with autograd, then adam_update")


@pytest.mark.ex7_2
def test_train_steps_on_one_batch_lower_the_loss(np_track):
    ref = reference("optim/train_step")
    params = flat_to_tree(ref.inputs, "params")
    state = np_track.optim.adam_init(flatten(params)[0])
    losses = []
    for _ in range(30):
        params, state, loss = call("train_step", np_track.optim.train_step, params, state, ref.inputs["x"],
                                   ref.inputs["eps"], lr=0.01)
        losses.append(float(to_numpy(loss)))
    if not losses[-1] < losses[0] - 0.1:
        fail(f"30 train_steps on one batch (eps fixed) should lower the loss; it went {losses[0]:.4f} -> "
             f"{losses[-1]:.4f}\n  hint: descend the loss -mean(elbo), not the ELBO")
