"""Exercise T9: the importance-weighted estimate of log p(x) (docs/exercises/pytorch.md#ext9_1)."""

import pytest

from grader.harness import check_close
from grader.pytorch._autodiff import ELBO_LAYOUT, call_with, check_gradcheck, check_torch_grads_match
from grader.reference import reference

HINT = ("log w_k = log p(x|z_k) + log p(z_k) - log q(z_k|x); the bound is the log of the mean over k of w_k, "
        "computed stably as torch.logsumexp(log_w, dim=0) - log K")


def _iwae(torch_track, inputs):
    """iwae_log_px(x, mu, log_var, eps, decode) with the linear decoder z -> z @ W + b of the inputs W, b."""
    return call_with(torch_track.iwae.iwae_log_px, inputs, ELBO_LAYOUT)


@pytest.mark.ext9_1
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
