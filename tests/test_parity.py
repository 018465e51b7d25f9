"""The NumPy/autograd and PyTorch reference solutions compute the same numbers.

Both tracks get the same float64 inputs (for the networks: the same weights, the NumPy W of shape
(fan_in, fan_out) copied into ``nn.Linear.weight`` transposed, and the same eps); values and gradients
must agree to 1e-8.
"""

from functools import partial

import autograd.numpy as anp
import numpy as np
import pytest
import torch
from autograd import grad
from autograd.misc import flatten

from solutions.numpy_ag import continuous_bernoulli as np_cb
from solutions.numpy_ag import elbo as np_elbo
from solutions.numpy_ag import gaussian as np_gaussian
from solutions.numpy_ag import iwae as np_iwae
from solutions.numpy_ag import kl as np_kl
from solutions.numpy_ag import networks as np_networks
from solutions.numpy_ag import optim as np_optim
from solutions.numpy_ag import reparam as np_reparam
from solutions.pytorch import continuous_bernoulli as t_cb
from solutions.pytorch import elbo as t_elbo
from solutions.pytorch import gaussian as t_gaussian
from solutions.pytorch import iwae as t_iwae
from solutions.pytorch import kl as t_kl
from solutions.pytorch import networks as t_networks
from solutions.pytorch import optim as t_optim
from solutions.pytorch import reparam as t_reparam
from vaekit.numpy_to_torch import load_numpy_params, torch_layout

TOL = 1e-8
X_DIM, HIDDEN_DIMS, Z_DIM = 12, (10, 7), 3  # two hidden layers, so the decoder's reversal is exercised
B, K = 5, 4
# Logits at and around the special points of cb_log_norm / cb_mean: 0, inside and outside the Taylor
# window |l| < 0.01, and large enough that sigmoid saturates.
SPECIAL_LOGITS = np.array([0.0, 1e-3, -1e-3, 0.0099, -0.0099, 0.0101, -0.0101, 30.0, -30.0])


def assert_close(actual, expected, what):
    np.testing.assert_allclose(actual, expected, rtol=TOL, atol=TOL, err_msg=what)


def t(a):
    """A float64 tensor that requires grad, from a NumPy array."""
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=True)


def torch_vae_from_numpy(params):
    """A float64 torch VAE holding the NumPy parameters."""
    return load_numpy_params(t_networks.VAE(X_DIM, HIDDEN_DIMS, Z_DIM).double(), params)


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    params = np_networks.init_vae_params(rng, X_DIM, HIDDEN_DIMS, Z_DIM)
    # Scale the decoder head so that logits range widely (both CB branches, saturated pixels).
    W, b = params["decoder"]["to_logits"]
    params["decoder"]["to_logits"] = (8.0 * W, 8.0 * b)
    x = rng.uniform(size=(B, X_DIM))
    x[0, :3] = [0.0, 1.0, 0.5]
    eps = rng.standard_normal((K, B, Z_DIM))
    return params, x, eps


def test_vae_has_the_layers_of_init_vae_params(setup):
    params, _, _ = setup
    model = t_networks.VAE(X_DIM, HIDDEN_DIMS, Z_DIM)
    expected = {name: value.shape for name, value in torch_layout(params).items()}
    actual = {name: tuple(p.shape) for name, p in model.named_parameters()}
    assert actual == expected


def test_default_vae_matches_default_numpy_architecture():
    rng = np.random.default_rng(1)
    params = np_networks.init_vae_params(rng, 784, (400,), 20)
    expected = {name: value.shape for name, value in torch_layout(params).items()}
    actual = {name: tuple(p.shape) for name, p in t_networks.VAE().named_parameters()}
    assert actual == expected


def test_encoder_and_decoder_outputs_match(setup):
    params, x, eps = setup
    model = torch_vae_from_numpy(params)
    mu, log_var = np_networks.encode(params["encoder"], x)
    t_mu, t_log_var = model.encoder(t(x))
    assert_close(t_mu.detach().numpy(), mu, "mu")
    assert_close(t_log_var.detach().numpy(), log_var, "log_var")
    z = np_reparam.reparameterize(mu, log_var, eps)
    assert_close(model.decoder(t(z)).detach().numpy(), np_networks.decode(params["decoder"], z), "logits")


def test_elbo_terms_match(setup):
    params, x, eps = setup
    model = torch_vae_from_numpy(params)
    expected = np_networks.vae_forward(params, x, eps)
    actual = model(t(x), t(eps))
    for name, a, e in zip(("elbo", "log_lik", "kl"), actual, expected):
        assert a.shape == (B,)
        assert_close(a.detach().numpy(), e, name)


def test_iwae_matches(setup):
    params, x, eps = setup
    model = torch_vae_from_numpy(params)
    mu, log_var = np_networks.encode(params["encoder"], x)
    expected = np_iwae.iwae_log_px(x, mu, log_var, eps, partial(np_networks.decode, params["decoder"]))
    t_mu, t_log_var = model.encoder(t(x))
    actual = t_iwae.iwae_log_px(t(x), t_mu, t_log_var, t(eps), model.decoder)
    assert actual.shape == (B,)
    assert_close(actual.detach().numpy(), expected, "iwae_log_px")


def np_elbo_loss(params, x, eps):
    return -anp.mean(np_networks.vae_forward(params, x, eps)[0])


def np_iwae_loss(params, x, eps):
    mu, log_var = np_networks.encode(params["encoder"], x)
    return -anp.mean(np_iwae.iwae_log_px(x, mu, log_var, eps, partial(np_networks.decode, params["decoder"])))


def t_elbo_loss(model, x, eps):
    return -torch.mean(model(x, eps)[0])


def t_iwae_loss(model, x, eps):
    return -torch.mean(t_iwae.iwae_log_px(x, *model.encoder(x), eps, model.decoder))


@pytest.mark.parametrize("np_loss, t_loss", [(np_elbo_loss, t_elbo_loss), (np_iwae_loss, t_iwae_loss)])
def test_parameter_gradients_match(setup, np_loss, t_loss):
    params, x, eps = setup
    model = torch_vae_from_numpy(params)
    t_loss(model, t(x), t(eps)).backward()
    expected = torch_layout(grad(np_loss)(params, x, eps))
    named = dict(model.named_parameters())
    assert set(named) == set(expected)
    for name, g in expected.items():
        assert np.abs(g).max() > 0, f"{name}: zero gradient, the comparison would prove nothing"
        assert_close(named[name].grad.numpy(), g, f"d loss / d {name}")


def np_decode_fixed(params):
    return partial(np_networks.decode, params["decoder"])


@pytest.mark.parametrize("bound", ["elbo", "iwae"])
def test_gradients_wrt_mu_and_log_var_match_with_eps_fixed(setup, bound):
    params, x, eps = setup
    model = torch_vae_from_numpy(params)
    mu, log_var = np_networks.encode(params["encoder"], x)
    np_fn = {"elbo": lambda *a: np_elbo.elbo(*a)[0], "iwae": np_iwae.iwae_log_px}[bound]
    t_fn = {"elbo": lambda *a: t_elbo.elbo(*a)[0], "iwae": t_iwae.iwae_log_px}[bound]
    w = np.random.default_rng(2).standard_normal(B)  # a random cotangent, so no term can hide in a sum

    def np_objective(mu, log_var):
        return anp.sum(w * np_fn(x, mu, log_var, eps, np_decode_fixed(params)))

    t_mu, t_log_var = t(mu), t(log_var)
    torch.sum(torch.from_numpy(w) * t_fn(t(x), t_mu, t_log_var, t(eps), model.decoder)).backward()
    assert_close(t_mu.grad.numpy(), grad(np_objective, 0)(mu, log_var), "d bound / d mu")
    assert_close(t_log_var.grad.numpy(), grad(np_objective, 1)(mu, log_var), "d bound / d log_var")


def test_train_steps_match(setup):
    """Two steps of the NumPy train_step (hand-written Adam) and of the torch one (torch.optim.Adam)."""
    params, x, eps = setup
    model = torch_vae_from_numpy(params)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    state = np_optim.adam_init(flatten(params)[0])
    for step in range(2):
        params, state, np_loss = np_optim.train_step(params, state, x, eps, lr=1e-3)
        t_loss = t_optim.train_step(model, optimizer, torch.from_numpy(x), torch.from_numpy(eps))
        assert isinstance(t_loss, float)
        assert_close(t_loss, np_loss, f"loss before step {step}")
        named = dict(model.named_parameters())
        for name, value in torch_layout(params).items():
            assert_close(named[name].detach().numpy(), value, f"{name} after step {step}")


# ----------------------------------------------------------------------------- elementwise functions


def elementwise_cases():
    rng = np.random.default_rng(3)
    logits = np.concatenate([SPECIAL_LOGITS, 6.0 * rng.standard_normal(40)])
    n = len(logits)
    x = rng.uniform(size=(3, n))
    x[:, :3] = [[0.0, 1.0, 0.5]] * 3
    mu, log_var = rng.standard_normal((2, 4, 6))
    z = rng.standard_normal((5, 4, 6))
    eps = rng.standard_normal((3, 4, 6))
    logits_kbd = np.stack([np.tile(logits, (3, 1)), rng.uniform(-10.0, 10.0, size=(3, n))])  # (K, B, D)
    # name, NumPy function, torch function, arguments (all differentiated)
    return [
        ("log_normal_diag", np_gaussian.log_normal_diag, t_gaussian.log_normal_diag, (z, mu, log_var)),
        ("log_standard_normal", np_gaussian.log_standard_normal, t_gaussian.log_standard_normal, (z,)),
        ("cb_log_norm", np_cb.cb_log_norm, t_cb.cb_log_norm, (logits,)),
        ("cb_log_prob", np_cb.cb_log_prob, t_cb.cb_log_prob, (x, logits)),
        ("cb_log_prob (K, B, D) logits", np_cb.cb_log_prob, t_cb.cb_log_prob, (x, logits_kbd)),
        ("cb_mean", np_cb.cb_mean, t_cb.cb_mean, (logits,)),
        ("kl_to_standard_normal", np_kl.kl_to_standard_normal, t_kl.kl_to_standard_normal, (mu, log_var)),
        ("reparameterize", np_reparam.reparameterize, t_reparam.reparameterize, (mu, log_var, eps)),
    ]


CASES = elementwise_cases()


@pytest.mark.parametrize("name, np_fn, t_fn, args", CASES, ids=[c[0] for c in CASES])
def test_elementwise_values_and_gradients_match(name, np_fn, t_fn, args):
    expected = np_fn(*args)
    t_args = [t(a) for a in args]
    actual = t_fn(*t_args)
    assert tuple(actual.shape) == np.shape(expected)
    assert np.all(np.isfinite(expected))
    assert_close(actual.detach().numpy(), expected, f"{name} value")
    w = np.random.default_rng(4).standard_normal(np.shape(expected))
    torch.sum(torch.from_numpy(w) * actual).backward()
    for i, t_arg in enumerate(t_args):
        expected_grad = grad(lambda *a: anp.sum(w * np_fn(*a)), i)(*args)
        assert np.all(np.isfinite(expected_grad))
        assert_close(t_arg.grad.numpy(), expected_grad, f"d {name} / d argument {i}")
