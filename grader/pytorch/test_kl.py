"""Exercise T3: the closed-form KL to the standard normal (docs/exercises/pytorch.md#ext3_1)."""

import numpy as np
import pytest
import torch

from grader import seeds
from grader import tolerances as tol
from grader.harness import call, check_close, fail, finite_difference_grad, to_numpy
from grader.pytorch._autodiff import as_tensors, check_gradcheck, check_torch_grads_match
from grader.reference import reference

KL_HINT = "KL = 0.5 * sum over the last axis of (mu^2 + exp(log_var) - log_var - 1), one value per example"
KL_HINTS = {"factor": "a constant factor off: KL = 0.5 * sum over the last axis (dim=-1), not the mean, and not "
                      "without the 0.5",
            "offset": "a constant offset: check the '- 1' of every dimension (the KL is 0 at mu = 0, log_var = 0)",
            "formula": KL_HINT}


def _wrong_kls(mu, log_var):
    """Known wrong formulas of the KL, by name."""
    return {"the KL with sigma = exp(0.5 log_var) in place of sigma^2":
            0.5 * np.sum(mu**2 + np.exp(0.5 * log_var) - log_var - 1, axis=-1),
            "the KL with + log_var in place of - log_var": 0.5 * np.sum(mu**2 + np.exp(log_var) + log_var - 1, axis=-1)}


@pytest.mark.ext3_1
@pytest.mark.core
def test_kl_matches_reference(torch_track):
    ref = reference("kl/random")  # includes log_var = +20 and -20
    got = call("kl_to_standard_normal", torch_track.kl.kl_to_standard_normal, **as_tensors(ref.inputs))
    check_close(got, ref.outputs["value"], "kl_to_standard_normal(mu, log_var)", ref.inputs, hint=KL_HINT,
                wrong=_wrong_kls(**ref.inputs), hints=KL_HINTS)


@pytest.mark.ext3_1
@pytest.mark.core
def test_kl_keeps_float32(torch_track):
    ref = reference("kl/random")
    inputs = {"mu": ref.inputs["mu"], "log_var": np.clip(ref.inputs["log_var"], -10, 10)}  # exp(20) is 5e8 in float32
    expected = 0.5 * np.sum(inputs["mu"] ** 2 + np.exp(inputs["log_var"]) - inputs["log_var"] - 1, axis=-1)
    got = call("kl_to_standard_normal", torch_track.kl.kl_to_standard_normal, **as_tensors(inputs, dtype="float32"))
    check_close(got, expected, "kl_to_standard_normal(mu, log_var) on float32 tensors", inputs, rtol=tol.F32_RTOL,
                atol=tol.F32_ATOL, dtype=torch.float32, hint="float32 in, float32 out: no float64 tensors or dtype= "
                "arguments; " + KL_HINT)


@pytest.mark.ext3_1
def test_kl_gradients_match_reference_and_finite_differences(torch_track):
    f = torch_track.kl.kl_to_standard_normal
    check_torch_grads_match(f, reference("kl/random"), ("mu", "log_var"), "kl_to_standard_normal")
    rng = seeds.numpy_rng(3)
    mu, log_var = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    fd = finite_difference_grad(lambda v: f(torch.from_numpy(mu), torch.from_numpy(v)).sum(), log_var)
    check_close(fd, 0.5 * (np.exp(log_var) - 1.0), "finite-difference d KL / d log_var", {"log_var": log_var},
                rtol=tol.FD_RTOL, atol=tol.FD_ATOL, hint=KL_HINT)
    check_gradcheck(f, {"mu": mu, "log_var": log_var}, ("mu", "log_var"), "kl_to_standard_normal", hint=KL_HINT)


@pytest.mark.ext3_1
def test_kl_is_zero_when_posterior_equals_prior(torch_track):
    zeros = torch.zeros((4, 3), dtype=torch.float64)
    got = call("kl_to_standard_normal", torch_track.kl.kl_to_standard_normal, zeros, zeros)
    check_close(got, np.zeros(4), "kl_to_standard_normal(mu=0, log_var=0)",
                {"mu": zeros.numpy(), "log_var": zeros.numpy()}, hints={"offset": KL_HINTS["offset"]},
                hint="at q = p the KL is exactly 0; check the '- 1' term")


@pytest.mark.ext3_1
def test_kl_is_nonnegative(torch_track):
    rng = seeds.numpy_rng(4)
    mu, log_var = rng.normal(0, 3, size=(200, 5)), rng.uniform(-10, 10, size=(200, 5))
    got = to_numpy(call("kl_to_standard_normal", torch_track.kl.kl_to_standard_normal,
                        *as_tensors({"mu": mu, "log_var": log_var}).values()))
    if got.shape != (200,) or not (got >= -1e-12).all():  # NaN fails too
        fail(f"kl_to_standard_normal must be >= 0 with one value per example (200,); got shape {got.shape}, "
             f"min {got.min():.4g}\n  hint: {KL_HINT}")
