"""Draw the figures of the theory pages (docs/theory/*.md) into docs/assets/theory/.

    python scripts/make_theory_figures.py                # a few seconds, no data needed
    python scripts/make_theory_figures.py --out DIR      # somewhere else, e.g. to compare

Every curve is computed by the kit's own code: the continuous Bernoulli of the NumPy reference solutions
(``cb_log_prob``, ``cb_log_norm``, ``cb_mean``), its Gaussian densities and ``log_mean_exp``, and the exact
estimator variances of :mod:`vaekit.gradient_variance`. The diagrams (graphical model, encoder and decoder) are
drawn with matplotlib. Each figure is written atomically; :data:`FIGURES` lists the files and the page that
shows each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from solutions.numpy_ag.continuous_bernoulli import cb_log_norm, cb_log_prob, cb_mean  # noqa: E402
from solutions.numpy_ag.gaussian import log_normal_diag  # noqa: E402
from solutions.numpy_ag.iwae import log_mean_exp  # noqa: E402
from vaekit import gradient_variance as gv  # noqa: E402
from vaekit.plotting import new_figure, save_figure  # noqa: E402

DEFAULT_OUT = ROOT / "docs" / "assets" / "theory"

# The 1-D toy model of pages 2 and 6: z ~ N(0, 1), x | z ~ N(z^2, S2), observed x = X_OBS. Its posterior has
# two modes, at about z = +-sqrt(X_OBS), which a single Gaussian q cannot cover.
X_OBS, S2 = 2.0, 0.5
Z_GRID = np.linspace(-4.0, 4.0, 8001)
BROAD_Q = (0.0, float(np.log(1.3**2)))  # (mu, log_var) of a proposal that covers both modes


def toy_log_joint(z):
    """log p(x, z) = log N(x; z^2, S2) + log N(z; 0, 1), elementwise in z (any shape)."""
    z = np.asarray(z, dtype=float)[..., None]  # log_normal_diag sums over the last axis, of length 1 here
    return log_normal_diag(np.full_like(z, X_OBS), z**2, np.full_like(z, np.log(S2))) + log_normal_diag(
        z, np.zeros_like(z), np.zeros_like(z))


def toy_log_px() -> float:
    """log p(x) by the trapezoid rule on Z_GRID (the integrand is negligible outside [-4, 4])."""
    lj = toy_log_joint(Z_GRID)
    m = lj.max()
    return float(m + np.log(np.trapezoid(np.exp(lj - m), Z_GRID)))


def toy_elbo(mu: float, log_var: float) -> float:
    """ELBO of q = N(mu, exp(log_var)) by quadrature: E_q[log p(x, z) - log q(z)]."""
    log_q = log_normal_diag(Z_GRID[:, None], np.array([mu]), np.array([log_var]))
    return float(np.trapezoid(np.exp(log_q) * (toy_log_joint(Z_GRID) - log_q), Z_GRID))


def toy_best_q() -> tuple[float, float]:
    """The Gaussian q (mu, log_var) with the largest ELBO, found on a grid (mu >= 0: the problem is symmetric)."""
    best = max((toy_elbo(m, v), m, v) for m in np.linspace(0.0, 2.5, 51) for v in np.linspace(-4.0, 1.0, 51))
    return best[1], best[2]


def toy_iwae_bounds(mu: float, log_var: float, ks, repeats: int = 4000, seed: int = 0) -> np.ndarray:
    """Monte Carlo L_K = E[log mean_k w_k] of the toy for each K in ``ks`` (``repeats`` draws of K samples)."""
    rng = np.random.default_rng(seed)
    bounds = []
    for k in ks:
        z = mu + np.exp(0.5 * log_var) * rng.standard_normal((k, repeats))
        log_w = toy_log_joint(z) - log_normal_diag(z[..., None], np.array([mu]), np.array([log_var]))
        bounds.append(float(np.mean(log_mean_exp(log_w, axis=0))))
    return np.array(bounds)


def _box(ax, xy, text, width=1.5, height=0.7, colour="#e8eaf6"):
    from matplotlib.patches import FancyBboxPatch

    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                                fc=colour, ec="#3f51b5", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _arrow(ax, start, end, text=None):
    ax.annotate("", xy=end, xytext=start, arrowprops=dict(arrowstyle="-|>", color="#333333", lw=1.3))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.25, text, ha="center", fontsize=9)


def graphical_model(path: Path) -> Path:
    """Page 1: the generative model z -> x inside a plate over N images, theta shared."""
    from matplotlib.patches import Circle, Rectangle

    fig = new_figure(5.2, 2.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.add_patch(Rectangle((0.6, 0.25), 3.4, 1.9, fill=False, ec="#555555", lw=1.0))
    ax.text(3.85, 0.35, "n = 1 … N", ha="right", fontsize=9)
    ax.add_patch(Circle((1.4, 1.2), 0.42, fc="white", ec="#3f51b5", lw=1.5))
    ax.text(1.4, 1.2, r"$z_n$", ha="center", va="center", fontsize=13)
    ax.add_patch(Circle((3.1, 1.2), 0.42, fc="#c5cae9", ec="#3f51b5", lw=1.5))
    ax.text(3.1, 1.2, r"$x_n$", ha="center", va="center", fontsize=13)
    _arrow(ax, (1.85, 1.2), (2.65, 1.2))
    ax.text(2.25, 1.55, r"$p_\theta(x \mid z)$", ha="center", fontsize=9)
    ax.text(1.4, 0.55, r"$p(z) = \mathcal{N}(0, I)$", ha="center", fontsize=9)
    ax.plot([4.7], [2.3], "o", color="#333333", ms=5)
    ax.text(4.85, 2.3, r"$\theta$ (decoder weights)", va="center", fontsize=9)
    _arrow(ax, (4.65, 2.2), (3.45, 1.5))
    ax.set_xlim(0.4, 6.8)
    ax.set_ylim(0.1, 2.6)
    ax.set_aspect("equal")
    ax.axis("off")
    return save_figure(fig, path)


def encoder_decoder(path: Path) -> Path:
    """Page 3: x -> encoder -> (mu, log_var) -> z = mu + sigma * eps -> decoder -> logits -> CB(x; eta)."""
    fig = new_figure(7.0, 2.6)
    ax = fig.add_subplot(1, 1, 1)
    _box(ax, (0.6, 1.0), "image $x$\n784", width=1.0, height=0.9, colour="#c5cae9")
    _box(ax, (2.1, 1.0), "encoder\nMLP", width=1.3, height=0.9)
    _box(ax, (3.65, 1.0), "$\\mu$, $\\gamma$\n20 + 20", width=1.1, height=0.9, colour="#fff3e0")
    _box(ax, (5.2, 1.0), "$z = \\mu + \\sigma\\,\\varepsilon$\n20", width=1.4, height=0.9, colour="#fff3e0")
    _box(ax, (6.85, 1.0), "decoder\nMLP $f_\\theta$", width=1.2, height=0.9)
    _box(ax, (8.45, 1.0), "logits $l$\n784", width=1.1, height=0.9, colour="#c5cae9")
    for a, b in [(1.1, 1.45), (2.75, 3.1), (4.2, 4.5), (5.9, 6.25), (7.45, 7.9)]:
        _arrow(ax, (a, 1.0), (b, 1.0))
    ax.text(5.2, 2.0, r"$\varepsilon \sim \mathcal{N}(0, I)$", ha="center", fontsize=9)
    _arrow(ax, (5.2, 1.85), (5.2, 1.5))
    ax.text(3.65, 0.25, r"$q_\phi(z \mid x) = \mathcal{N}(\mu, \mathrm{diag}\,e^{\gamma})$", ha="center", fontsize=9)
    ax.text(7.6, 0.25, r"$p_\theta(x \mid z) = \prod_d \mathcal{CB}(x_d;\ \mathrm{sigmoid}(l_d))$", ha="center",
            fontsize=9)
    ax.text(4.5, -0.25, "each MLP: one hidden layer of 400 ReLU units", ha="center", fontsize=8, color="#555555")
    ax.set_xlim(0.0, 9.1)
    ax.set_ylim(-0.45, 2.3)
    ax.axis("off")
    return save_figure(fig, path)


def toy_posterior(path: Path) -> Path:
    """Page 2: a two-mode posterior, the best Gaussian q, and the ELBO's gap KL(q || p(z|x))."""
    mu, log_var = toy_best_q()
    log_px = toy_log_px()
    post = np.exp(toy_log_joint(Z_GRID) - log_px)
    q = np.exp(log_normal_diag(Z_GRID[:, None], np.array([mu]), np.array([log_var])))
    elbo = toy_elbo(mu, log_var)
    fig = new_figure(7.0, 3.0)
    ax, bx = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})
    ax.fill_between(Z_GRID, post, color="#9fa8da", alpha=0.6, label=r"posterior $p(z \mid x)$")
    ax.plot(Z_GRID, q, color="C3", lw=2, label=r"best Gaussian $q(z)$")
    ax.set_xlabel("$z$")
    ax.set_ylabel("density")
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(r"$z \sim \mathcal{N}(0,1)$, $x \mid z \sim \mathcal{N}(z^2, 0.5)$, $x = 2$", fontsize=9)
    bx.hlines([log_px, elbo], 0.0, 1.0, colors=["#3f51b5", "C3"], lw=2)
    bx.text(0.0, log_px + 0.05, r"$\log p(x)$", fontsize=9, va="bottom")
    bx.text(0.0, elbo - 0.05, "ELBO of q", fontsize=9, va="top", color="C3")
    bx.annotate("", xy=(0.7, log_px), xytext=(0.7, elbo), arrowprops=dict(arrowstyle="<->", color="k"))
    bx.text(0.75, (log_px + elbo) / 2, f"gap =\nKL(q ‖ p(z|x))\n= {log_px - elbo:.2f} nats", fontsize=8, va="center")
    bx.set_xlim(-0.1, 1.6)
    bx.set_ylim(elbo - 0.4, log_px + 0.3)
    bx.set_xticks([])
    bx.set_ylabel("nats")
    return save_figure(fig, path)


def iwae_bound(path: Path) -> Path:
    """Page 6: L_K of the toy against K, rising from the ELBO towards log p(x)."""
    ks = np.array([1, 2, 5, 10, 20, 50, 100, 200, 500])
    fig = new_figure(5.5, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    ax.axhline(toy_log_px(), color="#3f51b5", lw=1.2, ls="--", label=r"$\log p(x)$ (quadrature)")
    proposals = [(*toy_best_q(), "C3", "q with the best ELBO (one mode)"),
                 (*BROAD_Q, "C2", f"broad q = N(0, {np.exp(0.5 * BROAD_Q[1]):.1f}²)")]
    for mu, log_var, colour, label in proposals:
        ax.plot(ks, toy_iwae_bounds(mu, log_var, ks), "o-", color=colour, ms=4, label=r"$\mathcal{L}_K$, " + label)

    ax.set_xscale("log")
    ax.set_xlabel("number of importance samples $K$")
    ax.set_ylabel("nats")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def cb_densities(path: Path) -> Path:
    """Page 4: CB densities for several eta; C(eta) and the mean against eta."""
    x = np.linspace(0.0, 1.0, 401)
    fig = new_figure(7.5, 2.8)
    ax, bx, cx = fig.subplots(1, 3)
    for eta, colour in zip([0.05, 0.2, 0.5, 0.8, 0.95], ["C0", "C1", "C7", "C2", "C3"]):
        l = np.full_like(x, np.log(eta / (1 - eta)))
        ax.plot(x, np.exp(cb_log_prob(x[:, None], l[:, None])), color=colour, label=f"η = {eta}")
    ax.set_xlabel("$x$")
    ax.set_title("density $\\mathcal{CB}(x; \\eta)$", fontsize=9)
    ax.legend(fontsize=7)
    eta = np.linspace(0.001, 0.999, 999)
    logits = np.log(eta / (1 - eta))
    bx.plot(eta, np.exp(cb_log_norm(logits)), color="k")
    bx.axhline(2.0, color="#888888", lw=0.8, ls="--")
    bx.set_xlabel("η")
    bx.set_title("normalising constant $C(\\eta) \\geq 2$", fontsize=9)
    cx.plot(eta, cb_mean(logits), color="k", label="mean $\\mathbb{E}[x]$")
    cx.plot(eta, eta, color="#888888", lw=0.8, ls="--", label="η")
    cx.set_xlabel("η")
    cx.set_title("the mean is not η", fontsize=9)
    cx.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)


def reparameterisation(path: Path) -> Path:
    """Page 5: noise eps (top) mapped to z = mu + sigma * eps (bottom): the same points, moved and stretched."""
    from statistics import NormalDist

    mu, sigma = 1.5, 0.6
    eps = np.array([NormalDist().inv_cdf((i + 0.5) / 15) for i in range(15)])  # 15 evenly spaced quantiles
    grid = np.linspace(-3.5, 4.0, 500)
    fig = new_figure(6.5, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    p_eps = np.exp(log_normal_diag(grid[:, None], np.zeros(1), np.zeros(1)))
    q_z = np.exp(log_normal_diag(grid[:, None], np.array([mu]), np.array([np.log(sigma**2)])))
    ax.fill_between(grid, 2.0, 2.0 + 1.5 * p_eps, color="#c5cae9")
    ax.fill_between(grid, 0.0, 0.0 + 0.6 * q_z, color="#ffcdd2")
    z = mu + sigma * eps
    for e, zz in zip(eps, z):
        ax.annotate("", xy=(zz, 0.02), xytext=(e, 1.98), arrowprops=dict(arrowstyle="-|>", color="#555555", lw=0.6))
    ax.plot(eps, np.full_like(eps, 2.0), "|", color="k", ms=12)
    ax.plot(z, np.zeros_like(z), "|", color="C3", ms=12)
    ax.axhline(2.0, color="k", lw=0.5)
    ax.axhline(0.0, color="k", lw=0.5)
    ax.text(-3.4, 2.5, r"$\varepsilon \sim \mathcal{N}(0, 1)$: drawn first, held fixed", fontsize=9)
    ax.text(-3.4, 0.5, f"$z = \\mu + \\sigma\\varepsilon \\sim \\mathcal{{N}}(\\mu, \\sigma^2)$, μ = {mu}, σ = {sigma}",
            fontsize=9, color="C3")
    ax.set_yticks([])
    ax.set_xlim(-3.5, 4.0)
    ax.set_xlabel("value")
    return save_figure(fig, path)


def estimator_variance(path: Path) -> Path:
    """Page 5: exact single-sample variances of d/dmu E[(z - k)^2] against sigma, mu = 1."""
    sigma = np.geomspace(0.05, 3.0, 200)
    fig = new_figure(5.5, 3.4)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(sigma, gv.exact_variance_pathwise(1.0, sigma, 0.0), color="C0", lw=2, label="pathwise, every k")
    for k, colour in [(1.0, "C1"), (0.0, "C2"), (-3.0, "C3")]:
        ax.plot(sigma, gv.exact_variance_score_function(1.0, sigma, k), color=colour, label=f"score function, k = {k:g}")
        ax.plot(sigma, gv.exact_variance_score_function(1.0, sigma, k, gv.optimal_baseline(1.0, sigma, k)),
                color=colour, ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("σ of q = N(1, σ²)")
    ax.set_ylabel("variance of one sample")
    ax.set_title("f(z) = (z − k)²; dashed: with the best constant baseline", fontsize=9)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


# file name -> (the page that shows it, the function that draws it)
def black_pixel(path: Path) -> Path:
    """Page 4a: the log density of a black pixel against the logit: raw (x = 0), dequantised (x = u/256) and clipped."""
    magnitude = np.geomspace(0.5, 2e4, 400)  # |l|, l = -|l| < 0
    l = -magnitude
    raw = cb_log_prob(np.zeros((len(l), 1)), l[:, None])  # log CB(0; l), shape (N,)
    u = (np.arange(400) + 0.5) / 400  # midpoints of U(0, 1) for E_u
    dequantised = cb_log_prob((u[:, None, None] / 256.0), l[None, :, None]).mean(axis=0)  # E_u log CB(u/256; l)
    clip = float(np.log(9999.0))
    fig = new_figure(6.0, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(magnitude, raw, color="C3", label="raw: $\\log\\mathcal{CB}(0; l)$, no maximum")
    ax.plot(magnitude, dequantised, color="C0",
            label="dequantised: $\\mathbb{E}_u \\log\\mathcal{CB}(u/256; l)$")
    ax.axhline(np.log(256.0), color="#888888", lw=0.8, ls="--", label="$\\log 256$, the ceiling of the dequantised curve")
    ax.axvline(clip, color="C2", lw=0.8, ls=":", label="clip $|l| \\leq \\log 9999$")
    best = int(np.argmax(dequantised))
    ax.plot([magnitude[best]], [dequantised[best]], "o", color="C0", ms=4)
    ax.set_xscale("log")
    ax.set_ylim(-4.0, 11.0)
    ax.set_xlabel("$|l|$ (logit $l = -|l|$ of a black pixel)")
    ax.set_ylabel("nats")
    ax.set_title("A black pixel: what a more negative logit earns", fontsize=9)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return save_figure(fig, path)


FIGURES = {
    "graphical-model.png": ("theory/latent-variable-models.md", graphical_model),
    "toy-posterior.png": ("theory/variational-inference.md", toy_posterior),
    "encoder-decoder.png": ("theory/model.md", encoder_decoder),
    "cb-densities.png": ("theory/decoder.md", cb_densities),
    "reparameterisation.png": ("theory/gradients.md", reparameterisation),
    "estimator-variance.png": ("theory/gradients.md", estimator_variance),
    "iwae-bound.png": ("theory/training.md", iwae_bound),
    "black-pixel.png": ("theory/evaluation.md", black_pixel),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"folder for the PNG files (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    for name, (_, draw) in FIGURES.items():
        print(draw(args.out / name))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
