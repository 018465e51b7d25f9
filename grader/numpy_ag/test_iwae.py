"""Exercise 9: the importance-weighted estimate of log p(x) (docs/exercises/numpy.md#ex9_1)."""

import numpy as np
import pytest

from grader import tolerances as tol
from grader.harness import call, check_close, check_grads_match
from grader.reference import reference
from grader.remote import probe

HINT = ("log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x); the bound is the log of the mean over k of w_k, "
        "computed stably as m + log(mean(exp(log_w - m))) with m the max over k")
HINTS = {"offset": "a constant off in every example: the log of the MEAN over the K samples of w_k (a log-sum-exp "
                   "is log K too large); log q is subtracted, log p(z) added"}


def _iwae(np_track, x, mu, log_var, eps, W, b):
    """``iwae_log_px(x, mu, log_var, eps, decode)`` with the linear decoder ``decode(z) = z @ W + b``, in the worker."""
    return call("iwae_log_px", probe, np_track, "with_linear_decoder", np_track.iwae.iwae_log_px, x, mu, log_var, eps,
                W, b)


@pytest.mark.ex9_1
@pytest.mark.core
def test_iwae_matches_reference(np_track):
    ref = reference("iwae/linear_decoder")
    check_close(_iwae(np_track, **ref.inputs), ref.outputs["value"], "iwae_log_px(x, mu, log_var, eps, decode)",
                ref.inputs, hint=HINT, hints=HINTS)


@pytest.mark.ex9_1
@pytest.mark.core
def test_iwae_keeps_float32(np_track):
    ref = reference("iwae/linear_decoder")
    inputs = {k: v.astype(np.float32) for k, v in ref.inputs.items()}
    check_close(_iwae(np_track, **inputs), ref.outputs["value"], "iwae_log_px(...) on float32 inputs", inputs,
                rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=np.float32,
                hint="keep float32 inputs float32: no float64 casts, arrays or NumPy float64 scalars (np.log(K) of an "
                     "int is one)")


@pytest.mark.ex9_1
def test_iwae_with_k_copies_of_one_sample_is_that_sample_bound(np_track):
    # With K identical samples every w_k is the same, so L_K = log w_1 = L_1: the mean, not the sum, over k.
    ref = reference("iwae/linear_decoder")
    one = {**ref.inputs, "eps": ref.inputs["eps"][:1]}
    copies = {**ref.inputs, "eps": np.repeat(ref.inputs["eps"][:1], 5, axis=0)}
    check_close(_iwae(np_track, **copies), _iwae(np_track, **one), "iwae_log_px with 5 copies of one eps vs with it "
                "once", copies, hint=HINT, hints=HINTS)


@pytest.mark.ex9_1
def test_iwae_is_stable_for_very_small_weights(np_track):
    ref = reference("iwae/large_log_weights")  # log weights around -1e3
    inputs = {**ref.inputs, "W": 300.0 * ref.inputs["W"]}
    check_close(_iwae(np_track, **inputs), ref.outputs["value"], "iwae_log_px with log weights near -1000",
                ref.inputs, hint=HINT)


@pytest.mark.ex9_1
def test_iwae_gradients_match_reference(np_track):
    ref = reference("iwae/linear_decoder")
    check_grads_match(np_track.iwae.iwae_log_px, ref, ("mu", "log_var", "W"), "iwae_log_px", linear_decoder=True)
