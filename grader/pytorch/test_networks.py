"""Exercise T6: the Encoder, Decoder and VAE modules (docs/exercises/pytorch.md#ext6_1)."""

import numpy as np
import pytest
import torch
from torch import nn

from grader import tolerances as tol
from grader.cases import NET_SIZES
from grader.harness import call, check_close, fail, finite_difference_grad, to_numpy
from grader.pytorch._autodiff import DETACH_HINT, check_tensor
from grader.pytorch._weights import build, layer_grads, layers, vae_layers
from grader.reference import reference

SIZES = dict(x_dim=6, hidden_dims=(5, 4), z_dim=3)
# nn.Linear weight shapes (out, in): the NumPy track's W (in, out) transposed.
ENCODER_SHAPES = {"encoder/hidden/0": (5, 6), "encoder/hidden/1": (4, 5), "encoder/to_mu": (3, 4),
                  "encoder/to_log_var": (3, 4)}
DECODER_SHAPES = {"decoder/hidden/0": (4, 3), "decoder/hidden/1": (5, 4), "decoder/to_logits": (6, 5)}


def _shapes(found):
    return {key: tuple(linear.weight.shape) for key, linear in found.items()}


def _check_registered(module, found, cls):
    """Every layer's weight and bias must be among module.parameters(), or the optimiser never sees them."""
    params = {id(p) for p in module.parameters()}
    hidden = [key for key, linear in found.items() if id(linear.weight) not in params or id(linear.bias) not in params]
    if hidden:
        fail(f"{cls}.parameters() misses the layers {hidden}; keep layers in nn.Sequential / nn.ModuleList, "
             "not in plain Python lists, so that the optimiser trains them")


def _check_relu(module, cls):
    if not any(isinstance(m, nn.ReLU) for m in module.hidden.modules()):
        fail(f"{cls}.hidden has no nn.ReLU: each hidden Linear layer is followed by a ReLU")


@pytest.mark.ext6_1
def test_encoder_has_the_documented_layers(torch_track):
    encoder = call("Encoder", torch_track.networks.Encoder, SIZES["x_dim"], SIZES["hidden_dims"], SIZES["z_dim"])
    found = layers(encoder, "encoder")
    if _shapes(found) != ENCODER_SHAPES:
        fail(f"Encoder(6, (5, 4), 3) has the Linear weights {_shapes(found)};\n  expected {ENCODER_SHAPES}")
    _check_registered(encoder, found, "Encoder")
    _check_relu(encoder, "Encoder")


@pytest.mark.ext6_1
def test_encoder_matches_reference(torch_track):
    ref = reference("networks/forward")
    encoder = build(torch_track, "Encoder", ref.inputs, NET_SIZES["x_dim"], NET_SIZES["hidden_dims"],
                    NET_SIZES["z_dim"])
    out = call("Encoder.forward", encoder, torch.from_numpy(ref.inputs["x"]))
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"Encoder(x) must return the tuple (mu, log_var); got {type(out).__name__}")
    check_close(out[0], ref.outputs["mu"], "Encoder(x)[0] (mu)", {"x": ref.inputs["x"]},
                hint="hidden layers h = relu(Linear(h)), then the linear heads to_mu and to_log_var")
    check_close(out[1], ref.outputs["log_var"], "Encoder(x)[1] (log_var)", {"x": ref.inputs["x"]},
                hint="the log_var head is linear: no activation, no exp")


@pytest.mark.ext6_2
def test_decoder_has_the_documented_layers(torch_track):
    decoder = call("Decoder", torch_track.networks.Decoder, SIZES["z_dim"], (4, 5), SIZES["x_dim"])
    found = layers(decoder, "decoder")
    if _shapes(found) != DECODER_SHAPES:
        fail(f"Decoder(3, (4, 5), 6) has the Linear weights {_shapes(found)};\n  expected {DECODER_SHAPES}"
             "\n  hint: hidden_dims are listed from the z side")
    _check_registered(decoder, found, "Decoder")
    _check_relu(decoder, "Decoder")


@pytest.mark.ext6_2
def test_decoder_matches_reference_on_k_samples(torch_track):
    ref = reference("networks/forward")
    decoder = build(torch_track, "Decoder", ref.inputs, NET_SIZES["z_dim"], tuple(reversed(NET_SIZES["hidden_dims"])),
                    NET_SIZES["x_dim"])
    got = call("Decoder.forward", decoder, torch.from_numpy(ref.outputs["z"]))
    check_close(got, ref.outputs["logits"], "Decoder(z (K, B, D_z))", {"z": ref.outputs["z"]},
                hint="return logits (no sigmoid); relu hidden layers; nn.Linear works on any leading batch axes")


@pytest.mark.ext6_3
def test_vae_mirrors_the_encoder_in_its_decoder(torch_track):
    vae = call("VAE", torch_track.networks.VAE, **SIZES)
    found = vae_layers(vae)
    expected = {**ENCODER_SHAPES, **DECODER_SHAPES}
    if _shapes(found) != expected:
        fail(f"VAE(6, (5, 4), 3) has the Linear weights {_shapes(found)};\n  expected {expected}"
             "\n  hint: the decoder gets the hidden widths reversed, Decoder(z_dim, reversed(hidden_dims), x_dim)")
    _check_registered(vae, found, "VAE")
    default = call("VAE", torch_track.networks.VAE)
    got = {k: v for k, v in _shapes(vae_layers(default)).items() if k in ("encoder/to_mu", "decoder/to_logits")}
    if got != {"encoder/to_mu": (20, 400), "decoder/to_logits": (784, 400)}:
        fail(f"VAE() should default to x_dim=784, hidden_dims=(400,), z_dim=20; its heads have weights {got}")


@pytest.mark.ext6_3
def test_vae_forward_matches_reference(torch_track):
    ref = reference("networks/forward")
    vae = build(torch_track, "VAE", ref.inputs, NET_SIZES["x_dim"], NET_SIZES["hidden_dims"], NET_SIZES["z_dim"])
    out = call("VAE.forward", vae, torch.from_numpy(ref.inputs["x"]), torch.from_numpy(ref.inputs["eps"]))
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail(f"VAE(x, eps) must return the tuple (elbo, log_lik, kl); got {type(out).__name__}")
    for i, name in enumerate(("elbo", "log_lik", "kl")):
        check_close(out[i], ref.outputs[name], f"VAE(x, eps)[{i}] ({name})", {"x": ref.inputs["x"]},
                    hint="mu, log_var = self.encoder(x), then elbo(x, mu, log_var, eps, self.decoder): both heads of "
                    "the encoder, mu and log_var, enter the ELBO")


@pytest.mark.ext6_3
def test_pathwise_gradients_reach_every_encoder_and_decoder_parameter(torch_track):
    ref = reference("networks/forward")
    vae = build(torch_track, "VAE", ref.inputs, NET_SIZES["x_dim"], NET_SIZES["hidden_dims"], NET_SIZES["z_dim"])
    x, eps = torch.from_numpy(ref.inputs["x"]), torch.from_numpy(ref.inputs["eps"])

    def total_elbo():
        return check_tensor(call("VAE.forward", vae, x, eps)[0], "VAE(x, eps)[0]", wrt="the parameters").sum()

    total_elbo().backward()
    got = layer_grads(vae_layers(vae))
    for key, expected in ref.outputs.items():
        if key.startswith("grad_params/"):
            if got.get(key) is None:
                fail(f"no gradient reaches {key[len('grad_params/'):]}\n  hint: {DETACH_HINT}")
            check_close(got[key], expected, f"d sum(elbo) / d {key[len('grad_params/'):]} (eps fixed)", {},
                        rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL)
    weight = vae_layers(vae)["encoder/hidden/0"].weight  # the layer farthest from the loss
    i = np.unravel_index(int(torch.argmax(weight.grad.abs())), weight.shape)

    def at(v):
        with torch.no_grad():
            weight[i] = float(v[0])
            return to_numpy(vae(x, eps)[0].sum())

    start = weight[i].item()
    fd = finite_difference_grad(at, np.array([start]))
    at(np.array([start]))
    check_close(fd, np.array([weight.grad[i].item()]), "finite-difference gradient of sum(elbo) w.r.t. an encoder "
                "weight", {}, rtol=tol.FD_RTOL, atol=tol.FD_ATOL)
