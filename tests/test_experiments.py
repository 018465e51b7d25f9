"""``vaekit experiment NAME --quick`` on tiny IDX data: the figures exist and the numbers in results.json are sane."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.mnist_files import NAMES, idx_bytes, write_file
from vaekit.cli import main
from vaekit.experiments import EXPERIMENTS

N_TRAIN, N_TEST = 80, 40


def _digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n 28x28 uint8 images: class c is a bright horizontal band at rows 2c..2c+5 on a dim noisy background."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    images = rng.integers(0, 40, size=(n, 28, 28))
    for i, c in enumerate(labels):
        images[i, 2 * c + 2 : 2 * c + 8, 4:24] = rng.integers(180, 256, size=(6, 20))
    return images.astype(np.uint8), labels.astype(np.uint8)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("digits")
    for k, (split, n) in enumerate((("train", N_TRAIN), ("test", N_TEST))):
        images, labels = _digits(n, k)
        write_file(root / NAMES[split][0], idx_bytes(images), gz=True)
        write_file(root / NAMES[split][1], idx_bytes(labels), gz=True)
    return root


@pytest.fixture(scope="module")
def results(data_root, tmp_path_factory):
    """Run every experiment once at the quick size; ``{name: (folder, results.json content)}``."""
    out = tmp_path_factory.mktemp("experiments")
    assert main(["experiment", "all", "--quick", "--data-root", str(data_root), "--out", str(out)]) == 0
    return {name: (out / name, json.loads((out / name / "results.json").read_text())) for name in EXPERIMENTS}


def _finite(value) -> bool:
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiment_writes_its_figures_and_finite_numbers(results, name):
    folder, payload = results[name]
    assert payload["experiment"] == name and payload["settings"]["size"] == "quick"
    assert payload["settings"]["n_train"] == N_TRAIN and payload["settings"]["n_test"] == N_TEST
    assert payload["figures"], "no figure listed"
    for figure in payload["figures"]:
        png = (folder / figure).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 2000, figure
    assert _finite(payload["results"])
    assert not list(folder.glob(".*.tmp")), "a temporary file was left behind"


def test_estimators_numbers(results):
    r = results["estimators"][1]["results"]
    for row in r["toy"]:  # 2,000 draws at the quick size: still within 6 standard errors of the exact values
        assert abs(row["variance"] - row["exact_variance"]) < 6 * row["variance_se"], row
        assert abs(row["mean"] - row["exact_mean"]) < 6 * row["mean_se"], row
    exact = {(row["k"], row["estimator"]): row["exact_variance"] for row in r["toy"]}
    assert [exact[(k, "score")] for k in (1.0, 0.0, -1.0, -3.0)] == [15.0, 30.0, 87.0, 495.0]
    assert {exact[(k, "pathwise")] for k in (1.0, 0.0, -1.0, -3.0)} == {4.0}
    for when in ("initial", "trained"):
        v = r["vae_variance"][when]
        assert v["score"]["median_ratio"] > 1.0, "the score-function gradient should be the noisier one"
        assert 0 < v["score"]["n_compared"] <= v["n_parameters"]
    epochs = results["estimators"][1]["settings"]["curve_epochs"]
    assert {len(c) for c in r["training_test_elbo"].values()} == {epochs + 1}


def test_iwae_numbers(results):
    r = results["iwae"][1]["results"]
    for k_train, bounds in r["bounds"].items():
        assert bounds["50"] > bounds["1"], f"the K = 50 bound should exceed the ELBO-like K = 1 bound: {bounds}"
        elbo = r["test_elbo"][k_train]
        assert elbo["kl"] >= 0 and abs(elbo["elbo"] - (elbo["log_lik"] - elbo["kl"])) < 1e-3
        assert 0 <= r["active_units"][k_train] <= 20


def test_cb_vs_bernoulli_numbers(results):
    r = results["cb-vs-bernoulli"][1]["results"]
    assert r["pixels_knn_accuracy"] == 1.0  # the bands of the ten classes do not overlap
    for name in ("cb", "bernoulli"):
        m = r[name]
        assert 0.0 <= m["knn_accuracy"] <= 1.0 and 0.0 <= m["reconstruction_mse"] <= 1.0
        assert m["cb_test_elbo"]["kl"] >= 0
        # the Bernoulli "log-likelihood" of grey levels lacks log C >= log 2 per pixel: far below the CB one
        assert m["bernoulli_objective"] < m["cb_test_elbo"]["elbo"] - 784 * math.log(2) + 1.0


def test_latent_numbers(results):
    r = results["latent"][1]["results"]
    explained = r["20d"]["pca_explained_variance"]
    assert all(a >= b for a, b in zip(explained, explained[1:])) and 0 < sum(explained) <= 1.0 + 1e-6
    assert 0 <= r["2d"]["active_units"] <= 2 and 0 <= r["20d"]["active_units"] <= 20
    for key in ("2d", "20d"):
        assert 0.0 <= r[key]["knn_accuracy"] <= 1.0


def test_missing_data_is_a_clear_error(tmp_path, capsys):
    code = main(["experiment", "latent", "--quick", "--data-root", str(tmp_path / "nowhere"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "vaekit experiment latent: error:" in err and "not found" in err
    assert "Traceback" not in err


def test_unfinished_exercises_are_named(data_root, tmp_path, capsys):
    code = main(["experiment", "estimators", "--quick", "--code", "exercises", "--data-root", str(data_root),
                 "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and "Exercise T10.1" in err and "pytest grader -m ext10_1" in err


def test_unknown_experiment_is_refused(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["experiment", "nonsense"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err
