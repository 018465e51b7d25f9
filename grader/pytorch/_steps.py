"""Training steps of the PyTorch track (T7.1 train_step, T10.5 iwae_train_step), judge side: one step against
the frozen case of the NumPy track, and two steps with one optimiser (its Adam state carries over)."""

from __future__ import annotations

import numpy as np

from grader.harness import check_close, fail
from grader.tolerances import adam_slack, first_step_slack
from grader.pytorch._autodiff import type_name
from grader.pytorch._weights import VAE_SIZES, check_steps, unflattened
from grader.remote import probe

LR = 0.01
STEP_HINTS = {
    # What a constant factor in every step points to (Adam's efficient form differs only at the level of eps and is
    # accepted: see grader/pytorch/_weights.py).
    "factor": "every step is off by the same factor: the sign (descend the loss, minus the mean ELBO: loss.backward() "
              "of the loss, not of the ELBO) or the optimiser's step (call optimizer.step() of the optimiser you "
              "were given, once)",
}
FRESH_HINT = ("use the optimiser you were given, every call: its state (Adam's m, v and step count) carries from one "
              "call to the next; never create an optimiser inside the step")


def run_steps(torch_track, step: str, ref, steps: int = 1, optimizer: str = "Adam", lr: float = LR, bound=None,
              more_eps=()) -> dict:
    """``steps`` calls of ``step`` with torch.optim.<optimizer>(lr) on the VAE with the case's weights (probe
    ``train_steps``)."""
    return probe(torch_track, "train_steps", step, ref.inputs, VAE_SIZES, ref.inputs["x"], ref.inputs["eps"],
                 optimizer=optimizer, lr=lr, steps=steps, bound=bound, more_eps=more_eps)


def check_loss(loss, expected, name: str, what: str, hint: str, batch: int) -> None:
    if not isinstance(loss, float):
        fail(f"{name} must return the loss as a Python float (loss.item()), got {type_name(loss)}\n  hint: {hint}")
    check_close(loss, expected, f"{name} loss {what}", {},
                hint="the loss of the parameters the call was given, before optimizer.step(): " + hint,
                wrong={"the loss summed over the batch (not the mean)": batch * np.asarray(expected),
                       "minus the loss (the mean ELBO, not minus it)": -np.asarray(expected)},
                hints={"formula": "the loss is -mean over the batch of the bound (one number, nats per image): " + hint})


def check_one_step(torch_track, step: str, ref, name: str, hint: str) -> None:
    """One call on the frozen case: its loss (a float, before the step) and the step of every parameter."""
    run = run_steps(torch_track, step, ref)
    if run["changed"]:
        fail(f"{name} changed {', '.join(run['changed'])}: it must use the eps it is given and draw nothing")
    check_loss(run["losses"][0], ref.outputs["loss"], name, "(before the step)", hint, len(ref.inputs["x"]))
    before = {k[len("params/"):]: v for k, v in ref.inputs.items() if k.startswith("params/")}
    after = {k[len("new_params/"):]: v for k, v in ref.outputs.items() if k.startswith("new_params/")}
    slack = {k: first_step_slack(after[k] - before[k], LR) for k in after}
    check_steps(run["params"], before, after, slack, name, hint, STEP_HINTS)


def check_two_steps(torch_track, step: str, ref, name: str, hint: str) -> None:
    """Two calls with one torch.optim.Adam(lr=0.01) on the case ``ref`` (wider/...): eps, then eps2. Each call's
    loss and the steps of the parameters, the second one with the Adam state of the first."""
    run = run_steps(torch_track, step, ref, steps=2, more_eps=(ref.inputs["eps2"],))
    before = {k[len("params/"):]: v for k, v in ref.inputs.items() if k.startswith("params/")}
    slack = {k: 0.0 for k in before}
    for i in (1, 2):
        check_loss(run["losses"][i - 1], ref.outputs[f"loss_{i}"], name,
                   f"of call {i} (before its step{', with the parameters call 1 left' if i == 2 else ''})", hint,
                   len(ref.inputs["x"]))
        after = unflattened(ref, ref.outputs[f"theta_{i}"])
        v = unflattened(ref, ref.outputs[f"v_{i}"])
        slack = {k: slack[k] + adam_slack(after[k] - before[k], v[k]) for k in after}
        check_steps(run["params_each"][i - 1], before, after, slack, f"{name} call {i} (one optimiser for both calls)",
                    FRESH_HINT if i == 2 else hint, STEP_HINTS if i == 1 else None)
        before = after
