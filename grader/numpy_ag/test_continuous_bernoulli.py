"""Exercise 2: the continuous Bernoulli (docs/exercises/numpy.md#ex2_1)."""

import numpy as np
import pytest

from grader import tolerances as tol
from grader.cases import CB_EDGE_LOGITS
from grader.harness import (autograd_grads, call, check_close, check_finite, check_grads_match, fail,
                            finite_difference_grad)
from grader.reference import reference

NORMALISER_HINT = (
    "log C = log(l / tanh(l/2)) away from l = 0 and log 2 + l^2/12 - 7 l^4/1440 near it; "
    "np.where evaluates both branches, so feed the exact branch a safe value inside the window"
)


@pytest.mark.ex2_1
def test_cb_log_norm_matches_reference_on_random_logits(np_track):
    ref = reference("cb/log_norm_random")
    got = call("cb_log_norm", np_track.continuous_bernoulli.cb_log_norm, **ref.inputs)
    check_close(got, ref.outputs["value"], "cb_log_norm(logits)", ref.inputs, hint=NORMALISER_HINT)


@pytest.mark.ex2_1
def test_cb_log_norm_is_log_2_at_one_half_and_exact_near_it(np_track):
    ref = reference("cb/log_norm_edges")  # eta = 1/2 exactly, near it, 1e-6 and 1 - 1e-6 in probability
    got = call("cb_log_norm", np_track.continuous_bernoulli.cb_log_norm, **ref.inputs)
    check_close(got, ref.outputs["value"], "cb_log_norm(logits) at and near eta = 1/2", ref.inputs,
                rtol=1e-9, atol=1e-12, hint=NORMALISER_HINT)


@pytest.mark.ex2_1
def test_cb_log_norm_gradients_are_finite_and_correct_at_the_edges(np_track):
    f = np_track.continuous_bernoulli.cb_log_norm
    ref = reference("cb/log_norm_edges")
    grads = autograd_grads(f, ref.inputs, ("logits",), "cb_log_norm")
    check_finite(grads["logits"], "gradient of cb_log_norm", ref.inputs,
                 hint="a NaN gradient at eta = 1/2 comes from the unused exact branch of np.where")
    check_grads_match(f, ref, ("logits",), "cb_log_norm")


@pytest.mark.ex2_1
def test_cb_log_norm_gradient_matches_finite_differences(np_track):
    f = np_track.continuous_bernoulli.cb_log_norm
    ref = reference("cb/log_norm_random")
    logits = ref.inputs["logits"]
    got = autograd_grads(f, ref.inputs, ("logits",), "cb_log_norm")["logits"]
    fd = finite_difference_grad(lambda v: f(v).sum(), logits)
    check_close(got, fd, "autograd gradient of cb_log_norm vs central differences", ref.inputs,
                rtol=tol.FD_RTOL, atol=tol.FD_ATOL)


@pytest.mark.ex2_2
def test_cb_log_prob_matches_reference(np_track):
    ref = reference("cb/log_prob")
    got = call("cb_log_prob", np_track.continuous_bernoulli.cb_log_prob, **ref.inputs)
    check_close(got, ref.outputs["value"], "cb_log_prob(x, logits)", ref.inputs,
                hint="sum over pixels of x*l - log(1 + e^l) + log C(l), from the logits with np.logaddexp (log of "
                "sigmoid(l) underflows to -inf for large |l|); without log C it is the Bernoulli log-likelihood, "
                "which is wrong for grey-level pixels")


@pytest.mark.ex2_2
def test_cb_log_prob_broadcasts_k_samples_against_one_image(np_track):
    ref = reference("cb/log_prob_broadcast")  # x (4, 10) against logits (3, 4, 10)
    got = call("cb_log_prob", np_track.continuous_bernoulli.cb_log_prob, **ref.inputs)
    check_close(got, ref.outputs["value"], "cb_log_prob(x (4,10), logits (3,4,10))", ref.inputs)


@pytest.mark.ex2_2
def test_cb_log_prob_gradient_matches_reference(np_track):
    ref = reference("cb/log_prob")
    check_grads_match(np_track.continuous_bernoulli.cb_log_prob, ref, ("logits",), "cb_log_prob")


@pytest.mark.ex2_2
def test_cb_density_integrates_to_one(np_track):
    # Midpoint rule over x in [0, 1] for one pixel: integral of exp(log p(x | l)) dx = 1 for every l.
    logits = np.array([-8.0, -1.0, -1e-3, 0.0, 2e-3, 0.7, 5.0])
    x = (np.arange(20000) + 0.5) / 20000
    log_p = call("cb_log_prob", np_track.continuous_bernoulli.cb_log_prob, x[:, None, None], logits[None, :, None])
    total = np.exp(np.asarray(log_p, dtype=float)).mean(axis=0)
    check_close(total, np.ones_like(logits), "integral over x in [0, 1] of exp(cb_log_prob(x, l))",
                {"logits": logits}, rtol=1e-6, atol=1e-6, hint="the normaliser log C makes the density integrate to 1")


@pytest.mark.ex2_3
def test_cb_mean_matches_reference(np_track):
    ref = reference("cb/mean")
    got = call("cb_mean", np_track.continuous_bernoulli.cb_mean, **ref.inputs)
    check_close(got, ref.outputs["value"], "cb_mean(logits)", ref.inputs, rtol=1e-8, atol=1e-10,
                hint="the mean is eta/(2 eta - 1) + 1/(2 atanh(1 - 2 eta)), not eta; use a Taylor series near 1/2")


@pytest.mark.ex2_3
def test_cb_mean_is_one_half_at_one_half_and_not_eta(np_track):
    logits = np.array([0.0, np.log(4.0)])  # eta = 1/2 and eta = 0.8
    got = np.asarray(call("cb_mean", np_track.continuous_bernoulli.cb_mean, logits), dtype=float)
    check_finite(got, "cb_mean(logits)", {"logits": logits})
    if got.shape == (2,) and abs(got[1] - 0.8) < 1e-3:
        fail("cb_mean returned eta itself (0.8 at eta = 0.8); the continuous Bernoulli's mean is "
             "eta/(2 eta - 1) + 1/(2 atanh(1 - 2 eta)) = 0.612 there")
    expected_08 = 0.8 / 0.6 + 1.0 / (2.0 * np.arctanh(-0.6))
    check_close(got, np.array([0.5, expected_08]), "cb_mean at eta = 1/2 and eta = 0.8", {"logits": logits},
                hint="the mean is eta/(2 eta - 1) + 1/(2 atanh(1 - 2 eta)), and 1/2 at eta = 1/2")
