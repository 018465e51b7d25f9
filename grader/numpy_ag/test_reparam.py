"""Exercise 4: the reparameterised sample (docs/exercises/numpy.md#ex4_1)."""

import numpy as np
import pytest

from grader import tolerances as tol
from grader.harness import call, check_close, check_grads_match, fail
from grader.reference import reference

HINT = "z = mu + exp(0.5 * log_var) * eps: the standard deviation is exp(0.5 log_var), and eps is given"


@pytest.mark.ex4_1
@pytest.mark.core
def test_reparameterize_matches_reference(np_track):
    ref = reference("reparam/random")  # eps (2, 4, 3) against mu, log_var (4, 3)
    got = call("reparameterize", np_track.reparam.reparameterize, **ref.inputs)
    check_close(got, ref.outputs["value"], "reparameterize(mu, log_var, eps)", ref.inputs, hint=HINT)


@pytest.mark.ex4_1
@pytest.mark.core
def test_reparameterize_keeps_float32_and_the_shape_of_eps(np_track):
    ref = reference("reparam/random")
    inputs = {k: v.astype(np.float32) for k, v in ref.inputs.items()}
    got = call("reparameterize", np_track.reparam.reparameterize, **inputs)
    check_close(got, ref.outputs["value"], "reparameterize(mu, log_var, eps (K, B, D_z)) on float32 inputs", inputs,
                rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=np.float32,
                hint="keep float32 inputs float32 (no float64 copies of eps or constants); " + HINT)
    one = {**inputs, "eps": inputs["eps"][0]}  # eps of shape (B, D_z): one sample per example
    got = call("reparameterize", np_track.reparam.reparameterize, **one)
    check_close(got, ref.outputs["value"][0], "reparameterize(mu, log_var, eps (B, D_z)) on float32 inputs", one,
                rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=np.float32, hint="z has the shape of eps; " + HINT)


@pytest.mark.ex4_1
def test_pathwise_gradients_with_eps_fixed(np_track):
    # dz/dmu = 1 and dz/dlog_var = 0.5 * sigma * eps
    check_grads_match(np_track.reparam.reparameterize, reference("reparam/random"), ("mu", "log_var"),
                      "reparameterize", hint="dz/dmu = 1 and dz/dlog_var = 0.5 * sigma * eps with eps fixed: compute z "
                      "from mu and log_var themselves, not from constant copies of them")


@pytest.mark.ex4_1
def test_reparameterize_uses_only_the_given_eps(np_track, rng):
    # Any use of NumPy's global generator fails the test too: the worker reports it after every test.
    mu, log_var, eps = rng.normal(size=(3, 2)), rng.normal(size=(3, 2)), rng.normal(size=(4, 3, 2))
    first = np.asarray(call("reparameterize", np_track.reparam.reparameterize, mu, log_var, eps), dtype=float)
    second = np.asarray(np_track.reparam.reparameterize(mu, log_var, eps), dtype=float)
    if not np.array_equal(first, second):
        fail("reparameterize must be a deterministic function of (mu, log_var, eps): it drew its own random "
             f"numbers\n  hint: {HINT}")


@pytest.mark.ex4_1
def test_sample_moments_match_mu_and_sigma(np_track, rng):
    n = 20000
    mu, log_var = np.array([[1.5, -2.0, 0.0]]), np.array([[0.0, 2.0, -3.0]])
    z = np.asarray(call("reparameterize", np_track.reparam.reparameterize, mu, log_var,
                        rng.standard_normal((n, 1, 3))), dtype=float)[:, 0]
    sigma = np.exp(0.5 * log_var[0])
    mean_err = np.abs(z.mean(0) - mu[0]) / (sigma / np.sqrt(n))
    std_err = np.abs(z.std(0) - sigma) / (sigma / np.sqrt(2 * n))
    if not ((mean_err <= tol.MC_Z).all() and (std_err <= tol.MC_Z).all()):  # written so that NaN fails
        fail(f"over {n} samples z has mean {z.mean(0)} and std {z.std(0)}; expected mu {mu[0]} and "
             f"sigma {sigma}\n  hint: {HINT}")
