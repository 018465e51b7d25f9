"""Exercise T9: the importance-weighted estimate of log p(x) (docs/exercises/pytorch.md#ext9_1)."""

import numpy as np
import pytest
import torch

from grader import tolerances as tol
from grader.harness import check_close, to_numpy
from grader.pytorch._autodiff import ELBO_LAYOUT, call_with, check_gradcheck, check_torch_grads_match
from grader.reference import reference
from grader.remote import probe

HINT = ("log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x); the bound is the log of the mean over k of w_k, "
        "computed stably as torch.logsumexp(log_w, dim=0) - log K")


def _iwae(torch_track, inputs):
    """iwae_log_px(x, mu, log_var, eps, decode) with the linear decoder z -> z @ W + b of the inputs W, b."""
    return call_with(torch_track.iwae.iwae_log_px, inputs, ELBO_LAYOUT)


@pytest.mark.ext9_1
@pytest.mark.core
def test_iwae_matches_reference(torch_track):
    ref = reference("iwae/linear_decoder")
    check_close(_iwae(torch_track, ref.inputs), ref.outputs["value"],
                "iwae_log_px(x, mu, log_var, eps, decode)", ref.inputs, hint=HINT)


@pytest.mark.ext9_1
def test_iwae_is_stable_for_very_small_weights(torch_track):
    ref = reference("iwae/large_log_weights")  # log weights around -1e3
    inputs = {**ref.inputs, "W": 300.0 * ref.inputs["W"]}
    check_close(_iwae(torch_track, inputs), ref.outputs["value"],
                "iwae_log_px with log weights near -1000", ref.inputs, hint=HINT)


@pytest.mark.ext9_1
def test_iwae_gradients_match_reference(torch_track):
    ref = reference("iwae/linear_decoder")
    f = torch_track.iwae.iwae_log_px
    check_torch_grads_match(f, ref, ("mu", "log_var", "W"), "iwae_log_px", layout=ELBO_LAYOUT)
    check_gradcheck(f, ref.inputs, ("mu", "log_var", "W"), "iwae_log_px", layout=ELBO_LAYOUT, hint=HINT)


@pytest.mark.ext9_1
@pytest.mark.core
def test_iwae_of_k_copies_of_one_sample_is_that_samples_bound(torch_track):
    # With K identical eps every weight is the same w, and log (1/K sum_k w) = log w: the mean, not the sum.
    inputs = dict(reference("iwae/linear_decoder").inputs)
    one = to_numpy(_iwae(torch_track, {**inputs, "eps": inputs["eps"][:1]}), "iwae_log_px with K = 1")
    four = to_numpy(_iwae(torch_track, {**inputs, "eps": np.repeat(inputs["eps"][:1], 4, axis=0)}),
                    "iwae_log_px with K = 4")
    check_close(four, one, "iwae_log_px with 4 copies of one eps vs with that eps alone", inputs, hint=HINT,
                hints={"offset": "a constant offset: the bound is the log of the MEAN of the weights, logsumexp(log_w, "
                                 "dim=0) - log K (log_mean_exp), not of their sum"})


@pytest.mark.ext9_1
def test_iwae_keeps_float32(torch_track):
    ref = reference("iwae/linear_decoder")
    got = probe(torch_track, "torch_call", torch_track.iwae.iwae_log_px, ref.inputs, ELBO_LAYOUT, dtype="float32")
    check_close(got, ref.outputs["value"], "iwae_log_px(...) on float32 tensors (and a float32 decoder)", ref.inputs,
                rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=torch.float32,
                hint="float32 in, float32 out: math.log(K) (a Python float), not a float64 tensor")
