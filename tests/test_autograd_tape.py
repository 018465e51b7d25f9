"""vaekit.autograd_tape and vaekit.autograd_tracer: the kit's backward pass and primitive wrappers give
autograd's own gradients (sums of gradients, items of lists and tuples, nested traces, ufunc overriders), and
uninstalling restores autograd exactly."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from tests.test_autograd_fixes import autograd_own, fixed  # noqa: F401 - fixed: the fixes, for every test here
from vaekit.autograd_fixes import install_autograd_fixes, uninstall_autograd_fixes


# ----- the backward pass: sums of gradients, items of lists and tuples -----

def _split_loss(theta, w):
    """A loss of the parts of theta cut by np.split: parts used once, twice, three times or never, a part of
    another dtype, a slice of the list and a tuple made of parts."""
    parts = anp.split(theta, [2, 5, 9, 12])
    a, b = parts[0], parts[1]
    first_two = parts[0:2]  # a slice: autograd's own container gradient
    pair = (parts[2], parts[0])
    return (anp.sum(w[:2] * a * a) + anp.sum(anp.sin(b)) + anp.sum(parts[1] ** 2)
            + anp.sum(pair[0] * pair[1][0]) + anp.sum(parts[2] * np.float64(0.5))
            + anp.sum(first_two[1] * 3.0) + anp.tanh(anp.sum(parts[2])))


def check_split_gradients(dtype):
    """Gradients of :func:`_split_loss` (and its Hessian times a vector) against autograd's own and, in float64,
    central differences."""
    rng = np.random.default_rng(14)
    theta = rng.standard_normal(14).astype(dtype)
    w = rng.standard_normal(2).astype(dtype)
    v = rng.standard_normal(14).astype(dtype)
    got = grad(_split_loss)(theta, w)
    want = autograd_own(grad(_split_loss), theta, w)
    assert got.dtype == want.dtype and got.shape == (14,)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    hvp = grad(lambda t: anp.sum(grad(_split_loss)(t, w) * v))  # a gradient of a gradient: nested traces
    np.testing.assert_allclose(hvp(theta), autograd_own(hvp, theta), rtol=1e-5, atol=1e-6)
    if dtype == np.float64:
        h = 1e-6
        fd = np.array([(_split_loss(theta + h * e, w) - _split_loss(theta - h * e, w)) / (2 * h) for e in np.eye(14)])
        np.testing.assert_allclose(got, fd, rtol=1e-7, atol=1e-8)
        assert got[12:].tolist() == [0.0, 0.0]  # the unused part


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_of_list_items_match_autograd_own(dtype):
    check_split_gradients(dtype)


def test_gradients_of_containers_keep_autograd_types():
    def f(xs):
        return xs[0] * xs[1] + anp.sum(xs[2] ** 2) + xs[0]

    for container in (list, tuple):
        xs = container([1.5, np.float32(2.0), np.arange(3.0, dtype=np.float32)])
        got, want = grad(f)(xs), autograd_own(grad(f), xs)
        assert type(got) is container and len(got) == 3
        for g, h in zip(got, want):
            assert type(g) is type(h) and np.result_type(g) == np.result_type(h)
            np.testing.assert_array_equal(g, h)
    d = {"a": np.ones(2), "b": np.arange(2.0)}  # a dict: autograd's own container gradient
    g = grad(lambda d: anp.sum(d["a"] * d["b"]) + anp.sum(d["a"]))(d)
    np.testing.assert_array_equal(g["a"], [1.0, 2.0])
    np.testing.assert_array_equal(g["b"], [1.0, 1.0])


def test_a_wrong_sum_of_item_gradients_is_caught(monkeypatch):
    from vaekit import autograd_tape

    def keep_last(self, idx, g):  # forgets the earlier gradients of an item
        self.items[idx] = (g, False)

    monkeypatch.setattr(autograd_tape.PendingItems, "add", keep_last)
    with pytest.raises(AssertionError):
        check_split_gradients(np.float64)


def check_shared_gradients():
    """x + x + x and friends: one gradient array reaches a node through several edges, which must not be added
    into in place (the sum of a value's gradients is a new array)."""
    w = np.arange(1.0, 7.0).reshape(2, 3)
    x = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
    np.testing.assert_array_equal(grad(lambda x: anp.sum(w * ((x + x) + x)))(x), 3 * w)
    np.testing.assert_array_equal(grad(lambda x: anp.sum(w * (x + (x + x))))(x), 3 * w)
    f = lambda x: anp.sum(w * (x + x) * (x - x[0]))  # noqa: E731 - broadcasting and an item among the uses
    np.testing.assert_allclose(grad(f)(x), autograd_own(grad(f), x), rtol=1e-14)


def test_shared_gradients_are_not_modified():
    check_shared_gradients()


def test_adding_into_a_shared_gradient_is_caught(monkeypatch):
    from vaekit import autograd_tape

    real = autograd_tape.add_outgrads

    def always_in_place(prev_g_flagged, g):  # treats every sum as its own, even another node's gradient
        if prev_g_flagged is not None and type(prev_g_flagged[0]) is np.ndarray and type(g) is np.ndarray:
            prev_g_flagged[0][...] += g
            return prev_g_flagged[0], True
        return real(prev_g_flagged, g)

    monkeypatch.setattr(autograd_tape, "add_outgrads", always_in_place)
    with pytest.raises(AssertionError):
        check_shared_gradients()


# ----- the lean primitive wrappers: nested traces and ufunc overriders behave as with autograd's own -----

def check_nested_traces():
    """Second derivatives (one trace inside another) against closed forms, in float64."""
    x = np.linspace(-1.5, 2.0, 7)
    f = lambda x: anp.sum(x**3 * anp.sin(x))  # noqa: E731
    d2 = grad(lambda x: anp.sum(grad(f)(x)))(x)  # the Hessian is diagonal: its row sums are its diagonal
    assert d2.dtype == np.float64
    np.testing.assert_allclose(d2, 6 * x * np.sin(x) + 6 * x**2 * np.cos(x) - x**3 * np.sin(x), rtol=1e-12)
    for f, want in ((lambda y: anp.where(y > 0, y**3, y**2), np.where(x > 0, 6 * x, 2.0)),
                    (lambda y: anp.concatenate([y**3, 2 * y**2]), 6 * x + 4),
                    (lambda y: anp.reshape(y, (7, 1)) ** 3, 6 * x)):
        d2 = grad(lambda x: anp.sum(grad(lambda y: anp.sum(f(y)))(x)))(x)
        assert type(d2) is np.ndarray and d2.dtype == np.float64  # not an object array holding boxes
        np.testing.assert_allclose(d2, want, rtol=1e-12)
    # d/da of d/dy sum(a * y^2 * exp(a)) at y = y0: both traces meet in one product
    y0 = np.array([0.5, -1.0, 2.0])
    mixed = grad(lambda a: anp.sum(grad(lambda y: anp.sum(a * y**2 * anp.exp(a)))(y0)))(0.3)
    assert mixed == pytest.approx(np.sum(2 * y0) * (1 + 0.3) * np.exp(0.3), rel=1e-12)


def test_nested_traces():
    check_nested_traces()


def test_a_wrapper_that_ignores_outer_traces_is_caught(monkeypatch):
    import inspect
    import textwrap

    from vaekit import autograd_fixes, autograd_tracer

    if not autograd_tracer.compatible():
        pytest.skip("this autograd keeps its own primitive wrappers (the lean ones reimplement autograd 1.9's)")
    source = textwrap.dedent(inspect.getsource(autograd_tracer._lean_wrapper_factory))
    marker = "if type(arg) in box_types:  # boxes of an outer trace"
    assert marker in source
    namespace = {}
    # f_raw gets the boxes of the outer trace
    exec(source.replace(marker, "if False:  # outer boxes ignored"), vars(autograd_tracer), namespace)
    broken = namespace["_lean_wrapper_factory"](None, False).__code__
    autograd_fixes.uninstall_autograd_fixes()
    monkeypatch.setattr(autograd_tracer, "LEAN_CODE", broken)
    autograd_fixes.install_autograd_fixes()
    try:
        with pytest.raises(Exception):  # a wrong number, or NumPy failing on a box
            check_nested_traces()
    finally:
        autograd_fixes.uninstall_autograd_fixes()


class _Overrider:
    """An array-like with its own ufunc handling, next to which autograd lets NumPy's ufunc dispatch decide."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return ("handled by _Overrider", ufunc.__name__)


def test_ufunc_overriders_are_dispatched_as_by_autograd():
    def seen(x):
        out = {}

        def f(x):
            out["product"] = anp.multiply(x, _Overrider())
            return anp.sum(x * 2.0)

        out["grad"] = grad(f)(x)
        return out

    x = np.arange(3.0)
    got, want = seen(x), autograd_own(seen, x)
    from autograd.tracer import getval

    assert getval(got["product"]) == getval(want["product"]) == ("handled by _Overrider", "multiply")
    np.testing.assert_array_equal(got["grad"], want["grad"])


def test_uninstalling_restores_autograd_exactly():
    from autograd import core, tracer
    from autograd.core import primitive_jvps, primitive_vjps
    from autograd.numpy import numpy_vjps

    from vaekit import autograd_fixes, autograd_tracer

    uninstall_autograd_fixes()
    before = (dict(primitive_vjps), dict(primitive_jvps), core.backward_pass, numpy_vjps.unbroadcast_f,
              {f: f.__code__ for f in getattr(tracer, "trace_primitives_map", {}).values()}, anp.logaddexp,
              autograd_fixes._where.__closure__[0].cell_contents, anp.power.__closure__[0].cell_contents)
    assert before[6] is np.where and before[7] is np.power
    install_autograd_fixes()
    lean = autograd_tracer.compatible()  # autograd 1.9's wrappers: replaced by the lean ones
    assert (anp.exp.__code__ is autograd_tracer.LEAN_CODE) == lean and core.backward_pass is not before[2]
    assert anp.power.__closure__[0].cell_contents is autograd_fixes.power
    uninstall_autograd_fixes()
    after = (dict(primitive_vjps), dict(primitive_jvps), core.backward_pass, numpy_vjps.unbroadcast_f,
             {f: f.__code__ for f in getattr(tracer, "trace_primitives_map", {}).values()}, anp.logaddexp,
             autograd_fixes._where.__closure__[0].cell_contents, anp.power.__closure__[0].cell_contents)
    assert after[0].keys() == before[0].keys() and all(after[0][k] is before[0][k] for k in before[0])
    assert after[1].keys() == before[1].keys() and all(after[1][k] is before[1][k] for k in before[1])
    assert after[2:4] == before[2:4] and after[5:] == before[5:]
    assert all(after[4][f] is code for f, code in before[4].items())
    assert anp.exp.__code__ is autograd_tracer.AUTOGRAD_CODE


def test_forward_mode_works_while_installed():
    from autograd import make_jvp

    x = np.array([-2.0, 0.5, 3.0])
    for f in (lambda x: anp.logaddexp(0.0, x), lambda x: anp.where(x > 0, x**2, -x)):
        got = make_jvp(f)(x)(np.ones(3))
        want = autograd_own(lambda: make_jvp(f)(x)(np.ones(3)))
        np.testing.assert_allclose(got[0], want[0], rtol=1e-15)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-15)


def test_a_vjp_made_while_installed_still_works_after_uninstalling():
    from autograd import make_vjp

    theta = np.arange(6.0)

    def f(theta):
        parts = anp.split(theta, [2, 4])
        return anp.sum(parts[0] * parts[1]) + anp.sum(parts[2] ** 2) + anp.sum(parts[0])

    vjp, _ = make_vjp(f)(theta)
    uninstall_autograd_fixes()
    np.testing.assert_array_equal(vjp(1.0), [3.0, 4.0, 0.0, 1.0, 8.0, 10.0])
