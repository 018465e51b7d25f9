"""Exercise T5: the Monte Carlo ELBO (docs/exercises/pytorch.md#ext5_1)."""

import numpy as np
import pytest
import torch

from grader import tolerances as tol
from grader.harness import check_close, fail, finite_difference_grad, to_numpy
from grader.pytorch._autodiff import (DETACH_HINT, ELBO_LAYOUT, call_with, check_gradcheck, check_torch_grads_match,
                                      torch_grads, type_name)
from grader.reference import reference
from grader.remote import probe

HINT = ("elbo = mean over the K samples of cb_log_prob(x, decode(z)) minus kl_to_standard_normal(mu, log_var), "
        "one value per example (B,): average over K (dim=0), never over the batch")


def _terms(torch_track, inputs):
    """elbo(x, mu, log_var, eps, decode) with the linear decoder z -> z @ W + b of the inputs W, b."""
    out = call_with(torch_track.elbo.elbo, inputs, ELBO_LAYOUT)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail(f"elbo must return the tuple (elbo, log_lik, kl); got {type_name(out)}")
    return out


def _wrong_terms(ref) -> dict:
    """Known wrong values of each of the three results, by name."""
    log_lik, kl = ref.outputs["log_lik"], ref.outputs["kl"]
    swapped = {"log_lik": "the KL (the results in the wrong order? return (elbo, log_lik, kl))",
               "kl": "the log-likelihood term (the results in the wrong order? return (elbo, log_lik, kl))"}
    return {"elbo": {"log_lik + kl (the KL added instead of subtracted)": log_lik + kl,
                     "log_lik alone (the KL left out)": log_lik,
                     "log_lik - mean over the batch of kl": log_lik - kl.mean()},
            "log_lik": {swapped["log_lik"]: kl}, "kl": {swapped["kl"]: log_lik}}


@pytest.mark.ext5_1
@pytest.mark.core
def test_elbo_and_its_terms_match_reference(torch_track):
    ref = reference("elbo/linear_decoder")
    elbo, log_lik, kl = _terms(torch_track, ref.inputs)
    wrong = _wrong_terms(ref)
    for name, got in (("log_lik", log_lik), ("kl", kl), ("elbo", elbo)):
        check_close(got, ref.outputs[name], f"elbo(...)[{name}]", ref.inputs, hint=HINT, wrong=wrong[name],
                    hints={"factor": "a constant factor off: " + HINT})


@pytest.mark.ext5_1
@pytest.mark.core
def test_elbo_keeps_float32(torch_track):
    ref = reference("elbo/linear_decoder")
    out = probe(torch_track, "torch_call", torch_track.elbo.elbo, ref.inputs, ELBO_LAYOUT, dtype="float32")
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail(f"elbo must return the tuple (elbo, log_lik, kl); got {type_name(out)}")
    for i, name in enumerate(("elbo", "log_lik", "kl")):
        check_close(out[i], ref.outputs[name], f"elbo(...)[{name}] on float32 tensors (and a float32 decoder)",
                    ref.inputs, rtol=tol.F32_RTOL, atol=tol.F32_ATOL, dtype=torch.float32,
                    hint="float32 in, float32 out: no float64 tensors, no dtype=torch.float64")


@pytest.mark.ext5_1
def test_pathwise_gradients_of_elbo_match_reference(torch_track):
    ref = reference("elbo/linear_decoder")
    f = torch_track.elbo.elbo
    check_torch_grads_match(f, ref, ("mu", "log_var", "W", "b"), "elbo", index=0, layout=ELBO_LAYOUT)
    check_gradcheck(f, ref.inputs, ("mu", "log_var", "W", "b"), "elbo", index=0, layout=ELBO_LAYOUT, hint=HINT)


@pytest.mark.ext5_1
def test_pathwise_gradient_matches_finite_differences_with_eps_fixed(torch_track):
    ref = reference("elbo/linear_decoder")
    inputs = ref.inputs
    for key in ("mu", "log_var"):
        def scalar(v, key=key):
            return to_numpy(_terms(torch_track, {**inputs, key: v})[0], "elbo(...)[0]").sum()
        fd = finite_difference_grad(scalar, inputs[key])
        check_close(fd, ref.outputs[f"grad_{key}"], f"finite-difference d sum(elbo) / d {key} (eps fixed)", inputs,
                    rtol=tol.FD_RTOL, atol=tol.FD_ATOL, hint=HINT)


@pytest.mark.ext5_1
def test_log_likelihood_term_is_not_detached_from_the_sample(torch_track):
    """d sum(log_lik) / d mu = d sum(elbo) / d mu + d sum(kl) / d mu, and d sum(kl) / d mu = mu."""
    ref = reference("elbo/linear_decoder")
    _terms(torch_track, ref.inputs)  # the tuple (elbo, log_lik, kl)
    got = torch_grads(torch_track.elbo.elbo, ref.inputs, ("mu",), "elbo(...)[log_lik]", index=1,
                      layout=ELBO_LAYOUT)["mu"]
    expected = ref.outputs["grad_mu"] + ref.inputs["mu"]
    if not np.any(got != 0):
        fail("the log-likelihood term of the ELBO has no gradient with respect to mu: the sample z was cut off "
             f"from mu\n  hint: {DETACH_HINT}")
    check_close(got, expected, "d sum(log_lik) / d mu (eps fixed)", ref.inputs, rtol=tol.GRAD_RTOL,
                atol=tol.GRAD_ATOL, hint="z = reparameterize(mu, log_var, eps) must stay in the graph")


@pytest.mark.ext5_1
def test_elbo_averages_over_samples_not_sums(torch_track):
    inputs = dict(reference("elbo/linear_decoder").inputs)
    one = to_numpy(_terms(torch_track, {**inputs, "eps": inputs["eps"][:1]})[0])
    four = np.repeat(inputs["eps"][:1], 4, axis=0)
    repeated = to_numpy(_terms(torch_track, {**inputs, "eps": four})[0])
    check_close(repeated, one, "elbo with 4 copies of the same eps vs with one", inputs,
                hint="with K identical samples the Monte Carlo estimate must not change: average over K")
