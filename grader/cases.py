"""The inputs of the grader's value checks, and how the reference solution computes their expected outputs.

Each case has a name (``"<module>/<what>"``), seeded inputs, and a function that computes the expected
outputs with the reference NumPy/autograd track. ``python -m grader.reference --write`` runs them against
``solutions/`` and freezes inputs and outputs into ``grader/reference.npz``; the grader only reads that file,
so a student handout needs no solution code. Both tracks are graded against the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

from .pytrees import flat_to_tree, tree_to_flat


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[np.random.Generator], dict]  # rng -> inputs (arrays; pytrees as flat "a/b/0/W" keys)
    reference: Callable  # (track, **inputs) -> dict of outputs


CASES: dict[str, Case] = {}

# Logits at which the continuous Bernoulli is delicate: exactly eta = 1/2, inside and at both sides of the
# Taylor windows in use (|l| = 0.01 here; probs 0.499/0.501, i.e. |l| ~ 0.004, in torch), eta = 1e-6 and
# 1 - 1e-6, and saturated logits.
CB_EDGE_LOGITS = np.array(
    [0.0, 1e-12, -1e-12, 1e-6, -1e-6, 1e-3, -1e-3, 0.0039, -0.0039, 0.0041, -0.0041, 0.0099, -0.0099,
     0.0101, -0.0101, 0.5, -0.5, np.log(1e-6 / (1 - 1e-6)), np.log((1 - 1e-6) / 1e-6), 30.0, -30.0, 80.0, -80.0]
)


def case(name: str, build: Callable[[np.random.Generator], dict]):
    """Register a case: ``@case(name, build)`` on its reference function."""

    def register(reference):
        CASES[name] = Case(name, build, reference)
        return reference

    return register


def _grads(f, inputs: dict, wrt: tuple[str, ...]) -> dict:
    """Gradients of sum(f(**inputs)) with respect to the named inputs, by autograd: ``{"grad_<name>": ...}``."""
    from autograd import grad

    out = {}
    for key in wrt:
        def scalar(value, key=key):
            return f(**{**inputs, key: value}).sum()
        out[f"grad_{key}"] = grad(scalar)(inputs[key])
    return out


# --- Exercise 1: Gaussian log densities -------------------------------------------------------------------
def _gauss_inputs(rng, x_shape=(4, 5), param_shape=(4, 5)):
    log_var = rng.uniform(-3, 3, param_shape)
    log_var.flat[:2] = [20.0, -20.0]  # |log_var| up to 20
    return {"x": rng.normal(size=x_shape), "mu": rng.normal(size=param_shape), "log_var": log_var}


@case("gaussian/log_normal_diag", _gauss_inputs)
def _(t, x, mu, log_var):
    f = t.gaussian.log_normal_diag
    return {"value": f(x, mu, log_var), **_grads(f, dict(x=x, mu=mu, log_var=log_var), ("x", "mu", "log_var"))}


@case("gaussian/log_normal_diag_broadcast", partial(_gauss_inputs, x_shape=(3, 4, 5)))
def _(t, x, mu, log_var):
    return {"value": t.gaussian.log_normal_diag(x, mu, log_var)}


@case("gaussian/log_standard_normal", lambda rng: {"z": rng.normal(size=(2, 6, 3)) * 2})
def _(t, z):
    f = t.gaussian.log_standard_normal
    return {"value": f(z), **_grads(f, dict(z=z), ("z",))}


# --- Exercise 2: continuous Bernoulli ---------------------------------------------------------------------
@case("cb/log_norm_random", lambda rng: {"logits": rng.normal(0, 4, size=(6, 7))})
def _(t, logits):
    f = t.continuous_bernoulli.cb_log_norm
    return {"value": f(logits), **_grads(f, dict(logits=logits), ("logits",))}


@case("cb/log_norm_edges", lambda rng: {"logits": CB_EDGE_LOGITS.copy()})
def _(t, logits):
    f = t.continuous_bernoulli.cb_log_norm
    return {"value": f(logits), **_grads(f, dict(logits=logits), ("logits",))}


def _cb_prob_inputs(rng, k=None):
    x = rng.uniform(size=(4, 10))
    x[0, :3] = [0.0, 1.0, 0.5]  # pixels exactly 0, 1 and 1/2
    shape = (4, 10) if k is None else (k, 4, 10)
    logits = rng.normal(0, 4, size=shape)
    logits.flat[:len(CB_EDGE_LOGITS)] = CB_EDGE_LOGITS
    return {"x": x, "logits": logits}


@case("cb/log_prob", _cb_prob_inputs)
def _(t, x, logits):
    f = t.continuous_bernoulli.cb_log_prob
    return {"value": f(x, logits), **_grads(f, dict(x=x, logits=logits), ("logits",))}


@case("cb/log_prob_broadcast", partial(_cb_prob_inputs, k=3))
def _(t, x, logits):
    return {"value": t.continuous_bernoulli.cb_log_prob(x, logits)}


@case("cb/mean", lambda rng: {"logits": np.concatenate([CB_EDGE_LOGITS, rng.normal(0, 4, size=20)])})
def _(t, logits):
    return {"value": t.continuous_bernoulli.cb_mean(logits)}


# --- Exercises 3 and 4: KL and the reparameterised sample -------------------------------------------------
def _posterior_inputs(rng, b=5, d=3):
    log_var = rng.uniform(-4, 4, size=(b, d))
    log_var.flat[:2] = [20.0, -20.0]
    return {"mu": rng.normal(0, 2, size=(b, d)), "log_var": log_var}


@case("kl/random", _posterior_inputs)
def _(t, mu, log_var):
    f = t.kl.kl_to_standard_normal
    return {"value": f(mu, log_var), **_grads(f, dict(mu=mu, log_var=log_var), ("mu", "log_var"))}


@case("reparam/random", lambda rng: {**_posterior_inputs(rng, 4, 3), "eps": rng.normal(size=(2, 4, 3))})
def _(t, mu, log_var, eps):
    f = t.reparam.reparameterize
    return {"value": f(mu, log_var, eps), **_grads(f, dict(mu=mu, log_var=log_var, eps=eps), ("mu", "log_var"))}


# --- Exercises 5 and 9: the ELBO and the importance-weighted bound with a linear decoder -------------------
def _elbo_inputs(rng, k=5, b=4, d_z=3, d_x=6):
    return {
        "x": rng.uniform(size=(b, d_x)),
        "mu": rng.normal(size=(b, d_z)),
        "log_var": rng.uniform(-2, 1, size=(b, d_z)),
        "eps": rng.normal(size=(k, b, d_z)),
        "W": rng.normal(size=(d_z, d_x)),
        "b": rng.normal(size=(d_x,)),
    }


def linear_decoder(W, b):
    """The decoder used by the ELBO and IWAE cases: z (K, B, D_z) -> logits z @ W + b (K, B, D_x)."""
    return lambda z: z @ W + b


def _elbo_terms(t, x, mu, log_var, eps, W, b):
    return t.elbo.elbo(x, mu, log_var, eps, linear_decoder(W, b))


@case("elbo/linear_decoder", _elbo_inputs)
def _(t, **inputs):
    elbo, log_lik, kl = _elbo_terms(t, **inputs)
    grads = _grads(lambda **i: _elbo_terms(t, **i)[0], inputs, ("mu", "log_var", "W", "b"))
    return {"elbo": elbo, "log_lik": log_lik, "kl": kl, **grads}


def _iwae(t, x, mu, log_var, eps, W, b):
    return t.iwae.iwae_log_px(x, mu, log_var, eps, linear_decoder(W, b))


@case("iwae/linear_decoder", partial(_elbo_inputs, k=7))
def _(t, **inputs):
    return {"value": _iwae(t, **inputs), **_grads(lambda **i: _iwae(t, **i), inputs, ("mu", "log_var", "W"))}


# --- Exercise 6: the networks, at a small size --------------------------------------------------------------
NET_SIZES = {"x_dim": 6, "hidden_dims": (5,), "z_dim": 2}


def _net_inputs(rng, k=3, b=4, sizes=NET_SIZES):
    """Random VAE parameters of ``sizes`` (flat, under ``params/``), x of shape (b, x_dim) in [0, 1) and
    eps of shape (k, b, z_dim)."""
    from .pytrees import random_vae_params

    params = random_vae_params(rng, **sizes)
    x = rng.uniform(size=(b, sizes["x_dim"]))
    return {**tree_to_flat(params, "params"), "x": x, "eps": rng.normal(size=(k, b, sizes["z_dim"]))}


@case("networks/forward", _net_inputs)
def _(t, x, eps, **flat):
    from autograd import grad
    from autograd.misc import flatten

    params = flat_to_tree(flat, "params")
    mu, log_var = t.networks.encode(params["encoder"], x)
    z = mu + np.exp(0.5 * log_var) * eps
    elbo, log_lik, kl = t.networks.vae_forward(params, x, eps)
    theta, unflatten = flatten(params)
    grad_theta = grad(lambda th: t.networks.vae_forward(unflatten(th), x, eps)[0].sum())(theta)
    grads = tree_to_flat(unflatten(grad_theta), "grad_params")
    return {"mu": mu, "log_var": log_var, "z": z, "logits": t.networks.decode(params["decoder"], z),
            "elbo": elbo, "log_lik": log_lik, "kl": kl, **grads}


# --- Exercise 7: Adam and the training step ---------------------------------------------------------------
@case("optim/adam_three_steps", lambda rng: {"theta": rng.normal(size=7), "grads": rng.normal(size=(3, 7)) * [[1], [10], [0.1]]})
def _(t, theta, grads):
    state = t.optim.adam_init(theta)
    thetas, ms, vs = [], [], []
    for g in grads:
        theta, state = t.optim.adam_update(theta, g, state, lr=0.01)
        thetas.append(theta), ms.append(state["m"]), vs.append(state["v"])
    return {"theta": np.array(thetas), "m": np.array(ms), "v": np.array(vs)}


@case("optim/train_step", _net_inputs)
def _(t, x, eps, **flat):
    from autograd.misc import flatten

    params = flat_to_tree(flat, "params")
    state = t.optim.adam_init(flatten(params)[0])
    new_params, state, loss = t.optim.train_step(params, state, x, eps, lr=0.01)
    return {"loss": np.array(loss), **tree_to_flat(new_params, "new_params")}


@case("iwae/large_log_weights", partial(_elbo_inputs, k=6))
def _(t, x, mu, log_var, eps, W, b):
    # log weights around -1e3: a naive log(mean(exp(log_w))) underflows to -inf.
    return {"value": _iwae(t, x, mu, log_var, eps, 300.0 * W, b)}


# --- Exercise 8: evaluation with a (numerically) deterministic encoder --------------------------------------
def _evaluate_inputs(rng):
    inputs = _net_inputs(rng, k=1, b=10)
    inputs["params/encoder/to_log_var/b"] = inputs["params/encoder/to_log_var/b"] - 60.0  # sigma ~ 1e-13
    del inputs["eps"]
    return inputs


@case("train/evaluate_deterministic", _evaluate_inputs)
def _(t, x, **flat):
    params = flat_to_tree(flat, "params")
    terms = t.networks.vae_forward(params, x, np.zeros((1, len(x), NET_SIZES["z_dim"])))
    return {name: np.mean(v) for name, v in zip(("elbo", "log_lik", "kl"), terms)}


# --- Exercise 10: gradient estimators and the IWAE training step -------------------------------------------
# (Named "variance/..." and "training/..." so that they sort after the cases above: a case's seed is its place
# in the sorted list, and new names placed last leave the inputs of the older cases unchanged.)
def _toy_inputs(rng, n=12):
    return {"mu": np.array(rng.normal()), "sigma": np.array(rng.uniform(0.5, 2.0)), "k": np.array(2 * rng.normal()),
            "baseline": np.array(3 * rng.normal()), "eps": rng.normal(size=n)}


@case("variance/toy", _toy_inputs)
def _(t, mu, sigma, k, baseline, eps):
    mu, sigma, k, baseline = float(mu), float(sigma), float(k), float(baseline)
    e = t.estimators
    return {"pathwise": e.pathwise_grad_mu(mu, sigma, eps, k), "score": e.score_function_grad_mu(mu, sigma, eps, k),
            "score_baseline": e.score_function_grad_mu(mu, sigma, eps, k, baseline)}


def _surrogate(t, x, mu, log_var, eps, W, b, baseline):
    return t.estimators.score_function_surrogate(x, mu, log_var, eps, linear_decoder(W, b), baseline)


# Draws of the Monte Carlo estimate of the ELBO's expected gradient: batches of this many eps each.
EXPECTED_GRAD_DRAWS = (200, 1000)


@case("variance/surrogate", lambda rng: {**_elbo_inputs(rng, k=5), "baseline": rng.normal(0, 3, size=4)})
def _(t, baseline, **inputs):
    import warnings

    f = partial(_surrogate, t, baseline=baseline)
    out = {"value": f(**inputs), "value_no_baseline": _surrogate(t, **inputs, baseline=0.0)}
    with warnings.catch_warnings():  # autograd warns that the surrogate does not depend on W: it must not
        warnings.simplefilter("ignore", UserWarning)
        out.update(_grads(lambda **i: f(**i), inputs, ("mu", "log_var", "W")))
    # The exact gradient of sum_b E_q[ELBO(x_b)] w.r.t. mu and log_var, estimated with the pathwise gradient
    # over many eps, and its standard error: the score-function estimate must agree with it on average.
    rng = np.random.default_rng(0)
    n_batches, k = EXPECTED_GRAD_DRAWS
    for key in ("mu", "log_var"):
        draws = np.array([
            _grads(lambda **i: _elbo_terms(t, **i)[0],
                   {**inputs, "eps": rng.normal(size=(k, *inputs["mu"].shape))}, (key,))[f"grad_{key}"]
            for _ in range(n_batches)])
        out[f"expected_grad_{key}"] = draws.mean(axis=0)
        out[f"expected_grad_{key}_se"] = draws.std(axis=0, ddof=1) / np.sqrt(n_batches)
    return out


@case("variance/encoder_gradient", lambda rng: {**_net_inputs(rng, k=2, b=4), "baseline": rng.normal(0, 3, size=4)})
def _(t, x, eps, baseline, **flat):
    from autograd.misc import flatten

    params = flat_to_tree(flat, "params")
    _, unflatten = flatten(params["encoder"])
    out = {}
    for estimator in ("pathwise", "score"):
        g = t.estimators.encoder_gradient(params, x, eps, estimator, baseline)
        out.update(tree_to_flat(unflatten(g), f"{estimator}/encoder"))
    return out


@case("training/iwae_step", partial(_net_inputs, k=5))
def _(t, x, eps, **flat):
    from autograd.misc import flatten

    params = flat_to_tree(flat, "params")
    state = t.optim.adam_init(flatten(params)[0])
    new_params, state, loss = t.iwae_train.iwae_train_step(params, state, x, eps, lr=0.01)
    return {"loss": np.array(loss), **tree_to_flat(new_params, "new_params")}


# --- Wider checks of the NumPy track (grader/numpy_ag): float32, state carried between calls, noise -----------
# Their names start with "wider/". Like every case, their inputs come from a generator seeded by the case's own
# name (grader/reference.py), so cases added later leave them unchanged.
def _wider(name: str, build: Callable[[np.random.Generator], dict]):
    return case(name, build)


SEED_WIDER = 20240610


def _f32_points() -> np.ndarray:
    """Float32 logits on both sides of the Taylor window 1e-2 of log C and the mean, and of the window 0.1 of the
    log-partition series of log p (and at each, +- 3 ulps); between 1e-3 and each window (where a window that is
    too small loses the gradient); at 0, tiny, moderate and saturated logits."""
    edge = []
    for w in (np.float32(1e-2), np.float32(0.1)):
        edge.append(w)
        for direction in (np.float32(0.0), np.float32(1.0)):
            p = w
            for _ in range(3):
                p = np.nextafter(p, direction)
                edge.append(p)
    inner = [1.02e-3, 1.05e-3, 1.1e-3, 1.2e-3, 1.35e-3, 1.5e-3, 1.75e-3, 2e-3, 2.5e-3, 3e-3, 4e-3, 5e-3, 7e-3,
             9.9e-3, 1.5e-2, 3e-2, 5e-2, 7e-2, 9e-2]
    other = [0.0, 1e-8, 1e-6, 1e-4, 9.99e-4, 1.01e-2, 2e-2, 0.101, 0.12, 0.5, 2.0, 5.0, 20.0, 30.0, 80.0, 100.0]
    pos = np.array(edge + inner + other, dtype=np.float32)
    return np.concatenate([pos, -pos[pos > 0]]).astype(np.float64)


def _cb_f32_inputs(rng):
    logits = _f32_points()
    x = rng.uniform(size=logits.shape).astype(np.float32).astype(np.float64)
    x[:3] = [0.0, 1.0, 0.5]
    return {"logits": logits, "x": x}


@_wider("wider/cb_float32", _cb_f32_inputs)
def _(t, logits, x):
    cb = t.continuous_bernoulli
    log_prob = lambda logits: cb.cb_log_prob(x[:, None], logits[:, None])  # noqa: E731  (one pixel per point)
    return {"log_norm": cb.cb_log_norm(logits), "mean": cb.cb_mean(logits), "log_prob": log_prob(logits),
            **{f"log_norm_{k}": v for k, v in _grads(cb.cb_log_norm, {"logits": logits}, ("logits",)).items()},
            **{f"mean_{k}": v for k, v in _grads(cb.cb_mean, {"logits": logits}, ("logits",)).items()},
            **{f"log_prob_{k}": v for k, v in _grads(log_prob, {"logits": logits}, ("logits",)).items()}}


DEEP_SIZES = {"x_dim": 6, "hidden_dims": (5, 4), "z_dim": 3}


@_wider("wider/networks_two_hidden_layers", partial(_net_inputs, sizes=DEEP_SIZES))
def _(t, x, eps, **flat):
    params = flat_to_tree(flat, "params")
    mu, log_var = t.networks.encode(params["encoder"], x)
    z = mu + np.exp(0.5 * log_var) * eps
    elbo, log_lik, kl = t.networks.vae_forward(params, x, eps)
    return {"mu": mu, "log_var": log_var, "z": z, "logits": t.networks.decode(params["decoder"], z),
            "elbo": elbo, "log_lik": log_lik, "kl": kl}


def _two_steps_inputs(rng, k=2):
    inputs = _net_inputs(rng, k=k, b=4)
    inputs["eps2"] = rng.normal(size=inputs["eps"].shape)
    return inputs


def _two_adam_steps(t, step, loss_of, x, eps, eps2, flat):
    """Two calls of ``step`` (train_step or iwae_train_step) with eps, then eps2: the loss, the gradient of
    the loss, the Adam state and the parameters after each."""
    from autograd import grad
    from autograd.misc import flatten

    params = flat_to_tree(flat, "params")
    theta, unflatten = flatten(params)
    state = t.optim.adam_init(theta)
    out = {}
    for i, e in enumerate((eps, eps2), start=1):
        theta, unflatten = flatten(params)
        out[f"grad_{i}"] = grad(lambda th: loss_of(unflatten(th), x, e))(theta)
        params, state, loss = step(params, state, x, e, lr=0.01)
        out.update({f"loss_{i}": np.array(loss), f"m_{i}": state["m"], f"v_{i}": state["v"],
                    f"t_{i}": np.array(state["t"]), f"theta_{i}": flatten(params)[0]})
    return out


@_wider("wider/train_step_twice", _two_steps_inputs)
def _(t, x, eps, eps2, **flat):
    def loss(params, x, eps):
        return -np.mean(t.networks.vae_forward(params, x, eps)[0])
    return _two_adam_steps(t, t.optim.train_step, loss, x, eps, eps2, flat)


@_wider("wider/iwae_train_step_twice", partial(_two_steps_inputs, k=5))
def _(t, x, eps, eps2, **flat):
    def loss(params, x, eps):
        mu, log_var = t.networks.encode(params["encoder"], x)
        return -np.mean(t.iwae.iwae_log_px(x, mu, log_var, eps, lambda z: t.networks.decode(params["decoder"], z)))
    return _two_adam_steps(t, t.iwae_train.iwae_train_step, loss, x, eps, eps2, flat)


# Draws of eps for the expected value and variance of evaluate's estimate (per image), in chunks of this many.
EVALUATE_DRAWS = (40, 10_000)


def _evaluate_noisy_inputs(rng):
    inputs = _net_inputs(rng, k=1, b=10)
    del inputs["eps"]
    return inputs


@_wider("wider/evaluate_noisy", _evaluate_noisy_inputs)
def _(t, x, **flat):
    # evaluate(params, x, rng, n_samples=K) estimates the mean over the N images of E_eps[ELBO(x_n)]; each image
    # has its own K draws, so its variance is sum_n Var_1(ELBO(x_n)) / (K N^2) with Var_1 the single-draw variance
    params = flat_to_tree(flat, "params")
    rng = np.random.default_rng(SEED_WIDER)
    n_chunks, m = EVALUATE_DRAWS
    z_dim = NET_SIZES["z_dim"]
    draws = np.concatenate([t.networks.vae_forward(params, np.broadcast_to(x, (m, *x.shape)).reshape(-1, x.shape[1]),
                                                   rng.normal(size=(1, m * len(x), z_dim)))[0].reshape(m, len(x))
                            for _ in range(n_chunks)])  # (M, N) single-draw ELBOs
    n_draws = len(draws)
    per_image_var = draws.var(axis=0, ddof=1)
    return {"expected_elbo": np.mean(draws), "expected_elbo_se": np.sqrt(per_image_var.sum() / len(x) ** 2 / n_draws),
            "single_draw_variance": per_image_var.sum() / len(x) ** 2,
            "expected_kl": np.mean(t.networks.vae_forward(params, x, np.zeros((1, len(x), z_dim)))[2])}


# Batches of eps for the expected encoder gradient (pathwise, K = 200 per batch) of 10.4's unbiasedness check.
ENCODER_GRAD_DRAWS = (100, 200)


@_wider("wider/encoder_gradient_expected", lambda rng: {**_net_inputs(rng, k=1, b=4), "baseline": rng.normal(0, 3, size=4)})
def _(t, x, eps, baseline, **flat):
    params = flat_to_tree(flat, "params")
    rng = np.random.default_rng(SEED_WIDER + 1)
    n_batches, k = ENCODER_GRAD_DRAWS
    draws = np.array([t.estimators.encoder_gradient(params, x, rng.normal(size=(k, *eps.shape[1:])), "pathwise")
                      for _ in range(n_batches)])
    return {"expected": draws.mean(axis=0), "expected_se": draws.std(axis=0, ddof=1) / np.sqrt(n_batches)}
