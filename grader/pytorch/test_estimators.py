"""Exercise T10: pathwise and score-function gradients, and the IWAE training step (docs/exercises/estimators.md#ext10_1)."""

import numpy as np
import pytest
import torch

from grader.cases import NET_SIZES, linear_decoder
from grader.harness import call, check_close, check_shape, fail, to_numpy
from grader.montecarlo import check_mc_mean, check_mc_variance
from grader.pytorch._autodiff import as_tensors, check_tensor
from grader.pytorch._weights import build, layers, vae_layers
from grader.reference import reference
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
IWAE_STEP_HINT = ("optimizer.zero_grad(); loss = -mean over the batch of iwae_log_px(x, mu, log_var, eps, "
                  "model.decoder); loss.backward(); optimizer.step(); return the loss as a float")


def _toy():
    ref = reference("variance/toy")
    return ref, {key: float(ref.inputs[key]) for key in ("mu", "sigma", "k", "baseline")}


# --- T10.1 --------------------------------------------------------------------------------------------------
@pytest.mark.ext10_1
def test_pathwise_estimates_match_reference(torch_track):
    ref, s = _toy()
    eps = torch.from_numpy(ref.inputs["eps"])
    got = call("pathwise_grad_mu", torch_track.estimators.pathwise_grad_mu, s["mu"], s["sigma"], eps, s["k"])
    check_close(check_tensor(got, "pathwise_grad_mu"), ref.outputs["pathwise"], "pathwise_grad_mu(mu, sigma, eps, k)",
                {**s, "eps": ref.inputs["eps"]}, hint=PATHWISE_HINT)


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
def _surrogate(torch_track, x, mu, log_var, eps, W, b, baseline=0.0):
    return call("score_function_surrogate", torch_track.estimators.score_function_surrogate, x, mu, log_var, eps,
                linear_decoder(W, b), baseline)


def _surrogate_grads(torch_track, inputs, wrt=("mu", "log_var", "W")):
    """Gradients of sum(surrogate) w.r.t. the named inputs; an input the result does not reach gets zeros."""
    args = as_tensors(inputs, requires_grad=wrt)
    out = check_tensor(_surrogate(torch_track, **args), "score_function_surrogate", wrt="mu and log_var")
    grads = torch.autograd.grad(out.sum(), [args[k] for k in wrt], allow_unused=True)
    return {k: np.zeros(np.shape(inputs[k])) if g is None else to_numpy(g) for k, g in zip(wrt, grads)}


@pytest.mark.ext10_3
def test_surrogate_matches_reference(torch_track):
    ref = reference("variance/surrogate")
    check_close(_surrogate(torch_track, **as_tensors(ref.inputs)), ref.outputs["value"],
                "score_function_surrogate(x, mu, log_var, eps, decode, baseline)", ref.inputs, hint=SURROGATE_HINT)
    no_baseline = {k: v for k, v in ref.inputs.items() if k != "baseline"}
    t = as_tensors(no_baseline)
    got = call("score_function_surrogate", torch_track.estimators.score_function_surrogate, t["x"], t["mu"],
               t["log_var"], t["eps"], linear_decoder(t["W"], t["b"]))
    check_close(got, ref.outputs["value_no_baseline"], "score_function_surrogate(...) with the default baseline 0",
                no_baseline, hint=SURROGATE_HINT)


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
def _vae(torch_track, ref):
    return build(torch_track, "VAE", ref.inputs, NET_SIZES["x_dim"], NET_SIZES["hidden_dims"], NET_SIZES["z_dim"])


def _expected_encoder_vector(model, flat: dict, prefix: str) -> np.ndarray:
    """The frozen encoder gradient in the order of ``model.encoder.parameters()`` (weights transposed to (out, in))."""
    where = {}
    for key, linear in layers(model.encoder, "encoder").items():
        where[id(linear.weight)] = flat[f"{prefix}/{key.split('/', 1)[1]}/W"].T
        where[id(linear.bias)] = flat[f"{prefix}/{key.split('/', 1)[1]}/b"]
    return np.concatenate([np.ravel(where[id(p)]) for p in model.encoder.parameters()])


@pytest.mark.ext10_4
@pytest.mark.parametrize("estimator", ["pathwise", "score"])
def test_encoder_gradient_matches_reference(torch_track, estimator):
    ref = reference("variance/encoder_gradient")
    model = _vae(torch_track, ref)
    x, eps, baseline = (torch.from_numpy(ref.inputs[k]) for k in ("x", "eps", "baseline"))
    got = call("encoder_gradient", torch_track.estimators.encoder_gradient, model, x, eps, estimator, baseline)
    expected = _expected_encoder_vector(model, ref.outputs, f"{estimator}/encoder")
    check_close(check_tensor(got, "encoder_gradient"), expected,
                f"encoder_gradient(model, x, eps, {estimator!r}, baseline)",
                {"x": ref.inputs["x"], "eps": ref.inputs["eps"], "baseline": ref.inputs["baseline"]},
                rtol=1e-6, atol=1e-8, hint=ENCODER_HINT)
    if any(p.grad is not None for p in model.parameters()):
        fail("encoder_gradient left gradients in the model's .grad fields; use torch.autograd.grad(objective, "
             "list(model.encoder.parameters())) instead of .backward()")


# --- T10.5 --------------------------------------------------------------------------------------------------
@pytest.mark.ext10_5
def test_iwae_train_step_matches_reference(torch_track):
    # The reference is the NumPy track's hand-written Adam; torch.optim.Adam makes the same first step.
    ref = reference("training/iwae_step")
    model = _vae(torch_track, ref)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x, eps = torch.from_numpy(ref.inputs["x"]), torch.from_numpy(ref.inputs["eps"])
    loss = call("iwae_train_step", torch_track.iwae_train.iwae_train_step, model, optimizer, x, eps)
    if not isinstance(loss, float):
        fail(f"iwae_train_step must return the loss as a Python float (loss.item()), got {type(loss).__name__}"
             f"\n  hint: {IWAE_STEP_HINT}")
    check_close(loss, ref.outputs["loss"], "iwae_train_step loss (before the step)", {}, hint=IWAE_STEP_HINT)
    with torch.no_grad():
        for key, linear in vae_layers(model).items():
            for name, param in (("W", linear.weight.T), ("b", linear.bias)):
                check_close(param, ref.outputs[f"new_params/{key}/{name}"],
                            f"parameter {key}/{name} after iwae_train_step", {}, hint=IWAE_STEP_HINT)


@pytest.mark.ext10_5
def test_iwae_train_steps_on_one_batch_raise_the_bound(torch_track):
    ref = reference("training/iwae_step")
    model = _vae(torch_track, ref)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    x, eps = torch.from_numpy(ref.inputs["x"]), torch.from_numpy(ref.inputs["eps"])

    def bound():  # mean L_K of the batch, from the (already graded) Exercises T6 and T9
        with torch.no_grad():
            mu, log_var = model.encoder(x)
            return float(torch.mean(torch_track.iwae.iwae_log_px(x, mu, log_var, eps, model.decoder)))

    before = bound()
    for _ in range(30):
        call("iwae_train_step", torch_track.iwae_train.iwae_train_step, model, optimizer, x, eps)
    after = bound()
    if not after > before + 0.1:
        fail(f"30 iwae_train_steps on one batch (eps fixed) should raise the bound mean(L_K); it went {before:.4f} -> "
             f"{after:.4f}\n  hint: descend the loss -mean(L_K), i.e. ascend the bound: " + IWAE_STEP_HINT)
