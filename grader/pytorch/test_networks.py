"""Exercise T6: the Encoder, Decoder and VAE modules (docs/exercises/pytorch.md#ext6_1)."""

import numpy as np
import pytest

from grader import tolerances as tol
from grader.harness import check_close, fail, finite_difference_grad, to_numpy
from grader.pytorch._autodiff import DETACH_HINT, type_name
from grader.pytorch._weights import VAE_SIZES
from grader.reference import reference
from grader.remote import probe

SIZES = dict(x_dim=6, hidden_dims=(5, 4), z_dim=3)
DECODER_SIZES = (VAE_SIZES[2], tuple(reversed(VAE_SIZES[1])), VAE_SIZES[0])  # Decoder(z_dim, hidden_dims, x_dim)
# nn.Linear weight shapes (out, in): the NumPy track's W (in, out) transposed.
ENCODER_SHAPES = {"encoder/hidden/0": (5, 6), "encoder/hidden/1": (4, 5), "encoder/to_mu": (3, 4),
                  "encoder/to_log_var": (3, 4)}
DECODER_SHAPES = {"decoder/hidden/0": (4, 3), "decoder/hidden/1": (5, 4), "decoder/to_logits": (6, 5)}


def _layout(torch_track, cls, *args, **kwargs):
    """Build ``networks.<cls>(*args, **kwargs)`` in the worker: its Linear weight shapes (out, in), the layers
    missing from .parameters(), and whether its hidden layers include an nn.ReLU."""
    layout = probe(torch_track, "module_layout", cls, *args, **kwargs)
    layout["shapes"] = {key: tuple(shape) for key, shape in layout["shapes"].items()}
    return layout


def _check_registered(layout, cls):
    """Every layer's weight and bias must be among module.parameters(), or the optimiser never sees them."""
    if layout["unregistered"]:
        fail(f"{cls}.parameters() misses the layers {layout['unregistered']}; keep layers in nn.Sequential / "
             "nn.ModuleList, not in plain Python lists, so that the optimiser trains them")


def _check_relu(layout, cls):
    if not layout["has_relu"]:
        fail(f"{cls}.hidden has no nn.ReLU: each hidden Linear layer is followed by a ReLU")


@pytest.mark.ext6_1
def test_encoder_has_the_documented_layers(torch_track):
    layout = _layout(torch_track, "Encoder", SIZES["x_dim"], SIZES["hidden_dims"], SIZES["z_dim"])
    if layout["shapes"] != ENCODER_SHAPES:
        fail(f"Encoder(6, (5, 4), 3) has the Linear weights {layout['shapes']};\n  expected {ENCODER_SHAPES}")
    _check_registered(layout, "Encoder")
    _check_relu(layout, "Encoder")


@pytest.mark.ext6_1
def test_encoder_matches_reference(torch_track):
    ref = reference("networks/forward")
    out = probe(torch_track, "module_forward", "Encoder", ref.inputs, VAE_SIZES, ref.inputs["x"])
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"Encoder(x) must return the tuple (mu, log_var); got {type_name(out)}")
    check_close(out[0], ref.outputs["mu"], "Encoder(x)[0] (mu)", {"x": ref.inputs["x"]},
                hint="hidden layers h = relu(Linear(h)), then the linear heads to_mu and to_log_var")
    check_close(out[1], ref.outputs["log_var"], "Encoder(x)[1] (log_var)", {"x": ref.inputs["x"]},
                hint="the log_var head is linear: no activation, no exp")


@pytest.mark.ext6_2
def test_decoder_has_the_documented_layers(torch_track):
    layout = _layout(torch_track, "Decoder", SIZES["z_dim"], (4, 5), SIZES["x_dim"])
    if layout["shapes"] != DECODER_SHAPES:
        fail(f"Decoder(3, (4, 5), 6) has the Linear weights {layout['shapes']};\n  expected {DECODER_SHAPES}"
             "\n  hint: hidden_dims are listed from the z side")
    _check_registered(layout, "Decoder")
    _check_relu(layout, "Decoder")


@pytest.mark.ext6_2
def test_decoder_matches_reference_on_k_samples(torch_track):
    ref = reference("networks/forward")
    got = probe(torch_track, "module_forward", "Decoder", ref.inputs, DECODER_SIZES, ref.outputs["z"])
    check_close(got, ref.outputs["logits"], "Decoder(z (K, B, D_z))", {"z": ref.outputs["z"]},
                hint="return logits (no sigmoid); relu hidden layers; nn.Linear works on any leading batch axes")


@pytest.mark.ext6_3
def test_vae_mirrors_the_encoder_in_its_decoder(torch_track):
    layout = _layout(torch_track, "VAE", **SIZES)
    expected = {**ENCODER_SHAPES, **DECODER_SHAPES}
    if layout["shapes"] != expected:
        fail(f"VAE(6, (5, 4), 3) has the Linear weights {layout['shapes']};\n  expected {expected}"
             "\n  hint: the decoder gets the hidden widths reversed, Decoder(z_dim, reversed(hidden_dims), x_dim)")
    _check_registered(layout, "VAE")
    default = _layout(torch_track, "VAE")
    got = {k: v for k, v in default["shapes"].items() if k in ("encoder/to_mu", "decoder/to_logits")}
    if got != {"encoder/to_mu": (20, 400), "decoder/to_logits": (784, 400)}:
        fail(f"VAE() should default to x_dim=784, hidden_dims=(400,), z_dim=20; its heads have weights {got}")


def _vae_forward(torch_track, flat, x, eps):
    """VAE(x, eps) of the VAE with the weights of ``flat`` (built in the worker)."""
    return probe(torch_track, "module_forward", "VAE", flat, VAE_SIZES, x, eps)


@pytest.mark.ext6_3
def test_vae_forward_matches_reference(torch_track):
    ref = reference("networks/forward")
    out = _vae_forward(torch_track, ref.inputs, ref.inputs["x"], ref.inputs["eps"])
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail(f"VAE(x, eps) must return the tuple (elbo, log_lik, kl); got {type_name(out)}")
    for i, name in enumerate(("elbo", "log_lik", "kl")):
        check_close(out[i], ref.outputs[name], f"VAE(x, eps)[{i}] ({name})", {"x": ref.inputs["x"]},
                    hint="mu, log_var = self.encoder(x), then elbo(x, mu, log_var, eps, self.decoder): both heads of "
                    "the encoder, mu and log_var, enter the ELBO")


@pytest.mark.ext6_3
def test_pathwise_gradients_reach_every_encoder_and_decoder_parameter(torch_track):
    ref = reference("networks/forward")
    x, eps = ref.inputs["x"], ref.inputs["eps"]
    seen = probe(torch_track, "vae_param_grads", ref.inputs, VAE_SIZES, x, eps)  # sum(VAE(x, eps)[0]).backward()
    if seen["type"] != "Tensor":
        fail(f"VAE(x, eps)[0] returned a {seen['type']}; return a torch.Tensor\n  hint: {DETACH_HINT}")
    if not seen["requires_grad"]:
        fail("VAE(x, eps)[0]: the result does not depend on the parameters as far as autograd can tell "
             f"(requires_grad is False)\n  hint: {DETACH_HINT}")
    got = seen["grads"]
    for key, expected in ref.outputs.items():
        if key.startswith("grad_params/"):
            layer = key[len("grad_params/"):]
            if got.get(layer) is None:
                fail(f"no gradient reaches {layer}\n  hint: {DETACH_HINT}")
            check_close(got[layer], expected, f"d sum(elbo) / d {layer} (eps fixed)", {},
                        rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL)
    # The autograd gradient of the encoder weight farthest from the loss against a finite difference of VAE(x, eps).
    key = "encoder/hidden/0/W"
    grad = to_numpy(got[key], f"gradient of {key}")
    i = np.unravel_index(int(np.argmax(np.abs(grad))), grad.shape)

    def at(v):
        W = ref.inputs[f"params/{key}"].copy()
        W[i] = float(v[0])
        out = _vae_forward(torch_track, {**ref.inputs, f"params/{key}": W}, x, eps)
        return to_numpy(out[0], "VAE(x, eps)[0]").sum()

    fd = finite_difference_grad(at, np.array([ref.inputs[f"params/{key}"][i]]))
    check_close(fd, np.array([grad[i]]), "finite-difference gradient of sum(elbo) w.r.t. an encoder "
                "weight", {}, rtol=tol.FD_RTOL, atol=tol.FD_ATOL)
