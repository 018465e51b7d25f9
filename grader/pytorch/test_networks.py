"""Exercise T6: the Encoder, Decoder and VAE modules (docs/exercises/pytorch.md#ext6_1)."""

import numpy as np
import pytest
import torch

from grader import tolerances as tol
from grader.harness import check_close, fail, finite_difference_grad, to_numpy
from grader.pytorch._autodiff import DETACH_HINT, type_name
from grader.pytorch._weights import VAE_SIZES
from grader.cases import DEEP_SIZES
from grader.reference import reference
from grader.remote import probe

DEEP = (DEEP_SIZES["x_dim"], DEEP_SIZES["hidden_dims"], DEEP_SIZES["z_dim"])  # VAE(6, (5, 4), 3)
DEEP_DECODER = (DEEP[2], tuple(reversed(DEEP[1])), DEEP[0])
ENCODE_HINT = "hidden layers h = relu(Linear(h)), every one of them in order, then the linear heads to_mu and to_log_var"
DECODE_HINT = "return logits (no sigmoid); relu hidden layers, every one of them; nn.Linear works on any leading axes"
FORWARD_HINT = ("mu, log_var = self.encoder(x), then elbo(x, mu, log_var, eps, self.decoder): both heads of the "
                "encoder, mu and log_var, enter the ELBO; return its tuple (elbo, log_lik, kl)")
FLOAT32_HINT = ("a float32 module (the default dtype) on float32 inputs gives float32 results: no float64 tensors, "
                "no .double(), no dtype=torch.float64")

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
@pytest.mark.core
def test_encoder_has_the_documented_layers(torch_track):
    layout = _layout(torch_track, "Encoder", SIZES["x_dim"], SIZES["hidden_dims"], SIZES["z_dim"])
    if layout["shapes"] != ENCODER_SHAPES:
        fail(f"Encoder(6, (5, 4), 3) has the Linear weights {layout['shapes']};\n  expected {ENCODER_SHAPES}")
    _check_registered(layout, "Encoder")
    _check_relu(layout, "Encoder")


@pytest.mark.ext6_1
@pytest.mark.core
def test_encoder_matches_reference(torch_track):
    ref = reference("networks/forward")
    out = probe(torch_track, "module_forward", "Encoder", ref.inputs, VAE_SIZES, ref.inputs["x"])
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"Encoder(x) must return the tuple (mu, log_var); got {type_name(out)}")
    check_close(out[0], ref.outputs["mu"], "Encoder(x)[0] (mu)", {"x": ref.inputs["x"]},
                hint="hidden layers h = relu(Linear(h)), then the linear heads to_mu and to_log_var")
    check_close(out[1], ref.outputs["log_var"], "Encoder(x)[1] (log_var)", {"x": ref.inputs["x"]},
                hint="the log_var head is linear: no activation, no exp",
                wrong={"the mu head's output (to_mu used for log_var)": ref.outputs["mu"],
                       "exp of the log_var head": np.exp(ref.outputs["log_var"])})


@pytest.mark.ext6_2
@pytest.mark.core
def test_decoder_has_the_documented_layers(torch_track):
    layout = _layout(torch_track, "Decoder", SIZES["z_dim"], (4, 5), SIZES["x_dim"])
    if layout["shapes"] != DECODER_SHAPES:
        fail(f"Decoder(3, (4, 5), 6) has the Linear weights {layout['shapes']};\n  expected {DECODER_SHAPES}"
             "\n  hint: hidden_dims are listed from the z side")
    _check_registered(layout, "Decoder")
    _check_relu(layout, "Decoder")


@pytest.mark.ext6_2
@pytest.mark.core
def test_decoder_matches_reference_on_k_samples(torch_track):
    ref = reference("networks/forward")
    got = probe(torch_track, "module_forward", "Decoder", ref.inputs, DECODER_SIZES, ref.outputs["z"])
    check_close(got, ref.outputs["logits"], "Decoder(z (K, B, D_z))", {"z": ref.outputs["z"]},
                hint="return logits (no sigmoid); relu hidden layers; nn.Linear works on any leading batch axes")


@pytest.mark.ext6_3
@pytest.mark.core
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
@pytest.mark.core
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


# --- every hidden layer, any leading axes, float32 --------------------------------------------------------------
def _check_encoder(torch_track, case, sizes, dtype="float64"):
    ref = reference(case)
    f32 = dtype == "float32"
    out = probe(torch_track, "module_forward", "Encoder", ref.inputs, sizes, ref.inputs["x"], dtype=dtype)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"Encoder(x) must return the tuple (mu, log_var); got {type_name(out)}")
    kw = dict(rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=torch.float32) if f32 else {}
    what = f"Encoder{sizes}" + (" in float32" if f32 else "")
    for i, name in enumerate(("mu", "log_var")):
        check_close(out[i], ref.outputs[name], f"{what}(x)[{i}] ({name})", {"x": ref.inputs["x"]},
                    hint=FLOAT32_HINT if f32 else ENCODE_HINT, **kw)


def _check_decoder(torch_track, case, sizes, dtype="float64"):
    ref = reference(case)
    f32 = dtype == "float32"
    kw = dict(rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=torch.float32) if f32 else {}
    what = f"Decoder{sizes}" + (" in float32" if f32 else "")
    z = ref.outputs["z"]
    for zz, expected, shape in ((z, ref.outputs["logits"], "(K, B, D_z)"), (z[0], ref.outputs["logits"][0], "(B, D_z)")):
        got = probe(torch_track, "module_forward", "Decoder", ref.inputs, sizes, zz, dtype=dtype)
        check_close(got, expected, f"{what}(z {shape})", {"z": zz}, hint=FLOAT32_HINT if f32 else DECODE_HINT, **kw)


def _check_vae(torch_track, case, sizes, dtype="float64"):
    ref = reference(case)
    f32 = dtype == "float32"
    out = probe(torch_track, "module_forward", "VAE", ref.inputs, sizes, ref.inputs["x"], ref.inputs["eps"], dtype=dtype)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail(f"VAE(x, eps) must return the tuple (elbo, log_lik, kl); got {type_name(out)}")
    kw = dict(rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=torch.float32) if f32 else {}
    what = f"VAE{sizes}" + (" in float32" if f32 else "")
    for i, name in enumerate(("elbo", "log_lik", "kl")):
        check_close(out[i], ref.outputs[name], f"{what}(x, eps)[{i}] ({name})", {"x": ref.inputs["x"]},
                    hint=FLOAT32_HINT if f32 else FORWARD_HINT, **kw)


@pytest.mark.ext6_1
@pytest.mark.core
def test_encoder_applies_every_hidden_layer(torch_track):
    _check_encoder(torch_track, "wider/networks_two_hidden_layers", DEEP)


@pytest.mark.ext6_1
def test_encoder_keeps_float32(torch_track):
    _check_encoder(torch_track, "wider/networks_two_hidden_layers", DEEP, "float32")


@pytest.mark.ext6_2
@pytest.mark.core
def test_decoder_applies_every_hidden_layer_on_any_leading_axes(torch_track):
    _check_decoder(torch_track, "wider/networks_two_hidden_layers", DEEP_DECODER)


@pytest.mark.ext6_2
def test_decoder_keeps_float32(torch_track):
    _check_decoder(torch_track, "wider/networks_two_hidden_layers", DEEP_DECODER, "float32")


@pytest.mark.ext6_3
@pytest.mark.core
def test_vae_forward_with_two_hidden_layers(torch_track):
    _check_vae(torch_track, "wider/networks_two_hidden_layers", DEEP)


@pytest.mark.ext6_3
def test_vae_forward_keeps_float32(torch_track):
    _check_vae(torch_track, "wider/networks_two_hidden_layers", DEEP, "float32")


# --- initialisation ---------------------------------------------------------------------------------------------
# A wide network, so that every array has enough entries for its distribution to be checked: at least 32 entries
# each (the biases of the heads), 120,000 for the widest weight.
WIDE = (400, (300, 100), 32)


def _check_init(torch_track, cls, *args):
    """Every weight and bias of every documented layer ~ U(-a, a), a = 1/sqrt(fan_in) (nn.Linear's default)."""
    init = probe(torch_track, "module_init", cls, *args)
    # |entries| <= a; the mean (0, standard error a / sqrt(3n)) and the variance (a^2/3, standard error
    # a^2 sqrt(4/45) / sqrt(n)) within MC_Z standard errors; the largest |entry| above a/2 (a correct layer of
    # n >= 32 entries misses that with probability 2^-n). With at most 14 arrays x 3 statistics the chance that a
    # correct initialisation fails is below 1e-7.
    for key, value in init["values"].items():
        arr = to_numpy(value, key)
        fan_in = init["fan_in"][key.rsplit("/", 1)[0]]
        a, n = 1.0 / np.sqrt(fan_in), arr.size
        mean_se, var_se = a / np.sqrt(3 * n), a**2 * np.sqrt(4 / 45) / np.sqrt(n)
        if not (np.abs(arr).max() <= a * (1 + 1e-6) and np.abs(arr).max() >= a / 2  # written so that NaN fails
                and abs(arr.mean()) <= tol.MC_Z * mean_se and abs(arr.var() - a**2 / 3) <= tol.MC_Z * var_se):
            fail(f"{cls}{args}: {key} (fan_in {fan_in}, {n} entries) has max |entry| {np.abs(arr).max():.4g}, mean "
                 f"{arr.mean():.3g} and standard deviation {arr.std():.4g}; expected nn.Linear's default "
                 f"U(-{a:.4g}, {a:.4g}): mean 0, standard deviation {a / np.sqrt(3):.4g}\n  hint: keep the default "
                 "initialisation of every nn.Linear (weights and biases, hidden layers and heads); no nn.init calls")
    values = init["values"]
    if "encoder/to_mu/W" in values and torch.equal(values["encoder/to_mu/W"], values["encoder/to_log_var/W"]):
        fail(f"{cls}: the heads to_mu and to_log_var hold the same weights: give each head its own nn.Linear")


@pytest.mark.ext6_1
def test_encoder_initialises_every_layer_like_nn_linear(torch_track):
    _check_init(torch_track, "Encoder", *WIDE)


@pytest.mark.ext6_2
def test_decoder_initialises_every_layer_like_nn_linear(torch_track):
    _check_init(torch_track, "Decoder", WIDE[2], tuple(reversed(WIDE[1])), WIDE[0])
