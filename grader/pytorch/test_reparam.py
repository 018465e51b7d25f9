"""Exercise T4: the reparameterised sample (docs/exercises/pytorch.md#ext4_1)."""

import numpy as np
import pytest
import torch

from grader import seeds
from grader import tolerances as tol
from grader.harness import call, check_close, fail, to_numpy
from grader.pytorch._autodiff import (DETACH_HINT, as_tensors, calls_watching_rngs, check_gradcheck,
                                      check_torch_grads_match, grad_report)
from grader.reference import reference

HINT = "z = mu + exp(0.5 * log_var) * eps: the standard deviation is exp(0.5 log_var), and eps is given"


def _wrong_samples(mu, log_var, eps):
    return {"mu + exp(log_var) * eps (the variance in place of the standard deviation)": mu + np.exp(log_var) * eps,
            "mu + log_var * eps": mu + log_var * eps}


@pytest.mark.ext4_1
@pytest.mark.core
def test_reparameterize_matches_reference(torch_track):
    ref = reference("reparam/random")  # eps (2, 4, 3) against mu, log_var (4, 3)
    got = call("reparameterize", torch_track.reparam.reparameterize, **as_tensors(ref.inputs))
    check_close(got, ref.outputs["value"], "reparameterize(mu, log_var, eps)", ref.inputs, hint=HINT,
                wrong=_wrong_samples(**ref.inputs))


@pytest.mark.ext4_1
@pytest.mark.core
def test_reparameterize_keeps_float32_and_the_shape_of_eps(torch_track):
    ref = reference("reparam/random")
    for eps, what in ((ref.inputs["eps"], "eps (K, B, D_z) = (2, 4, 3)"), (ref.inputs["eps"][1], "eps (B, D_z) = (4, 3)")):
        inputs = {**ref.inputs, "eps": eps}
        got = call("reparameterize", torch_track.reparam.reparameterize, **as_tensors(inputs, dtype="float32"))
        check_close(got, ref.outputs["value"] if eps.ndim == 3 else ref.outputs["value"][1],
                    f"reparameterize(mu, log_var, {what}) on float32 tensors: z has the shape of eps", inputs,
                    rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=torch.float32,
                    hint="float32 in, float32 out, and z has the shape of eps; " + HINT)


@pytest.mark.ext4_1
def test_pathwise_gradients_with_eps_fixed(torch_track):
    # dz/dmu = 1 and dz/dlog_var = 0.5 * sigma * eps
    ref = reference("reparam/random")
    check_torch_grads_match(torch_track.reparam.reparameterize, ref, ("mu", "log_var"), "reparameterize")
    small = {**ref.inputs, "log_var": np.clip(ref.inputs["log_var"], -5, 5)}  # exp(0.5 * 20) is too steep for FD
    check_gradcheck(torch_track.reparam.reparameterize, small, ("mu", "log_var"), "reparameterize", hint=HINT)


@pytest.mark.ext4_1
def test_sample_is_not_detached_from_mu_and_log_var(torch_track):
    rng = seeds.numpy_rng(7)
    inputs = {"mu": rng.normal(size=(3, 2)), "log_var": rng.normal(size=(3, 2)), "eps": rng.normal(size=(4, 3, 2))}
    seen = grad_report(torch_track.reparam.reparameterize, inputs, ("mu", "log_var"), joint=True)
    if seen["type"] != "Tensor" or not seen["requires_grad"]["mu"]:
        fail(f"reparameterize returned a sample that autograd cannot differentiate (requires_grad False): the "
             f"pathwise gradient to mu and log_var is lost\n  hint: {DETACH_HINT}")
    g_mu, g_lv = seen["grads"]["mu"], seen["grads"]["log_var"]
    if g_mu is None or not torch.any(g_mu != 0) or g_lv is None or not torch.any(g_lv != 0):
        fail("the gradient of sum(z) with respect to mu or log_var is missing or zero; with eps fixed it is "
             f"K = 4 for mu and 0.5 * sigma * sum_k eps_k for log_var\n  hint: {DETACH_HINT}")
    check_close(g_mu, np.full((3, 2), 4.0), "d sum(z) / d mu (K = 4 samples)", {}, hint=DETACH_HINT)


@pytest.mark.ext4_1
def test_reparameterize_uses_only_the_given_eps(torch_track):
    rng = seeds.numpy_rng(5)
    inputs = {"mu": rng.normal(size=(3, 2)), "log_var": rng.normal(size=(3, 2)), "eps": rng.normal(size=(4, 3, 2))}
    seen = calls_watching_rngs(torch_track.reparam.reparameterize, inputs, times=2)
    first, second = (to_numpy(z, "reparameterize(mu, log_var, eps)") for z in seen["results"])
    if not np.array_equal(first, second) or seen["changed"]:
        fail("reparameterize must be a deterministic function of (mu, log_var, eps): it drew its own random "
             f"numbers ({', '.join(seen['changed']) or 'two calls gave different z'})\n  hint: {HINT}")


@pytest.mark.ext4_1
def test_sample_moments_match_mu_and_sigma(torch_track):
    rng = seeds.numpy_rng(6)
    n = 20000
    mu, log_var = np.array([[1.5, -2.0, 0.0]]), np.array([[0.0, 2.0, -3.0]])
    eps = rng.standard_normal((n, 1, 3))
    z = to_numpy(call("reparameterize", torch_track.reparam.reparameterize,
                      *as_tensors({"mu": mu, "log_var": log_var, "eps": eps}).values()))[:, 0]
    sigma = np.exp(0.5 * log_var[0])
    mean_err = np.abs(z.mean(0) - mu[0]) / (sigma / np.sqrt(n))
    std_err = np.abs(z.std(0) - sigma) / (sigma / np.sqrt(2 * n))
    if not ((mean_err <= tol.MC_Z).all() and (std_err <= tol.MC_Z).all()):  # written so that NaN fails
        fail(f"over {n} samples z has mean {z.mean(0)} and std {z.std(0)}; expected mu {mu[0]} and "
             f"sigma {sigma}\n  hint: {HINT}")
