"""Exercise 6: the encoder, the decoder and the VAE forward pass (docs/exercises/numpy.md#ex6_1)."""

import numpy as np
import pytest
from autograd.misc import flatten

from grader import seeds
from grader import tolerances as tol
from grader.harness import call, check_close, fail, finite_difference_grad, to_numpy
from grader.pytrees import flat_to_tree, tree_to_flat
from grader.reference import reference
from grader.remote import probe

SIZES = dict(x_dim=6, hidden_dims=(5, 4), z_dim=3)
EXPECTED_SHAPES = {
    "p/encoder/hidden/0/W": (6, 5), "p/encoder/hidden/0/b": (5,),
    "p/encoder/hidden/1/W": (5, 4), "p/encoder/hidden/1/b": (4,),
    "p/encoder/to_mu/W": (4, 3), "p/encoder/to_mu/b": (3,),
    "p/encoder/to_log_var/W": (4, 3), "p/encoder/to_log_var/b": (3,),
    "p/decoder/hidden/0/W": (3, 4), "p/decoder/hidden/0/b": (4,),
    "p/decoder/hidden/1/W": (4, 5), "p/decoder/hidden/1/b": (5,),
    "p/decoder/to_logits/W": (5, 6), "p/decoder/to_logits/b": (6,),
}


def _init(np_track, seed, dtype=None, **kw):
    rng, sizes = np.random.default_rng(seed), {**SIZES, **kw}
    if dtype is None:
        params = call("init_vae_params", np_track.networks.init_vae_params, rng, **sizes)
    else:  # init_vae_params(rng, **sizes, dtype=np.<dtype>), called in the worker (a NumPy type cannot be sent)
        params = call("init_vae_params", probe, np_track, "init_vae_params_with_dtype", rng, dtype, **sizes)
    try:
        return tree_to_flat(params, "p")
    except Exception as err:
        fail(f"init_vae_params must return the nested dict described in its docstring; got {type(params)} ({err})")


@pytest.mark.ex6_1
@pytest.mark.core
def test_init_has_the_documented_layout_shapes_and_dtype(np_track):
    flat = _init(np_track, seeds.integer_seed(), dtype="float32")
    shapes = {k: tuple(v.shape) for k, v in flat.items()}
    if shapes != EXPECTED_SHAPES:
        fail(f"init_vae_params(rng, 6, (5, 4), 3) gave the layers {shapes};\n  expected {EXPECTED_SHAPES}")
    dtypes = {k[2:]: str(v.dtype) for k, v in flat.items() if v.dtype != np.float32}
    if dtypes:
        fail(f"init_vae_params(..., dtype=np.float32) returned arrays of other dtypes: {dtypes}; every array of every "
             "layer must be float32 (pass dtype on to init_linear for every layer)")


# A wide network, so that every array has enough entries for its distribution to be checked: at least
# 32 entries each (the biases of the heads), 120,000 for the widest weight.
WIDE = dict(x_dim=400, hidden_dims=(300, 100), z_dim=32)


def _fan_in(key: str) -> int:
    """The fan_in of the layer of ``key`` ("p/encoder/hidden/1/W") in the WIDE network."""
    enc, dec = [WIDE["x_dim"], *WIDE["hidden_dims"]], [WIDE["z_dim"], *reversed(WIDE["hidden_dims"])]
    part, *rest = key.split("/")[1:]
    if rest[0] == "hidden":
        return (enc if part == "encoder" else dec)[int(rest[1])]
    return enc[-1] if part == "encoder" else dec[-1]


@pytest.mark.ex6_1
def test_init_is_uniform_within_one_over_sqrt_fan_in_and_uses_only_rng(np_track):
    # Any use of NumPy's global generator fails the test too: the worker reports it after every test.
    seed = seeds.integer_seed()
    flat = _init(np_track, seed, **WIDE)
    again = _init(np_track, seed, **WIDE)
    other = _init(np_track, seed + 1, **WIDE)
    if any(not np.array_equal(flat[k], again[k]) for k in flat):
        fail("init_vae_params must be a function of rng: the same seed must give the same parameters")
    same = [k[2:] for k in flat if np.array_equal(flat[k], other[k])]
    if same:
        fail(f"init_vae_params with another rng gave the same {same}: every layer must be drawn from the rng it is "
             "given (no fixed seed, no generator of its own)")
    if np.array_equal(flat["p/encoder/to_mu/W"], flat["p/encoder/to_log_var/W"]):
        fail("the heads to_mu and to_log_var got the same weights: draw each layer on its own with init_linear")
    # Every W and b of every layer ~ U(-a, a) with a = 1/sqrt(fan_in): |entries| <= a; the mean (0, standard error
    # a / sqrt(3n)) and the variance (a^2/3, standard error a^2 sqrt(4/45) / sqrt(n)) within MC_Z standard errors;
    # and the largest |entry| above a/2 (a correct layer of n >= 32 entries misses that with probability 2^-n).
    # With 14 arrays x 3 statistics the chance that a correct initialisation fails is below 1e-7.
    for key, arr in flat.items():
        a, n = 1.0 / np.sqrt(_fan_in(key)), arr.size
        arr = np.asarray(arr, dtype=float)
        name = f"{key[2:]} (fan_in {_fan_in(key)}, {n} entries)"
        expected = f"U(-{a:.4g}, {a:.4g}): |entries| <= {a:.4g}, mean 0, standard deviation {a / np.sqrt(3):.4g}"
        mean_se, var_se = a / np.sqrt(3 * n), a**2 * np.sqrt(4 / 45) / np.sqrt(n)
        if not (np.abs(arr).max() <= a * (1 + 1e-6) and np.abs(arr).max() >= a / 2  # written so that NaN fails
                and abs(arr.mean()) <= tol.MC_Z * mean_se and abs(arr.var() - a**2 / 3) <= tol.MC_Z * var_se):
            fail(f"{name} has max |entry| {np.abs(arr).max():.4g}, mean {arr.mean():.3g} and standard deviation "
                 f"{arr.std():.4g}; expected {expected}\n  hint: every layer (weights and biases, encoder and decoder) "
                 "comes from init_linear(rng, fan_in, fan_out, dtype), with the fan_in of that layer")


ENCODE_HINT = "hidden layers h = relu(h @ W + b), every one of them in order, then the linear heads to_mu and to_log_var"
DECODE_HINT = "return logits (no sigmoid); relu hidden layers, every one of them; work on any leading batch axes"
FORWARD_HINT = ("mu, log_var = encode(params['encoder'], x), then elbo(x, mu, log_var, eps, the decoder): both heads of "
                "the encoder, mu and log_var, enter the ELBO; return its tuple (elbo, log_lik, kl)")
FLOAT32_HINT = "float32 parameters and inputs give float32 results: no float64 casts, arrays or NumPy float64 scalars"


def _net(case, dtype=np.float64):
    ref = reference(case)
    params = flat_to_tree({k: v.astype(dtype) for k, v in ref.inputs.items()}, "params")
    return ref, params, ref.inputs["x"].astype(dtype), ref.inputs["eps"].astype(dtype)


def _check_encode(np_track, case, dtype=np.float64):
    ref, params, x, _ = _net(case, dtype)
    f32 = dtype == np.float32
    out = call("encode", np_track.networks.encode, params["encoder"], x)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"encode must return the tuple (mu, log_var); got {type(out).__name__}")
    kw = dict(rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=np.float32) if f32 else {}
    what = f" ({len(params['encoder']['hidden'])} hidden layers{', float32' if f32 else ''})"
    check_close(out[0], ref.outputs["mu"], "encode(params['encoder'], x)[0] (mu)" + what, {"x": x},
                hint=FLOAT32_HINT if f32 else ENCODE_HINT, **kw)
    check_close(out[1], ref.outputs["log_var"], "encode(params['encoder'], x)[1] (log_var)" + what, {"x": x},
                hint=FLOAT32_HINT if f32 else "the log_var head is linear: no activation, no exp; " + ENCODE_HINT,
                wrong={"the mu head's output (to_mu used for log_var)": ref.outputs["mu"]}, **kw)


def _check_decode(np_track, case, dtype=np.float64):
    ref, params, _, _ = _net(case, dtype)
    f32 = dtype == np.float32
    z = ref.outputs["z"].astype(dtype)  # (K, B, D_z)
    kw = dict(rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=np.float32) if f32 else {}
    what = f" ({len(params['decoder']['hidden'])} hidden layers{', float32' if f32 else ''})"
    got = call("decode", np_track.networks.decode, params["decoder"], z)
    check_close(got, ref.outputs["logits"], "decode(params['decoder'], z (K, B, D_z))" + what, {"z": z},
                hint=FLOAT32_HINT if f32 else DECODE_HINT, **kw)
    got = call("decode", np_track.networks.decode, params["decoder"], z[0])
    check_close(got, ref.outputs["logits"][0], "decode(params['decoder'], z (B, D_z))" + what, {"z": z[0]},
                hint=FLOAT32_HINT if f32 else DECODE_HINT, **kw)


def _check_forward(np_track, case, dtype=np.float64):
    ref, params, x, eps = _net(case, dtype)
    f32 = dtype == np.float32
    out = call("vae_forward", np_track.networks.vae_forward, params, x, eps)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail(f"vae_forward must return the tuple (elbo, log_lik, kl) of elbo; got {type(out).__name__}")
    kw = dict(rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=np.float32) if f32 else {}
    for i, name in enumerate(("elbo", "log_lik", "kl")):
        check_close(out[i], ref.outputs[name], f"vae_forward(params, x, eps)[{i}] ({name})"
                    + (" with float32 params, x and eps" if f32 else ""), {"x": x},
                    hint=FLOAT32_HINT if f32 else FORWARD_HINT, **kw)


@pytest.mark.ex6_2
@pytest.mark.core
def test_encode_matches_reference(np_track):
    _check_encode(np_track, "networks/forward")


@pytest.mark.ex6_2
@pytest.mark.core
def test_encode_applies_every_hidden_layer(np_track):
    _check_encode(np_track, "wider/networks_two_hidden_layers")


@pytest.mark.ex6_2
@pytest.mark.core
def test_encode_keeps_float32(np_track):
    _check_encode(np_track, "wider/networks_two_hidden_layers", np.float32)


@pytest.mark.ex6_3
@pytest.mark.core
def test_decode_matches_reference_on_k_samples(np_track):
    _check_decode(np_track, "networks/forward")


@pytest.mark.ex6_3
@pytest.mark.core
def test_decode_applies_every_hidden_layer(np_track):
    _check_decode(np_track, "wider/networks_two_hidden_layers")


@pytest.mark.ex6_3
@pytest.mark.core
def test_decode_keeps_float32(np_track):
    _check_decode(np_track, "wider/networks_two_hidden_layers", np.float32)


@pytest.mark.ex6_4
@pytest.mark.core
def test_vae_forward_matches_reference(np_track):
    _check_forward(np_track, "networks/forward")


@pytest.mark.ex6_4
@pytest.mark.core
def test_vae_forward_with_two_hidden_layers_and_float32(np_track):
    _check_forward(np_track, "wider/networks_two_hidden_layers")
    _check_forward(np_track, "wider/networks_two_hidden_layers", np.float32)


@pytest.mark.ex6_4
def test_pathwise_gradients_reach_every_encoder_and_decoder_parameter(np_track):
    ref = reference("networks/forward")
    params = flat_to_tree(ref.inputs, "params")
    x, eps = ref.inputs["x"], ref.inputs["eps"]
    theta, unflatten = flatten(params)

    def total_elbo(th):
        return to_numpy(call("vae_forward", np_track.networks.vae_forward, unflatten(th), x, eps)[0], "elbo").sum()

    # autograd's gradient of sum(vae_forward(unflatten(theta), x, eps)[0]) with respect to theta, in the worker
    g = to_numpy(probe(np_track, "autograd_params_grad", np_track.networks.vae_forward, params, x, eps, index=0),
                 "gradient of sum(elbo)")
    got = tree_to_flat(unflatten(g), "grad_params")
    for key, expected in ref.outputs.items():
        if key.startswith("grad_params/"):
            check_close(got[key], expected, f"d sum(elbo) / d {key[len('grad_params/'):]} (eps fixed)", {},
                        rtol=tol.GRAD_RTOL, atol=tol.GRAD_ATOL)
    i = int(np.argmax(np.abs(to_numpy(g))))
    fd = finite_difference_grad(lambda v: total_elbo(np.concatenate([theta[:i], v, theta[i + 1:]])), theta[i:i + 1])
    check_close(fd, to_numpy(g)[i:i + 1], "finite-difference gradient of sum(elbo) at its largest entry", {},
                rtol=tol.FD_RTOL, atol=tol.FD_ATOL)
