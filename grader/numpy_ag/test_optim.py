"""Exercise 7: Adam and the training step (docs/exercises/numpy.md#ex7_1)."""

import numpy as np
import pytest
from autograd.misc import flatten

from grader import tolerances as tol
from grader.harness import call, check_close, fail, to_numpy
from grader.pytrees import flat_to_tree, tree_to_flat
from grader.reference import reference

from grader.numpy_ag._adam import check_state, check_two_adam_steps
from grader.tolerances import ADAM_B1 as B1, ADAM_B2 as B2, ADAM_EPS, adam_slack, first_step_slack

ADAM_HINT = ("m and v are running averages of g and g^2; divide by the bias corrections (1 - b1^t), (1 - b2^t) "
             "with t counted from 1; step theta - lr * m_hat / (sqrt(v_hat) + adam_eps)")
ADAM_HINTS = {
    # What a constant factor in every step points to. (Adam's "efficient" form of Kingma & Ba, with eps outside
    # the bias correction, differs only at the level of eps and is accepted: see tolerances.ADAM_EPS_SLACK.)
    "factor": "every step is off by the same factor: check the bias corrections m_hat = m / (1 - b1^t) and "
              "v_hat = v / (1 - b2^t) with t counted from 1 (at t = 1 leaving out both makes the step "
              "(1 - b1) / sqrt(1 - b2) = 3.16 times too large, leaving out m's alone 10 times too small), the "
              "square root of v_hat, and the sign: descend, theta - lr * m_hat / (sqrt(v_hat) + adam_eps)",
}
LOSS_GRAD_HINT = ("the gradient of the loss -mean over the batch of vae_forward(...)[0] (autograd's value_and_grad of "
                  "the loss of the flat theta), then adam_update with the state you were given")


@pytest.mark.ex7_1
@pytest.mark.core
def test_adam_init_returns_zero_moments_and_step_zero(np_track, rng):
    theta = rng.normal(size=9)
    state = call("adam_init", np_track.optim.adam_init, theta)
    check_state(state, "adam_init(theta)", 0)
    for key in ("m", "v"):
        check_close(state[key], np.zeros(9), f"adam_init(theta)['{key}'] for theta of shape (9,)", {"theta": theta},
                    hint="m and v start as zeros of the shape of theta")


@pytest.mark.ex7_1
@pytest.mark.core
def test_adam_three_steps_match_reference(np_track):
    ref = reference("optim/adam_three_steps")
    theta = ref.inputs["theta"]
    state = call("adam_init", np_track.optim.adam_init, theta)
    slack, previous = 0.0, ref.inputs["theta"]
    for step, g in enumerate(ref.inputs["grads"]):
        new, state = call("adam_update", np_track.optim.adam_update, theta, g, state, lr=0.01)
        where = f"after step {step + 1}"
        check_state(state, f"adam_update ({where})", step + 1)
        check_close(state["m"], ref.outputs["m"][step], f"Adam state m {where}", {"grad": g}, hint=ADAM_HINT)
        check_close(state["v"], ref.outputs["v"][step], f"Adam state v {where}", {"grad": g}, hint=ADAM_HINT)
        expected_step = ref.outputs["theta"][step] - previous
        slack = slack + adam_slack(expected_step, ref.outputs["v"][step])
        check_close(to_numpy(new) - to_numpy(theta), expected_step, f"Adam step (new theta - theta) {where}",
                    {"grad": g}, atol=tol.ATOL + tol.RTOL * np.abs(ref.outputs["theta"][step]) + slack, rtol=0.0,
                    hint=ADAM_HINT, hints=ADAM_HINTS)
        theta, previous = new, ref.outputs["theta"][step]


@pytest.mark.ex7_1
def test_adam_first_step_moves_each_parameter_by_lr_against_its_gradient(np_track):
    # With bias correction, m_hat = g and v_hat = g^2 at t = 1, so the first step is -lr * g / (|g| + eps).
    theta, g = np.zeros(4), np.array([3.0, -0.02, 1e3, -5.0])
    state = call("adam_init", np_track.optim.adam_init, theta)
    (new, _), args, _ = call("adam_update", np_track.optim.adam_update.echo, theta, g, state, lr=0.1)
    expected = -0.1 * g / (np.abs(g) + ADAM_EPS)
    check_close(new, expected, "theta after one Adam step from 0 with lr 0.1", {"grad": g}, rtol=1e-6,
                atol=adam_slack(expected, (1 - B2) * g**2), hint=ADAM_HINT, hints=ADAM_HINTS)
    given = args[2]  # the state dict adam_update was given, as it was after the call
    if set(given) != set(state) or any(not np.array_equal(state[k], given[k]) for k in state):
        fail("adam_update modified the state it was given; return a new state dict instead")


@pytest.mark.ex7_1
def test_adam_update_uses_its_documented_defaults(np_track, rng):
    theta, grads = rng.normal(size=5), rng.normal(size=(2, 5))
    state = call("adam_init", np_track.optim.adam_init, theta)
    m, v, expected_theta, slack = np.zeros(5), np.zeros(5), theta.copy(), 0.0
    for t, g in enumerate(grads, start=1):
        theta_before = theta
        theta, state = call("adam_update", np_track.optim.adam_update, theta, g, state)  # lr=1e-3, b1, b2, eps
        m, v = B1 * m + (1 - B1) * g, B2 * v + (1 - B2) * g**2
        step = -1e-3 * (m / (1 - B1**t)) / (np.sqrt(v / (1 - B2**t)) + ADAM_EPS)
        expected_theta, slack = expected_theta + step, slack + adam_slack(step, v)
        check_close(to_numpy(theta) - to_numpy(theta_before), step,
                    f"Adam step {t} with the defaults lr=1e-3, b1=0.9, b2=0.999, adam_eps=1e-8", {"grad": g},
                    atol=tol.ATOL + slack, rtol=tol.RTOL, hint=ADAM_HINT, hints=ADAM_HINTS)


@pytest.mark.ex7_1
def test_adam_keeps_float32(np_track, rng):
    theta, g = rng.normal(size=6).astype(np.float32), rng.normal(size=6).astype(np.float32)
    state = call("adam_init", np_track.optim.adam_init, theta)
    for key in ("m", "v"):
        if getattr(state[key], "dtype", None) != np.float32:
            fail(f"adam_init(theta) for a float32 theta gave {key} of dtype {getattr(state[key], 'dtype', type(state[key]).__name__)}; "
                 "use np.zeros_like(theta) so that float32 training stays float32")
    new, state = call("adam_update", np_track.optim.adam_update, theta, g, state, lr=0.01)
    expected = theta.astype(float) - 0.01 * g / (np.abs(g) + ADAM_EPS)
    check_close(new, expected, "adam_update(theta, grad, state, lr=0.01) on float32 theta and grad", {"grad": g},
                rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=np.float32,
                hint="keep float32 float32: Python floats for b1^t and constants (np.power(b1, t) and "
                     "np.sqrt(1 - b2**t) are float64 NumPy scalars that upcast; use b1**t and math.sqrt)")


# --- 7.2 ------------------------------------------------------------------------------------------------------
@pytest.mark.ex7_2
@pytest.mark.core
def test_train_step_matches_reference(np_track):
    ref = reference("optim/train_step")
    params = flat_to_tree(ref.inputs, "params")
    state = call("adam_init", np_track.optim.adam_init, flatten(params)[0])
    out = call("train_step", np_track.optim.train_step, params, state, ref.inputs["x"], ref.inputs["eps"], lr=0.01)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail(f"train_step must return (params, state, loss); got {type(out).__name__}")
    new_params, _, loss = out
    check_close(np.asarray(loss, dtype=float), ref.outputs["loss"], "train_step loss (before the step)", {},
                hint="the loss is -mean over the batch of the ELBO, before the step")
    got = tree_to_flat(new_params, "new_params")
    for key, expected in ref.outputs.items():
        if key.startswith("new_params/"):
            before = ref.inputs["params/" + key[len("new_params/"):]]
            step = expected - before
            check_close(to_numpy(got.get(key, np.nan)) - before, step,
                        f"the step of parameter {key[len('new_params/'):]} in train_step (new - old)", {},
                        rtol=0.0, atol=tol.ATOL + tol.RTOL * np.abs(expected) + first_step_slack(step, 0.01),
                        hint=LOSS_GRAD_HINT,
                        hints={"factor": "the step has the wrong sign or size: descend the loss -mean(elbo) (its "
                                         "gradient, not the ELBO's), with adam_update's lr"})


@pytest.mark.ex7_2
@pytest.mark.core
def test_train_step_carries_the_adam_state_from_call_to_call(np_track):
    # two calls: eps, then eps2, the second with the state the first returned
    check_two_adam_steps(np_track.optim.train_step, "train_step", reference("wider/train_step_twice"), LOSS_GRAD_HINT)


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
