"""The exercise registry: one entry per exercise, the single place that sets IDs, titles, points and docs links.

The same ID appears in four places: the stub's ``NotImplementedError``, the grader's marker
(``ex`` + ID with dots as underscores, e.g. ``1.3`` -> ``ex1_3``, ``T1.3`` -> ``ext1_3``), the docs
heading (anchor ``#ex1_3``) and the score table.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCS_SITE = "docs"  # docs/ folder; pages are given relative to it


@dataclass(frozen=True)
class Exercise:
    """One gradable exercise.

    Attributes:
        id: the exercise ID shown to students, e.g. ``"2.1"`` (NumPy track) or ``"T2.1"`` (PyTorch track).
        title: a short name of what is implemented.
        points: the exercise's points; split evenly across its grader tests for partial credit.
        track: ``"numpy_ag"`` or ``"pytorch"``, the folder of ``exercises/`` the code lives in.
        module: the module inside the track folder, e.g. ``"continuous_bernoulli"``.
        names: the functions or classes the student writes.
        page: the docs page (under docs/exercises/) that explains it; by default the track's page.
    """

    id: str
    title: str
    points: float
    track: str
    module: str
    names: tuple[str, ...]
    page: str = ""

    @property
    def marker(self) -> str:
        """Pytest marker of the exercise: ``1.3`` -> ``ex1_3``; ``T1.3`` -> ``ext1_3``."""
        return "ex" + self.id.lower().replace(".", "_")

    @property
    def docs_page(self) -> str:
        """Path of the docs page (with anchor) that explains this exercise."""
        page = self.page or ("numpy" if self.track == "numpy_ag" else "pytorch")
        return f"{DOCS_SITE}/exercises/{page}.md#{self.marker}"


def _track(track: str, rows: list[tuple[str, str, float, str, tuple[str, ...]]], page: str = "") -> list[Exercise]:
    return [Exercise(i, title, pts, track, mod, names, page) for i, title, pts, mod, names in rows]


NUMPY_TRACK = _track(
    "numpy_ag",
    [
        ("1.1", "Diagonal Gaussian log density", 2, "gaussian", ("log_normal_diag",)),
        ("1.2", "Standard normal log density", 1, "gaussian", ("log_standard_normal",)),
        ("2.1", "Continuous Bernoulli log normaliser", 4, "continuous_bernoulli", ("cb_log_norm",)),
        ("2.2", "Continuous Bernoulli log density", 3, "continuous_bernoulli", ("cb_log_prob",)),
        ("2.3", "Continuous Bernoulli mean", 2, "continuous_bernoulli", ("cb_mean",)),
        ("3.1", "KL to the standard normal", 3, "kl", ("kl_to_standard_normal",)),
        ("4.1", "Reparameterised sample", 2, "reparam", ("reparameterize",)),
        ("5.1", "Monte Carlo ELBO", 4, "elbo", ("elbo",)),
        ("6.1", "MLP parameters", 2, "networks", ("init_vae_params",)),
        ("6.2", "Encoder", 2, "networks", ("encode",)),
        ("6.3", "Decoder", 2, "networks", ("decode",)),
        ("6.4", "VAE forward pass", 2, "networks", ("vae_forward",)),
        ("7.1", "Adam", 3, "optim", ("adam_init", "adam_update")),
        ("7.2", "Training step", 3, "optim", ("train_step",)),
        ("8.1", "Training epoch", 3, "train", ("train_epoch",)),
        ("8.2", "Evaluation", 2, "train", ("evaluate",)),
        ("9.1", "Importance-weighted log p(x)", 3, "iwae", ("iwae_log_px",)),
    ],
) + _track(
    "numpy_ag",
    [
        ("10.1", "Pathwise gradient on a toy problem", 1, "estimators", ("pathwise_grad_mu",)),
        ("10.2", "Score-function gradient with a baseline", 2, "estimators", ("score_function_grad_mu",)),
        ("10.3", "Score-function surrogate of the ELBO", 3, "estimators", ("score_function_surrogate",)),
        ("10.4", "Encoder gradient of either estimator", 2, "estimators", ("encoder_gradient",)),
        ("10.5", "IWAE training step", 2, "iwae_train", ("iwae_train_step",)),
    ],
    page="estimators",
) + _track(
    "numpy_ag",
    [
        ("11.1", "Challenge: Taylor series of log C", 3, "challenge", ("cb_log_norm_series",)),
        ("11.2", "Challenge: a float32 Taylor window", 4, "challenge", ("taylor_window_f32", "cb_log_norm_f32")),
        ("11.3", "Challenge: stable log-mean-exp", 3, "challenge", ("log_mean_exp",)),
        ("11.4", "Challenge: the CB mean from its density", 3, "challenge", ("cb_mean_from_density",)),
    ],
    page="challenge",
)

PYTORCH_TRACK = _track(
    "pytorch",
    [
        ("T1.1", "Diagonal Gaussian log density", 2, "gaussian", ("log_normal_diag",)),
        ("T1.2", "Standard normal log density", 1, "gaussian", ("log_standard_normal",)),
        ("T2.1", "Continuous Bernoulli log normaliser", 4, "continuous_bernoulli", ("cb_log_norm",)),
        ("T2.2", "Continuous Bernoulli log density", 3, "continuous_bernoulli", ("cb_log_prob",)),
        ("T2.3", "Continuous Bernoulli mean", 2, "continuous_bernoulli", ("cb_mean",)),
        ("T3.1", "KL to the standard normal", 3, "kl", ("kl_to_standard_normal",)),
        ("T4.1", "Reparameterised sample", 2, "reparam", ("reparameterize",)),
        ("T5.1", "Monte Carlo ELBO", 4, "elbo", ("elbo",)),
        ("T6.1", "Encoder module", 2, "networks", ("Encoder",)),
        ("T6.2", "Decoder module", 2, "networks", ("Decoder",)),
        ("T6.3", "VAE module", 2, "networks", ("VAE",)),
        ("T7.1", "Training step", 3, "optim", ("train_step",)),
        ("T8.1", "Training epoch", 3, "train", ("train_epoch",)),
        ("T8.2", "Evaluation", 2, "train", ("evaluate",)),
        ("T9.1", "Importance-weighted log p(x)", 3, "iwae", ("iwae_log_px",)),
    ],
) + _track(
    "pytorch",
    [
        ("T10.1", "Pathwise gradient on a toy problem", 1, "estimators", ("pathwise_grad_mu",)),
        ("T10.2", "Score-function gradient with a baseline", 2, "estimators", ("score_function_grad_mu",)),
        ("T10.3", "Score-function surrogate of the ELBO", 3, "estimators", ("score_function_surrogate",)),
        ("T10.4", "Encoder gradient of either estimator", 2, "estimators", ("encoder_gradient",)),
        ("T10.5", "IWAE training step", 2, "iwae_train", ("iwae_train_step",)),
    ],
    page="estimators",
) + _track(
    "pytorch",
    [
        ("T11.1", "Challenge: Taylor series of log C", 3, "challenge", ("cb_log_norm_series",)),
        ("T11.2", "Challenge: a float32 Taylor window", 4, "challenge", ("taylor_window_f32", "cb_log_norm_f32")),
        ("T11.3", "Challenge: stable log-mean-exp", 3, "challenge", ("log_mean_exp",)),
        ("T11.4", "Challenge: the CB mean from its density", 3, "challenge", ("cb_mean_from_density",)),
    ],
    page="challenge",
)

EXERCISES: dict[str, Exercise] = {ex.id: ex for ex in NUMPY_TRACK + PYTORCH_TRACK}
BY_MARKER: dict[str, Exercise] = {ex.marker: ex for ex in EXERCISES.values()}

# Which exercises' code each exercise calls: a wrong answer there also costs points here, and the score table
# says so ("uses 3.1, which fails: fix that first").
_USES_NUMPY = {
    "2.2": ("2.1",), "5.1": ("2.2", "3.1", "4.1"), "6.4": ("5.1", "6.2", "6.3"), "7.2": ("6.4", "7.1"),
    "8.1": ("7.2",), "8.2": ("6.4",), "9.1": ("1.1", "1.2", "2.2", "4.1"), "10.3": ("1.1", "1.2", "2.2"),
    "10.4": ("5.1", "6.2", "6.3", "10.3"), "10.5": ("6.2", "6.3", "7.1", "9.1"), "11.2": ("11.1",),
}
_USES_PYTORCH = {
    "T2.2": ("T2.1",), "T5.1": ("T2.2", "T3.1", "T4.1"), "T6.3": ("T5.1", "T6.1", "T6.2"), "T7.1": ("T6.3",),
    "T8.1": ("T7.1",), "T8.2": ("T6.3",), "T9.1": ("T1.1", "T1.2", "T2.2", "T4.1"),
    "T10.3": ("T1.1", "T1.2", "T2.2"), "T10.4": ("T5.1", "T6.1", "T6.2", "T10.3"),
    "T10.5": ("T6.1", "T6.2", "T9.1"), "T11.2": ("T11.1",),
}
USES: dict[str, tuple[str, ...]] = {**_USES_NUMPY, **_USES_PYTORCH}
