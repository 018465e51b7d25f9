"""Exercise T7: the training step (docs/exercises/pytorch.md#ext7_1)."""

import pytest
import torch

from grader.cases import NET_SIZES
from grader.harness import call, check_close, fail
from grader.pytorch._weights import build, vae_layers
from grader.reference import reference

STEP_HINT = "optimizer.zero_grad(); loss = -elbo.mean(); loss.backward(); optimizer.step(); return the loss as a float"


def _model(torch_track, ref):
    return build(torch_track, "VAE", ref.inputs, NET_SIZES["x_dim"], NET_SIZES["hidden_dims"], NET_SIZES["z_dim"])


@pytest.mark.ext7_1
def test_train_step_matches_reference(torch_track):
    # The reference is the NumPy track's hand-written Adam; torch.optim.Adam makes the same first step.
    ref = reference("optim/train_step")
    model = _model(torch_track, ref)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x, eps = torch.from_numpy(ref.inputs["x"]), torch.from_numpy(ref.inputs["eps"])
    loss = call("train_step", torch_track.optim.train_step, model, optimizer, x, eps)
    if not isinstance(loss, float):
        fail(f"train_step must return the loss as a Python float (loss.item()), got {type(loss).__name__}"
             f"\n  hint: {STEP_HINT}")
    check_close(loss, ref.outputs["loss"], "train_step loss (before the step)", {},
                hint="the loss is -mean over the batch of the ELBO, computed before optimizer.step()")
    with torch.no_grad():
        for key, linear in vae_layers(model).items():
            for name, param in (("W", linear.weight.T), ("b", linear.bias)):
                check_close(param, ref.outputs[f"new_params/{key}/{name}"], f"parameter {key}/{name} after train_step",
                            {}, hint="step on the gradient of the loss (not of the ELBO): " + STEP_HINT)


@pytest.mark.ext7_1
def test_train_step_zeroes_old_gradients(torch_track):
    """With a zero learning rate the weights stay put, so two steps must leave the same .grad, not twice it."""
    ref = reference("optim/train_step")
    model = _model(torch_track, ref)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    x, eps = torch.from_numpy(ref.inputs["x"]), torch.from_numpy(ref.inputs["eps"])
    call("train_step", torch_track.optim.train_step, model, optimizer, x, eps)
    first = [p.grad.clone() if p.grad is not None else None for p in model.parameters()]
    if any(g is None for g in first):
        fail(f"after train_step some parameters have no gradient\n  hint: {STEP_HINT}")
    call("train_step", torch_track.optim.train_step, model, optimizer, x, eps)
    for g1, p in zip(first, model.parameters()):
        if not torch.allclose(p.grad, g1, rtol=1e-10, atol=1e-12):
            fail("the gradients of the second train_step are the sum of two steps' gradients: call "
                 f"optimizer.zero_grad() before loss.backward()\n  hint: {STEP_HINT}")


@pytest.mark.ext7_1
def test_train_steps_on_one_batch_lower_the_loss(torch_track):
    ref = reference("optim/train_step")
    model = _model(torch_track, ref)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x, eps = torch.from_numpy(ref.inputs["x"]), torch.from_numpy(ref.inputs["eps"])
    def loss_now():
        with torch.no_grad():
            return -float(model(x, eps)[0].mean())

    before = loss_now()
    for _ in range(30):
        call("train_step", torch_track.optim.train_step, model, optimizer, x, eps)
    after = loss_now()
    if not after < before - 0.1:
        fail(f"30 train_steps on one batch (eps fixed) should lower the loss -mean(elbo); it went {before:.4f} -> "
             f"{after:.4f}\n  hint: descend the loss -mean(elbo), not the ELBO")
