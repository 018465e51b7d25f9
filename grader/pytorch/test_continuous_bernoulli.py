"""Exercise T2: the continuous Bernoulli (docs/exercises/pytorch.md#ext2_1)."""

import numpy as np
import pytest
import torch

from grader import tolerances as tol
from grader.cases import CB_EDGE_LOGITS
from grader.harness import call, check_close, check_finite, fail, finite_difference_grad, to_numpy
from grader.pytorch._autodiff import (DETACH_HINT, as_tensors, check_gradcheck, check_torch_grads_match, grad_report,
                                      torch_grads, type_name)
from grader.reference import reference

WINDOW_HINT = ("in float32 the exact branch loses digits to cancellation for small |l| (log C and the mean divide by "
               "l; A(l) in the exponential-family form of log p subtracts e^-|l| from 1): use the series inside "
               "the window of the docstring, |l| < 1e-2 for log C and the mean, |l| < 0.1 for A(l)")
OVERFLOW_HINT = ("for large |l| a formula with exp(l) or exp(-l) overflows (in float32 beyond |l| = 88) and gives "
                 "inf - inf or inf / inf: write it in a stable form (torch.sigmoid / F.softplus, or exp of -|l| only)")


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
FLOAT32_HINT = ("float32 in, float32 out: use Python floats (math.log) for constants; a float64 tensor upcasts the "
                "result")
LOG_PROB_HINT = ("sum over pixels of x*l - log(1 + e^l) + log C(l) (= -binary_cross_entropy_with_logits + log C), "
                 "or of (x - 1/2) l - A(l) with A(l) = log(sinh(l/2) / (l/2)); without log C it is the "
                 "Bernoulli log-likelihood, wrong for grey-level pixels")
LOG_PROB_HINTS = {
    "formula": "your result equals the wrong formula named above: without log C(l) (cb_log_norm) it is the "
               "Bernoulli log-likelihood, wrong for grey-level pixels; in the exponential-family form the "
               "statistic is x - 1/2, and A(l) = |l|/2 + log((1 - e^-|l|) / |l|) keeps its |l|/2",
    "factor": "a constant factor off: the sum over pixels (the last axis, dim=-1), not the mean",
}
MEAN_HINT = "the mean is eta/(2 eta - 1) + 1/(2 atanh(1 - 2 eta)), not eta; use a Taylor series near 1/2"
NORMALISER_HINT = (
    "log C = log(l / tanh(l/2)) away from l = 0 and log 2 + l^2/12 - 7 l^4/1440 near it; torch.where "
    "evaluates both branches and its backward pass multiplies the unused one by 0 (0 * NaN = NaN), so feed "
    "the exact branch a safe value inside the window"
)


@pytest.mark.ext2_1
@pytest.mark.core
def test_cb_log_norm_matches_reference_on_random_logits(torch_track):
    ref = reference("cb/log_norm_random")
    got = call("cb_log_norm", torch_track.continuous_bernoulli.cb_log_norm, **as_tensors(ref.inputs))
    check_close(got, ref.outputs["value"], "cb_log_norm(logits)", ref.inputs, hint=NORMALISER_HINT)


@pytest.mark.ext2_1
@pytest.mark.core
def test_cb_log_norm_is_log_2_at_one_half_and_exact_near_it(torch_track):
    ref = reference("cb/log_norm_edges")  # eta = 1/2 exactly, near it, 1e-6 and 1 - 1e-6 in probability
    got = call("cb_log_norm", torch_track.continuous_bernoulli.cb_log_norm, **as_tensors(ref.inputs))
    check_close(got, ref.outputs["value"], "cb_log_norm(logits) at and near eta = 1/2", ref.inputs,
                rtol=1e-9, atol=1e-12, hint=NORMALISER_HINT)


@pytest.mark.ext2_1
def test_cb_log_norm_gradients_are_finite_and_correct_at_the_edges(torch_track):
    f = torch_track.continuous_bernoulli.cb_log_norm
    ref = reference("cb/log_norm_edges")
    grads = torch_grads(f, ref.inputs, ("logits",), "cb_log_norm")
    check_finite(grads["logits"], "gradient of cb_log_norm", ref.inputs,
                 hint="a NaN gradient at eta = 1/2 comes from the unused exact branch of torch.where")
    check_torch_grads_match(f, ref, ("logits",), "cb_log_norm")


@pytest.mark.ext2_1
def test_cb_log_norm_gradient_matches_finite_differences(torch_track):
    f = torch_track.continuous_bernoulli.cb_log_norm
    ref = reference("cb/log_norm_random")
    logits = ref.inputs["logits"]
    got = torch_grads(f, ref.inputs, ("logits",), "cb_log_norm")["logits"]
    fd = finite_difference_grad(lambda v: f(torch.from_numpy(v)).sum(), logits)
    check_close(got, fd, "autograd gradient of cb_log_norm vs central differences", ref.inputs,
                rtol=tol.FD_RTOL, atol=tol.FD_ATOL)
    check_gradcheck(f, ref.inputs, ("logits",), "cb_log_norm", hint=NORMALISER_HINT)


@pytest.mark.ext2_1
def test_cb_log_norm_keeps_float32_finite_with_finite_gradients(torch_track):
    """Training runs in float32: same dtype out, values at float32 precision, no NaN gradient at the edges."""
    ref = reference("cb/log_norm_edges")
    seen = grad_report(torch_track.continuous_bernoulli.cb_log_norm, ref.inputs, ("logits",), dtype="float32")
    got = seen["value"]
    if not isinstance(got, torch.Tensor) or got.dtype != torch.float32:
        fail(f"cb_log_norm of float32 logits returned {getattr(got, 'dtype', type_name(got))}; keep the "
             "dtype of the input (use Python floats for constants, not float64 tensors)")
    check_close(got, ref.outputs["value"], "cb_log_norm(float32 logits)", ref.inputs, rtol=tol.F32_RTOL,
                atol=tol.F32_ATOL, hint=NORMALISER_HINT)
    if seen["grads"]["logits"] is None:
        fail(f"the gradient of cb_log_norm of float32 logits does not reach the logits\n  hint: {DETACH_HINT}")
    check_finite(seen["grads"]["logits"], "gradient of cb_log_norm in float32", ref.inputs, hint=NORMALISER_HINT)


NAN_GRAD_HINT = ("a NaN or infinite gradient comes from the unused exact branch of torch.where: feed it a safe value "
                 "inside the window")
LOG_PROB_GRAD_HINT = ("a gradient off by 1/2 points to the statistic x - 1/2 or the |l|/2 of A(l); a hand-written "
                      "backward returns grad_out[..., None] * (x - 1/2 - A'(l)), with A' odd in l")
WEIGHTED_GRAD_HINT = ("the gradient of each log density is weighted by its own incoming gradient: a hand-written "
                      "backward returns grad_out[..., None] * (x - 1/2 - A'(l)), of the logits' shape (K, B, D), "
                      "not x's")
SERIES_GRAD_HINT = ("inside |l| < 0.1 the derivative of the series a^2/24 - a^4/2880 is A'(l) = l/12 - l^3/720 "
                    "(l/6 is the slope of log C's series)")


def log_prob_grad_hint(logits, got, outside: str = LOG_PROB_GRAD_HINT):
    """The hint for a wrong gradient ``got`` of cb_log_prob, by what is wrong where: not finite, wrong in the
    series' window |l| < 0.1, or wrong outside it."""
    logits, got = np.asarray(logits, dtype=np.float64), np.asarray(got, dtype=np.float64)

    def at(index):
        if index and got.shape == logits.shape and not np.isfinite(got[index]):
            return NAN_GRAD_HINT
        if index and abs(logits[index]) < 0.1:
            return SERIES_GRAD_HINT
        return outside
    return at


def _softplus(l):
    return np.logaddexp(0.0, l)


def _log_c(l):
    """log C(l) in float64 (a judge-side formula for the diagnosis only; values are checked against the reference)."""
    small = np.abs(l) < 1e-2
    safe = np.where(small, 1.0, l)
    return np.where(small, np.log(2) + l**2 / 12 - 7 * l**4 / 1440, np.log(safe / np.tanh(safe / 2)))


def _wrong_log_probs(x, logits):
    """Known wrong answers of cb_log_prob, by name (for the diagnosis of a wrong value)."""
    bern = x * logits - _softplus(logits)
    right = np.sum(bern + _log_c(logits), axis=-1)
    return {"the Bernoulli log-likelihood sum(x l - log(1 + e^l)) without log C": np.sum(bern, axis=-1),
            "sum(x l - A(l)): the exponential-family form without centring x at 1/2":
            right + 0.5 * np.sum(logits, axis=-1),
            "sum((x - 1/2) l - A(l)) with A(l) missing its |l|/2 (outside the window of its series, |l| < 0.1)":
            right + 0.5 * np.sum(np.where(np.abs(logits) < 0.1, 0.0, np.abs(logits)), axis=-1),
            "the mean over pixels instead of the sum": np.mean(bern + _log_c(logits), axis=-1),
            "the Bernoulli log-likelihood minus log C (the sign of log C flipped)":
            np.sum(bern - _log_c(logits), axis=-1)}


@pytest.mark.ext2_2
@pytest.mark.core
def test_cb_log_prob_matches_reference(torch_track):
    ref = reference("cb/log_prob")
    got = call("cb_log_prob", torch_track.continuous_bernoulli.cb_log_prob, **as_tensors(ref.inputs))
    check_close(got, ref.outputs["value"], "cb_log_prob(x, logits)", ref.inputs, hint=LOG_PROB_HINT,
                wrong=_wrong_log_probs(**ref.inputs), hints=LOG_PROB_HINTS)


@pytest.mark.ext2_2
def test_cb_log_prob_broadcasts_k_samples_against_one_image(torch_track):
    ref = reference("cb/log_prob_broadcast")  # x (4, 10) against logits (3, 4, 10)
    got = call("cb_log_prob", torch_track.continuous_bernoulli.cb_log_prob, **as_tensors(ref.inputs))
    check_close(got, ref.outputs["value"], "cb_log_prob(x (4,10), logits (3,4,10))", ref.inputs,
                wrong=_wrong_log_probs(**ref.inputs), hints=LOG_PROB_HINTS,
                hint="F.binary_cross_entropy_with_logits needs x and logits of one shape: torch.broadcast_tensors them "
                     "first ((x - 0.5) * logits of the exponential-family form broadcasts by itself)")


@pytest.mark.ext2_2
def test_cb_log_prob_gradient_matches_reference(torch_track):
    ref = reference("cb/log_prob")
    got = torch_grads(torch_track.continuous_bernoulli.cb_log_prob, ref.inputs, ("logits",), "cb_log_prob")["logits"]
    check_close(got, ref.outputs["grad_logits"], "d sum(cb_log_prob) / d logits", ref.inputs, rtol=tol.GRAD_RTOL,
                atol=tol.GRAD_ATOL, hint=log_prob_grad_hint(ref.inputs["logits"], got))
    small = {"x": ref.inputs["x"][1:], "logits": ref.inputs["logits"][1:]}  # row 0 holds the edge logits
    check_gradcheck(torch_track.continuous_bernoulli.cb_log_prob, small, ("logits",), "cb_log_prob",
                    hint="d sum(cb_log_prob) / d logits is right, yet the Jacobian is not: " + WEIGHTED_GRAD_HINT)


def _cb_mean_exact(l):
    """E[x] of CB(x; l) in float64: 1/(1 - e^-l) - 1/l, by its series 1/2 + l/12 - l^3/720 for |l| < 1e-3."""
    l = np.asarray(l, dtype=np.float64)
    small = np.abs(l) < 1e-3
    safe = np.where(small, 1.0, l)
    with np.errstate(over="ignore", divide="ignore"):
        exact = 1.0 / -np.expm1(-safe) - 1.0 / safe
    return np.where(small, 0.5 + l / 12.0 - l**3 / 720.0, exact)


@pytest.mark.ext2_2
def test_cb_log_prob_gradient_weights_each_log_density_and_broadcasts(torch_track, rng):
    # d sum(w * cb_log_prob(x, l)) / dl = w[..., None] * (x - E[x]), with a different weight w for each of the
    # (K, B) = (3, 4) log densities, x (4, 10) against logits (3, 4, 10), and logits on both sides of |l| = 0.1.
    x = rng.uniform(0.0, 1.0, size=(4, 10))
    logits = rng.normal(0.0, 4.0, size=(3, 4, 10))
    logits[0, :, :] = np.array([0.0, 1e-3, -0.05, 0.0999, -0.0999, 0.1001, -0.1001, 0.5, -30.0, 90.0])
    weights = rng.normal(0.0, 1.0, size=(3, 4))
    inputs = {"x": x, "logits": logits}
    got = torch_grads(torch_track.continuous_bernoulli.cb_log_prob, inputs, ("logits",), "cb_log_prob",
                      weights=weights)["logits"]
    if got.shape != logits.shape:
        fail(f"d sum(w * cb_log_prob(x, logits)) / d logits has shape {got.shape}; expected the logits' shape "
             f"{logits.shape}\n  hint: {WEIGHTED_GRAD_HINT}")
    check_close(got, weights[..., None] * (x - _cb_mean_exact(logits)),
                "d sum(w * cb_log_prob(x (4,10), logits (3,4,10))) / d logits, w (3,4) a weight per log density",
                {**inputs, "w": weights}, rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL,
                hint=log_prob_grad_hint(logits, got, WEIGHTED_GRAD_HINT + "; " + LOG_PROB_GRAD_HINT))


@pytest.mark.ext2_2
def test_cb_log_prob_leaves_x_and_logits_unchanged(torch_track):
    ref = reference("cb/log_prob_broadcast")
    _, _, after = call("cb_log_prob", torch_track.continuous_bernoulli.cb_log_prob.echo, **as_tensors(ref.inputs))
    for key in ("x", "logits"):
        if not np.array_equal(to_numpy(after[key], key), ref.inputs[key]):
            fail(f"cb_log_prob changed its input {key} in place: the caller's {key} (in training, the images or the "
                 f"decoder's logits) is not what it was\n  hint: compute new tensors (x - 0.5, not x.sub_(0.5)); "
                 "in place is for a tensor you made yourself")


@pytest.mark.ext2_2
def test_cb_density_integrates_to_one(torch_track):
    # Midpoint rule over x in [0, 1] for one pixel: integral of exp(log p(x | l)) dx = 1 for every l.
    logits = np.array([-8.0, -1.0, -1e-3, 0.0, 2e-3, 0.7, 5.0])
    x = (np.arange(20000) + 0.5) / 20000
    log_p = call("cb_log_prob", torch_track.continuous_bernoulli.cb_log_prob,
                 torch.from_numpy(x[:, None, None]), torch.from_numpy(logits[None, :, None]))
    total = np.exp(to_numpy(log_p, "cb_log_prob")).mean(axis=0)
    check_close(total, np.ones_like(logits), "integral over x in [0, 1] of exp(cb_log_prob(x, l))",
                {"logits": logits}, rtol=1e-6, atol=1e-6, hint="the normaliser, log C (or -A(l) with x - 1/2 in the "
                "exponential-family form), makes the density integrate to 1")


@pytest.mark.ext2_3
@pytest.mark.core
def test_cb_mean_matches_reference(torch_track):
    ref = reference("cb/mean")
    got = call("cb_mean", torch_track.continuous_bernoulli.cb_mean, **as_tensors(ref.inputs))
    check_close(got, ref.outputs["value"], "cb_mean(logits)", ref.inputs, rtol=1e-8, atol=1e-10, hint=MEAN_HINT,
                wrong={"eta = sigmoid(l) (the mean of a Bernoulli, not of the continuous Bernoulli)":
                       1 / (1 + np.exp(-ref.inputs["logits"]))})


@pytest.mark.ext2_3
def test_cb_mean_is_one_half_at_one_half_and_not_eta(torch_track):
    logits = np.array([0.0, np.log(4.0)])  # eta = 1/2 and eta = 0.8
    got = to_numpy(call("cb_mean", torch_track.continuous_bernoulli.cb_mean, torch.from_numpy(logits)), "cb_mean")
    check_finite(got, "cb_mean(logits)", {"logits": logits})
    expected_08 = 0.8 / 0.6 + 1.0 / (2.0 * np.arctanh(-0.6))
    check_close(got, np.array([0.5, expected_08]), "cb_mean at eta = 1/2 and eta = 0.8", {"logits": logits})
    if abs(got[1] - 0.8) < 1e-3:
        fail("cb_mean returned eta itself; the continuous Bernoulli's mean differs from eta")


@pytest.mark.ext2_3
def test_cb_mean_has_finite_gradients_at_the_edges(torch_track):
    logits = CB_EDGE_LOGITS.copy()
    grads = torch_grads(torch_track.continuous_bernoulli.cb_mean, {"logits": logits}, ("logits",), "cb_mean")
    check_finite(grads["logits"], "gradient of cb_mean", {"logits": logits},
                 hint="as in cb_log_norm, feed the exact branch of torch.where a safe value inside the window")
    away = logits[np.abs(np.abs(logits) - 0.01) > 1e-3]  # finite differences straddling the window edge are poor
    check_gradcheck(torch_track.continuous_bernoulli.cb_mean, {"logits": away}, ("logits",), "cb_mean")


# --- float32 (the precision training runs in) ------------------------------------------------------------------
def _f32_case():
    """Float32 points on both sides of the Taylor window 1e-2 (+- 3 ulps), 1e-3 ... 1e-2, 0, saturated logits
    (case wider/cb_float32); the reference values and gradients are float64. Tolerances: grader/tolerances.py."""
    return reference("wider/cb_float32")


def _f32_grad(function, inputs, name):
    """d sum(function(**inputs)) / d logits by torch.autograd at the float32 inputs (value too): (value, grad)."""
    seen = grad_report(function, inputs, ("logits",), dtype="float32")
    if seen["type"] != "Tensor":
        fail(f"{name} returned a {seen['type']} for float32 inputs; return a torch.Tensor")
    if seen["grads"]["logits"] is None:
        fail(f"the gradient of {name} of float32 logits does not reach the logits\n  hint: {DETACH_HINT}")
    return seen["value"], seen["grads"]["logits"]


@pytest.mark.ext2_1
@pytest.mark.core
def test_cb_log_norm_keeps_float32_on_both_sides_of_the_taylor_window(torch_track):
    ref = _f32_case()
    got = call("cb_log_norm", torch_track.continuous_bernoulli.cb_log_norm,
               **as_tensors({"logits": ref.inputs["logits"]}, dtype="float32"))
    check_close(got, ref.outputs["log_norm"], "cb_log_norm(logits) on float32 logits", {"logits": ref.inputs["logits"]},
                rtol=tol.CB32_VALUE_RTOL, atol=tol.CB32_VALUE_ATOL, dtype=torch.float32, hint=FLOAT32_HINT)


@pytest.mark.ext2_1
def test_cb_log_norm_float32_gradient_is_accurate_on_both_sides_of_the_taylor_window(torch_track):
    ref = _f32_case()
    inputs = {"logits": ref.inputs["logits"]}
    _, grad = _f32_grad(torch_track.continuous_bernoulli.cb_log_norm, inputs, "cb_log_norm")
    check_close(grad, ref.outputs["log_norm_grad_logits"], "float32 d cb_log_norm(l) / dl vs the float64 reference",
                inputs, rtol=tol.CB32_GRAD_RTOL, atol=tol.CB32_LOG_NORM_GRAD_ATOL, hint=hint_at(ref.inputs["logits"]))


@pytest.mark.ext2_2
@pytest.mark.core
def test_cb_log_prob_keeps_float32(torch_track):
    ref = _f32_case()  # one pixel per logit, x in [0, 1] (0, 1 and 1/2 among them)
    x, logits = ref.inputs["x"][:, None], ref.inputs["logits"][:, None]
    got = call("cb_log_prob", torch_track.continuous_bernoulli.cb_log_prob,
               **as_tensors({"x": x, "logits": logits}, dtype="float32"))
    check_close(got, ref.outputs["log_prob"], "cb_log_prob(x, logits) on float32 inputs, logits up to +-100",
                {"x": ref.inputs["x"], "logits": ref.inputs["logits"]}, rtol=tol.CB32_VALUE_RTOL,
                atol=tol.cb32_log_prob_atol(ref.inputs["x"], ref.inputs["logits"]), dtype=torch.float32,
                hint=hint_at(ref.inputs["logits"], generic=FLOAT32_HINT + "; log(sigmoid(l)) underflows in float32: "
                             "use F.binary_cross_entropy_with_logits or F.softplus"))


@pytest.mark.ext2_2
def test_cb_log_prob_float32_gradient_is_accurate(torch_track):
    ref = _f32_case()
    inputs = {"x": ref.inputs["x"][:, None], "logits": ref.inputs["logits"][:, None]}
    _, grad = _f32_grad(torch_track.continuous_bernoulli.cb_log_prob, inputs, "cb_log_prob")
    check_close(to_numpy(grad)[:, 0], ref.outputs["log_prob_grad_logits"],
                "float32 d cb_log_prob(x, l) / dl vs the float64 reference",
                {"x": ref.inputs["x"], "logits": ref.inputs["logits"]}, rtol=tol.CB32_GRAD_RTOL,
                atol=tol.CB32_LOG_NORM_GRAD_ATOL, hint=hint_at(ref.inputs["logits"]))


@pytest.mark.ext2_3
@pytest.mark.core
def test_cb_mean_keeps_float32_and_is_accurate_near_the_window(torch_track):
    ref = _f32_case()
    got = call("cb_mean", torch_track.continuous_bernoulli.cb_mean,
               **as_tensors({"logits": ref.inputs["logits"]}, dtype="float32"))
    check_close(got, ref.outputs["mean"], "cb_mean(logits) on float32 logits vs the float64 reference",
                {"logits": ref.inputs["logits"]}, rtol=tol.CB32_VALUE_RTOL, atol=tol.CB32_MEAN_ATOL,
                dtype=torch.float32, hint=hint_at(ref.inputs["logits"], FLOAT32_HINT + "; " + WINDOW_HINT, FLOAT32_HINT))


@pytest.mark.ext2_3
def test_cb_mean_float32_gradient_is_accurate_on_both_sides_of_the_taylor_window(torch_track):
    ref = _f32_case()
    inputs = {"logits": ref.inputs["logits"]}
    _, grad = _f32_grad(torch_track.continuous_bernoulli.cb_mean, inputs, "cb_mean")
    check_close(grad, ref.outputs["mean_grad_logits"], "float32 d cb_mean(l) / dl vs the float64 reference",
                inputs, rtol=tol.CB32_GRAD_RTOL, atol=tol.CB32_MEAN_GRAD_ATOL, hint=hint_at(ref.inputs["logits"]))


@pytest.mark.ext2_3
def test_cb_mean_is_in_the_unit_interval_for_extreme_logits(torch_track):
    logits = np.array([-1e3, -80.0, -30.0, -1e-3, 0.0, 1e-3, 30.0, 80.0, 1e3])
    got = to_numpy(call("cb_mean", torch_track.continuous_bernoulli.cb_mean, torch.from_numpy(logits)), "cb_mean(logits)")
    check_finite(got, "cb_mean(logits)", {"logits": logits})
    if got.shape != logits.shape or not ((got >= 0) & (got <= 1)).all():
        fail(f"cb_mean must return one mean in [0, 1] per logit; got {got} for logits {logits}\n  hint: "
             "eta / tanh(l/2) - 1/l with eta = (1 + tanh(l/2)) / 2 never overflows")
    grads = torch_grads(torch_track.continuous_bernoulli.cb_mean, {"logits": logits}, ("logits",), "cb_mean")
    check_finite(grads["logits"], "gradient of cb_mean", {"logits": logits},
                 hint=hint_at(logits, "a NaN gradient comes from the unused exact branch of torch.where: feed it a safe value"))
