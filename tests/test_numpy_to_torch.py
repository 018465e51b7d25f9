"""NumPy parameters copied into the PyTorch modules compute what the NumPy networks compute, at any depth."""

import numpy as np
import pytest
import torch

from solutions.numpy_ag import networks as np_networks
from solutions.pytorch import networks as t_networks
from vaekit.numpy_to_torch import load_numpy_params, torch_layout

X_DIM, Z_DIM = 9, 3


@pytest.mark.parametrize("hidden_dims", [(), (6,), (8, 5, 4)])
def test_a_vae_of_any_depth_encodes_and_decodes_like_the_numpy_networks(hidden_dims):
    rng = np.random.default_rng(len(hidden_dims))
    params = np_networks.init_vae_params(rng, X_DIM, hidden_dims, Z_DIM)
    x, z = rng.uniform(size=(4, X_DIM)), rng.standard_normal((4, Z_DIM))
    model = load_numpy_params(t_networks.VAE(X_DIM, hidden_dims, Z_DIM).double(), params)
    with torch.no_grad():
        mu, log_var = model.encoder(torch.from_numpy(x))
        logits = model.decoder(torch.from_numpy(z))
    np_mu, np_log_var = np_networks.encode(params["encoder"], x)
    np.testing.assert_allclose(mu.numpy(), np_mu, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(log_var.numpy(), np_log_var, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(logits.numpy(), np_networks.decode(params["decoder"], z), rtol=1e-12, atol=1e-12)


def test_each_weight_is_the_transposed_w_and_lands_under_its_name():
    params = np_networks.init_vae_params(np.random.default_rng(0), X_DIM, (6, 5), Z_DIM)
    model = load_numpy_params(t_networks.VAE(X_DIM, (6, 5), Z_DIM), params)  # float32: cast on the way in
    named = dict(model.named_parameters())
    W, b = params["decoder"]["hidden"][1]
    assert named["decoder.hidden.2.weight"].dtype == torch.float32
    np.testing.assert_allclose(named["decoder.hidden.2.weight"].detach().numpy(), W.T, rtol=1e-6)
    np.testing.assert_allclose(named["decoder.hidden.2.bias"].detach().numpy(), b, rtol=1e-6)
    np.testing.assert_array_equal(torch_layout(params)["encoder.to_log_var.weight"], params["encoder"]["to_log_var"][0].T)


def test_one_part_alone_loads_into_its_module():
    params = np_networks.init_vae_params(np.random.default_rng(1), X_DIM, (6,), Z_DIM)
    decoder = load_numpy_params(t_networks.Decoder(Z_DIM, (6,), X_DIM).double(), params["decoder"], part="decoder")
    z = np.random.default_rng(2).standard_normal((3, Z_DIM))
    with torch.no_grad():
        got = decoder(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(got, np_networks.decode(params["decoder"], z), rtol=1e-12, atol=1e-12)


def test_other_depths_or_widths_are_refused():
    params = np_networks.init_vae_params(np.random.default_rng(3), X_DIM, (6,), Z_DIM)
    with pytest.raises(ValueError, match="not those of the NumPy tree"):
        load_numpy_params(t_networks.VAE(X_DIM, (6, 6), Z_DIM), params)
    with pytest.raises(ValueError, match=r"shapes differ .*encoder.hidden.0.weight: \(7, 9\) vs \(6, 9\)"):
        load_numpy_params(t_networks.VAE(X_DIM, (7,), Z_DIM), params)
