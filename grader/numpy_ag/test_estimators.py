"""Exercise 10: pathwise and score-function gradients, and the IWAE training step (docs/exercises/estimators.md#ex10_1)."""

import numpy as np
import pytest
from autograd.misc import flatten

from grader.harness import autograd_grads, call, check_close, check_shape, fail, to_numpy
from grader.montecarlo import check_mc_mean, check_mc_variance
from grader.pytrees import flat_to_tree
from grader.reference import reference
from grader.remote import probe

from grader.numpy_ag._adam import check_two_adam_steps
from vaekit.gradient_variance import exact_grad_mu, exact_variance_pathwise, exact_variance_score_function

N_DRAWS = 100_000  # single-sample estimates per Monte Carlo check
TOY_KS = (1.0, 0.0, -1.0, -3.0)  # at mu = sigma = 1: score-function variances 15, 30, 87, 495

PATHWISE_HINT = "x = mu + sigma * eps and the estimate is f'(x) * dx/dmu = 2 (x - k), one per eps"
SCORE_HINT = ("the estimate is (f(x) - baseline) * d/dmu log N(x; mu, sigma^2) = ((x - k)^2 - baseline) * "
              "(x - mu) / sigma^2 with x = mu + sigma * eps")
SURROGATE_HINT = ("z = stop_gradient(mu + sigma * eps); f = log p(x|z) + log p(z) - log q(z|x); the surrogate is the "
                  "mean over the K samples of log q(z|x) * stop_gradient(f - baseline), one value per example")
ENCODER_HINT = ("differentiate the batch MEAN of the ELBO (pathwise) or of the surrogate (score, with the baseline "
                "passed on) with respect to the flat encoder parameters phi of flatten_params(params['encoder']), with "
                "autograd.grad")
ENCODER_HINTS = {
    "factor": "every entry off by the same factor: the gradient of the ELBO (to be ascended, not of the loss) of the "
              "batch MEAN (not the sum) with respect to phi; " + ENCODER_HINT,
}
IWAE_STEP_HINT = "loss = -mean over the batch of iwae_log_px(x, mu, log_var, eps, decode); Adam step on its gradient"


def _toy():
    ref = reference("variance/toy")
    scalars = {key: float(ref.inputs[key]) for key in ("mu", "sigma", "k", "baseline")}
    return ref, scalars


# --- 10.1 ---------------------------------------------------------------------------------------------------
@pytest.mark.ex10_1
@pytest.mark.core
def test_pathwise_estimates_match_reference(np_track):
    ref, s = _toy()
    got = call("pathwise_grad_mu", np_track.estimators.pathwise_grad_mu, s["mu"], s["sigma"], ref.inputs["eps"], s["k"])
    check_close(got, ref.outputs["pathwise"], "pathwise_grad_mu(mu, sigma, eps, k)", {**s, "eps": ref.inputs["eps"]},
                hint=PATHWISE_HINT)


@pytest.mark.ex10_1
@pytest.mark.parametrize("sigma", [1.0, 0.5])
def test_pathwise_mean_and_variance_are_exact(np_track, sigma, rng):
    eps = rng.standard_normal(N_DRAWS)
    for k in TOY_KS:
        name = f"pathwise_grad_mu(mu=1, sigma={sigma}, eps, k={k:g}) over {N_DRAWS} draws of eps"
        g = call("pathwise_grad_mu", np_track.estimators.pathwise_grad_mu, 1.0, sigma, eps, k)
        check_shape(to_numpy(g, name), (N_DRAWS,), name, hint="one estimate per entry of eps")
        check_mc_mean(g, exact_grad_mu(1.0, sigma, k), name, hint="the estimator must be unbiased: " + PATHWISE_HINT)
        check_mc_variance(g, exact_variance_pathwise(1.0, sigma, k), name, hint=PATHWISE_HINT)


# --- 10.2 ---------------------------------------------------------------------------------------------------
@pytest.mark.ex10_2
@pytest.mark.core
def test_score_function_estimates_match_reference(np_track):
    ref, s = _toy()
    eps = ref.inputs["eps"]
    f = np_track.estimators.score_function_grad_mu
    got = call("score_function_grad_mu", f, s["mu"], s["sigma"], eps, s["k"])
    check_close(got, ref.outputs["score"], "score_function_grad_mu(mu, sigma, eps, k) (default baseline 0)",
                {**s, "eps": eps}, hint=SCORE_HINT)
    got = call("score_function_grad_mu", f, s["mu"], s["sigma"], eps, s["k"], s["baseline"])
    check_close(got, ref.outputs["score_baseline"], "score_function_grad_mu(mu, sigma, eps, k, baseline)",
                {**s, "eps": eps}, hint=SCORE_HINT)


@pytest.mark.ex10_2
@pytest.mark.parametrize("with_baseline", [False, True], ids=["no_baseline", "baseline"])
def test_score_function_is_unbiased_with_the_exact_variance(np_track, with_baseline, rng):
    eps = rng.standard_normal(N_DRAWS)
    for k in TOY_KS:
        b = (1.0 - k) ** 2 + 1.0 if with_baseline else 0.0  # b = E[f(x)] at mu = sigma = 1
        name = f"score_function_grad_mu(mu=1, sigma=1, eps, k={k:g}, baseline={b:g}) over {N_DRAWS} draws of eps"
        g = call("score_function_grad_mu", np_track.estimators.score_function_grad_mu, 1.0, 1.0, eps, k, b)
        check_shape(to_numpy(g, name), (N_DRAWS,), name, hint="one estimate per entry of eps")
        check_mc_mean(g, exact_grad_mu(1.0, 1.0, k), name,
                      hint="the score-function estimator is unbiased for any constant baseline: " + SCORE_HINT)
        check_mc_variance(g, exact_variance_score_function(1.0, 1.0, k, b), name, hint=SCORE_HINT)


# --- 10.3 ---------------------------------------------------------------------------------------------------
def _surrogate(np_track, x, mu, log_var, eps, W, b, baseline=None):
    """``score_function_surrogate(x, mu, log_var, eps, decode, baseline)`` with the linear decoder
    ``decode(z) = z @ W + b`` (built in the worker); with ``baseline`` None, without it (its default 0)."""
    more = () if baseline is None else (baseline,)
    return call("score_function_surrogate", probe, np_track, "with_linear_decoder",
                np_track.estimators.score_function_surrogate, x, mu, log_var, eps, W, b, *more)


def _surrogate_grads(np_track, inputs, wrt):
    """Autograd gradients of sum(score_function_surrogate(x, mu, log_var, eps, z -> z @ W + b, baseline))."""
    return autograd_grads(np_track.estimators.score_function_surrogate, inputs, wrt, "score_function_surrogate",
                          linear_decoder=True)


@pytest.mark.ex10_3
@pytest.mark.core
def test_surrogate_matches_reference(np_track):
    ref = reference("variance/surrogate")
    check_close(_surrogate(np_track, **ref.inputs), ref.outputs["value"],
                "score_function_surrogate(x, mu, log_var, eps, decode, baseline)", ref.inputs, hint=SURROGATE_HINT)
    no_baseline = {k: v for k, v in ref.inputs.items() if k != "baseline"}
    got = _surrogate(np_track, **no_baseline)
    check_close(got, ref.outputs["value_no_baseline"], "score_function_surrogate(...) with the default baseline 0",
                no_baseline, hint=SURROGATE_HINT)


@pytest.mark.ex10_3
def test_surrogate_gradients_are_score_function_estimates(np_track):
    ref = reference("variance/surrogate")
    got = _surrogate_grads(np_track, ref.inputs, ("mu", "log_var", "W"))  # d/dW must be 0: only log q has a gradient
    for key in ("mu", "log_var"):
        check_close(got[key], ref.outputs[f"grad_{key}"], f"d sum(score_function_surrogate) / d {key}", ref.inputs,
                    rtol=1e-6, atol=1e-8, hint=SURROGATE_HINT)
    check_close(got["W"], ref.outputs["grad_W"], "d sum(score_function_surrogate) / d W (the decoder's weights)",
                ref.inputs, rtol=1e-6, atol=1e-8,
                hint="only log q(z|x) carries a gradient: stop the gradient of f = log p(x|z) + log p(z) - log q(z|x)")


@pytest.mark.ex10_3
def test_surrogate_gradient_is_unbiased(np_track, rng):
    ref = reference("variance/surrogate")
    inputs = dict(ref.inputs)
    n_batches, k = 40, 1000
    eps = rng.standard_normal((n_batches, k, *inputs["mu"].shape))
    draws = {"mu": [], "log_var": []}
    for batch in eps:
        g = _surrogate_grads(np_track, {**inputs, "eps": batch}, ("mu", "log_var"))
        for key in draws:
            draws[key].append(g[key])
    for key, samples in draws.items():
        check_mc_mean(np.array(samples), ref.outputs[f"expected_grad_{key}"],
                      f"d sum(score_function_surrogate) / d {key}, averaged over {n_batches * k} samples of eps",
                      expected_se=ref.outputs[f"expected_grad_{key}_se"],
                      hint="on average the score-function gradient must equal the gradient of the ELBO; "
                           + SURROGATE_HINT)


@pytest.mark.ex10_3
def test_surrogate_averages_over_the_k_samples(np_track):
    # K identical samples give the same surrogate (and gradient) as one: the mean over k, not the sum.
    ref = reference("variance/surrogate")
    one = {**ref.inputs, "eps": ref.inputs["eps"][:1]}
    copies = {**ref.inputs, "eps": np.repeat(ref.inputs["eps"][:1], 4, axis=0)}
    check_close(_surrogate(np_track, **copies), _surrogate(np_track, **one),
                "score_function_surrogate with 4 copies of one eps vs with it once", copies, hint=SURROGATE_HINT)
    got, expected = _surrogate_grads(np_track, copies, ("mu",)), _surrogate_grads(np_track, one, ("mu",))
    check_close(got["mu"], expected["mu"], "d sum(score_function_surrogate) / d mu with 4 copies of one eps vs once",
                copies, rtol=1e-6, atol=1e-8, hint=SURROGATE_HINT)


# --- 10.4 ---------------------------------------------------------------------------------------------------
@pytest.mark.ex10_4
@pytest.mark.core
@pytest.mark.parametrize("estimator", ["pathwise", "score"])
def test_encoder_gradient_matches_reference(np_track, estimator):
    ref = reference("variance/encoder_gradient")
    params = flat_to_tree(ref.inputs, "params")
    baseline = ref.inputs["baseline"]
    expected, _ = flatten(flat_to_tree(ref.outputs, f"{estimator}/encoder"))
    got = call("encoder_gradient", np_track.estimators.encoder_gradient, params, ref.inputs["x"], ref.inputs["eps"],
               estimator, baseline)
    check_close(got, expected, f"encoder_gradient(params, x, eps, {estimator!r}, baseline)",
                {"x": ref.inputs["x"], "eps": ref.inputs["eps"], "baseline": baseline}, rtol=1e-6, atol=1e-8,
                hint=ENCODER_HINT, hints=ENCODER_HINTS)


@pytest.mark.ex10_4
def test_encoder_gradient_estimators_are_unbiased_and_flat(np_track, rng):
    # 400 score-function estimates (K = 25 samples each, baseline b) of the gradient of the batch's mean ELBO: their
    # mean must be the expected gradient (estimated in the reference with 20,000 pathwise samples; its standard
    # error, about 1/10 of this check's, is taken into account). 400 pathwise estimates (K = 1) too. MC_Z standard
    # errors per entry: a correct estimator fails with probability below 2e-9 per entry (about 1e-7 in all).
    ref = reference("wider/encoder_gradient_expected")
    params = flat_to_tree(ref.inputs, "params")
    x, baseline = ref.inputs["x"], ref.inputs["baseline"]
    n_phi = len(flatten(params["encoder"])[0])
    for estimator, k in (("pathwise", 1), ("score", 25)):
        draws = []
        eps_draws = rng.standard_normal((400, k, *ref.inputs["eps"].shape[1:]))
        first = call("encoder_gradient", np_track.estimators.encoder_gradient, params, x, eps_draws[0], estimator,
                     baseline)
        # the other 399 draws in one request to the worker, each called exactly as the first
        rest = probe(np_track, "call_each", np_track.estimators.encoder_gradient, [params, x, None, estimator, baseline],
                     {}, 2, list(eps_draws[1:]))
        for g in [first, *rest]:
            g = to_numpy(g, "encoder_gradient")
            check_shape(g, (n_phi,), f"encoder_gradient(params, x, eps, {estimator!r}, baseline)",
                        hint="one flat vector in the layout of flatten_params(params['encoder'])")
            draws.append(g)
        check_mc_mean(np.array(draws), ref.outputs["expected"], f"encoder_gradient(..., {estimator!r}) over 400 "
                      f"draws of eps (K = {k})", expected_se=ref.outputs["expected_se"],
                      hint="both estimators are unbiased estimates of the gradient of the batch's mean ELBO; "
                           + ENCODER_HINT)


# --- 10.5 ---------------------------------------------------------------------------------------------------
def _iwae_step_inputs(np_track):
    ref = reference("training/iwae_step")
    params = flat_to_tree(ref.inputs, "params")
    return ref, params, np_track.optim.adam_init(flatten(params)[0])


@pytest.mark.ex10_5
@pytest.mark.core
def test_iwae_train_step_matches_reference(np_track):
    ref, params, state = _iwae_step_inputs(np_track)
    out = call("iwae_train_step", np_track.iwae_train.iwae_train_step, params, state, ref.inputs["x"],
               ref.inputs["eps"], lr=0.01)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        fail(f"iwae_train_step must return (params, state, loss); got {type(out).__name__}")
    new_params, _, loss = out
    if not isinstance(loss, float):
        fail(f"iwae_train_step must return the loss as a Python float, got {type(loss).__name__}")
    check_close(loss, ref.outputs["loss"], "iwae_train_step loss (before the step)", {}, hint=IWAE_STEP_HINT)
    expected = flat_to_tree(ref.outputs, "new_params")
    got_flat, _ = flatten(new_params)
    check_close(got_flat, flatten(expected)[0], "the parameters after iwae_train_step (flattened)", {},
                hint=IWAE_STEP_HINT)


@pytest.mark.ex10_5
def test_iwae_train_steps_on_one_batch_raise_the_bound(np_track):
    ref, params, state = _iwae_step_inputs(np_track)
    x, eps = ref.inputs["x"], ref.inputs["eps"]

    def bound(params):  # mean L_K of the batch, from the (already graded) Exercises 6 and 9:
        # iwae_log_px(x, mu, log_var, eps, decode) with mu, log_var = encode(params["encoder"], x) and the decoder
        # of params, in the worker
        return float(np.mean(to_numpy(probe(np_track, "with_vae_networks", np_track.iwae.iwae_log_px, params, x, eps),
                                      "iwae_log_px")))

    before = bound(params)
    for _ in range(30):
        params, state, _ = call("iwae_train_step", np_track.iwae_train.iwae_train_step, params, state, x, eps, lr=0.01)
    after = bound(params)
    if not after > before + 0.1:
        fail(f"30 iwae_train_steps on one batch (eps fixed) should raise the bound mean(L_K); it went {before:.4f} -> "
             f"{after:.4f}\n  hint: descend the loss -mean(L_K), i.e. ascend the bound: " + IWAE_STEP_HINT)


@pytest.mark.ex10_5
@pytest.mark.core
def test_iwae_train_step_carries_the_adam_state_from_call_to_call(np_track):
    # two calls: eps, then eps2, the second with the state the first returned
    check_two_adam_steps(np_track.iwae_train.iwae_train_step, "iwae_train_step",
                         reference("wider/iwae_train_step_twice"), IWAE_STEP_HINT)
