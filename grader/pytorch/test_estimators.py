"""Exercise T10: pathwise and score-function gradients, and the IWAE training step (docs/exercises/estimators.md#ext10_1)."""

import numpy as np
import pytest
import torch

from grader.harness import call, check_close, check_shape, fail, to_numpy
from grader.montecarlo import check_mc_mean, check_mc_variance
from grader.pytorch._autodiff import ELBO_LAYOUT, call_with, check_tensor, torch_grads, type_name
from grader.pytorch._steps import check_one_step, check_two_steps, run_steps
from grader.pytorch._weights import VAE_SIZES, parameter_vector
from grader.reference import reference
from grader.remote import probe
from vaekit.gradient_variance import exact_grad_mu, exact_variance_pathwise, exact_variance_score_function

N_DRAWS = 100_000  # single-sample estimates per Monte Carlo check
TOY_KS = (1.0, 0.0, -1.0, -3.0)  # at mu = sigma = 1: score-function variances 15, 30, 87, 495

PATHWISE_HINT = "x = mu + sigma * eps and the estimate is f'(x) * dx/dmu = 2 (x - k), one per eps"
SCORE_HINT = ("the estimate is (f(x) - baseline) * d/dmu log N(x; mu, sigma^2) = ((x - k)^2 - baseline) * "
              "(x - mu) / sigma^2 with x = mu + sigma * eps")
SURROGATE_HINT = ("z = (mu + sigma * eps).detach(); f = log p(x|z) + log p(z) - log q(z|x), detached; the surrogate "
                  "is the mean over the K samples of log q(z|x) * (f - baseline), one value per example")
ENCODER_HINT = ("differentiate the batch MEAN of the ELBO (pathwise) or of the surrogate (score) with "
                "torch.autograd.grad with respect to list(model.encoder.parameters()) and concatenate the "
                "flattened gradients in that order")
ENCODER_HINTS = {"factor": "a constant factor off: the gradient of the batch MEAN (not the sum) of the ELBO, to be "
                          "ascended (not the gradient of the loss -ELBO), with respect to the encoder's parameters"}
SURROGATE_HINTS = {"factor": "a constant factor off: the MEAN over the K samples (dim=0) of log q(z|x) * (f - baseline), "
                             "not the sum"}
PATHWISE_HINTS = {"factor": "a constant factor off: d/dmu (x - k)^2 = 2 (x - k), with the sign of x - k"}
IWAE_STEP_HINT = ("optimizer.zero_grad(); loss = -mean over the batch of iwae_log_px(x, mu, log_var, eps, "
                  "model.decoder); loss.backward(); optimizer.step(); return the loss as a float")


def _toy():
    ref = reference("variance/toy")
    return ref, {key: float(ref.inputs[key]) for key in ("mu", "sigma", "k", "baseline")}


# --- T10.1 --------------------------------------------------------------------------------------------------
@pytest.mark.ext10_1
@pytest.mark.core
def test_pathwise_estimates_match_reference(torch_track):
    ref, s = _toy()
    eps = torch.from_numpy(ref.inputs["eps"])
    got = call("pathwise_grad_mu", torch_track.estimators.pathwise_grad_mu, s["mu"], s["sigma"], eps, s["k"])
    check_close(check_tensor(got, "pathwise_grad_mu"), ref.outputs["pathwise"], "pathwise_grad_mu(mu, sigma, eps, k)",
                {**s, "eps": ref.inputs["eps"]}, hint=PATHWISE_HINT, hints=PATHWISE_HINTS)


@pytest.mark.ext10_1
@pytest.mark.parametrize("sigma", [1.0, 0.5])
def test_pathwise_mean_and_variance_are_exact(torch_track, sigma, rng):
    eps = torch.from_numpy(rng.standard_normal(N_DRAWS))
    for k in TOY_KS:
        name = f"pathwise_grad_mu(mu=1, sigma={sigma}, eps, k={k:g}) over {N_DRAWS} draws of eps"
        g = call("pathwise_grad_mu", torch_track.estimators.pathwise_grad_mu, 1.0, sigma, eps, k)
        check_shape(to_numpy(check_tensor(g, name), name), (N_DRAWS,), name, hint="one estimate per entry of eps")
        check_mc_mean(g, exact_grad_mu(1.0, sigma, k), name, hint="the estimator must be unbiased: " + PATHWISE_HINT)
        check_mc_variance(g, exact_variance_pathwise(1.0, sigma, k), name, hint=PATHWISE_HINT)


# --- T10.2 --------------------------------------------------------------------------------------------------
@pytest.mark.ext10_2
@pytest.mark.core
def test_score_function_estimates_match_reference(torch_track):
    ref, s = _toy()
    eps = torch.from_numpy(ref.inputs["eps"])
    f = torch_track.estimators.score_function_grad_mu
    got = call("score_function_grad_mu", f, s["mu"], s["sigma"], eps, s["k"])
    check_close(check_tensor(got, "score_function_grad_mu"), ref.outputs["score"],
                "score_function_grad_mu(mu, sigma, eps, k) (default baseline 0)", {**s, "eps": ref.inputs["eps"]},
                hint=SCORE_HINT)
    got = call("score_function_grad_mu", f, s["mu"], s["sigma"], eps, s["k"], s["baseline"])
    check_close(check_tensor(got, "score_function_grad_mu"), ref.outputs["score_baseline"],
                "score_function_grad_mu(mu, sigma, eps, k, baseline)", {**s, "eps": ref.inputs["eps"]},
                hint=SCORE_HINT)


@pytest.mark.ext10_2
@pytest.mark.parametrize("with_baseline", [False, True], ids=["no_baseline", "baseline"])
def test_score_function_is_unbiased_with_the_exact_variance(torch_track, with_baseline, rng):
    eps = torch.from_numpy(rng.standard_normal(N_DRAWS))
    for k in TOY_KS:
        b = (1.0 - k) ** 2 + 1.0 if with_baseline else 0.0  # b = E[f(x)] at mu = sigma = 1
        name = f"score_function_grad_mu(mu=1, sigma=1, eps, k={k:g}, baseline={b:g}) over {N_DRAWS} draws of eps"
        g = call("score_function_grad_mu", torch_track.estimators.score_function_grad_mu, 1.0, 1.0, eps, k, b)
        check_shape(to_numpy(check_tensor(g, name), name), (N_DRAWS,), name, hint="one estimate per entry of eps")
        check_mc_mean(g, exact_grad_mu(1.0, 1.0, k), name,
                      hint="the score-function estimator is unbiased for any constant baseline: " + SCORE_HINT)
        check_mc_variance(g, exact_variance_score_function(1.0, 1.0, k, b), name, hint=SCORE_HINT)


# --- T10.3 --------------------------------------------------------------------------------------------------
SURROGATE_LAYOUT = (*ELBO_LAYOUT, "baseline")  # score_function_surrogate(x, mu, log_var, eps, decode, baseline)


def _surrogate(torch_track, inputs):
    """score_function_surrogate with the linear decoder z -> z @ W + b (and the baseline, if the inputs hold one)."""
    return call_with(torch_track.estimators.score_function_surrogate, inputs, SURROGATE_LAYOUT)


def _surrogate_grads(torch_track, inputs, wrt=("mu", "log_var", "W")):
    """Gradients of sum(surrogate) w.r.t. the named inputs; an input the result does not reach gets zeros."""
    return torch_grads(torch_track.estimators.score_function_surrogate, inputs, wrt, "score_function_surrogate",
                       layout=SURROGATE_LAYOUT, joint=True, missing_ok=True)


@pytest.mark.ext10_3
@pytest.mark.core
def test_surrogate_matches_reference(torch_track):
    ref = reference("variance/surrogate")
    check_close(_surrogate(torch_track, ref.inputs), ref.outputs["value"],
                "score_function_surrogate(x, mu, log_var, eps, decode, baseline)", ref.inputs, hint=SURROGATE_HINT,
                hints=SURROGATE_HINTS)
    no_baseline = {k: v for k, v in ref.inputs.items() if k != "baseline"}
    check_close(_surrogate(torch_track, no_baseline), ref.outputs["value_no_baseline"],
                "score_function_surrogate(...) with the default baseline 0", no_baseline, hint=SURROGATE_HINT)


@pytest.mark.ext10_3
def test_surrogate_gradients_are_score_function_estimates(torch_track):
    ref = reference("variance/surrogate")
    got = _surrogate_grads(torch_track, ref.inputs)
    for key in ("mu", "log_var"):
        check_close(got[key], ref.outputs[f"grad_{key}"], f"d sum(score_function_surrogate) / d {key}", ref.inputs,
                    rtol=1e-6, atol=1e-8, hint=SURROGATE_HINT)
    check_close(got["W"], ref.outputs["grad_W"], "d sum(score_function_surrogate) / d W (the decoder's weights)",
                ref.inputs, rtol=1e-6, atol=1e-8,
                hint="only log q(z|x) carries a gradient: detach f = log p(x|z) + log p(z) - log q(z|x)")


@pytest.mark.ext10_3
def test_surrogate_gradient_is_unbiased(torch_track, rng):
    ref = reference("variance/surrogate")
    n_batches, k = 40, 1000
    eps = rng.standard_normal((n_batches, k, *ref.inputs["mu"].shape))
    draws = [_surrogate_grads(torch_track, {**ref.inputs, "eps": batch}, ("mu", "log_var")) for batch in eps]
    for key in ("mu", "log_var"):
        check_mc_mean(np.array([d[key] for d in draws]), ref.outputs[f"expected_grad_{key}"],
                      f"d sum(score_function_surrogate) / d {key}, averaged over {n_batches * k} samples of eps",
                      expected_se=ref.outputs[f"expected_grad_{key}_se"],
                      hint="on average the score-function gradient must equal the gradient of the ELBO; "
                           + SURROGATE_HINT)


# --- T10.4 --------------------------------------------------------------------------------------------------
@pytest.mark.ext10_4
@pytest.mark.parametrize("estimator", ["pathwise", "score"])
@pytest.mark.core
def test_encoder_gradient_matches_reference(torch_track, estimator):
    ref = reference("variance/encoder_gradient")
    x, eps, baseline = (ref.inputs[k] for k in ("x", "eps", "baseline"))
    run = probe(torch_track, "encoder_gradient_run", ref.inputs, VAE_SIZES, x, eps, estimator, baseline)
    expected = parameter_vector(run["order"], ref.outputs, estimator)  # in the order of model.encoder.parameters()
    check_close(check_tensor(run["result"], "encoder_gradient"), expected,
                f"encoder_gradient(model, x, eps, {estimator!r}, baseline)",
                {"x": x, "eps": eps, "baseline": baseline}, rtol=1e-6, atol=1e-8, hint=ENCODER_HINT,
                hints=ENCODER_HINTS)
    if run["grads_left"]:
        fail("encoder_gradient left gradients in the model's .grad fields; use torch.autograd.grad(objective, "
             "list(model.encoder.parameters())) instead of .backward()")


# --- T10.5 --------------------------------------------------------------------------------------------------
IWAE_STEP = "iwae_train.iwae_train_step"


@pytest.mark.ext10_5
@pytest.mark.core
def test_iwae_train_step_matches_reference(torch_track):
    # The reference is the NumPy track's hand-written Adam; torch.optim.Adam makes the same first step (up to
    # Adam's eps: see grader/pytorch/_weights.py).
    check_one_step(torch_track, IWAE_STEP, reference("training/iwae_step"), "iwae_train_step", IWAE_STEP_HINT)


@pytest.mark.ext10_5
@pytest.mark.core
def test_iwae_train_step_carries_the_optimiser_state_from_call_to_call(torch_track):
    # two calls with one torch.optim.Adam(lr=0.01): eps, then eps2 (K = 5)
    check_two_steps(torch_track, IWAE_STEP, reference("wider/iwae_train_step_twice"), "iwae_train_step",
                    IWAE_STEP_HINT)


@pytest.mark.ext10_5
def test_iwae_train_step_zeroes_old_gradients(torch_track):
    """With a zero learning rate the weights stay put, so two steps must leave the same .grad, not twice it."""
    first, second = run_steps(torch_track, IWAE_STEP, reference("training/iwae_step"), optimizer="SGD", lr=0.0,
                              steps=2)["grads"]
    if any(g is None for g in first + second):
        fail(f"after iwae_train_step some parameters have no gradient\n  hint: {IWAE_STEP_HINT}")
    for g1, g2 in zip(first, second):
        if not torch.allclose(g2, g1, rtol=1e-10, atol=1e-12):
            fail("the gradients of the second iwae_train_step are the sum of two steps' gradients: call "
                 f"optimizer.zero_grad() before loss.backward()\n  hint: {IWAE_STEP_HINT}")


@pytest.mark.ext10_5
def test_iwae_train_steps_on_one_batch_raise_the_bound(torch_track):
    ref = reference("training/iwae_step")
    # the bound: mean L_K of the batch, from the (already graded) Exercises T6 and T9
    run = run_steps(torch_track, IWAE_STEP, ref, steps=30, bound="iwae")
    before = float(np.mean(to_numpy(run["before"], "iwae_log_px")))
    after = float(np.mean(to_numpy(run["after"], "iwae_log_px")))
    if not after > before + 0.1:
        fail(f"30 iwae_train_steps on one batch (eps fixed) should raise the bound mean(L_K); it went {before:.4f} -> "
             f"{after:.4f}\n  hint: descend the loss -mean(L_K), i.e. ascend the bound: " + IWAE_STEP_HINT)
