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
def test_init_has_the_documented_layout_shapes_and_dtype(np_track):
    flat = _init(np_track, seeds.integer_seed(), dtype="float32")
    shapes = {k: tuple(v.shape) for k, v in flat.items()}
    if shapes != EXPECTED_SHAPES:
        fail(f"init_vae_params(rng, 6, (5, 4), 3) gave the layers {shapes};\n  expected {EXPECTED_SHAPES}")
    dtypes = {str(v.dtype) for v in flat.values()}
    if dtypes != {"float32"}:
        fail(f"init_vae_params(..., dtype=np.float32) returned arrays of dtype {dtypes}; every array must be float32")


@pytest.mark.ex6_1
def test_init_is_uniform_within_one_over_sqrt_fan_in_and_uses_only_rng(np_track):
    # Any use of NumPy's global generator fails the test too: the worker reports it after every test.
    seed = seeds.integer_seed()
    flat = _init(np_track, seed, x_dim=400, hidden_dims=(300,), z_dim=20)
    again = _init(np_track, seed, x_dim=400, hidden_dims=(300,), z_dim=20)
    other = _init(np_track, seed + 1, x_dim=400, hidden_dims=(300,), z_dim=20)
    if any(not np.array_equal(flat[k], again[k]) for k in flat) or all(np.array_equal(flat[k], other[k]) for k in flat):
        fail("init_vae_params must be a function of rng: the same seed gives the same parameters, another seed others")
    W = flat["p/encoder/hidden/0/W"]  # fan_in 400: U(-0.05, 0.05) has standard deviation 0.05 / sqrt(3)
    bound = 1.0 / np.sqrt(400)
    if np.abs(W).max() > bound or abs(W.std() - bound / np.sqrt(3)) > tol.MC_Z * bound / np.sqrt(3) / np.sqrt(W.size / 2):
        fail(f"encoder hidden W (400 x 300) has max |W| {np.abs(W).max():.4g} and std {W.std():.4g}; expected "
             f"U(-{bound:.4g}, {bound:.4g}), std {bound / np.sqrt(3):.4g}")


@pytest.mark.ex6_2
def test_encode_matches_reference(np_track):
    ref = reference("networks/forward")
    params = flat_to_tree(ref.inputs, "params")
    mu, log_var = call("encode", np_track.networks.encode, params["encoder"], ref.inputs["x"])
    check_close(mu, ref.outputs["mu"], "encode(params['encoder'], x)[0] (mu)", {"x": ref.inputs["x"]},
                hint="hidden layers h = relu(h @ W + b), then the linear heads to_mu and to_log_var")
    check_close(log_var, ref.outputs["log_var"], "encode(params['encoder'], x)[1] (log_var)", {"x": ref.inputs["x"]},
                hint="the log_var head is linear: no activation, no exp")


@pytest.mark.ex6_3
def test_decode_matches_reference_on_k_samples(np_track):
    ref = reference("networks/forward")
    params = flat_to_tree(ref.inputs, "params")
    got = call("decode", np_track.networks.decode, params["decoder"], ref.outputs["z"])
    check_close(got, ref.outputs["logits"], "decode(params['decoder'], z (K, B, D_z))", {"z": ref.outputs["z"]},
                hint="return logits (no sigmoid); relu hidden layers; work on any leading batch axes")


@pytest.mark.ex6_4
def test_vae_forward_matches_reference(np_track):
    ref = reference("networks/forward")
    params = flat_to_tree(ref.inputs, "params")
    out = call("vae_forward", np_track.networks.vae_forward, params, ref.inputs["x"], ref.inputs["eps"])
    for i, name in enumerate(("elbo", "log_lik", "kl")):
        check_close(out[i], ref.outputs[name], f"vae_forward(params, x, eps)[{i}] ({name})", {"x": ref.inputs["x"]},
                    hint="mu, log_var = encode(params['encoder'], x), then elbo(x, mu, log_var, eps, the decoder): "
                    "both heads of the encoder, mu and log_var, enter the ELBO")


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
