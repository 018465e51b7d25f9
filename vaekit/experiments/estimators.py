r"""Experiment ``estimators``: the pathwise against the score-function gradient, on a toy problem and on the VAE.

1. Toy: x ~ N(1, 1), f(x) = (x - k)^2. Monte Carlo variances of the single-sample estimators of d/dmu E f
   (Exercises T10.1, T10.2) against the exact values of :mod:`vaekit.gradient_variance`: pathwise 4 for
   every k; score function 15, 30, 87, 495 for k = 1, 0, -1, -3, less with a baseline.
2. VAE: on one minibatch, R independent single-sample (K = 1) estimates of the encoder's gradient
   (Exercise T10.4) with each estimator, at initialisation and after training; the per-parameter variance
   ratio Var_SF / Var_path. Exercise T10.4's score-function estimator samples the whole integrand
   f = log p(x|z) + log p(z) - log q(z|x), KL included, while the pathwise one uses the closed-form KL; so the
   experiment also measures the like-for-like score-function estimator, score function on log p(x|z) only plus
   the exact gradient of the closed-form KL (:func:`encoder_gradient_sf_analytic_kl`).
3. Training: the same VAE trained with the pathwise gradient and with the score-function gradient for the
   encoder (the decoder keeps its usual gradient), test ELBO after every epoch.

The score-function baseline is b(x) = an ELBO estimate of the same image from M independent draws
(analytic KL), so it does not depend on the eps of the estimate and leaves it unbiased.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import gradient_variance as gv
from ..plotting import new_figure, save_figure
from .common import Settings, model_defaults, start
from .measures import evaluate_elbo

TOY_KS = (1.0, 0.0, -1.0, -3.0)
TOY_MU = TOY_SIGMA = 1.0
# name -> (label, the baseline b as a function of k at mu = sigma = 1)
TOY_ESTIMATORS = {
    "pathwise": ("pathwise", None),
    "score": ("score function, b = 0", lambda k: 0.0),
    "score_mean_baseline": ("score function, b = E f", lambda k: (TOY_MU - k) ** 2 + TOY_SIGMA**2),
    "score_optimal_baseline": ("score function, b = b*", lambda k: float(gv.optimal_baseline(TOY_MU, TOY_SIGMA, k))),
}
# VAE gradient estimators: name -> (estimator of encoder_gradient, use the baseline)
# "score_analytic_kl*": the score function on log p(x|z) only, plus the exact gradient of the closed-form KL.
VAE_ESTIMATORS = {"pathwise": ("pathwise", False), "score": ("score", False), "score_baseline": ("score", True),
                  "score_analytic_kl": ("score_analytic_kl", False),
                  "score_analytic_kl_baseline": ("score_analytic_kl", True)}
LABELS = {"pathwise": "pathwise", "score": "score function", "score_baseline": "score function + baseline",
          "score_analytic_kl": "score function on log p(x|z), exact KL",
          "score_analytic_kl_baseline": "score function on log p(x|z) + baseline, exact KL"}
COLOURS = {"pathwise": "C0", "score": "C3", "score_baseline": "C1", "score_mean_baseline": "C1",
           "score_optimal_baseline": "C2", "score_analytic_kl": "C4", "score_analytic_kl_baseline": "C2"}


def sizes(settings: Settings) -> dict:
    """The experiment's settings at the default or the quick size."""
    s = settings.size
    return {
        "toy_draws": s(100_000, 2_000),
        **model_defaults(),
        "variance_batch": s(128, 16),  # B of the minibatch whose gradient variance is measured
        "variance_repeats": s(400, 12),  # R independent estimates per estimator
        "baseline_draws": 8,  # M draws of the baseline's ELBO estimate
        "pretrain_epochs": s(10, 1),  # epochs before the second variance measurement
        "curve_epochs": s(15, 2),  # epochs of each training curve
        "curve_eval_images": s(2000, 32),
    }


def toy_variances(track, n_draws: int, seed: int) -> list[dict]:
    """Monte Carlo mean and variance (with standard errors) of each toy estimator, beside the exact values."""
    eps = torch.randn(n_draws, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    rows = []
    for k in TOY_KS:
        for name, (_, baseline) in TOY_ESTIMATORS.items():
            if baseline is None:
                g = track.estimators.pathwise_grad_mu(TOY_MU, TOY_SIGMA, eps, k)
                exact = float(gv.exact_variance_pathwise(TOY_MU, TOY_SIGMA, k))
                b = None
            else:
                b = baseline(k)
                g = track.estimators.score_function_grad_mu(TOY_MU, TOY_SIGMA, eps, k, b)
                exact = float(gv.exact_variance_score_function(TOY_MU, TOY_SIGMA, k, b))
            g = g.detach().numpy()
            mean, mean_se = gv.mc_mean(g)
            var, var_se = gv.mc_variance(g)
            rows.append({"k": k, "estimator": name, "baseline": b, "mean": mean, "mean_se": mean_se,
                         "exact_mean": float(gv.exact_grad_mu(TOY_MU, TOY_SIGMA, k)), "variance": var,
                         "variance_se": var_se, "exact_variance": exact})
    return rows


def elbo_baseline(track, model, x: torch.Tensor, n_draws: int, generator: torch.Generator) -> torch.Tensor:
    r"""b(x) = (1/M) sum_m log p(x|z_m) - KL(q(z|x) || p(z)), z_m from M fresh draws: shape (B,), no gradient."""
    with torch.no_grad():
        mu, log_var = model.encoder(x)
        eps = torch.randn((n_draws, *mu.shape), generator=generator, dtype=x.dtype)
        return track.elbo.elbo(x, mu, log_var, eps, model.decoder)[0]


def encoder_gradient_sf_analytic_kl(track, model, x: torch.Tensor, eps: torch.Tensor, baseline=0.0) -> torch.Tensor:
    r"""The like-for-like score-function estimate of the encoder's gradient of the minibatch's mean ELBO.

    .. math::
        z_k = \mathrm{stop}(\mu + \sigma\odot\varepsilon_k), \qquad
        g = \nabla_\phi \frac1B\sum_b\Big[\frac1K\sum_k \log q_\phi(z_k\mid x_b)\,
            \mathrm{stop}\big(\log p_\theta(x_b\mid z_k) - b(x_b)\big)
            - \mathrm{KL}\big(q_\phi(z\mid x_b)\,\|\,p(z)\big)\Big]

    Only the expected log-likelihood is estimated by the score function; the KL term is differentiated in
    closed form, exactly as in the pathwise estimator, so the two differ only in how they treat log p(x|z).

    Args:
        track: the PyTorch track (``track.gaussian``, ``track.continuous_bernoulli``, ``track.kl``).
        model: a VAE (``model.encoder``, ``model.decoder``).
        x: images, tensor of shape (B, D_x).
        eps: standard normal noise, tensor of shape (K, B, D_z).
        baseline: b, a float or a tensor of shape (B,), computed without these eps.

    Returns:
        Tensor of shape (P_enc,): the gradient, flat, in the layout of ``parameters_to_vector(model.encoder)``.
    """
    phi = list(model.encoder.parameters())
    mu, log_var = model.encoder(x)
    z = (mu + torch.exp(0.5 * log_var) * eps).detach()  # (K, B, D_z)
    log_q = track.gaussian.log_normal_diag(z, mu, log_var)  # (K, B)
    with torch.no_grad():
        log_lik = track.continuous_bernoulli.cb_log_prob(x, model.decoder(z))  # (K, B)
    surrogate = torch.mean(log_q * (log_lik - baseline), dim=0) - track.kl.kl_to_standard_normal(mu, log_var)
    grads = torch.autograd.grad(torch.mean(surrogate), phi)
    return torch.cat([g.reshape(-1) for g in grads])


def encoder_gradient(track, model, x: torch.Tensor, eps: torch.Tensor, estimator: str, baseline=0.0):
    """One encoder gradient by ``estimator`` (``pathwise``, ``score`` or ``score_analytic_kl``), shape (P_enc,)."""
    if estimator == "score_analytic_kl":
        return encoder_gradient_sf_analytic_kl(track, model, x, eps, baseline)
    return track.estimators.encoder_gradient(model, x, eps, estimator, baseline)


def gradient_moments(track, model, x: torch.Tensor, repeats: int, baseline_draws: int, generator,
                     progress) -> dict:
    """Mean and variance of R single-sample encoder gradients per estimator on the minibatch x.

    Returns:
        ``{name: RunningMoments}`` with ``.mean`` and ``.variance`` of shape (P_enc,).
    """
    z_dim = model.encoder.to_mu.out_features
    moments = {name: gv.RunningMoments() for name in VAE_ESTIMATORS}
    for _ in range(repeats):
        for name, (estimator, with_baseline) in VAE_ESTIMATORS.items():
            eps = torch.randn((1, len(x), z_dim), generator=generator, dtype=x.dtype)
            b = 0.0
            if with_baseline:  # an estimate of the same quantity the estimator multiplies by the score
                b = elbo_baseline(track, model, x, baseline_draws, generator)
                if estimator == "score_analytic_kl":  # E_q log p(x|z) = ELBO + KL
                    with torch.no_grad():
                        b = b + track.kl.kl_to_standard_normal(*model.encoder(x))
            moments[name].update(encoder_gradient(track, model, x, eps, estimator, b).double().numpy())
        progress.update(1)
    return moments


def variance_summary(moments: dict) -> dict:
    """The ratios Var_SF / Var_path over the parameters that both estimators move (summary and log10 values)."""
    var = {name: m.variance for name, m in moments.items()}
    path = var["pathwise"]
    summary = {"n_parameters": int(path.size), "log10_ratios": {}}
    for name in [n for n in moments if n != "pathwise"]:
        used = (path > 0) & (var[name] > 0)  # parameters of dead ReLU units get exactly zero gradient
        ratio = var[name][used] / path[used]
        summary[name] = {
            "n_compared": int(used.sum()),
            "median_ratio": float(np.median(ratio)),
            "p10_ratio": float(np.percentile(ratio, 10)),
            "p90_ratio": float(np.percentile(ratio, 90)),
            "total_variance_ratio": float(var[name].sum() / path.sum()),
        }
        summary["log10_ratios"][name] = np.log10(ratio)
    summary["mean_abs_gradient"] = float(np.mean(np.abs(moments["pathwise"].mean)))
    return summary


def score_function_step(track, baseline_draws: int, generator: torch.Generator):
    r"""A training step whose encoder gradient is the score-function estimate (with the ELBO baseline when
    ``baseline_draws`` > 0) and whose decoder gradient is the usual one, grad_theta mean_k log p(x|z_k).

    Returns ``step(model, optimizer, x, eps) -> loss`` with loss = -(mean_k log p(x|z_k) - KL), a float.
    """

    def step(model, optimizer, x, eps):
        optimizer.zero_grad()
        mu, log_var = model.encoder(x)
        b = elbo_baseline(track, model, x, baseline_draws, generator) if baseline_draws else 0.0
        encoder_term = track.estimators.score_function_surrogate(x, mu, log_var, eps, model.decoder, b)
        z = track.reparam.reparameterize(mu, log_var, eps).detach()
        log_lik = torch.mean(track.continuous_bernoulli.cb_log_prob(x, model.decoder(z)), dim=0)
        (-torch.mean(encoder_term + log_lik)).backward()
        optimizer.step()
        kl = track.kl.kl_to_standard_normal(mu, log_var).detach()
        return float(-torch.mean(log_lik.detach() - kl))

    return step


def run(settings: Settings) -> dict:
    """Run the experiment (see the module docstring); write its figures and results.json."""
    ex = start(settings, sizes)
    cfg, track, data, out = ex.cfg, ex.track, ex.data, ex.out
    generator = torch.Generator().manual_seed(settings.seed)
    z_dim = cfg["latent_dim"]
    x_var = data.x_train[: cfg["variance_batch"]]
    x_eval = data.x_test[: cfg["curve_eval_images"]]
    total = 1 + 2 * cfg["variance_repeats"] + cfg["pretrain_epochs"] + 3 * cfg["curve_epochs"]
    with tqdm(total=total, desc="estimators", unit="step") as progress:
        progress.set_postfix_str("toy problem")
        toy = toy_variances(track, cfg["toy_draws"], settings.seed)
        progress.update(1)

        progress.set_postfix_str("gradient variance")
        model = ex.new_vae(z_dim)
        summaries = {"initial": variance_summary(gradient_moments(
            track, model, x_var, cfg["variance_repeats"], cfg["baseline_draws"], generator, progress))}
        ex.train(model, cfg["pretrain_epochs"], track.optim.train_step, generator, progress)
        summaries["trained"] = variance_summary(gradient_moments(
            track, model, x_var, cfg["variance_repeats"], cfg["baseline_draws"], generator, progress))

        curves = {}
        steps = {"pathwise": track.optim.train_step,
                 "score_baseline": score_function_step(track, cfg["baseline_draws"], generator),
                 "score": score_function_step(track, 0, generator)}
        for name, step in steps.items():
            progress.set_postfix_str(f"training with {LABELS[name]}")
            model = ex.new_vae(z_dim)
            curve = [evaluate_elbo(track, model, x_eval, settings.seed)["elbo"]]
            ex.train(model, cfg["curve_epochs"], step, generator, progress,
                     after_epoch=lambda e: curve.append(evaluate_elbo(track, model, x_eval, settings.seed)["elbo"]))
            curves[name] = curve

    figures = [
        plot_toy(out / "estimators_toy.png", toy),
        plot_vae_variance(out / "estimators_vae_variance.png", summaries, cfg["pretrain_epochs"]),
        plot_training(out / "estimators_training.png", curves, len(x_eval)),
    ]
    results = {
        "toy": toy,
        "vae_variance": {when: {k: v for k, v in s.items() if k != "log10_ratios"} for when, s in summaries.items()},
        "training_test_elbo": curves,
        "unit": "variance in (gradient units)^2; ELBO in nats/image",
    }
    return ex.finish(results, figures)


def plot_toy(path: Path, rows: list[dict]) -> Path:
    """Variance against k for each toy estimator: Monte Carlo (points, 2 s.e. bars) and exact (open circles)."""
    fig = new_figure(6.4, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    positions = np.arange(len(TOY_KS))
    for j, (name, (label, _)) in enumerate(TOY_ESTIMATORS.items()):
        sel = [r for r in rows if r["estimator"] == name]
        x = positions + (j - 1.5) * 0.12
        ax.errorbar(x, [r["variance"] for r in sel], yerr=[2 * r["variance_se"] for r in sel], fmt="x",
                    color=COLOURS[name], label=f"{label} (Monte Carlo)")
        ax.plot(x, [r["exact_variance"] for r in sel], "o", mfc="none", color=COLOURS[name], ms=9)
    ax.plot([], [], "o", mfc="none", color="grey", label="exact")
    ax.set_xticks(positions, [f"k = {k:g}" for k in TOY_KS])
    ax.set_yscale("log")
    ax.set_ylabel("variance of the single-sample estimate")
    ax.set_title(r"d/d$\mu$ E[(x - k)$^2$], x ~ N(1, 1): variance of the estimators", fontsize=11)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return save_figure(fig, path)


def plot_vae_variance(path: Path, summaries: dict, epochs: int) -> Path:
    """Histograms of log10(Var_SF / Var_path) over the encoder's parameters, at initialisation and trained."""
    fig = new_figure(9.0, 4.2)
    axes = fig.subplots(1, 2, sharey=True)
    titles = {"initial": "at initialisation", "trained": f"after {epochs} epoch{'s' * (epochs != 1)}"}
    for ax, (when, s) in zip(axes, summaries.items()):
        ratios = s["log10_ratios"]
        lo = min(min(r.min() for r in ratios.values()), 0.0)
        hi = max(max(r.max() for r in ratios.values()), 1.0)
        bins = np.linspace(lo, hi, 40)
        for name, r in ratios.items():
            ax.hist(r, bins=bins, alpha=0.6, color=COLOURS[name],
                    label=f"{LABELS[name]}: median {s[name]['median_ratio']:.3g}")
        ax.axvline(0.0, color="k", lw=0.8)
        ax.set_xlabel(r"log$_{10}$ Var$_{SF}$ / Var$_{path}$ per encoder parameter")
        ax.set_title(titles[when], fontsize=10)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("parameters")
    fig.suptitle("Encoder gradient, one minibatch, K = 1: score-function variance relative to pathwise", fontsize=11)
    return save_figure(fig, path)


def plot_training(path: Path, curves: dict, n_eval: int) -> Path:
    """Test ELBO after each epoch when the encoder is trained with each gradient estimator."""
    fig = new_figure(6.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    for name, curve in curves.items():
        ax.plot(range(len(curve)), curve, "o-", ms=3, color=COLOURS[name], label=LABELS[name])
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"test ELBO (nats/image, {n_eval} images)")
    ax.set_title("Training the encoder with each gradient estimator", fontsize=11)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9)
    return save_figure(fig, path)
