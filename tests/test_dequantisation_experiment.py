"""``vaekit experiment dequantisation --quick`` on tiny IDX files written by tests/mnist_files.py: the three
variants, their figures, bits/dim consistent with the ELBO, the clipped likelihood under its ceiling."""

from __future__ import annotations

import json
import math

import pytest
from matplotlib.image import imread

from tests.mnist_files import write_mnist
from vaekit.cli import main

VARIANTS = ("raw", "dequantised", "clipped")
FIGURES = ("dequantisation_curves.png", "dequantisation_scatter.png", "dequantisation_samples.png",
           "dequantisation_reconstructions.png")


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist")
    write_mnist(root / "MNIST" / "raw", n_train=40, n_test=30, gz=True)
    out = tmp_path_factory.mktemp("out")
    assert main(["experiment", "dequantisation", "--quick", "--data-root", str(root), "--out", str(out)]) == 0
    folder = out / "dequantisation"
    return folder, json.loads((folder / "results.json").read_text())


def bpd(nats):
    return (784 * math.log(256) - nats) / (784 * math.log(2))


def test_figures_are_drawn(experiment):
    folder, payload = experiment
    assert payload["figures"] == list(FIGURES)
    for name in FIGURES:
        image = imread(folder / name)
        assert image.shape[0] > 100 and image.shape[1] > 100 and image[..., :3].std() > 0.05, name
    assert not list(folder.glob("*.pt")), "the runs' checkpoints stay out of the results folder"


def test_numbers_of_every_variant(experiment):
    _, payload = experiment
    settings, r = payload["settings"], payload["results"]
    assert settings["size"] == "quick" and settings["epochs"] == 1 and settings["n_train"] == 40
    assert set(r["variants"]) == set(VARIANTS)
    ceiling = r["clip"]["log_prob_ceiling_per_image"]
    assert ceiling == pytest.approx(1740.81, abs=0.01) and r["clip"]["eta_min"] == 1e-4
    for variant in VARIANTS:
        for dz in ("dz20", "dz2"):
            run = r["variants"][variant][dz]
            assert run["curves"]["epoch"] == [0, 1]
            last, bound = run["last"], run["dequantised_test"]
            # per-epoch bits/dim only where the model trains on dequantised pixels
            assert (last["test_bits_per_dim"] is None) == (variant != "dequantised")
            if variant == "dequantised":
                assert last["test_bits_per_dim"] == pytest.approx(bpd(last["test_elbo"]), abs=1e-3)
            # the bound after training: every variant on dequantised test pixels, in nats and bits/dim
            assert bound["pixels"] == "dequantised" and bound["n_images"] == 16
            assert bound["elbo_bits_per_dim"] == pytest.approx(bpd(bound["elbo"]), abs=1e-3)
            assert (bound["iwae"] is not None) == (dz == "dz20")
            if bound["iwae"] is not None:
                assert bound["iwae"]["samples"] == 10
                assert bound["iwae"]["bits_per_dim"] == pytest.approx(bpd(bound["iwae"]["log_px"]), abs=1e-3)
            assert run["code_radius"]["median"] <= run["code_radius"]["max"]
    for dz in ("dz20", "dz2"):
        clipped = r["variants"]["clipped"][dz]
        assert max(clipped["curves"]["test_log_lik"]) <= ceiling
