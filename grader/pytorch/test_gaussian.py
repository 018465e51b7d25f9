"""Exercise T1: Gaussian log densities (docs/exercises/pytorch.md#ext1_1)."""

import numpy as np
import pytest
import torch

from grader import seeds
from grader import tolerances as tol
from grader.harness import call, check_close, finite_difference_grad
from grader.pytorch._autodiff import as_tensors, check_gradcheck, check_torch_grads_match
from grader.reference import reference

LOG_2PI = np.log(2 * np.pi)
DIAG_HINT = "sum over the last axis (dim=-1); sigma^2 = exp(log_var), not exp(0.5 log_var)"
DIAG_HINTS = {"factor": "a constant factor off: -0.5 times the SUM over the last axis (dim=-1), not the mean",
              "formula": "-0.5 * sum over the last axis of (log 2 pi + log_var + (x - mu)^2 / exp(log_var))"}
STD_HINT = "-0.5 * sum over the last axis of (log 2 pi + z^2)"
STD_HINTS = {"factor": "a constant factor off: -0.5 times the SUM over the last axis of (log 2 pi + z^2)",
             "offset": "a constant offset: each dimension contributes -0.5 log 2 pi"}
FLOAT32_HINT = ("float32 in, float32 out: use Python floats (math.log) for constants; a float64 tensor or "
                "dtype=torch.float64 upcasts the result")


def _wrong_diag(x, mu, log_var):
    """Known wrong formulas of log_normal_diag, by name."""
    sq = (x - mu) ** 2
    return {"the density without the log_var term (-0.5 sum(log 2 pi + (x - mu)^2 / sigma^2))":
            -0.5 * np.sum(LOG_2PI + sq * np.exp(-log_var), axis=-1),
            "(x - mu)^2 * exp(log_var) instead of (x - mu)^2 / exp(log_var)":
            -0.5 * np.sum(LOG_2PI + log_var + sq * np.exp(log_var), axis=-1)}


@pytest.mark.ext1_1
@pytest.mark.core
def test_log_normal_diag_matches_reference(torch_track):
    ref = reference("gaussian/log_normal_diag")
    got = call("log_normal_diag", torch_track.gaussian.log_normal_diag, **as_tensors(ref.inputs))
    check_close(got, ref.outputs["value"], "log_normal_diag(x, mu, log_var)", ref.inputs, hint=DIAG_HINT,
                wrong=_wrong_diag(**ref.inputs), hints=DIAG_HINTS)


@pytest.mark.ext1_1
def test_log_normal_diag_broadcasts_samples_against_parameters(torch_track):
    ref = reference("gaussian/log_normal_diag_broadcast")  # x (3, 4, 5) against mu, log_var (4, 5)
    got = call("log_normal_diag", torch_track.gaussian.log_normal_diag, **as_tensors(ref.inputs))
    check_close(got, ref.outputs["value"], "log_normal_diag(x (3,4,5), mu (4,5), log_var (4,5))", ref.inputs,
                hint=DIAG_HINT, hints=DIAG_HINTS)


@pytest.mark.ext1_1
def test_log_normal_diag_gradients_match_reference(torch_track):
    ref = reference("gaussian/log_normal_diag")
    check_torch_grads_match(torch_track.gaussian.log_normal_diag, ref, ("x", "mu", "log_var"), "log_normal_diag")


@pytest.mark.ext1_1
def test_log_normal_diag_passes_gradcheck(torch_track):
    rng = seeds.numpy_rng(0)
    inputs = {"x": rng.normal(size=(2, 3, 4)), "mu": rng.normal(size=(3, 4)), "log_var": rng.uniform(-2, 2, (3, 4))}
    check_gradcheck(torch_track.gaussian.log_normal_diag, inputs, ("x", "mu", "log_var"), "log_normal_diag")


@pytest.mark.ext1_1
def test_log_normal_diag_at_its_mean_is_minus_half_log_2pi_per_dimension(torch_track):
    x = torch.tensor([[0.3, -1.2, 2.0]], dtype=torch.float64)
    got = call("log_normal_diag", torch_track.gaussian.log_normal_diag, x, x, torch.zeros_like(x))
    check_close(got, np.array([-1.5 * LOG_2PI]), "log_normal_diag(x, mu=x, log_var=0)", {"x": x.numpy()},
                hint=DIAG_HINT, hints=DIAG_HINTS)


@pytest.mark.ext1_1
@pytest.mark.core
def test_log_normal_diag_keeps_float32(torch_track):
    ref = reference("gaussian/log_normal_diag_broadcast")
    got = call("log_normal_diag", torch_track.gaussian.log_normal_diag, **as_tensors(ref.inputs, dtype="float32"))
    check_close(got, ref.outputs["value"], "log_normal_diag(x, mu, log_var) on float32 tensors", ref.inputs,
                rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=torch.float32, hint=FLOAT32_HINT)


@pytest.mark.ext1_2
@pytest.mark.core
def test_log_standard_normal_matches_reference(torch_track):
    ref = reference("gaussian/log_standard_normal")
    got = call("log_standard_normal", torch_track.gaussian.log_standard_normal, **as_tensors(ref.inputs))
    check_close(got, ref.outputs["value"], "log_standard_normal(z)", ref.inputs, hint=STD_HINT, hints=STD_HINTS)


@pytest.mark.ext1_2
def test_log_standard_normal_gradient_is_minus_z(torch_track):
    z = seeds.numpy_rng(0).normal(size=(3, 4))
    f = torch_track.gaussian.log_standard_normal
    fd = finite_difference_grad(lambda v: f(torch.from_numpy(v)).sum(), z)
    check_close(fd, -z, "finite-difference gradient of sum(log_standard_normal(z))", {"z": z},
                rtol=tol.FD_RTOL, atol=tol.FD_ATOL)
    check_torch_grads_match(f, reference("gaussian/log_standard_normal"), ("z",), "log_standard_normal")


@pytest.mark.ext1_2
@pytest.mark.core
def test_log_standard_normal_keeps_float32_and_the_leading_axes(torch_track):
    ref = reference("gaussian/log_standard_normal")  # z (2, 6, 3) -> (2, 6)
    got = call("log_standard_normal", torch_track.gaussian.log_standard_normal, **as_tensors(ref.inputs, dtype="float32"))
    check_close(got, ref.outputs["value"], "log_standard_normal(z (2, 6, 3)) on float32 z", ref.inputs,
                rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=torch.float32, hint=FLOAT32_HINT, hints=STD_HINTS)
