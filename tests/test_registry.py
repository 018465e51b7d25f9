"""The exercise registry read from the solution region headers: the table it gives, the frozen copy that kits
without solutions read, and the errors of malformed headers."""

from __future__ import annotations

import pytest

from vaekit.regions import RegionError, header, parse
from vaekit.registry import EXERCISES, USES, from_regions, from_solutions, from_table, freeze

# The registry as it was written by hand before it moved to the region headers, copied here as the independent
# reference: (ID, title, points, module, names, docs page).
NUMPY = [
    ("1.1", "Diagonal Gaussian log density", 2, "gaussian", ("log_normal_diag",), "numpy"),
    ("1.2", "Standard normal log density", 1, "gaussian", ("log_standard_normal",), "numpy"),
    ("2.1", "Continuous Bernoulli log normaliser", 4, "continuous_bernoulli", ("cb_log_norm",), "numpy"),
    ("2.2", "Continuous Bernoulli log density", 3, "continuous_bernoulli", ("cb_log_prob",), "numpy"),
    ("2.3", "Continuous Bernoulli mean", 2, "continuous_bernoulli", ("cb_mean",), "numpy"),
    ("3.1", "KL to the standard normal", 3, "kl", ("kl_to_standard_normal",), "numpy"),
    ("4.1", "Reparameterised sample", 2, "reparam", ("reparameterize",), "numpy"),
    ("5.1", "Monte Carlo ELBO", 4, "elbo", ("elbo",), "numpy"),
    ("6.1", "MLP parameters", 2, "networks", ("init_vae_params",), "numpy"),
    ("6.2", "Encoder", 2, "networks", ("encode",), "numpy"),
    ("6.3", "Decoder", 2, "networks", ("decode",), "numpy"),
    ("6.4", "VAE forward pass", 2, "networks", ("vae_forward",), "numpy"),
    ("7.1", "Adam", 3, "optim", ("adam_init", "adam_update"), "numpy"),
    ("7.2", "Training step", 3, "optim", ("train_step",), "numpy"),
    ("8.1", "Training epoch", 3, "train", ("train_epoch",), "numpy"),
    ("8.2", "Evaluation", 2, "train", ("evaluate",), "numpy"),
    ("9.1", "Importance-weighted log p(x)", 3, "iwae", ("iwae_log_px",), "numpy"),
    ("10.1", "Pathwise gradient on a toy problem", 1, "estimators", ("pathwise_grad_mu",), "estimators"),
    ("10.2", "Score-function gradient with a baseline", 2, "estimators", ("score_function_grad_mu",), "estimators"),
    ("10.3", "Score-function surrogate of the ELBO", 3, "estimators", ("score_function_surrogate",), "estimators"),
    ("10.4", "Encoder gradient of either estimator", 2, "estimators", ("encoder_gradient",), "estimators"),
    ("10.5", "IWAE training step", 2, "iwae_train", ("iwae_train_step",), "estimators"),
    ("11.1", "Challenge: Taylor series of log C", 3, "challenge", ("cb_log_norm_series",), "challenge"),
    ("11.2", "Challenge: a float32 Taylor window", 4, "challenge", ("taylor_window_f32", "cb_log_norm_f32"),
     "challenge"),
    ("11.3", "Challenge: stable log-mean-exp", 3, "challenge", ("log_mean_exp",), "challenge"),
    ("11.4", "Challenge: the CB mean from its density", 3, "challenge", ("cb_mean_from_density",), "challenge"),
]
PYTORCH = [
    ("T1.1", "Diagonal Gaussian log density", 2, "gaussian", ("log_normal_diag",), "pytorch"),
    ("T1.2", "Standard normal log density", 1, "gaussian", ("log_standard_normal",), "pytorch"),
    ("T2.1", "Continuous Bernoulli log normaliser", 4, "continuous_bernoulli", ("cb_log_norm",), "pytorch"),
    ("T2.2", "Continuous Bernoulli log density", 3, "continuous_bernoulli", ("cb_log_prob", "CBLogProb"), "pytorch"),
    ("T2.3", "Continuous Bernoulli mean", 2, "continuous_bernoulli", ("cb_mean",), "pytorch"),
    ("T3.1", "KL to the standard normal", 3, "kl", ("kl_to_standard_normal",), "pytorch"),
    ("T4.1", "Reparameterised sample", 2, "reparam", ("reparameterize",), "pytorch"),
    ("T5.1", "Monte Carlo ELBO", 4, "elbo", ("elbo",), "pytorch"),
    ("T6.1", "Encoder module", 2, "networks", ("Encoder",), "pytorch"),
    ("T6.2", "Decoder module", 2, "networks", ("Decoder",), "pytorch"),
    ("T6.3", "VAE module", 2, "networks", ("VAE",), "pytorch"),
    ("T7.1", "Training step", 3, "optim", ("train_step",), "pytorch"),
    ("T8.1", "Training epoch", 3, "train", ("train_epoch",), "pytorch"),
    ("T8.2", "Evaluation", 2, "train", ("evaluate",), "pytorch"),
    ("T9.1", "Importance-weighted log p(x)", 3, "iwae", ("iwae_log_px",), "pytorch"),
    ("T10.1", "Pathwise gradient on a toy problem", 1, "estimators", ("pathwise_grad_mu",), "estimators"),
    ("T10.2", "Score-function gradient with a baseline", 2, "estimators", ("score_function_grad_mu",), "estimators"),
    ("T10.3", "Score-function surrogate of the ELBO", 3, "estimators", ("score_function_surrogate",), "estimators"),
    ("T10.4", "Encoder gradient of either estimator", 2, "estimators", ("encoder_gradient",), "estimators"),
    ("T10.5", "IWAE training step", 2, "iwae_train", ("iwae_train_step",), "estimators"),
    ("T11.1", "Challenge: Taylor series of log C", 3, "challenge", ("cb_log_norm_series",), "challenge"),
    ("T11.2", "Challenge: a float32 Taylor window", 4, "challenge", ("taylor_window_f32", "cb_log_norm_f32"),
     "challenge"),
    ("T11.3", "Challenge: stable log-mean-exp", 3, "challenge", ("log_mean_exp",), "challenge"),
    ("T11.4", "Challenge: the CB mean from its density", 3, "challenge", ("cb_mean_from_density",), "challenge"),
]
USES_TODAY = {
    "5.1": ("2.2", "3.1", "4.1"), "6.4": ("5.1", "6.2", "6.3"), "7.2": ("6.4", "7.1"),
    "8.1": ("7.2",), "8.2": ("6.4",), "9.1": ("1.1", "1.2", "2.2", "4.1"), "10.3": ("1.1", "1.2", "2.2"),
    "10.4": ("5.1", "6.2", "6.3", "10.3"), "10.5": ("6.2", "6.3", "7.1", "9.1"), "11.2": ("11.1",),
    "T5.1": ("T2.2", "T3.1", "T4.1"), "T6.3": ("T5.1", "T6.1", "T6.2"), "T7.1": ("T6.3",),
    "T8.1": ("T7.1",), "T8.2": ("T6.3",), "T9.1": ("T1.1", "T1.2", "T2.2", "T4.1"),
    "T10.3": ("T1.1", "T1.2", "T2.2"), "T10.4": ("T5.1", "T6.1", "T6.2", "T10.3"),
    "T10.5": ("T6.1", "T6.2", "T9.1"), "T11.2": ("T11.1",),
}


def test_the_registry_read_from_the_solutions_is_the_table_of_the_course():
    got = [(ex.id, ex.title, ex.points, ex.module, ex.names, ex.docs_page) for ex in EXERCISES.values()]
    expected = [(i, title, pts, mod, names, f"docs/exercises/{page}.md#ex{i.lower().replace('.', '_')}")
                for i, title, pts, mod, names, page in NUMPY + PYTORCH]
    assert got == expected  # the same order too: the NumPy track, then the PyTorch one, by number
    assert {ex.id: ex.track for ex in EXERCISES.values()} == {
        **{row[0]: "numpy_ag" for row in NUMPY}, **{row[0]: "pytorch" for row in PYTORCH}}
    assert USES == USES_TODAY


def test_the_frozen_table_gives_the_same_registry(tmp_path):
    table = freeze(tmp_path / "registry.json")
    assert from_table(table) == from_solutions() == (EXERCISES, USES)


def test_a_header_written_by_header_reads_back():
    text = f"def f():\n    {header('9.1', 'Importance-weighted log p(x)', 2.5, ('1.1', '4.1'))}\n    pass\n" \
           "    # END SOLUTION\n"
    (region,) = parse(text, "x.py")
    assert (region.id, region.title, region.points, region.uses) == ("9.1", "Importance-weighted log p(x)", 2.5,
                                                                     ("1.1", "4.1"))
    assert header("1.2", "Standard normal log density", 1) == "# BEGIN SOLUTION 1.2: Standard normal log density (1 point)"


def _registry(files: dict[str, str]):
    return from_regions([r for name, text in files.items() for r in parse(text, name)], {})


def _region(head: str, name: str = "f") -> str:
    return f"def {name}():\n    # BEGIN SOLUTION {head}\n    return 1\n    # END SOLUTION\n"


def test_a_well_formed_set_of_regions_gives_its_exercises():
    exercises, uses = _registry({"solutions/numpy_ag/m.py": _region("1.1: One (2 points)", "f")
                                 + _region("1.1", "g") + _region("1.2: Two (1 point; uses 1.1)", "h")})
    assert exercises["1.1"].names == ("f", "g") and exercises["1.2"].points == 1 and uses == {"1.2": ("1.1",)}
    assert exercises["1.1"].docs_page == "docs/exercises/numpy.md#ex1_1"  # no page holds the anchor: the track's


@pytest.mark.parametrize("files, message", [
    ({"solutions/numpy_ag/m.py": _region("1.1")}, r"solutions/numpy_ag/m.py:2: Exercise 1\.1 needs exactly one "
                                                    r"region declaring it.*; 0 declare it, in 1 file"),
    ({"solutions/numpy_ag/m.py": _region("1.1: A (2 points)") + _region("1.1: A (2 points)", "g")},
     r"m.py:2, solutions/numpy_ag/m.py:6: Exercise 1\.1 needs .*; 2 declare it, in 1 file"),
    ({"solutions/numpy_ag/m.py": _region("1.1: A (2 points)"), "solutions/numpy_ag/n.py": _region("1.1", "g")},
     r"m.py:2, solutions/numpy_ag/n.py:2: .*; 1 declare it, in 2 file"),
    ({"solutions/pytorch/m.py": _region("1.1: A (2 points)")}, r"m.py:2: Exercise 1\.1 lies in pytorch/"),
    ({"solutions/numpy_ag/m.py": _region("1.1: A (2 points; uses 9.9)")}, r"m.py:2: Exercise 1\.1 uses 9\.9"),
    ({"solutions/numpy_ag/m.py": _region("1.1: A (2 points; uses 1.1)")}, r"uses 1\.1: not another exercise"),
])
def test_inconsistent_regions_are_refused_with_their_place(files, message):
    with pytest.raises(RegionError, match=message):
        _registry(files)


@pytest.mark.parametrize("text, message", [
    (_region("1.1: A (two points)"), r"x.py:2: cannot read '# BEGIN SOLUTION 1\.1: A \(two points\)'"),
    (_region("1.1 A (2 points)"), r"x.py:2: cannot read"),
    (_region("1.1: A (2 points; uses 2.1 3.1)"), r"x.py:2: cannot read"),
    ("# BEGIN SOLUTION 1.1: A (2 points)\nx = 1\n# END SOLUTION\n", r"x.py:1: the region of 1\.1 lies outside"),
])
def test_unreadable_headers_are_refused_with_their_line(text, message):
    with pytest.raises(RegionError, match=message):
        parse(text, "x.py")
