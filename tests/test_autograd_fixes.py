"""vaekit.autograd_fixes: the re-registered VJPs give the textbook derivatives, keep float32, and tanh never warns;
the vectorised logaddexp gives NumPy's values."""

from __future__ import annotations

import warnings

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from vaekit.autograd_fixes import install_autograd_fixes, logaddexp, uninstall_autograd_fixes


@pytest.fixture(autouse=True)
def fixed():
    """The fixes, installed for each test of this module (tests/conftest.py takes them out after each test)."""
    install_autograd_fixes()
    install_autograd_fixes()  # a second call changes nothing

RNG = np.random.default_rng(0)


def _x(dtype, shape=(3, 4)):
    return RNG.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean(dtype):
    x, w = _x(dtype), _x(dtype)
    for axis, n in ((None, 12), (0, 3), (1, 4)):
        g = grad(lambda x: anp.sum(w * anp.mean(x, axis=axis, keepdims=True)))(x)
        expected = np.broadcast_to(np.sum(w, axis=axis, keepdims=True), x.shape) / n
        assert g.dtype == dtype
        np.testing.assert_allclose(g, expected, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_where(dtype):
    x, y, w = _x(dtype), _x(dtype), _x(dtype)
    c = x > 0
    gx = grad(lambda x: anp.sum(w * anp.where(c, x, y)))(x)
    gy = grad(lambda y: anp.sum(w * anp.where(c, x, y)))(y)
    gs = grad(lambda x: anp.sum(w * anp.where(c, 0.5, x)))(x)  # a Python scalar in the other branch
    assert gx.dtype == gy.dtype == gs.dtype == dtype
    np.testing.assert_array_equal(gx, np.where(c, w, 0))
    np.testing.assert_array_equal(gy, np.where(c, 0, w))
    np.testing.assert_array_equal(gs, np.where(c, 0, w))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_maximum_and_minimum_split_ties(dtype):
    x = np.array([-1.0, 0.0, 2.0], dtype=dtype)
    w = np.array([3.0, 5.0, 7.0], dtype=dtype)
    g = grad(lambda x: anp.sum(w * anp.maximum(x, 0.0)))(x)  # relu; a tie at 0 gets half
    assert g.dtype == dtype
    np.testing.assert_array_equal(g, [0.0, 2.5, 7.0])
    y = np.array([0.0, 0.0, 0.0], dtype=dtype)
    gy = grad(lambda y: anp.sum(w * anp.minimum(x, y)))(y)
    np.testing.assert_array_equal(gy, [0.0, 2.5, 7.0])


def autograd_own(fun, *args):
    """``fun(*args)`` computed with autograd's own VJPs (the fixes taken out for the call, then put back)."""
    uninstall_autograd_fixes()
    try:
        return fun(*args)
    finally:
        install_autograd_fixes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_maximum_matches_autograd_own_vjp_with_broadcasting_and_ties(dtype):
    x = np.array([[-1.0, 0.0, 2.0, 3.0], [4.0, -2.0, 1.0, 5.0], [0.5, 0.0, 2.0, -3.0]], dtype=dtype)
    y = np.array([0.0, 0.0, 2.0, 1.0], dtype=dtype)  # ties at (0,1), (2,1), (0,2), (2,2)
    w = _x(dtype)
    for fun in (anp.maximum, anp.minimum):
        for argnum in (0, 1):
            def f(x, y):
                return anp.sum(w * fun(x, y))
            got = grad(f, argnum)(x, y)
            want = autograd_own(grad(f, argnum), x, y)
            assert got.dtype == dtype and got.shape == (x, y)[argnum].shape
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)
    no_ties = grad(lambda x: anp.sum(w * anp.maximum(x, 0.25)))(x)  # no entry equals 0.25
    np.testing.assert_array_equal(no_ties, np.where(x > 0.25, w, 0))


def test_logaddexp_is_numpy_logaddexp_to_float32_rounding():
    inf, nan = np.inf, np.nan
    a = np.array([0.0, 1.0, -inf, inf, inf, -inf, nan, 3.0, -500.0, -88.0, 20.0, 1e30, -1e-3], dtype=np.float32)
    b = np.array([0.0, 2.0, -inf, inf, -inf, 5.0, 1.0, nan, 0.0, 0.0, 0.0, 1e30, 2e-3], dtype=np.float32)
    with np.errstate(invalid="ignore"):
        want = np.logaddexp(a, b)
    got = logaddexp(a, b)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=3e-7, atol=0)  # inf, -inf and nan where NumPy has them
    rng = np.random.default_rng(4)
    for dtype, ulps in ((np.float32, 4), (np.float64, 4)):
        for scale in (0.01, 1.0, 30.0, 300.0):  # from the Taylor window of log C to logits far beyond exp's range
            logits = (scale * rng.standard_normal((3, 5, 7))).astype(dtype)
            exact = np.logaddexp(0.0, logits.astype(np.longdouble))
            got = logaddexp(0.0, logits)  # a Python float broadcast against an array, as in cb_log_prob
            assert got.dtype == dtype and got.shape == logits.shape
            err = np.abs(got - exact) / np.spacing(np.abs(exact).astype(dtype))
            assert err.max() <= ulps, (dtype, scale, err.max())
            other = rng.standard_normal(logits.shape[-1]).astype(dtype)
            np.testing.assert_allclose(logaddexp(other, logits), np.logaddexp(other, logits),
                                       rtol=8 * np.finfo(dtype).eps)
    x32 = np.float32(3.0)
    assert logaddexp(0.0, x32) == pytest.approx(float(np.logaddexp(0.0, x32)), rel=3e-7)
    assert type(logaddexp(0.0, x32)) is np.float32 and type(logaddexp(1.0, 2.0)) is np.float64
    assert logaddexp(np.array([1, 2]), 3).dtype == np.logaddexp(np.array([1, 2]), 3).dtype  # ints: NumPy's own
    out = np.empty(2)
    assert logaddexp(np.array([1.0, 2.0]), 3.0, out=out) is out  # keyword arguments: NumPy's own
    np.testing.assert_allclose(logaddexp([1.0, 2.0], 3.0), np.logaddexp([1.0, 2.0], 3.0), rtol=1e-15)


def test_logaddexp_replaces_autograd_numpy_logaddexp_with_the_same_gradients():
    assert anp.logaddexp is logaddexp  # what the course code's np.logaddexp finds while the fixes are installed
    rng = np.random.default_rng(5)
    x = (20 * rng.standard_normal((4, 6))).astype(np.float32)
    y = rng.standard_normal(6).astype(np.float32)
    for argnum in (0, 1):
        def f(x, y):
            return anp.sum(np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6) * anp.logaddexp(x, y))
        got = grad(f, argnum)(x, y)
        want = autograd_own(grad(f, argnum), x, y)
        assert got.dtype == np.float32 and got.shape == (x, y)[argnum].shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-30)
    l64 = np.array([-40.0, -3.0, -0.2, 0.0, 0.7, 4.0, 40.0])
    h = 1e-6
    fd = (np.logaddexp(0.0, l64 + h) - np.logaddexp(0.0, l64 - h)) / (2 * h)
    g = grad(lambda l: anp.sum(anp.logaddexp(0.0, l)))(l64)
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(g, 1.0 / (1.0 + np.exp(-l64)), rtol=1e-12)  # d/dl log(1 + e^l) = sigmoid(l)


# (function of x and y, shape of x, shape of y): broadcasting over leading axes of length 1 and over others, as
# the VJPs of a training step with K = 1 sample meet it; powers with scalar and array exponents; quotients.
CASES = [
    (lambda x, y: x * y, (1, 3, 4), (3, 4)),
    (lambda x, y: x + y, (1, 3, 4), (4,)),
    (lambda x, y: x - y, (3, 1), (1, 4)),
    (lambda x, y: anp.matmul(x, y), (1, 3, 5), (5, 4)),
    (lambda x, y: anp.matmul(x, y), (2, 3, 5), (5, 4)),
    (lambda x, y: x / y, (1, 3, 4), (3, 4)),
    (lambda x, y: x / (1.5 + y**2), (3, 4), (1, 4)),
    (lambda x, y: x**2 * y, (1, 3, 4), (3, 4)),
    (lambda x, y: x**3 + y**0 + y**1, (3, 4), (3, 4)),
    (lambda x, y: x ** np.float32(2.0) * y ** np.float32(3.0), (1, 3, 4), (3, 4)),
    (lambda x, y: anp.abs(x) ** 0.5 * y, (3, 4), (3, 4)),
    (lambda x, y: anp.abs(x) ** anp.abs(y), (3, 4), (3, 4)),
    (lambda x, y: 7.0 * (x**2) ** 2 / 1440.0 - y / 12.0, (1, 3, 4), (1, 3, 4)),
    (lambda x, y: anp.sum(x * y, axis=-1), (1, 3, 4), (3, 4)),
    (lambda x, y: anp.mean(anp.sum(x, axis=(0, 2), keepdims=True) * y, axis=0), (2, 3, 4), (3, 1)),
    (lambda x, y: anp.logaddexp(x, y) * anp.maximum(x, y), (1, 3, 4), (4,)),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vjps_match_autograd_own(case, dtype):
    fun, x_shape, y_shape = CASES[case]
    rng = np.random.default_rng(case)
    x = rng.uniform(0.5, 2.0, x_shape).astype(dtype) * rng.choice([-1, 1], x_shape).astype(dtype)
    y = rng.uniform(0.5, 2.0, y_shape).astype(dtype)
    w = rng.standard_normal(np.shape(fun(x, y))).astype(dtype)

    def f(x, y):
        return anp.sum(w * fun(x, y))

    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for argnum in (0, 1):
        got = grad(f, argnum)(x, y)
        want = autograd_own(grad(f, argnum), x, y)
        assert got.shape == (x, y)[argnum].shape and got.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * np.abs(want).max())
    if dtype == np.float64:  # and both against central differences of the first entries
        h = 1e-6
        for argnum in (0, 1):
            args = [x, y]
            g = grad(f, argnum)(x, y)
            for i in range(min(3, args[argnum].size)):
                e = np.zeros_like(args[argnum])
                e.flat[i] = h
                plus, minus = list(args), list(args)
                plus[argnum], minus[argnum] = args[argnum] + e, args[argnum] - e
                fd = (f(*plus) - f(*minus)) / (2 * h)
                assert g.flat[i] == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_sum_over_a_length_one_axis_keeps_the_gradient_itself():
    g = grad(lambda x: anp.sum(anp.matmul(x, np.ones((2, 3))) * np.arange(12.0).reshape(1, 4, 3)))(np.ones((1, 4, 2)))
    np.testing.assert_array_equal(g, np.broadcast_to(np.arange(12.0).reshape(4, 3).sum(axis=1)[:, None], (1, 4, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_shares_the_gradient_among_maxima(dtype):
    x = np.array([[1.0, 3.0, 3.0], [0.0, -1.0, 2.0]], dtype=dtype)
    g = grad(lambda x: anp.sum(anp.max(x, axis=1) * np.array([4.0, 6.0], dtype=dtype)))(x)
    assert g.dtype == dtype
    np.testing.assert_array_equal(g, [[0.0, 2.0, 2.0], [0.0, 0.0, 6.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_matches_finite_differences_and_never_overflows(dtype):
    x = np.array([-800.0, -100.0, -3.0, -0.2, 0.0, 0.7, 4.0, 100.0, 800.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        g = grad(lambda x: anp.sum(anp.tanh(x)))(x)
    assert g.dtype == dtype
    np.testing.assert_allclose(g, 1.0 / np.cosh(x.astype(np.float64).clip(-300, 300)) ** 2, atol=1e-7, rtol=1e-5)
    h = 1e-6
    x64 = np.array([-3.0, -0.2, 0.0, 0.7, 4.0])
    fd = (np.tanh(x64 + h) - np.tanh(x64 - h)) / (2 * h)
    np.testing.assert_allclose(grad(lambda x: anp.sum(anp.tanh(x)))(x64), fd, rtol=1e-8)


def test_vae_gradient_stays_float32_and_matches_float64():
    from autograd.misc import flatten

    from solutions.numpy_ag import networks

    params = networks.init_vae_params(np.random.default_rng(1), 12, (8,), 3, dtype=np.float64)
    x = np.random.default_rng(2).random((5, 12))
    eps = np.random.default_rng(3).standard_normal((2, 5, 3))
    theta64, unflatten = flatten(params)

    def loss(theta, dtype):
        return -anp.mean(networks.vae_forward(unflatten(theta), x.astype(dtype), eps.astype(dtype))[0])

    g64 = grad(loss)(theta64, np.float64)
    g32 = grad(loss)(theta64.astype(np.float32), np.float32)
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, g64, rtol=2e-3, atol=2e-4 * np.abs(g64).max())


def test_uninstalling_gives_autograd_its_own_vjps_back():
    x = np.ones(3, dtype=np.float32)
    assert grad(lambda x: anp.sum(anp.tanh(x)))(x).dtype == np.float32  # fixed: float32 stays float32
    from autograd.core import primitive_vjps

    fixed_vjp = primitive_vjps[anp.tanh]
    uninstall_autograd_fixes()
    try:
        assert primitive_vjps[anp.tanh] is not fixed_vjp  # autograd's own again
        assert anp.logaddexp is not logaddexp and anp.logaddexp.fun is np.logaddexp
        from autograd.numpy import numpy_vjps

        from vaekit import autograd_fixes

        assert numpy_vjps.unbroadcast is not autograd_fixes._unbroadcast
        assert numpy_vjps.repeat_to_match_shape is not autograd_fixes._repeat_to_match_shape
        assert np.allclose(grad(lambda x: anp.sum(anp.tanh(x)))(np.ones(3)), 1 - np.tanh(1.0) ** 2)
    finally:
        install_autograd_fixes()


# ----- where and power: the primitives' faster NumPy functions give NumPy's own values -----

def _where_cases():
    """(condition, x, y) triples: the fast path (boolean arrays, float arrays, Python numbers, broadcasting, NaN and
    inf in either branch) and the calls that go to numpy.where itself (ints, a float condition, lists, NumPy
    scalars)."""
    rng = np.random.default_rng(11)
    cases = []
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((1, 3, 4)).astype(dtype)
        y = rng.standard_normal((1, 3, 4)).astype(dtype)
        c = x > 0
        x_bad, y_bad = x.copy(), y.copy()
        x_bad[~c] = np.nan  # NaN and inf only where they are not selected
        y_bad[c] = np.inf
        cases += [(c, x, y), (c, x_bad, y_bad), (c, 0.01, y), (c, x, 0), (c, 2, -3.5),
                  (c[0, :, :1], x[0, :1, :], y[0]), (np.array(True), np.array(1.5, dtype), y),
                  (c, x.astype(np.float32), y.astype(np.float64)), (c, np.float32(0.5), y), (c, 1e300, y)]
    cases += [(np.array([True, False]), np.array([1, 2]), np.array([3, 4])),  # ints
              (np.array([1.0, 0.0]), np.array([1.0, 2.0]), np.array([3.0, 4.0])),  # a float condition
              (np.array([True, False]), [1.0, 2.0], 3.0), (np.array([True, False]), 1, 2)]
    return cases


def check_where(where_fun):
    """``where_fun(c, x, y)`` has NumPy's value, dtype, type and shape for every case of :func:`_where_cases`."""
    for c, x, y in _where_cases():
        with np.errstate(over="ignore"):
            want = np.where(c, x, y)
            got = where_fun(c, x, y)
        assert type(got) is type(want) and got.dtype == want.dtype and got.shape == want.shape, (c, x, y)
        np.testing.assert_array_equal(got, want)


def test_where_is_numpy_where():
    from vaekit.autograd_fixes import where

    check_where(where)
    check_where(anp.where)  # what the course code calls: autograd's where, with the fast function inside
    np.testing.assert_array_equal(where(np.array([0, 3, 0, 1])), np.where(np.array([0, 3, 0, 1])))


def test_a_wrong_where_is_caught():
    with pytest.raises(AssertionError):  # x c + y (1 - c): NaN * 0 = NaN leaks from the unselected branch
        check_where(lambda c, x, y: np.asarray(x * c + y * (1 - c)))
    with pytest.raises(AssertionError):  # computed in float64 whatever the inputs
        check_where(lambda c, x, y: np.where(c, x, y).astype(np.float64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_where_gradient_is_exactly_zero_in_the_unselected_branch(dtype):
    rng = np.random.default_rng(12)
    x, y = rng.standard_normal((2, 5, 6)).astype(dtype)
    c = x > 0
    w = rng.standard_normal((5, 6)).astype(dtype)
    w_x, w_y = np.where(c, w, np.nan), np.where(c, np.inf, w)  # NaN / inf upstream only where unselected
    gx = grad(lambda x: anp.sum(w_x * anp.where(c, x, y)))(x)
    gy = grad(lambda y: anp.sum(w_y * anp.where(c, x, y)))(y)
    assert gx.dtype == gy.dtype == dtype
    np.testing.assert_array_equal(gx, np.where(c, w, 0))
    np.testing.assert_array_equal(gy, np.where(c, 0, w))
    g_scalar = grad(lambda y: anp.sum(w_y * anp.where(c, 0.01, y)))(y)  # as in cb_log_norm: a number in one branch
    np.testing.assert_array_equal(g_scalar, np.where(c, 0, w))


def test_where_gradient_with_a_wrong_vjp_is_caught():
    from autograd.extend import defvjp

    from vaekit import autograd_fixes

    defvjp(autograd_fixes._where, None, lambda ans, c, x, y: lambda g: g * c, lambda ans, c, x, y: lambda g: g * ~c)
    with pytest.raises(AssertionError), np.errstate(invalid="ignore"):
        test_where_gradient_is_exactly_zero_in_the_unselected_branch(np.float32)


def check_power(power_fun):
    """``power_fun(x, y)`` is numpy.power (value, dtype, type), and x**2 the float32 square correctly rounded."""
    rng = np.random.default_rng(13)
    tiny, huge = np.finfo(np.float32).tiny, np.finfo(np.float32).max
    x32 = np.concatenate([rng.standard_normal(1000) * 10.0 ** rng.integers(-20, 20, 1000),
                          [0.0, -0.0, tiny, tiny / 8, -huge, 1e20, np.inf, -np.inf, np.nan]]).astype(np.float32)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        exact = (x32.astype(np.longdouble) ** 2).astype(np.float32)  # exact product, rounded once
        np.testing.assert_array_equal(power_fun(x32, 2), exact)
        for x, y in ((x32, 2), (x32.astype(np.float64), 2.0), (x32[:5].reshape(5, 1), 3), (np.arange(4), 2),
                     (x32, np.float32(2.0)), (np.abs(x32), 0.5), (np.float32(3.0), 2), (x32[0:1].reshape(()), 2)):
            want, got = np.power(x, y), power_fun(x, y)
            assert type(got) is type(want) and got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)


def test_power_is_numpy_power():
    from vaekit.autograd_fixes import power

    check_power(power)
    out = np.empty(3, dtype=np.float32)
    assert power(np.ones(3, dtype=np.float32), 2, out=out) is out  # keyword arguments: NumPy's own


def test_a_wrong_power_is_caught():
    with pytest.raises(AssertionError):  # the square in float64, then rounded: fine values, wrong dtype
        check_power(lambda x, y: np.power(np.asarray(x, dtype=np.float64), y))
    with pytest.raises(AssertionError):  # exp(2 log x): not correctly rounded
        check_power(lambda x, y: np.exp(y * np.log(np.abs(x))).astype(np.result_type(x, y)) if y == 2
                    else np.power(x, y))
