"""Exercise T7: the training step (docs/exercises/pytorch.md#ext7_1)."""

import numpy as np
import pytest
import torch

from grader.harness import check_close, fail, to_numpy
from grader.pytorch._autodiff import type_name
from grader.pytorch._weights import VAE_SIZES, check_params_after
from grader.reference import reference
from grader.remote import probe

STEP_HINT = "optimizer.zero_grad(); loss = -elbo.mean(); loss.backward(); optimizer.step(); return the loss as a float"


def _steps(torch_track, ref, optimizer="Adam", lr=0.01, steps=1, bound=None) -> dict:
    """``steps`` train_steps with torch.optim.<optimizer>(lr) on the VAE with the case's weights, in the worker:
    the losses, the .grad of every parameter after each step, the parameters after the last (and with
    ``bound="elbo"`` VAE(x, eps)[0] before the first and after the last step)."""
    return probe(torch_track, "train_steps", "optim.train_step", ref.inputs, VAE_SIZES, ref.inputs["x"],
                 ref.inputs["eps"], optimizer=optimizer, lr=lr, steps=steps, bound=bound)


@pytest.mark.ext7_1
def test_train_step_matches_reference(torch_track):
    # The reference is the NumPy track's hand-written Adam; torch.optim.Adam makes the same first step.
    ref = reference("optim/train_step")
    run = _steps(torch_track, ref, "Adam", lr=0.01)
    loss = run["losses"][0]
    if not isinstance(loss, float):
        fail(f"train_step must return the loss as a Python float (loss.item()), got {type_name(loss)}"
             f"\n  hint: {STEP_HINT}")
    check_close(loss, ref.outputs["loss"], "train_step loss (before the step)", {},
                hint="the loss is -mean over the batch of the ELBO, computed before optimizer.step()")
    check_params_after(run["params"], ref.outputs, "train_step",
                       "step on the gradient of the loss (not of the ELBO): " + STEP_HINT)


@pytest.mark.ext7_1
def test_train_step_zeroes_old_gradients(torch_track):
    """With a zero learning rate the weights stay put, so two steps must leave the same .grad, not twice it."""
    ref = reference("optim/train_step")
    first, second = _steps(torch_track, ref, "SGD", lr=0.0, steps=2)["grads"]
    if any(g is None for g in first + second):
        fail(f"after train_step some parameters have no gradient\n  hint: {STEP_HINT}")
    for g1, g2 in zip(first, second):
        if not torch.allclose(g2, g1, rtol=1e-10, atol=1e-12):
            fail("the gradients of the second train_step are the sum of two steps' gradients: call "
                 f"optimizer.zero_grad() before loss.backward()\n  hint: {STEP_HINT}")


@pytest.mark.ext7_1
def test_train_steps_on_one_batch_lower_the_loss(torch_track):
    ref = reference("optim/train_step")
    run = _steps(torch_track, ref, "Adam", lr=0.01, steps=30, bound="elbo")
    before = -float(np.mean(to_numpy(run["before"], "VAE(x, eps)[0]")))
    after = -float(np.mean(to_numpy(run["after"], "VAE(x, eps)[0]")))
    if not after < before - 0.1:
        fail(f"30 train_steps on one batch (eps fixed) should lower the loss -mean(elbo); it went {before:.4f} -> "
             f"{after:.4f}\n  hint: descend the loss -mean(elbo), not the ELBO")
