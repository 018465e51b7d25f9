"""scripts/make_results.py: the figures of docs/results.md and their results.json, made by a quick run on tiny
IDX data written into tmp_path (never into docs/), and a clear error when the data are missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from matplotlib.image import imread

from tests.docs_support import ROOT
from tests.mnist_files import write_mnist

SCRIPT = ROOT / "scripts" / "make_results.py"
FIGURES = {"training_curves.png", "reconstructions.png", "samples.png", "traversal.png", "latent_scatter.png",
           "dequantisation_curves.png", "dequantisation_scatter.png", "dequantisation_samples.png",
           "dequantisation_reconstructions.png"}
VARIANTS = {"raw", "dequantised", "clipped"}


def _run(*args, env_root=None, cwd=None):
    env = {k: v for k, v in os.environ.items() if k != "VAEKIT_DATA_ROOT"}
    if env_root is not None:
        env["VAEKIT_DATA_ROOT"] = str(env_root)
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=cwd or ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_quick_run_writes_every_figure_and_the_numbers(tmp_path):
    write_mnist(tmp_path / "data", n_train=40, n_test=30)
    out = tmp_path / "out"
    done = _run("--quick", "--data-root", tmp_path / "data", "--out", out)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    results = json.loads((out / "results.json").read_text())
    assert set(results["figures"]) == FIGURES
    assert {p.name for p in out.iterdir()} == FIGURES | {"results.json"}  # no temporary files left behind
    for name in FIGURES:
        image = imread(out / name)
        assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50, name
        assert np.ptp(image[..., :3]) > 0.1, f"{name} is blank"

    assert results["data"] == {"dataset": "mnist", "n_train": 40, "n_test": 30}
    settings = results["settings"]
    assert settings["quick"] is True and settings["code"] == "solutions" and settings["track"] == "pytorch"
    assert settings["epochs"] == 1 and settings["latent_dim"] == 20 and settings["latent_dim_2d"] == 2
    assert results["headline"] == settings["headline"] == "dequantised"
    curves = results["curves"]
    assert [row["epoch"] for row in curves] == [0, 1] and curves[0]["train_elbo"] is None
    for row in curves:
        # the ELBO is the log-likelihood term minus the KL, and the KL is never negative
        assert abs(row["test_elbo"] - (row["test_log_lik"] - row["test_kl"])) < 1e-3 * (1 + abs(row["test_elbo"]))
        assert row["test_kl"] >= 0
        assert abs(row["test_bits_per_dim"] - (784 * np.log(256) - row["test_elbo"]) / (784 * np.log(2))) < 1e-9
    final = results["dz20"]["final"]
    assert final["epoch"] == 1 and abs(final["test_elbo"] - curves[-1]["test_elbo"]) <= 0.01
    assert results["dz2"]["final"]["epoch"] == 1
    assert set(results["variants"]) == VARIANTS
    assert abs(results["variants"]["dequantised"]["dz20"]["last"]["test_elbo"] - curves[-1]["test_elbo"]) < 1e-3
    for variant in VARIANTS:
        bound = results["variants"][variant]["dz20"]["dequantised_test"]
        assert bound["iwae"]["samples"] == 10 and bound["n_images"] == 16  # the quick size: 2 batches of 8
    assert results["clip"]["eta_min"] == 1e-4
    assert str(tmp_path) not in (out / "results.json").read_text(), "results.json must not record local paths"


def test_the_data_root_can_come_from_the_environment(tmp_path):
    """Without --data-root the script reads $VAEKIT_DATA_ROOT, and --data-root wins over it (each run stops at the
    data, which the error names: a whole quick run per case would only repeat the test above)."""
    done = _run("--quick", "--out", tmp_path / "out", env_root=tmp_path / "from-env", cwd=tmp_path)
    assert done.returncode == 2 and f"looked in: {tmp_path / 'from-env'}/MNIST/raw" in done.stderr, done.stderr
    done = _run("--quick", "--data-root", tmp_path / "from-option", "--out", tmp_path / "out",
                env_root=tmp_path / "from-env", cwd=tmp_path)
    assert done.returncode == 2 and "from-option" in done.stderr and "from-env" not in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()


def test_missing_data_give_a_clear_error_and_no_output(tmp_path):
    out = tmp_path / "out"
    done = _run("--quick", "--data-root", tmp_path / "nowhere", "--out", out, cwd=tmp_path)
    assert done.returncode == 2
    assert "make_results: error:" in done.stderr and "Traceback" not in done.stderr
    assert "train-images-idx3-ubyte" in done.stderr
    assert not out.exists()
