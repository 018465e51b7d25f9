"""cb_log_norm and cb_mean of both tracks: finite gradients everywhere, correct gradients, no jump at the window edge.

The exact branch log(l / tanh(l/2)) is 0/0 at l = 0; both tracks switch to a Taylor series for
|l| < TAYLOR_WINDOW. The derivative has the closed form d/dl log C = 1/l - 1/sinh(l), an independent
reference for the autodiff gradients.
"""

import numpy as np
import pytest
import torch
from autograd import elementwise_grad

from solutions.numpy_ag import continuous_bernoulli as np_cb
from solutions.pytorch import continuous_bernoulli as t_cb

W = np_cb.TAYLOR_WINDOW
assert t_cb.TAYLOR_WINDOW == W, "the two tracks must switch to the Taylor series at the same |logits|"

INSIDE_EDGE = np.nextafter(W, 0.0)  # the largest float64 still in the Taylor window
HARD_POINTS = np.array(
    [0.0, 1e-12, -1e-12, W, -W, INSIDE_EDGE, -INSIDE_EDGE, 1.0001 * W, -1.0001 * W, 50.0, -50.0, 500.0, -500.0]
)
# Points at least 1e-4 away from the window edge, for finite differences with step 1e-6.
SMOOTH_POINTS = np.array([0.0, 1e-3, -1e-3, 5e-3, -5e-3, 0.02, -0.02, 0.3, -0.3, 2.0, -2.0, 10.0, -10.0, 40.0, -40.0])

FUNCTIONS = ("cb_log_norm", "cb_mean")


def value_and_grad(track, name, logits):
    """Values and elementwise derivatives of ``name`` of ``track`` at float64 ``logits``."""
    if track == "numpy_ag":
        fn = getattr(np_cb, name)
        return np.asarray(fn(logits)), np.asarray(elementwise_grad(fn)(logits))
    fn = getattr(t_cb, name)
    l = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    value = fn(l)
    (g,) = torch.autograd.grad(value.sum(), l)
    return value.detach().numpy(), g.numpy()


def dlog_norm_exact(l):
    """d/dl log C = 1/l - 1/sinh(l), by its series l/6 - 7 l^3/360 for |l| < 0.01 (no cancellation)."""
    l = np.asarray(l, dtype=np.float64)
    small = np.abs(l) < 1e-2
    safe = np.where(small, 1.0, l)
    with np.errstate(over="ignore"):
        exact = 1.0 / safe - 1.0 / np.sinh(safe)
    return np.where(small, l / 6.0 - 7.0 * l**3 / 360.0, exact)


@pytest.mark.parametrize("track", ["numpy_ag", "pytorch"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_values_and_gradients_are_finite_at_hard_points(track, name):
    value, grad = value_and_grad(track, name, HARD_POINTS)
    assert np.all(np.isfinite(value)), dict(zip(HARD_POINTS, value))
    assert np.all(np.isfinite(grad)), dict(zip(HARD_POINTS, grad))


@pytest.mark.parametrize("track", ["numpy_ag", "pytorch"])
def test_log_norm_gradient_matches_closed_form(track):
    points = np.concatenate([HARD_POINTS, SMOOTH_POINTS])
    _, grad = value_and_grad(track, "cb_log_norm", points)
    # near the window edge the exact branch loses ~1e-11 relative to cancellation (1/l - 1/sinh l)
    np.testing.assert_allclose(grad, dlog_norm_exact(points), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("track", ["numpy_ag", "pytorch"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_gradients_match_central_differences(track, name):
    h = 1e-6
    value_plus, _ = value_and_grad(track, name, SMOOTH_POINTS + h)
    value_minus, _ = value_and_grad(track, name, SMOOTH_POINTS - h)
    _, grad = value_and_grad(track, name, SMOOTH_POINTS)
    np.testing.assert_allclose(grad, (value_plus - value_minus) / (2 * h), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_torch_gradcheck(name):
    fn = getattr(t_cb, name)
    l = torch.tensor(SMOOTH_POINTS, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(fn, (l,), eps=1e-6, atol=1e-8, rtol=1e-6)
    assert torch.autograd.gradgradcheck(fn, (l,), eps=1e-6, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("track", ["numpy_ag", "pytorch"])
@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_continuous_across_window_edge(track, name, sign):
    """Just inside (Taylor) and at the edge (exact): the values differ by less than 1e-12, and so do the slopes."""
    inside, edge = sign * INSIDE_EDGE, sign * W
    values, grads = value_and_grad(track, name, np.array([inside, edge]))
    assert abs(values[1] - values[0]) < 1e-12
    assert abs(grads[1] - grads[0]) < 1e-9


@pytest.mark.parametrize("track", ["numpy_ag", "pytorch"])
def test_log_norm_at_zero_is_log_2_with_zero_slope(track):
    value, grad = value_and_grad(track, "cb_log_norm", np.array([0.0]))
    np.testing.assert_allclose(value, np.log(2.0), rtol=1e-15)
    assert grad[0] == 0.0


def test_torch_gradients_are_finite_in_float32():
    """The float32 Taylor branch must not overflow for large |l| and poison the gradient with 0 * inf."""
    l = torch.tensor([0.0, 1e-3, 5e3, -5e3, 1e12, -1e12], dtype=torch.float32, requires_grad=True)
    for name in FUNCTIONS:
        value = getattr(t_cb, name)(l)
        (g,) = torch.autograd.grad(value.sum(), l)
        assert value.dtype == torch.float32
        assert torch.isfinite(value).all() and torch.isfinite(g).all(), name


@pytest.mark.filterwarnings("ignore:overflow encountered in cosh:RuntimeWarning")  # autograd's tanh' = 1/cosh^2 = 0
def test_numpy_reference_is_finite_in_float32_up_to_moderate_logits():
    l = np.array([0.0, 1e-3, -1e-3, 50.0, -50.0, 500.0, -500.0], dtype=np.float32)
    for name in FUNCTIONS:
        fn = getattr(np_cb, name)
        assert np.all(np.isfinite(fn(l))) and np.all(np.isfinite(elementwise_grad(lambda a: fn(a))(l))), name
