"""``vaekit train --pixels dequantised``: fresh training noise every epoch, the same test noise after every epoch,
values in their bytes' cells, bits/dim in the metrics, the IWAE bound after training, and eta clipping."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tests.mnist_files import write_mnist
from vaekit.cli import main
from vaekit.pixels import bits_per_dim, cb_log_prob_ceiling
from vaekit.training import loop
from vaekit.training.config import TrainConfig

N_TRAIN, N_TEST = 24, 10


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist")
    written = write_mnist(root, n_train=N_TRAIN, n_test=N_TEST, gz=True)
    return root, {split: images.reshape(len(images), 784) for split, (images, _) in written.items()}


class SpyTrainer:
    """Stands in for a track's Trainer: records the pixels it is given, returns fixed numbers."""

    checkpoint_name = "spy.ckpt"
    seen: dict = {}

    def __init__(self, config):
        SpyTrainer.seen = {"train": [], "evaluate": [], "iwae": []}

    def train_epoch(self, x, progress=False):
        self.seen["train"].append(x.copy())
        return -100.0

    def evaluate(self, x):
        self.seen["evaluate"].append(x.copy())
        return 3000.0, 3010.0, 10.0

    def iwae(self, x, n_samples):
        self.seen["iwae"].append((x.copy(), n_samples))
        return 3005.0

    def save_checkpoint(self, path, epoch):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(epoch))

    def encode_mean(self, x):
        return np.zeros((len(x), 2), dtype=np.float32)

    def decode_mean(self, z):
        return np.full((len(z), 784), 0.5, dtype=np.float32)


def spy_run(monkeypatch, root, out, **kwargs):
    monkeypatch.setattr(loop, "trainer_class", lambda track: SpyTrainer)
    config = TrainConfig(code="solutions", data_root=str(root), out=str(out), latent_dim=2, **kwargs)
    return loop.run(config, log=lambda line: None), SpyTrainer.seen


def in_cells(x, b):
    return x.min() >= 0.0 and x.max() <= 1.0 and np.all(x >= b / 256.0) and np.all(x <= (b + 1.0) / 256.0)


def test_fresh_noise_every_epoch_and_fixed_noise_for_the_test_set(data, monkeypatch, tmp_path):
    root, bytes_ = data
    metrics, seen = spy_run(monkeypatch, root, tmp_path / "a", epochs=3, eval_draws=2)
    train = seen["train"]
    assert len(train) == 3
    for x in train:
        assert x.dtype == np.float32 and in_cells(x, bytes_["train"])
    assert not np.array_equal(train[0], train[1]) and not np.array_equal(train[1], train[2])
    # after each of the 4 evaluations (epochs 0..3) the same 2 draws, then again for the final bound
    evaluated = seen["evaluate"]
    assert len(evaluated) == 2 * 5
    first, second = evaluated[0], evaluated[1]
    assert not np.array_equal(first, second)  # two different draws ...
    for k in range(5):  # ... the same ones every time
        np.testing.assert_array_equal(evaluated[2 * k], first)
        np.testing.assert_array_equal(evaluated[2 * k + 1], second)
    assert in_cells(first, bytes_["test"]) and in_cells(second, bytes_["test"])
    # the training noise is not the test noise of another seed's stream: a second run reproduces both
    _, again = spy_run(monkeypatch, root, tmp_path / "b", epochs=3, eval_draws=2)
    np.testing.assert_array_equal(again["train"][2], train[2])
    np.testing.assert_array_equal(again["evaluate"][0], first)
    _, other_seed = spy_run(monkeypatch, root, tmp_path / "c", epochs=1, seed=1)
    assert not np.array_equal(other_seed["evaluate"][0], first)
    assert not np.array_equal(other_seed["train"][0], train[0])


def test_raw_pixels_are_bytes_over_255_and_the_final_bound_uses_dequantised_ones(data, monkeypatch, tmp_path):
    root, bytes_ = data
    metrics, seen = spy_run(monkeypatch, root, tmp_path, epochs=2, pixels="raw", iwae_samples=7, iwae_images=4)
    for x in seen["train"]:
        np.testing.assert_array_equal(x, bytes_["train"] / np.float32(255.0))
    np.testing.assert_array_equal(seen["evaluate"][0], bytes_["test"] / np.float32(255.0))
    assert all(row["test_bits_per_dim"] is None for row in metrics["epochs"])  # not a bound on raw pixels
    final_x = seen["evaluate"][3]  # epochs 0, 1, 2, then the final evaluation
    assert in_cells(final_x, bytes_["test"]) and not np.array_equal(final_x, bytes_["test"] / 255.0)
    x_iwae, k = seen["iwae"][0]
    assert k == 7 and len(x_iwae) == 4
    np.testing.assert_array_equal(x_iwae, final_x[:4])
    final = metrics["final"]
    assert final["elbo_bits_per_dim"] == pytest.approx(bits_per_dim(3000.0, 784))
    assert final["iwae"]["log_px"] == 3005.0 and final["iwae"]["n_images"] == 4
    # by hand: (784 log 256 - 3005) / (784 log 2) = 1342.419116 / 543.427390
    assert final["iwae"]["bits_per_dim"] == pytest.approx(1342.419116 / 543.427390, abs=1e-6)


def test_metrics_report_bits_per_dim_of_the_test_elbo(data, tmp_path, capsys):
    root, _ = data
    out = tmp_path / "run"
    assert main(["train", "--track", "pytorch", "--code", "solutions", "--data-root", str(root), "--epochs", "2",
                 "--max-batches", "2", "--batch-size", "8", "--hidden", "16", "--latent-dim", "2", "--out", str(out),
                 "--iwae-samples", "20", "--iwae-images", "5", "--eval-draws", "2"]) == 0
    printed = capsys.readouterr()
    assert "bits/dim" in printed.out + printed.err
    m = json.loads((out / "metrics.json").read_text())
    assert m["config"]["pixels"] == "dequantised" and m["config"]["eval_draws"] == 2
    for row in m["epochs"]:
        assert row["test_bits_per_dim"] == pytest.approx(
            (784 * math.log(256) - row["test_elbo"]) / (784 * math.log(2)), rel=1e-12)
    final = m["final"]
    assert final["eval_draws"] == 2 and final["n_images"] == N_TEST and final["iwae"]["samples"] == 20
    assert 0.0 < final["elbo_bits_per_dim"] < 8.5 and math.isfinite(final["iwae"]["bits_per_dim"])


def test_clipped_logits_cap_the_likelihood(data):
    import torch

    from vaekit.training.pytorch import Trainer

    clipped = Trainer(TrainConfig(track="pytorch", code="solutions", hidden=(16,), latent_dim=2, eta_clip=1e-4))
    plain = Trainer(TrainConfig(track="pytorch", code="solutions", hidden=(16,), latent_dim=2))
    for trainer in (clipped, plain):  # a decoder whose logits are -1000 everywhere: eta = sigmoid(-1000)
        with torch.no_grad():
            trainer.model.decoder.to_logits.weight.zero_()
            trainer.model.decoder.to_logits.bias.fill_(-1000.0)
    black = np.zeros((3, 784), dtype=np.float32)
    elbo_c, log_lik_c, _ = clipped.evaluate(black)
    elbo_p, log_lik_p, _ = plain.evaluate(black)
    assert log_lik_c == pytest.approx(784 * cb_log_prob_ceiling(1e-4), rel=1e-4)  # 1740.8 nats: the ceiling
    assert log_lik_p == pytest.approx(784 * math.log(1000.0), rel=1e-3)  # log C(l) ~ log|l|: no ceiling
    assert clipped.decode_mean(np.zeros((1, 2), np.float32)).min() > 0.1  # the CB mean at l = -9.21 is 1/9.21
    # the checkpoint has the same tensors with or without the clip (it is not part of the parameters)
    assert clipped.model.state_dict().keys() == plain.model.state_dict().keys()


def test_eta_clip_needs_the_pytorch_track_and_a_sensible_value(capsys):
    assert_exit(["train", "--track", "numpy_ag", "--eta-clip", "1e-4"], "needs --track pytorch", capsys)
    assert_exit(["train", "--track", "pytorch", "--eta-clip", "0.7"], "[0, 0.5)", capsys)
    assert_exit(["train", "--pixels", "binary"], "invalid choice", capsys)


def assert_exit(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
