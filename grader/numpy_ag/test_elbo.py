"""Exercise 5: the Monte Carlo ELBO (docs/exercises/numpy.md#ex5_1)."""

import numpy as np
import pytest

from grader import tolerances as tol
from grader.harness import call, check_close, check_grads_match, fail, finite_difference_grad, to_numpy
from grader.reference import reference
from grader.remote import probe

HINT = ("elbo = mean over the K samples z_k = reparameterize(mu, log_var, eps_k) of cb_log_prob(x, decode(z_k)), "
        "minus kl_to_standard_normal(mu, log_var): one value per example (B,); average over K, never over the batch; "
        "return the tuple (elbo, log_lik, kl) in this order")
GRAD_HINT = ("the pathwise gradient flows through z = mu + exp(0.5 log_var) * eps to mu and log_var, with eps fixed: "
             "keep z in the computation")


def _elbo(np_track, x, mu, log_var, eps, W, b):
    """``elbo(x, mu, log_var, eps, decode)`` with the linear decoder ``decode(z) = z @ W + b`` (built in the worker)."""
    return call("elbo", probe, np_track, "with_linear_decoder", np_track.elbo.elbo, x, mu, log_var, eps, W, b)


def _terms(np_track, x, mu, log_var, eps, W, b):
    try:
        out = _elbo(np_track, x, mu, log_var, eps, W, b)
    except ValueError as err:
        if "broadcast" not in str(err):
            raise
        fail(f"elbo(x (B,D_x), mu, log_var (B,D_z), eps (K,B,D_z), decode) with K = {len(eps)}, B = {len(x)} raised "
             f"ValueError: {err}\n  hint: {HINT}")
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail(f"elbo must return the tuple (elbo, log_lik, kl); got {type(out).__name__}")
    return out


def _wrong_terms(ref):
    """Known wrong answers for each term, by name: another term (the tuple in the wrong order), and the sum."""
    out = ref.outputs
    named = {"elbo": "the ELBO (elbo(...)[0])", "log_lik": "the log-likelihood term", "kl": "the KL"}
    wrong = {key: {f"{named[other]}: the tuple (elbo, log_lik, kl) in another order": out[other]
                   for other in named if other != key} for key in named}
    wrong["elbo"]["log_lik + kl: the KL added, not subtracted"] = out["log_lik"] + out["kl"]
    return wrong


@pytest.mark.ex5_1
@pytest.mark.core
def test_elbo_and_its_terms_match_reference(np_track):
    ref = reference("elbo/linear_decoder")
    elbo, log_lik, kl = _terms(np_track, **ref.inputs)
    wrong = _wrong_terms(ref)
    for name, got in (("log_lik", log_lik), ("kl", kl), ("elbo", elbo)):
        check_close(got, ref.outputs[name], f"elbo(...)[{name}]", ref.inputs, hint=HINT, wrong=wrong[name],
                    hints={"formula": "the ELBO is log_lik - kl; return (elbo, log_lik, kl) in this order"})


@pytest.mark.ex5_1
@pytest.mark.core
def test_elbo_keeps_float32(np_track):
    ref = reference("elbo/linear_decoder")
    inputs = {k: v.astype(np.float32) for k, v in ref.inputs.items()}
    terms = _terms(np_track, **inputs)
    for name, got in zip(("elbo", "log_lik", "kl"), terms):
        check_close(got, ref.outputs[name], f"elbo(...)[{name}] on float32 inputs (x, mu, log_var, eps, W, b)", inputs,
                    rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=np.float32,
                    hint="keep float32 inputs float32: no float64 constants, arrays or casts; " + HINT)


@pytest.mark.ex5_1
def test_pathwise_gradients_of_elbo_match_reference(np_track):
    ref = reference("elbo/linear_decoder")  # gradients of sum(elbo(x, mu, log_var, eps, z -> z @ W + b)[0])
    check_grads_match(np_track.elbo.elbo, ref, ("mu", "log_var", "W", "b"), "elbo", index=0, linear_decoder=True,
                      hint=GRAD_HINT)


@pytest.mark.ex5_1
def test_pathwise_gradient_matches_finite_differences_with_eps_fixed(np_track):
    inputs = reference("elbo/linear_decoder").inputs
    for key in ("mu", "log_var"):
        def scalar(v, key=key):
            return to_numpy(_elbo(np_track, **{**inputs, key: v})[0], "elbo(...)[0]").sum()
        fd = finite_difference_grad(scalar, inputs[key])
        check_close(fd, reference("elbo/linear_decoder").outputs[f"grad_{key}"],
                    f"finite-difference d sum(elbo) / d {key} (eps fixed)", inputs, rtol=tol.FD_RTOL,
                    atol=tol.FD_ATOL, hint=HINT)


@pytest.mark.ex5_1
def test_elbo_averages_over_samples_not_sums(np_track):
    inputs = dict(reference("elbo/linear_decoder").inputs)
    one = to_numpy(_terms(np_track, **{**inputs, "eps": inputs["eps"][:1]})[0])
    repeated = to_numpy(_terms(np_track, **{**inputs, "eps": np.repeat(inputs["eps"][:1], 4, axis=0)})[0])
    check_close(repeated, one, "elbo with 4 copies of the same eps vs with one", inputs,
                hint="with K identical samples the Monte Carlo estimate must not change: average over K")
