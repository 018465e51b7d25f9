"""Exercise 2: the continuous Bernoulli (docs/exercises/numpy.md#ex2_1)."""

import numpy as np
import pytest

from grader import tolerances as tol
from grader.cases import CB_EDGE_LOGITS
from grader.harness import (autograd_grads, call, check_close, check_finite, check_grads_match, fail,
                            finite_difference_grad, to_numpy)
from grader.reference import reference
from grader.remote import probe

FLOAT32_HINT = ("keep float32 inputs float32: a NumPy float64 scalar such as np.log(2.0) (or a float64 array mixed "
                "in) upcasts the result; use Python floats for constants")
WINDOW_HINT = ("in float32 the exact branch loses digits to cancellation for small |l| (log C and the mean divide by "
               "l; A(l) in the exponential-family form of log p subtracts e^-|l| from 1): use the series inside "
               "the window of the docstring, |l| < 1e-2 for log C and the mean, |l| < 0.1 for A(l)")
OVERFLOW_HINT = ("for large |l| a formula with exp(l) or exp(-l) overflows (in float32 beyond |l| = 88) and gives "
                 "inf - inf or inf / inf: write it in a stable form (np.logaddexp(0, l), or exp of -|l| only)")


def hint_at(logits, near: str = WINDOW_HINT, generic: str = ""):
    """A hint that depends on the logit where the result is wrong: the Taylor window near 0, overflow for large |l|."""
    flat = np.asarray(logits, dtype=np.float64).ravel()

    def at(index):
        if not index:
            return generic or near
        l = abs(flat[index[0]]) if len(index) else 0.0
        if l >= 20:
            return OVERFLOW_HINT
        if l < 0.15:
            return near
        return generic or near
    return at
NORMALISER_HINT = (
    "log C = log(l / tanh(l/2)) away from l = 0 and log 2 + l^2/12 - 7 l^4/1440 near it; "
    "np.where evaluates both branches, so feed the exact branch a safe value inside the window"
)


LOG_PROB_HINT = ("sum over pixels of x*l - log(1 + e^l) + log C(l), from the logits with np.logaddexp (log of "
                 "sigmoid(l) underflows to -inf for large |l|), or of (x - 1/2) l - A(l) with "
                 "A(l) = log(sinh(l/2) / (l/2)); without log C it is the Bernoulli log-likelihood, "
                 "which is wrong for grey-level pixels")
LOG_PROB_HINTS = {
    "formula": "your result equals the wrong formula named above: without log C(l) (cb_log_norm) it is the "
               "Bernoulli log-likelihood, wrong for grey-level pixels; in the exponential-family form the "
               "statistic is x - 1/2, and A(l) = |l|/2 + log((1 - e^-|l|) / |l|) keeps its |l|/2",
    "factor": "a constant factor off: the sum over pixels (the last axis), not the mean",
}

LOG_PROB_GRAD_HINT = ("a NaN gradient comes from the unused exact branch of np.where: feed it a safe value inside the "
                      "window; a gradient off by 1/2 points to the statistic x - 1/2 or the |l|/2 of A(l)")

def _softplus(l):
    return np.logaddexp(0.0, l)


def _wrong_log_probs(x, logits):
    """Known wrong answers of cb_log_prob, by name (for the diagnosis of a wrong value)."""
    bern = x * logits - _softplus(logits)
    right = np.sum(bern + _log_c(logits), axis=-1)
    return {"the Bernoulli log-likelihood sum(x l - log(1 + e^l)) without log C": np.sum(bern, axis=-1),
            "sum(x l - A(l)): the exponential-family form without centring x at 1/2":
            right + 0.5 * np.sum(logits, axis=-1),
            "sum((x - 1/2) l - A(l)) with A(l) missing its |l|/2 (outside the window of its series, |l| < 0.1)":
            right + 0.5 * np.sum(np.where(np.abs(logits) < 0.1, 0.0, np.abs(logits)), axis=-1),
            "the mean over pixels instead of the sum": np.mean(bern + _log_c(logits), axis=-1)}


def _log_c(l):
    """log C(l) in float64 (a judge-side formula for the diagnosis only; values are checked against the reference)."""
    small = np.abs(l) < 1e-2
    safe = np.where(small, 1.0, l)
    return np.where(small, np.log(2) + l**2 / 12 - 7 * l**4 / 1440, np.log(safe / np.tanh(safe / 2)))


def _f32_case():
    """The float32 points around the Taylor window (case wider/cb_float32), as float32 arrays."""
    ref = reference("wider/cb_float32")
    return ref, ref.inputs["logits"].astype(np.float32), ref.inputs["x"].astype(np.float32)


def _grads_f32(np_track, function, inputs):
    """Autograd's d sum(function(**inputs)) / d logits at the float32 inputs themselves (not upcast), in the worker."""
    grads = probe(np_track, "autograd_grads", function, inputs, ("logits",), keep_dtype=True)
    return to_numpy(grads["logits"], "the float32 gradient")


@pytest.mark.ex2_1
@pytest.mark.core
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
@pytest.mark.core
def test_cb_log_prob_matches_reference(np_track):
    ref = reference("cb/log_prob")
    got = call("cb_log_prob", np_track.continuous_bernoulli.cb_log_prob, **ref.inputs)
    check_close(got, ref.outputs["value"], "cb_log_prob(x, logits)", ref.inputs, hint=LOG_PROB_HINT,
                wrong=_wrong_log_probs(**ref.inputs), hints=LOG_PROB_HINTS)


@pytest.mark.ex2_2
def test_cb_log_prob_broadcasts_k_samples_against_one_image(np_track):
    ref = reference("cb/log_prob_broadcast")  # x (4, 10) against logits (3, 4, 10)
    got = call("cb_log_prob", np_track.continuous_bernoulli.cb_log_prob, **ref.inputs)
    check_close(got, ref.outputs["value"], "cb_log_prob(x (4,10), logits (3,4,10))", ref.inputs, hint=LOG_PROB_HINT,
                wrong=_wrong_log_probs(**ref.inputs), hints=LOG_PROB_HINTS)


@pytest.mark.ex2_2
def test_cb_log_prob_gradient_matches_reference(np_track):
    ref = reference("cb/log_prob")
    check_grads_match(np_track.continuous_bernoulli.cb_log_prob, ref, ("logits",), "cb_log_prob",
                      hint=LOG_PROB_GRAD_HINT)


@pytest.mark.ex2_2
def test_cb_log_prob_leaves_x_and_logits_unchanged(np_track):
    ref = reference("cb/log_prob_broadcast")
    inputs = {key: np.array(value) for key, value in ref.inputs.items()}
    _, _, after = call("cb_log_prob", np_track.continuous_bernoulli.cb_log_prob.echo, **inputs)
    for key in ("x", "logits"):
        if not np.array_equal(np.asarray(after[key]), ref.inputs[key]):
            fail(f"cb_log_prob changed its input {key} in place: the caller's {key} (in training, the images or the "
                 f"decoder's logits) is not what it was\n  hint: compute new arrays (x - 0.5, not x -= 0.5)")


@pytest.mark.ex2_2
def test_cb_density_integrates_to_one(np_track):
    # Midpoint rule over x in [0, 1] for one pixel: integral of exp(log p(x | l)) dx = 1 for every l.
    logits = np.array([-8.0, -1.0, -1e-3, 0.0, 2e-3, 0.7, 5.0])
    x = (np.arange(20000) + 0.5) / 20000
    log_p = call("cb_log_prob", np_track.continuous_bernoulli.cb_log_prob, x[:, None, None], logits[None, :, None])
    total = np.exp(np.asarray(log_p, dtype=float)).mean(axis=0)
    check_close(total, np.ones_like(logits), "integral over x in [0, 1] of exp(cb_log_prob(x, l))",
                {"logits": logits}, rtol=1e-6, atol=1e-6, hint="the normaliser, log C (or -A(l) with x - 1/2 in the "
                "exponential-family form), makes the density integrate to 1")


@pytest.mark.ex2_3
@pytest.mark.core
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


# --- float32 -------------------------------------------------------------------------------------------------
@pytest.mark.ex2_1
@pytest.mark.core
def test_cb_log_norm_keeps_float32(np_track):
    ref, logits, _ = _f32_case()  # both sides of the window 1e-2 (+- 3 ulps), 1e-3 ... 1e-2, 0, saturated logits
    got = call("cb_log_norm", np_track.continuous_bernoulli.cb_log_norm, logits)
    check_close(got, ref.outputs["log_norm"], "cb_log_norm(logits) on float32 logits", {"logits": logits},
                rtol=tol.CB32_VALUE_RTOL, atol=tol.CB32_VALUE_ATOL, dtype=np.float32, hint=FLOAT32_HINT)


@pytest.mark.ex2_1
def test_cb_log_norm_float32_gradient_is_accurate_on_both_sides_of_the_taylor_window(np_track):
    ref, logits, _ = _f32_case()
    got = _grads_f32(np_track, np_track.continuous_bernoulli.cb_log_norm, {"logits": logits})
    check_close(got, ref.outputs["log_norm_grad_logits"], "float32 d cb_log_norm(l) / dl vs the float64 reference",
                {"logits": logits}, rtol=tol.CB32_GRAD_RTOL, atol=tol.CB32_LOG_NORM_GRAD_ATOL,
                hint=hint_at(logits))


@pytest.mark.ex2_2
@pytest.mark.core
def test_cb_log_prob_keeps_float32(np_track):
    ref, logits, x = _f32_case()  # one pixel per logit, x in [0, 1] (0, 1 and 1/2 among them)
    got = call("cb_log_prob", np_track.continuous_bernoulli.cb_log_prob, x[:, None], logits[:, None])
    check_close(got, ref.outputs["log_prob"], "cb_log_prob(x, logits) on float32 inputs, logits up to +-80",
                {"x": x, "logits": logits}, rtol=tol.CB32_VALUE_RTOL, atol=tol.cb32_log_prob_atol(x, logits),
                dtype=np.float32,
                hint=hint_at(logits, generic=FLOAT32_HINT + "; log(1 + exp(l)) overflows in float32 for l > 88: use "
                             "np.logaddexp(0, l)"))


@pytest.mark.ex2_2
def test_cb_log_prob_float32_gradient_is_accurate(np_track):
    ref, logits, x = _f32_case()
    got = _grads_f32(np_track, np_track.continuous_bernoulli.cb_log_prob, {"x": x[:, None], "logits": logits[:, None]})[:, 0]
    check_close(got, ref.outputs["log_prob_grad_logits"], "float32 d cb_log_prob(x, l) / dl vs the float64 reference",
                {"x": x, "logits": logits}, rtol=tol.CB32_GRAD_RTOL, atol=tol.CB32_LOG_NORM_GRAD_ATOL,
                hint=hint_at(logits))


@pytest.mark.ex2_3
@pytest.mark.core
def test_cb_mean_keeps_float32_and_is_accurate_near_the_window(np_track):
    ref, logits, _ = _f32_case()
    got = call("cb_mean", np_track.continuous_bernoulli.cb_mean, logits)
    check_close(got, ref.outputs["mean"], "cb_mean(logits) on float32 logits vs the float64 reference",
                {"logits": logits}, rtol=tol.CB32_VALUE_RTOL, atol=tol.CB32_MEAN_ATOL, dtype=np.float32,
                hint=hint_at(logits, FLOAT32_HINT + "; " + WINDOW_HINT, FLOAT32_HINT))


@pytest.mark.ex2_3
def test_cb_mean_float32_gradient_is_accurate_on_both_sides_of_the_taylor_window(np_track):
    ref, logits, _ = _f32_case()
    got = _grads_f32(np_track, np_track.continuous_bernoulli.cb_mean, {"logits": logits})
    check_close(got, ref.outputs["mean_grad_logits"], "float32 d cb_mean(l) / dl vs the float64 reference",
                {"logits": logits}, rtol=tol.CB32_GRAD_RTOL, atol=tol.CB32_MEAN_GRAD_ATOL, hint=hint_at(logits))


@pytest.mark.ex2_3
def test_cb_mean_is_in_the_unit_interval_with_finite_gradients(np_track):
    logits = np.array([-1e3, -80.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 80.0, 1e3])
    got = to_numpy(call("cb_mean", np_track.continuous_bernoulli.cb_mean, logits), "cb_mean(logits)")
    check_finite(got, "cb_mean(logits)", {"logits": logits})
    if got.shape != logits.shape or not ((got >= 0) & (got <= 1)).all():
        fail(f"cb_mean must return one mean in [0, 1] per logit; got {got} for logits {logits}\n  hint: "
             "eta / tanh(l/2) - 1/l with eta = (1 + tanh(l/2)) / 2 never overflows")
    grads = autograd_grads(np_track.continuous_bernoulli.cb_mean, {"logits": logits}, ("logits",), "cb_mean")
    check_finite(grads["logits"], "gradient of cb_mean", {"logits": logits},
                 hint=hint_at(logits, "a NaN gradient at l = 0 comes from the unused exact branch of np.where: feed it "
                              "a safe value inside the window"))
