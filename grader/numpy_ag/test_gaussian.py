"""Exercise 1: Gaussian log densities (docs/exercises/numpy.md#ex1_1)."""

import numpy as np
import pytest

from grader import tolerances as tol
from grader.harness import call, check_close, check_grads_match, finite_difference_grad
from grader.reference import reference

LOG_2PI = np.log(2 * np.pi)
DIAG_HINT = ("-0.5 * sum over the last axis of (log 2 pi + log_var + (x - mu)^2 / exp(log_var)): keep the "
             "log_var term; sigma^2 = exp(log_var), not exp(0.5 log_var)")
DIAG_HINTS = {
    "factor": "a constant factor off: -0.5 times the sum over the last axis (not the mean, not without the -0.5)",
    "offset": "a constant off: check the log 2 pi term (one (1/2) log 2 pi per dimension)",
}
PRIOR_HINTS = {
    "factor": "a constant factor off: -0.5 times the sum over the last axis of (log 2 pi + z^2), not the mean",
    "offset": "a constant off: each dimension contributes -(1/2) log 2 pi; check the log 2 pi term",
}
FLOAT32_HINT = ("keep float32 inputs float32: a NumPy float64 scalar such as np.log(2 * np.pi) upcasts the result; "
                "use a Python float (float(np.log(2 * np.pi))) for constants")


def _f32(inputs):
    return {k: np.asarray(v, dtype=np.float32) for k, v in inputs.items()}


@pytest.mark.ex1_1
@pytest.mark.core
def test_log_normal_diag_matches_reference(np_track):
    ref = reference("gaussian/log_normal_diag")
    got = call("log_normal_diag", np_track.gaussian.log_normal_diag, **ref.inputs)
    check_close(got, ref.outputs["value"], "log_normal_diag(x, mu, log_var)", ref.inputs, hint=DIAG_HINT,
                hints=DIAG_HINTS)


@pytest.mark.ex1_1
@pytest.mark.core
def test_log_normal_diag_keeps_float32(np_track):
    ref = reference("gaussian/log_normal_diag_broadcast")  # x (3, 4, 5) against mu, log_var (4, 5)
    inputs = _f32(ref.inputs)
    got = call("log_normal_diag", np_track.gaussian.log_normal_diag, **inputs)
    check_close(got, ref.outputs["value"], "log_normal_diag(x, mu, log_var) on float32 inputs", inputs,
                rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=np.float32, hint=FLOAT32_HINT)


@pytest.mark.ex1_1
def test_log_normal_diag_broadcasts_samples_against_parameters(np_track):
    ref = reference("gaussian/log_normal_diag_broadcast")  # x (3, 4, 5) against mu, log_var (4, 5)
    got = call("log_normal_diag", np_track.gaussian.log_normal_diag, **ref.inputs)
    check_close(got, ref.outputs["value"], "log_normal_diag(x (3,4,5), mu (4,5), log_var (4,5))", ref.inputs,
                hint=DIAG_HINT, hints=DIAG_HINTS)


@pytest.mark.ex1_1
def test_log_normal_diag_gradients_match_reference(np_track):
    ref = reference("gaussian/log_normal_diag")
    check_grads_match(np_track.gaussian.log_normal_diag, ref, ("x", "mu", "log_var"), "log_normal_diag")


@pytest.mark.ex1_1
def test_log_normal_diag_at_its_mean_is_minus_half_log_2pi_per_dimension(np_track):
    x = np.array([[0.3, -1.2, 2.0]])
    got = call("log_normal_diag", np_track.gaussian.log_normal_diag, x, x, np.zeros_like(x))
    check_close(got, np.array([-1.5 * LOG_2PI]), "log_normal_diag(x, mu=x, log_var=0)", {"x": x}, hints=DIAG_HINTS)


@pytest.mark.ex1_2
@pytest.mark.core
def test_log_standard_normal_matches_reference(np_track):
    ref = reference("gaussian/log_standard_normal")
    got = call("log_standard_normal", np_track.gaussian.log_standard_normal, **ref.inputs)
    check_close(got, ref.outputs["value"], "log_standard_normal(z)", ref.inputs,
                hint="-0.5 * sum over the last axis of (log 2 pi + z^2)", hints=PRIOR_HINTS)


@pytest.mark.ex1_2
@pytest.mark.core
def test_log_standard_normal_keeps_float32(np_track):
    ref = reference("gaussian/log_standard_normal")
    inputs = _f32(ref.inputs)
    got = call("log_standard_normal", np_track.gaussian.log_standard_normal, **inputs)
    check_close(got, ref.outputs["value"], "log_standard_normal(z) on float32 z", inputs, rtol=tol.F32_RTOL,
                atol=tol.F32_ATOL, dtype=np.float32, hint=FLOAT32_HINT)


@pytest.mark.ex1_2
def test_log_standard_normal_gradient_is_minus_z(np_track, rng):
    z = rng.normal(size=(3, 4))
    f = np_track.gaussian.log_standard_normal
    fd = finite_difference_grad(lambda v: f(v).sum(), z)
    check_close(fd, -z, "finite-difference gradient of sum(log_standard_normal(z))", {"z": z},
                rtol=tol.FD_RTOL, atol=tol.FD_ATOL)
    check_grads_match(f, reference("gaussian/log_standard_normal"), ("z",), "log_standard_normal")


@pytest.mark.ex1_2
def test_log_standard_normal_keeps_the_leading_axes(np_track, rng):
    z = rng.normal(size=(2, 3, 4, 5))
    got = call("log_standard_normal", np_track.gaussian.log_standard_normal, z)
    check_close(got, -0.5 * np.sum(LOG_2PI + z**2, axis=-1), "log_standard_normal(z of shape (2, 3, 4, 5))",
                {"z": z}, hint="sum over the LAST axis only: the result has shape (...) = (2, 3, 4)",
                hints=PRIOR_HINTS)
