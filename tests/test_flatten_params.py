"""solutions/numpy_ag/optim.py's flatten_params: the layout of autograd.misc.flatten, the same gradients, the same step."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad, value_and_grad
from autograd.misc import flatten

from solutions.numpy_ag import networks, optim


def _params(dtype=np.float64):
    return networks.init_vae_params(np.random.default_rng(0), 10, (7, 5), 3, dtype=dtype)


def test_same_layout_as_autograd_flatten():
    params = _params()
    theta, unflatten = optim.flatten_params(params)
    reference, _ = flatten(params)
    np.testing.assert_array_equal(theta, reference)
    rebuilt = unflatten(theta * 2.0)
    np.testing.assert_array_equal(flatten(rebuilt)[0], reference * 2.0)
    assert list(rebuilt) == list(params) and list(rebuilt["encoder"]) == list(params["encoder"])
    assert isinstance(rebuilt["encoder"]["to_mu"], tuple) and isinstance(rebuilt["decoder"]["hidden"], list)
    assert rebuilt["decoder"]["to_logits"][0].shape == params["decoder"]["to_logits"][0].shape


def test_gradient_through_unflatten_matches_autograd_flatten():
    params = _params()
    x = np.random.default_rng(1).random((4, 10))
    eps = np.random.default_rng(2).standard_normal((1, 4, 3))
    theta, unflatten_ours = optim.flatten_params(params)
    _, unflatten_ref = flatten(params)
    g_ours = grad(lambda th: -anp.mean(networks.vae_forward(unflatten_ours(th), x, eps)[0]))(theta)
    g_ref = grad(lambda th: -anp.mean(networks.vae_forward(unflatten_ref(th), x, eps)[0]))(theta)
    np.testing.assert_allclose(g_ours, g_ref, rtol=1e-12, atol=1e-14)


def test_train_step_equals_adam_on_the_autograd_flatten_gradient():
    params = _params()
    x = np.random.default_rng(3).random((6, 10))
    eps = np.random.default_rng(4).standard_normal((2, 6, 3))
    theta, unflatten = flatten(params)
    state = optim.adam_init(theta)

    value, g = value_and_grad(lambda th: -anp.mean(networks.vae_forward(unflatten(th), x, eps)[0]))(theta)
    expected_theta, expected_state = optim.adam_update(theta, g, state, lr=1e-2)

    new_params, new_state, loss = optim.train_step(params, state, x, eps, lr=1e-2)
    assert loss == float(value)
    np.testing.assert_allclose(flatten(new_params)[0], expected_theta, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(new_state["m"], expected_state["m"], rtol=1e-12, atol=1e-15)
    assert new_state["t"] == 1


def test_float32_step_stays_float32():
    params = _params(np.float32)
    x = np.random.default_rng(5).random((6, 10)).astype(np.float32)
    eps = np.random.default_rng(6).standard_normal((1, 6, 3)).astype(np.float32)
    state = optim.adam_init(optim.flatten_params(params)[0])
    new_params, new_state, loss = optim.train_step(params, state, x, eps)
    assert {a.dtype for a in (flatten(new_params)[0], new_state["m"], new_state["v"])} == {np.dtype(np.float32)}
    assert isinstance(loss, float)
