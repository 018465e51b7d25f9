"""Adam helpers of the NumPy track's tests (7.1, 7.2, 10.5): the state's layout, and two training steps that carry
the Adam state from one call to the next (the slack of Adam's efficient form is tolerances.adam_slack)."""

import numpy as np
from autograd.misc import flatten

from grader import tolerances as tol
from grader.harness import call, check_close, fail, to_numpy
from grader.pytrees import flat_to_tree
from grader.remote import RemoteTrack

def check_state(state, name: str, expected_t: int | None = None):
    """The state is a dict with m, v and the step count t (and t is ``expected_t``)."""
    if not isinstance(state, dict) or not {"m", "v", "t"} <= set(state):
        fail(f"{name} must return the new state as a dict with the keys 'm', 'v' and 't'; got "
             f"{sorted(state) if isinstance(state, dict) else type(state).__name__}")
    if expected_t is None:
        return
    if not np.isscalar(state["t"]) and np.ndim(state["t"]) != 0 or float(state["t"]) != expected_t:
        fail(f"{name}: the state's step count t is {state['t']!r} after {expected_t} step(s); expected {expected_t} "
             "(adam_init sets t = 0, each adam_update adds 1)")


def _wrong_m(ref, i, grad):
    """Known wrong Adam first moments after call i of the two train_steps."""
    m = ref.outputs[f"m_{i}"]
    wrong = {"the Adam m of minus the gradient of the loss (the gradient of the bound, not of the loss)": -m,
             "the Adam m of the gradient of the sum over the batch": m * len(ref.inputs["x"])}
    if i > 1:
        wrong["the m of a fresh Adam state: the state given to the step was not used"] = (1 - tol.ADAM_B1) * grad
    return wrong


def check_two_adam_steps(step_function, name: str, ref, hint: str) -> None:
    """Two calls of ``step_function`` (train_step, iwae_train_step) on the case ``ref`` (wider/...): eps, then
    eps2 with the state the first call returned. Checks each call's loss (a float, before the step), the Adam
    state (m and v of the gradient of the loss, t) and the step of the parameters."""
    np_track = RemoteTrack(step_function._workers, step_function._track)
    params = flat_to_tree(ref.inputs, "params")
    theta, _ = flatten(params)
    state = call("adam_init", np_track.optim.adam_init, theta)
    slack = 0.0
    for i, eps in enumerate((ref.inputs["eps"], ref.inputs["eps2"]), start=1):
        out = call(name, step_function, params, state, ref.inputs["x"], eps, lr=0.01)
        params, state, loss = out
        where = f"after {name} call {i}"
        if not isinstance(loss, float):
            fail(f"{name} must return the loss as a Python float (nats per image); got {type(loss).__name__}")
        check_close(loss, ref.outputs[f"loss_{i}"], f"the loss of {name} call {i} (before its step)", {},
                    hint="the loss of the parameters the call was given (before the step): " + hint)
        check_state(state, f"{name} ({where})")
        grad = ref.outputs[f"grad_{i}"]  # the gradient of the loss at the parameters call i was given
        check_close(state["m"], ref.outputs[f"m_{i}"], f"Adam state m {where}", {}, hint=hint,
                    wrong=_wrong_m(ref, i, grad),
                    hints={"formula": hint, "factor": hint})
        check_close(state["v"], ref.outputs[f"v_{i}"], f"Adam state v {where}", {}, hint=hint)
        check_state(state, f"{name} ({where})", i)
        expected_step = ref.outputs[f"theta_{i}"] - theta
        slack = slack + tol.adam_slack(expected_step, ref.outputs[f"v_{i}"])
        new_theta = to_numpy(flatten(params)[0], f"the parameters returned by {name}")
        check_close(new_theta - theta, expected_step, f"the step of the flattened parameters in call {i}", {},
                    rtol=0.0, atol=tol.ATOL + tol.RTOL * np.abs(ref.outputs[f"theta_{i}"]) + slack, hint=hint)
        theta = ref.outputs[f"theta_{i}"]


