"""Exercise 3: the closed-form KL to the standard normal (docs/exercises/numpy.md#ex3_1)."""

import numpy as np
import pytest

from grader import tolerances as tol
from grader.harness import call, check_close, check_grads_match, fail, finite_difference_grad, to_numpy
from grader.reference import reference

KL_HINT = "KL = 0.5 * sum over the last axis of (mu^2 + exp(log_var) - log_var - 1), one value per example"
KL_HINTS = {
    "factor": "a constant factor off: KL = 0.5 * sum over the last axis (D_z; not the mean) of (mu^2 + exp(log_var) - "
              "log_var - 1)",
    "offset": "a constant off in every example: check the '- 1' term (one per dimension)",
}


def _wrong_kls(mu, log_var):
    """Known wrong formulas of the KL, by name (the same as the PyTorch track's)."""
    return {"the KL with sigma = exp(0.5 log_var) in place of sigma^2":
            0.5 * np.sum(mu**2 + np.exp(0.5 * log_var) - log_var - 1, axis=-1),
            "the KL with + log_var in place of - log_var": 0.5 * np.sum(mu**2 + np.exp(log_var) + log_var - 1, axis=-1)}


FLOAT32_HINT = ("keep float32 inputs float32: a NumPy float64 scalar or array mixed in upcasts the result; use "
                "Python floats for constants")


@pytest.mark.ex3_1
@pytest.mark.core
def test_kl_matches_reference(np_track):
    ref = reference("kl/random")  # includes log_var = +20 and -20
    got = call("kl_to_standard_normal", np_track.kl.kl_to_standard_normal, **ref.inputs)
    check_close(got, ref.outputs["value"], "kl_to_standard_normal(mu, log_var)", ref.inputs, hint=KL_HINT,
                wrong=_wrong_kls(**ref.inputs), hints=KL_HINTS)


@pytest.mark.ex3_1
@pytest.mark.core
def test_kl_keeps_float32(np_track):
    ref = reference("kl/random")
    inputs = {k: v.astype(np.float32) for k, v in ref.inputs.items()}
    got = call("kl_to_standard_normal", np_track.kl.kl_to_standard_normal, **inputs)
    check_close(got, ref.outputs["value"], "kl_to_standard_normal(mu, log_var) on float32 inputs", inputs,
                rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=np.float32, hint=FLOAT32_HINT)


@pytest.mark.ex3_1
def test_kl_gradients_match_reference_and_finite_differences(np_track, rng):
    f = np_track.kl.kl_to_standard_normal
    check_grads_match(f, reference("kl/random"), ("mu", "log_var"), "kl_to_standard_normal")
    mu, log_var = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    fd = finite_difference_grad(lambda v: f(mu, v).sum(), log_var)
    check_close(fd, 0.5 * (np.exp(log_var) - 1.0), "finite-difference d KL / d log_var", {"log_var": log_var},
                rtol=tol.FD_RTOL, atol=tol.FD_ATOL, hint=KL_HINT)


@pytest.mark.ex3_1
def test_kl_is_zero_when_posterior_equals_prior(np_track):
    zeros = np.zeros((4, 3))
    got = call("kl_to_standard_normal", np_track.kl.kl_to_standard_normal, zeros, zeros)
    check_close(got, np.zeros(4), "kl_to_standard_normal(mu=0, log_var=0)", {"mu": zeros, "log_var": zeros},
                hint="at q = p the KL is exactly 0; check the '- 1' term")


@pytest.mark.ex3_1
def test_kl_is_nonnegative(np_track, rng):
    mu, log_var = rng.normal(0, 3, size=(200, 5)), rng.uniform(-10, 10, size=(200, 5))
    got = to_numpy(call("kl_to_standard_normal", np_track.kl.kl_to_standard_normal, mu, log_var), "kl_to_standard_normal")
    if got.shape != (200,) or not (got >= -1e-12).all():  # NaN fails too
        fail(f"kl_to_standard_normal must be >= 0 with one value per example (200,); got shape {got.shape}, "
             f"min {got.min():.4g}\n  hint: {KL_HINT}")
