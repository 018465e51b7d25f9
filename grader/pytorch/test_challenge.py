"""Exercise T11, the challenge path (docs/exercises/challenge.md#ext11_1).

Every reference here is computed by the judge from first principles (grader/exact.py, mpmath at 50 digits):
the docstrings state only the accuracy required, and these tests check exactly that.
"""

import math

import numpy as np
import pytest
import torch

from grader import seeds
from grader import exact
from grader.harness import call, check_close, check_finite, check_shape, fail, to_numpy
from grader.pytorch._autodiff import DETACH_HINT, track_of
from grader.remote import probe

# The accuracies the docstrings require (docs/exercises/challenge.md states the same).
SERIES_RTOL = 1e-12  # 11.1: values for |l| <= 0.1, float64
SERIES_GRAD_RTOL, SERIES_GRAD_ATOL = 1e-8, 1e-15
F32_VALUE_RTOL, F32_VALUE_ATOL = 1e-6, 1e-6  # 11.2: about 8 float32 ulps of log C >= log 2
F32_GRAD_RTOL, F32_GRAD_ATOL = 1e-4, 1e-9
LME_RTOL, LME_ATOL = 1e-12, 1e-12  # 11.3
LME_GRAD_RTOL, LME_GRAD_ATOL = 1e-10, 1e-14
MEAN_RTOL, MEAN_ATOL = 1e-10, 1e-300  # 11.4: relative, also for the tiny means of saturated negative logits
MEAN_GRAD_RTOL, MEAN_GRAD_ATOL = 1e-6, 1e-14

SERIES_HINT = ("derive log C(l) in closed form from the integral, then expand it about l = 0 (in l^2); the first "
               "term you leave out must be below 1e-12 log 2 at l = 0.1")
WINDOW_HINT = ("below your window the series' first omitted term grows with |l|; above it the closed form's "
               "rounding error grows as |l| shrinks (its derivative is a difference of two terms of size 1/l): "
               "choose the window where both are small enough, and feed each branch of torch.where a safe value "
               "where it is not selected (its backward pass multiplies the unused branch by 0, and 0 * inf = NaN)")
LME_HINT = ("exp(1000) overflows and exp(-1000) underflows in float64; rewrite log mean exp(a) so that no "
            "exponential can do either (an identity that holds for any shift of a)")
MEAN_HINT = ("derive E[x] from the density; near l = 0 the closed form is a difference of two terms of size 1/l "
             "(use a series there), and for large |l| make sure no exponential overflows")


def _t(a) -> torch.Tensor:
    """A tensor of the NumPy array ``a``, in its dtype (float32 stays float32)."""
    return torch.from_numpy(np.array(a))


def _grad(function, x, name: str, dtype: str = "float64", **options) -> np.ndarray:
    """torch.autograd's d sum(function(x, **options)) / dx in the worker, x a ``dtype`` tensor; fails when the
    result is not a tensor or autograd cannot reach x."""
    seen = probe(track_of(function), "torch_grad_with_options", function, x, options, dtype=dtype)
    if seen["type"] != "Tensor":
        fail(f"{name} returned a {seen['type']}; return a torch.Tensor\n  hint: {DETACH_HINT}")
    if not seen["requires_grad"] or seen["grad"] is None:
        fail(f"{name}: the result does not depend on its input as far as autograd can tell\n  hint: {DETACH_HINT}")
    return to_numpy(seen["grad"], f"the gradient of {name}")


def _series_diagnosis(l, got) -> str:
    """Which truncation of the Taylor series the result equals, if any, and how far it is from log C at the edge."""
    polys = exact.log_c_taylor_polynomials(l, max_power=12)
    for power, poly in polys.items():
        if np.allclose(got, poly, rtol=1e-14, atol=1e-15):
            edge = float(np.max(np.abs(poly - exact.log_c(l)) / exact.log_c(l)))
            return (f"your values are the Taylor polynomial of log C up to l^{power}; its relative error reaches "
                    f"{edge:.2g} in |l| <= 0.1: keep the next term too")
    return SERIES_HINT


# --- 11.1 ------------------------------------------------------------------------------------------------------
@pytest.mark.ext11_1
@pytest.mark.core
def test_cb_log_norm_series_is_accurate_for_small_logits(torch_track):
    l = exact.series_points()  # shape (9, 10): 81 points on [-0.1, 0.1], 0, +-1e-8, +-1e-4, next to +-0.1
    got = to_numpy(call("cb_log_norm_series", torch_track.challenge.cb_log_norm_series, _t(l)), "cb_log_norm_series(l)")
    hint = _series_diagnosis(l, got) if got.shape == l.shape else SERIES_HINT
    check_close(got, exact.log_c(l), "cb_log_norm_series(l) against log C(l) for |l| <= 0.1", {"l": l},
                rtol=SERIES_RTOL, atol=0.0, hint=hint)


@pytest.mark.ext11_1
def test_cb_log_norm_series_gradient_is_accurate_for_small_logits(torch_track):
    l = exact.series_points()
    got = _grad(torch_track.challenge.cb_log_norm_series, l, "cb_log_norm_series")
    check_close(got, exact.log_c_grad(l), "torch.autograd d cb_log_norm_series(l) / dl against d log C / dl",
                {"l": l}, rtol=SERIES_GRAD_RTOL, atol=SERIES_GRAD_ATOL, hint=SERIES_HINT)


@pytest.mark.ext11_1
def test_cb_log_norm_series_is_a_truncated_taylor_series(torch_track):
    # Outside |l| <= 0.1 the function must still be the polynomial: equal to the Taylor polynomial of log C
    # truncated after l^(2m) for one m (l^6 to l^30), at every point below (the radius of convergence is pi).
    l = np.array([0.5, -1.0, 1.5, 2.0, -2.5, 3.0])
    got = to_numpy(call("cb_log_norm_series", torch_track.challenge.cb_log_norm_series, _t(l)), "cb_log_norm_series(l)")
    check_shape(got, l.shape, "cb_log_norm_series(l)", {"l": l})
    polys = exact.log_c_taylor_polynomials(l, max_power=30)
    if any(np.allclose(got, polys[p], rtol=1e-11, atol=1e-13) for p in range(6, 31, 2)):
        return
    shown = ", ".join(f"{got[i]:.10g}" for i in range(l.size))
    fail(f"cb_log_norm_series(l) at l = {l.tolist()} gives [{shown}], which is no truncation of the Taylor series "
         f"of log C after l^6 .. l^30 (after l^6: {np.array2string(polys[6], precision=10, separator=', ')}; "
         f"the closed form: {np.array2string(exact.log_c(l), precision=10, separator=', ')})\n  hint: return the "
         f"series itself, a polynomial in l, at every l (the switch to the closed form is Exercise T11.2's job)")


@pytest.mark.ext11_1
def test_cb_log_norm_series_keeps_float32(torch_track):
    l = exact.series_points().astype(np.float32)
    got = call("cb_log_norm_series", torch_track.challenge.cb_log_norm_series, _t(l))
    check_close(got, exact.log_c(l.astype(np.float64)), "cb_log_norm_series(l) on float32 l", {"l": l},
                rtol=F32_VALUE_RTOL, atol=0.0, dtype=torch.float32,
                hint="keep float32 inputs float32: write the coefficients as Python floats (a NumPy float64 "
                     "scalar such as np.log(2.0) upcasts the result)")


# --- 11.2 ------------------------------------------------------------------------------------------------------
def _window(torch_track) -> float:
    """The student's float32 Taylor window, checked to be a usable positive number."""
    w = call("taylor_window_f32", torch_track.challenge.taylor_window_f32)
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or not 0.0 < w < 1e4:
        fail(f"taylor_window_f32() returned {w!r}; return your window as a positive Python float (e.g. the value "
             f"you chose for float32 logits)")
    return float(w)


def _f32_report(torch_track):
    w = _window(torch_track)
    l = exact.f32_sweep(w)
    return w, l, exact.log_c(l.astype(np.float64)), exact.log_c_grad(l.astype(np.float64))


@pytest.mark.ext11_2
def test_taylor_window_f32_is_a_positive_python_float(torch_track):
    w = _window(torch_track)
    if not isinstance(call("taylor_window_f32", torch_track.challenge.taylor_window_f32), float):
        fail(f"taylor_window_f32() returned {w!r} of another type; return a Python float")


@pytest.mark.ext11_2
@pytest.mark.core
def test_cb_log_norm_f32_values_are_float32_accurate_on_both_sides_of_your_window(torch_track):
    w, l, value, _ = _f32_report(torch_track)
    got = call("cb_log_norm_f32", torch_track.challenge.cb_log_norm_f32, _t(l))
    check_close(got, value, f"cb_log_norm_f32(l) on float32 l (your window {w:g}) against the exact log C",
                {"l": l}, rtol=F32_VALUE_RTOL, atol=F32_VALUE_ATOL, dtype=torch.float32, hint=WINDOW_HINT)


@pytest.mark.ext11_2
@pytest.mark.core
def test_cb_log_norm_f32_gradients_are_float32_accurate_on_both_sides_of_your_window(torch_track):
    w, l, _, grad = _f32_report(torch_track)
    got = _grad(torch_track.challenge.cb_log_norm_f32, l, "cb_log_norm_f32", dtype="float32")
    check_finite(got, "torch.autograd gradient of cb_log_norm_f32 on float32 l", {"l": l}, hint=WINDOW_HINT)
    check_close(got, grad, f"float32 torch.autograd d cb_log_norm_f32(l) / dl (your window {w:g}) against the exact "
                "d log C / dl", {"l": l}, rtol=F32_GRAD_RTOL, atol=F32_GRAD_ATOL, hint=WINDOW_HINT)


@pytest.mark.ext11_2
def test_cb_log_norm_f32_is_accurate_at_the_edge_of_your_window(torch_track):
    # The three float32 numbers on each side of +-w: the series and the closed form meet there.
    w, l, value, grad = _f32_report(torch_track)
    w32 = np.float32(w)
    edge = np.array([v for v in l if abs(abs(v) - w32) <= 4 * np.spacing(w32)], dtype=np.float32)
    near_value, near_grad = exact.log_c(edge.astype(np.float64)), exact.log_c_grad(edge.astype(np.float64))
    got = call("cb_log_norm_f32", torch_track.challenge.cb_log_norm_f32, _t(edge))
    check_close(got, near_value, f"cb_log_norm_f32(l) at +-{w:g} +- 3 ulps", {"l": edge}, rtol=F32_VALUE_RTOL,
                atol=F32_VALUE_ATOL, dtype=torch.float32, hint=WINDOW_HINT)
    g = _grad(torch_track.challenge.cb_log_norm_f32, edge, "cb_log_norm_f32", dtype="float32")
    check_close(g, near_grad,
                f"float32 torch.autograd d cb_log_norm_f32(l) / dl at +-{w:g} +- 3 ulps", {"l": edge},
                rtol=F32_GRAD_RTOL, atol=F32_GRAD_ATOL, hint=WINDOW_HINT)


# --- 11.3 ------------------------------------------------------------------------------------------------------
def _lme_wrong(a, axis=-1):
    n = a.shape[axis]
    lme = exact.log_mean_exp(a, axis)
    return {"log-sum-exp (without - log n)": lme + math.log(n)}


LME_HINTS = {"offset": "log of the MEAN of exp(a): subtract log n from log-sum-exp (n entries along the dimension)"}


@pytest.mark.ext11_3
@pytest.mark.core
def test_log_mean_exp_matches_exact_values(torch_track):
    a = seeds.numpy_rng(11).normal(0.0, 3.0, size=(3, 4, 5))
    got = call("log_mean_exp", torch_track.challenge.log_mean_exp, _t(a))
    check_close(got, exact.log_mean_exp(a), "log_mean_exp(a) (dim -1)", {"a": a}, rtol=LME_RTOL, atol=LME_ATOL,
                hint=LME_HINT, wrong=_lme_wrong(a), hints=LME_HINTS)


@pytest.mark.ext11_3
@pytest.mark.core
def test_log_mean_exp_is_exact_for_huge_tiny_and_minus_inf_entries(torch_track):
    a = exact.lme_extreme_rows()  # +-1000, 1e4, -1e300, -inf entries, mixed magnitudes
    got = call("log_mean_exp", torch_track.challenge.log_mean_exp, _t(a))
    check_close(got, exact.log_mean_exp(a), "log_mean_exp(a) of rows with +-1000, 1e4, -inf entries", {"a": a},
                rtol=LME_RTOL, atol=LME_ATOL, hint=LME_HINT, wrong=_lme_wrong(a), hints=LME_HINTS)


@pytest.mark.ext11_3
def test_log_mean_exp_of_an_all_minus_inf_slice_is_minus_inf(torch_track):
    a = np.array([[-np.inf, -np.inf, -np.inf], [0.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf]])
    got = to_numpy(call("log_mean_exp", torch_track.challenge.log_mean_exp, _t(a)), "log_mean_exp(a)")
    check_shape(got, (3,), "log_mean_exp(a)", {"a": a})
    if not (got[0] == -np.inf and got[2] == -np.inf):
        fail(f"log_mean_exp(a) of a row of -inf entries gave {got[0]} and {got[2]}; expected -inf (the mean of "
             f"exp(-inf) = 0 is 0)\n  inputs: a = {a.tolist()}\n  hint: a shift by max(a) = -inf gives -inf - (-inf) "
             f"= nan: shift an all -inf slice by something finite instead")
    check_close(got[1], exact.log_mean_exp(a)[1], "log_mean_exp(a) of the row [0, -inf, 1]", {"a": a[1]},
                rtol=LME_RTOL, atol=LME_ATOL, hint=LME_HINT)


@pytest.mark.ext11_3
def test_log_mean_exp_reduces_the_given_dim_with_and_without_keepdim(torch_track):
    a = seeds.numpy_rng(12).normal(0.0, 2.0, size=(2, 3, 4))
    a[0, 1, 2] = 900.0
    for dim in (0, 1, 2, -1, -2):
        for keepdim in (False, True):
            got = to_numpy(call("log_mean_exp", torch_track.challenge.log_mean_exp, _t(a), dim=dim, keepdim=keepdim))
            expected = exact.log_mean_exp(a, dim, keepdim)
            name = f"log_mean_exp(a of shape (2, 3, 4), dim={dim}, keepdim={keepdim})"
            check_shape(got, expected.shape, name, hint="the shape of torch.mean(a, dim=dim, keepdim=keepdim)")
            check_close(got, expected, name, {"a": a}, rtol=LME_RTOL, atol=LME_ATOL, hint=LME_HINT,
                        wrong=None if keepdim else _lme_wrong(a, dim), hints=LME_HINTS)


@pytest.mark.ext11_3
def test_log_mean_exp_gradient_is_the_softmax_even_for_extreme_entries(torch_track):
    a = exact.lme_extreme_rows()
    f = torch_track.challenge.log_mean_exp
    got = _grad(f, a, "log_mean_exp")
    check_finite(got, "torch.autograd d sum(log_mean_exp(a)) / da", {"a": a}, hint=LME_HINT)
    check_close(got, exact.log_mean_exp_grad(a), "torch.autograd d sum(log_mean_exp(a)) / da (the softmax of each row)",
                {"a": a}, rtol=LME_GRAD_RTOL, atol=LME_GRAD_ATOL, hint=LME_HINT)
    b = seeds.numpy_rng(13).normal(0.0, 2.0, size=(3, 4))
    got = _grad(f, b, "log_mean_exp", dim=0)
    check_close(got, exact.log_mean_exp_grad(b, 0), "torch.autograd d sum(log_mean_exp(a, dim=0)) / da", {"a": b},
                rtol=LME_GRAD_RTOL, atol=LME_GRAD_ATOL, hint=LME_HINT)


# --- 11.4 ------------------------------------------------------------------------------------------------------
def _mean_wrong(l):
    eta = 0.5 * (1.0 + np.tanh(0.5 * l))
    return {"eta = sigmoid(l), the Bernoulli mean": eta}


@pytest.mark.ext11_4
@pytest.mark.core
def test_cb_mean_from_density_matches_the_exact_mean(torch_track):
    l = exact.mean_points()  # 0, |l| from 1e-12 to 10, saturated up to 1e8; both signs
    got = call("cb_mean_from_density", torch_track.challenge.cb_mean_from_density, _t(l))
    check_close(got, exact.cb_mean(l), "cb_mean_from_density(l) against the exact E[x]", {"l": l},
                rtol=MEAN_RTOL, atol=MEAN_ATOL, hint=MEAN_HINT, wrong=_mean_wrong(l))


@pytest.mark.ext11_4
def test_cb_mean_from_density_gradient_is_finite_and_accurate(torch_track):
    l = exact.mean_points()
    got = _grad(torch_track.challenge.cb_mean_from_density, l, "cb_mean_from_density")
    check_finite(got, "torch.autograd d cb_mean_from_density(l) / dl", {"l": l}, hint=MEAN_HINT)
    check_close(got, exact.cb_mean_grad(l), "torch.autograd d cb_mean_from_density(l) / dl against the exact dE[x]/dl",
                {"l": l}, rtol=MEAN_GRAD_RTOL, atol=MEAN_GRAD_ATOL, hint=MEAN_HINT)
