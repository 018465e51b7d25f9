"""Exercise 9: the importance-weighted estimate of log p(x) (docs/exercises/numpy.md#ex9_1)."""

import pytest

from grader.harness import call, check_close, check_grads_match
from grader.reference import reference
from grader.remote import probe

HINT = ("log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x); the bound is the log of the mean over k of w_k, "
        "computed stably as m + log(mean(exp(log_w - m))) with m the max over k")


def _iwae(np_track, x, mu, log_var, eps, W, b):
    """``iwae_log_px(x, mu, log_var, eps, decode)`` with the linear decoder ``decode(z) = z @ W + b``, in the worker."""
    return call("iwae_log_px", probe, np_track, "with_linear_decoder", np_track.iwae.iwae_log_px, x, mu, log_var, eps,
                W, b)


@pytest.mark.ex9_1
def test_iwae_matches_reference(np_track):
    ref = reference("iwae/linear_decoder")
    check_close(_iwae(np_track, **ref.inputs), ref.outputs["value"], "iwae_log_px(x, mu, log_var, eps, decode)",
                ref.inputs, hint=HINT)


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
