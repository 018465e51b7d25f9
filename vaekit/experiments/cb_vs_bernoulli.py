r"""Experiment ``cb-vs-bernoulli``: the continuous Bernoulli decoder against the Bernoulli one, on grey levels.

Two VAEs from the same initial weights, trained on the same images, differ only in the log-likelihood of
their loss:

.. math::
    \text{CB:}\ \sum_d \big[x_d l_d - \log(1 + e^{l_d}) + \log C(\eta_d)\big], \qquad
    \text{Bernoulli:}\ \sum_d \big[x_d l_d - \log(1 + e^{l_d})\big],

the second being the binary cross-entropy that many VAE codes apply to grey-level pixels, although for
x in (0, 1) it is not a normalised density. Both are then judged by the properly normalised CB likelihood:
test ELBO and importance-weighted log p(x) (the decoder's logits l define CB(eta) for either model). Also
compared: reconstructions and samples (the CB mean for the CB model, eta = sigmoid(l) for the Bernoulli
one, as each model's user would show them), their squared error to the inputs, and the k-nearest-neighbour
digit accuracy of the encoder means mu(x) (train means as the reference set, test means classified).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..plotting import new_figure, save_figure, show_tiles
from ..training.figures import pick_examples
from .common import Settings, model_defaults, start
from .measures import encode_means, evaluate_elbo, iwae_bound, knn_accuracy

MODELS = ("cb", "bernoulli")
TITLES = {"cb": "continuous Bernoulli (CB mean)", "bernoulli": "Bernoulli (eta)"}


def sizes(settings: Settings) -> dict:
    """The experiment's settings at the default or the quick size."""
    s = settings.size
    return {
        "epochs": s(30, 1),
        "iwae_k": s(500, 20),
        "eval_images": s(1000, 32),  # test images for the importance-weighted log p(x)
        "knn_k": 5,
        **model_defaults(),
    }


def bernoulli_log_lik(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    r"""sum_d [x_d l_d - log(1 + e^{l_d})], the Bernoulli log-likelihood applied to grey levels (unnormalised).

    Args:
        x: images (B, D); logits: (..., B, D). Returns: shape (..., B).
    """
    return torch.sum(x * logits - F.softplus(logits), dim=-1)


def bernoulli_train_step(track):
    """A training step on -mean ELBO with the Bernoulli log-likelihood (analytic KL, pathwise gradient)."""

    def step(model, optimizer, x, eps):
        optimizer.zero_grad()
        mu, log_var = model.encoder(x)
        z = track.reparam.reparameterize(mu, log_var, eps)
        elbo = torch.mean(bernoulli_log_lik(x, model.decoder(z)), dim=0) - track.kl.kl_to_standard_normal(mu, log_var)
        loss = -torch.mean(elbo)
        loss.backward()
        optimizer.step()
        return float(loss.detach())

    return step


def bernoulli_objective(track, model, x: torch.Tensor, seed: int) -> float:
    """Mean Bernoulli 'ELBO' (one sample, analytic KL) over x: the objective the Bernoulli model maximises."""
    generator = torch.Generator().manual_seed(seed)
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(x), 500):
            xb = x[start : start + 500]
            mu, log_var = model.encoder(xb)
            eps = torch.randn((1, *mu.shape), generator=generator, dtype=xb.dtype)
            z = track.reparam.reparameterize(mu, log_var, eps)
            elbo = bernoulli_log_lik(xb, model.decoder(z))[0] - track.kl.kl_to_standard_normal(mu, log_var)
            total += float(torch.sum(elbo))
    return total / len(x)


def decoded(track, model, name: str, z: torch.Tensor) -> np.ndarray:
    """What each model shows for codes z (N, D_z): the CB mean (CB model) or eta = sigmoid(logits) (Bernoulli)."""
    with torch.no_grad():
        logits = model.decoder(z)
        images = track.continuous_bernoulli.cb_mean(logits) if name == "cb" else torch.sigmoid(logits)
    return images.double().numpy()


def run(settings: Settings) -> dict:
    """Run the experiment (see the module docstring); write its figures and results.json."""
    ex = start(settings, sizes)
    cfg, track, data = ex.cfg, ex.track, ex.data
    x_eval = data.x_test[: cfg["eval_images"]]
    steps = {"cb": track.optim.train_step, "bernoulli": bernoulli_train_step(track)}
    models, results = {}, {name: {} for name in MODELS}
    with tqdm(total=len(MODELS) * (cfg["epochs"] + 1) + 1, desc="cb-vs-bernoulli", unit="step") as progress:
        for name in MODELS:
            progress.set_postfix_str(f"training the {name} model")
            model = ex.new_vae(cfg["latent_dim"])
            ex.train(model, cfg["epochs"], steps[name], torch.Generator().manual_seed(settings.seed), progress)
            model.eval()
            progress.set_postfix_str(f"evaluating the {name} model")
            r = results[name]
            r["cb_test_elbo"] = evaluate_elbo(track, model, data.x_test, settings.seed + 1)
            r["cb_log_px_iwae"] = iwae_bound(track, model, x_eval, cfg["iwae_k"], settings.seed + 1)
            r["bernoulli_objective"] = bernoulli_objective(track, model, data.x_test, settings.seed + 1)
            mu_train, mu_test = encode_means(model, data.x_train), encode_means(model, data.x_test)
            r["knn_accuracy"] = knn_accuracy(mu_train, data.y_train, mu_test, data.y_test, cfg["knn_k"])
            shown = decoded(track, model, name, torch.from_numpy(mu_test).float())
            r["reconstruction_mse"] = float(np.mean((shown - data.x_test.double().numpy()) ** 2))
            r["mean_intensity_shown"] = float(shown.mean())
            models[name] = model
            progress.update(1)
        results["pixels_knn_accuracy"] = knn_accuracy(data.x_train.numpy(), data.y_train, data.x_test.numpy(),
                                                      data.y_test, cfg["knn_k"])
        results["test_mean_intensity"] = float(data.x_test.mean())
        progress.update(1)
    results["unit"] = ("nats/image; cb_log_px_iwae on the first eval_images test images with K = iwae_k, the rest "
                       "on all test images; reconstruction_mse per pixel of what each model shows")
    figures = [plot_reconstructions(ex.out / "cb_vs_bernoulli_reconstructions.png", track, models, data),
               plot_samples(ex.out / "cb_vs_bernoulli_samples.png", track, models, settings.seed)]
    return ex.finish(results, figures)


def plot_reconstructions(path: Path, track, models: dict, data) -> Path:
    """One test digit per class: the input, then each model's reconstruction of it from mu(x)."""
    idx = pick_examples(data.y_test, 1)
    x = data.x_test[idx]
    fig = new_figure(7.0, 3.4)
    axes = fig.subplots(3, 1)
    show_tiles(axes[0], x.double().numpy(), len(idx), "test digits")
    for ax, name in zip(axes[1:], MODELS):
        with torch.no_grad():
            mu = models[name].encoder(x)[0]
        show_tiles(ax, decoded(track, models[name], name, mu), len(idx), f"reconstruction: {TITLES[name]}")
    fig.suptitle("Reconstructions from the encoder mean", fontsize=11)
    return save_figure(fig, path)


def plot_samples(path: Path, track, models: dict, seed: int, n: int = 32) -> Path:
    """The same prior draws z ~ N(0, I) decoded by each model, side by side."""
    z_dim = models["cb"].encoder.to_mu.out_features
    z = torch.randn((n, z_dim), generator=torch.Generator().manual_seed(seed))
    fig = new_figure(8.0, 2.6)
    axes = fig.subplots(1, 2)
    for ax, name in zip(axes, MODELS):
        show_tiles(ax, decoded(track, models[name], name, z), 8, TITLES[name])
    fig.suptitle("Samples: the same z ~ N(0, I) through each decoder", fontsize=11)
    return save_figure(fig, path)
