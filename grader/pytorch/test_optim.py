"""Exercise T7: the training step (docs/exercises/pytorch.md#ext7_1)."""

import numpy as np
import pytest
import torch

from grader.harness import fail, to_numpy
from grader.pytorch._steps import check_one_step, check_two_steps, run_steps
from grader.reference import reference

STEP_HINT = "optimizer.zero_grad(); loss = -elbo.mean(); loss.backward(); optimizer.step(); return the loss as a float"
TRAIN_STEP = "optim.train_step"


@pytest.mark.ext7_1
@pytest.mark.core
def test_train_step_matches_reference(torch_track):
    # The reference is the NumPy track's hand-written Adam; torch.optim.Adam makes the same first step (up to
    # Adam's eps: see grader/pytorch/_weights.py).
    check_one_step(torch_track, TRAIN_STEP, reference("optim/train_step"), "train_step",
                   "the loss is -mean over the batch of the ELBO; " + STEP_HINT)


@pytest.mark.ext7_1
@pytest.mark.core
def test_train_step_carries_the_optimiser_state_from_call_to_call(torch_track):
    # two calls with one torch.optim.Adam(lr=0.01): eps, then eps2
    check_two_steps(torch_track, TRAIN_STEP, reference("wider/train_step_twice"), "train_step",
                    "the loss is -mean over the batch of the ELBO; " + STEP_HINT)


@pytest.mark.ext7_1
def test_train_step_zeroes_old_gradients(torch_track):
    """With a zero learning rate the weights stay put, so two steps must leave the same .grad, not twice it."""
    ref = reference("optim/train_step")
    first, second = run_steps(torch_track, TRAIN_STEP, ref, optimizer="SGD", lr=0.0, steps=2)["grads"]
    if any(g is None for g in first + second):
        fail(f"after train_step some parameters have no gradient\n  hint: {STEP_HINT}")
    for g1, g2 in zip(first, second):
        if not torch.allclose(g2, g1, rtol=1e-10, atol=1e-12):
            fail("the gradients of the second train_step are the sum of two steps' gradients: call "
                 f"optimizer.zero_grad() before loss.backward()\n  hint: {STEP_HINT}")


@pytest.mark.ext7_1
def test_train_steps_on_one_batch_lower_the_loss(torch_track):
    ref = reference("optim/train_step")
    run = run_steps(torch_track, TRAIN_STEP, ref, steps=30, bound="elbo")
    before = -float(np.mean(to_numpy(run["before"], "VAE(x, eps)[0]")))
    after = -float(np.mean(to_numpy(run["after"], "VAE(x, eps)[0]")))
    if not after < before - 0.1:
        fail(f"30 train_steps on one batch (eps fixed) should lower the loss -mean(elbo); it went {before:.4f} -> "
             f"{after:.4f}\n  hint: descend the loss -mean(elbo), not the ELBO")
