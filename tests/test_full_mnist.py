"""Tests on the full MNIST (60,000 training and 10,000 test digits), marked ``full_mnist``.

They run when ``$VAEKIT_FULL_MNIST_ROOT`` names a folder with the four IDX files (torchvision's ``MNIST/raw/``
layout or the files directly) and are skipped, saying so, otherwise. Tests that can run on the 5,000-digit subset
use ``$VAEKIT_DATA_ROOT`` (tests/test_data.py).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests.conftest import FULL_MNIST_ROOT_ENV
from vaekit.data import load_mnist, load_mnist_bytes

FULL_ROOT = os.environ.get(FULL_MNIST_ROOT_ENV, "").strip()

pytestmark = [
    pytest.mark.full_mnist,
    pytest.mark.skipif(not FULL_ROOT, reason=f"set {FULL_MNIST_ROOT_ENV} to a folder with the full MNIST IDX files"),
]


@pytest.fixture(scope="module")
def full():
    return {split: load_mnist_bytes(split, FULL_ROOT) for split in ("train", "test")}


def test_the_full_training_and_test_sets_load(full):
    (b_train, y_train), (b_test, y_test) = full["train"], full["test"]
    assert b_train.shape == (60_000, 784) and y_train.shape == (60_000,)
    assert b_test.shape == (10_000, 784) and y_test.shape == (10_000,)
    # the well-known normalisation constants of MNIST's training set: mean 0.1307, standard deviation 0.3081
    x = b_train / 255.0
    assert x.mean() == pytest.approx(0.1307, abs=5e-4) and x.std() == pytest.approx(0.3081, abs=5e-4)
    assert np.bincount(y_train).tolist()[:2] == [5923, 6742]  # zeros and ones of the training set
    assert np.bincount(y_test).sum() == 10_000 and np.bincount(y_test)[1] == 1135


def test_load_mnist_is_the_bytes_over_255(full):
    x, y = load_mnist("test", FULL_ROOT)
    np.testing.assert_array_equal(x, full["test"][0] / np.float32(255.0))
    np.testing.assert_array_equal(y, full["test"][1])
    # most pixels are exactly 0 (and some exactly 1): where the CB density of raw pixels is unbounded
    assert np.mean(full["test"][0] == 0) > 0.75 and np.any(full["test"][0] == 255)


def test_a_short_dequantised_run_on_full_mnist_beats_the_uniform_distribution(tmp_path):
    from vaekit.training.config import TrainConfig
    from vaekit.training.loop import run

    metrics = run(TrainConfig(track="pytorch", code="solutions", data_root=FULL_ROOT, epochs=1, max_batches=40,
                              out=str(tmp_path)), log=lambda line: None)
    first, last = metrics["epochs"][0], metrics["epochs"][-1]
    assert first["test_bits_per_dim"] == pytest.approx(8.0, abs=0.05)  # the untrained decoder: eta near 1/2
    assert last["test_bits_per_dim"] < 6.0  # 40 minibatches already learn the black background
    assert metrics["final"]["n_images"] == 40 * 128
