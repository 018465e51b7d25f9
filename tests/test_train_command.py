"""``vaekit train`` run in-process on tiny IDX files: checkpoints, metrics, figures, resume, and clear errors."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from tests.mnist_files import write_mnist
from vaekit.cli import build_parser, main
from vaekit.paths import SOLUTIONS
from vaekit.training.config import TrainConfig

HIDDEN, LATENT, BATCH = 16, 2, 8
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
FIGURES = ("training_curves.png", "reconstructions.png", "samples.png", "latent_scatter.png", "traversal.png", "interpolation.png")
CHECKPOINT = {"numpy_ag": "checkpoint.npz", "pytorch": "checkpoint.pt"}
TRACKS = ["numpy_ag", "pytorch"]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist")
    write_mnist(root / "MNIST" / "raw", n_train=40, n_test=30, gz=True)
    return root


def train(data_root, out, *extra, track="numpy_ag", code="solutions", epochs=1):
    return main(["train", "--track", track, "--code", str(code), "--data-root", str(data_root),
                 "--epochs", str(epochs), "--max-batches", "2", "--batch-size", str(BATCH),
                 "--hidden", str(HIDDEN), "--latent-dim", str(LATENT), "--out", str(out), *extra])


def metrics(out):
    return json.loads((Path(out) / "metrics.json").read_text())


def n_params(x_dim=784, h=HIDDEN, z=LATENT):
    return (x_dim * h + h) + 2 * (h * z + z) + (z * h + h) + (h * x_dim + x_dim)


@pytest.mark.parametrize("track", TRACKS)
def test_train_writes_checkpoint_metrics_and_figures(data_root, tmp_path, track, capsys):
    out = tmp_path / "run"
    assert train(data_root, out, track=track) == 0
    printed = capsys.readouterr().out + capsys.readouterr().err
    assert "nats/image" in printed

    m = metrics(out)
    assert m["unit"] == "nats/image" and m["config"]["track"] == track and m["config"]["hidden"] == [HIDDEN]
    assert [row["epoch"] for row in m["epochs"]] == [0, 1]
    first, last = m["epochs"]
    assert first["train_elbo"] is None and math.isfinite(last["train_elbo"])
    for row in m["epochs"]:
        assert all(math.isfinite(row[k]) for k in ("test_elbo", "test_log_lik", "test_kl"))
        assert row["test_elbo"] == pytest.approx(row["test_log_lik"] - row["test_kl"], abs=1e-3)
        assert row["test_kl"] >= 0

    ckpt = out / CHECKPOINT[track]
    if track == "numpy_ag":
        with np.load(ckpt, allow_pickle=False) as f:
            assert f["theta"].shape == (n_params(),) and f["theta"].dtype == np.float32
            assert f["adam_m"].shape == f["adam_v"].shape == (n_params(),) and int(f["adam_t"]) == 2
            assert int(f["epoch"]) == 1 and json.loads(str(f["config"]))["latent_dim"] == LATENT
    else:
        import torch

        c = torch.load(ckpt, weights_only=True)
        assert c["epoch"] == 1 and c["config"]["latent_dim"] == LATENT
        assert sum(v.numel() for v in c["model"].values()) == n_params()
        assert all(v.dtype == torch.float32 for v in c["model"].values())
        assert len(c["optimizer"]["state"]) == len(c["model"])  # Adam took a step on every tensor

    from matplotlib.image import imread

    for name in FIGURES:
        path = out / name
        assert path.read_bytes()[:8] == PNG_MAGIC, name
        image = imread(path)
        assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
        assert image[..., :3].std() > 0.05, f"{name} is blank"
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))


def test_the_training_curves_are_drawn_from_the_metrics_it_records(data_root, tmp_path, monkeypatch):
    """training_curves.png plots exactly the per-epoch numbers of metrics.json, and is written atomically."""
    from vaekit import plotting

    drawn = {}
    real = plotting.save_training_curves

    def spy(path, epochs, train_elbo, test_elbo, test_log_lik, test_kl, title=None):
        drawn.update(path=Path(path), epochs=list(epochs), train_elbo=list(train_elbo), test_elbo=list(test_elbo),
                     test_log_lik=list(test_log_lik), test_kl=list(test_kl))
        return real(path, epochs, train_elbo, test_elbo, test_log_lik, test_kl, title=title)

    monkeypatch.setattr(plotting, "save_training_curves", spy)
    writes = []
    real_write = plotting.write_bytes
    monkeypatch.setattr(plotting, "write_bytes", lambda path, data: writes.append(Path(path)) or real_write(path, data))
    out = tmp_path / "run"
    assert train(data_root, out, epochs=2) == 0
    rows = metrics(out)["epochs"]
    assert drawn["path"] == out / "training_curves.png" and out / "training_curves.png" in writes
    assert drawn["epochs"] == [0, 1, 2]
    for key in ("train_elbo", "test_elbo", "test_log_lik", "test_kl"):
        assert drawn[key] == [row[key] for row in rows], key
    assert drawn["train_elbo"][0] is None


@pytest.mark.parametrize("track", TRACKS)
def test_resume_continues_exactly(data_root, tmp_path, track):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert train(data_root, straight, track=track, epochs=2) == 0
    assert train(data_root, resumed, track=track, epochs=1) == 0
    assert train(data_root, resumed, "--resume", track=track, epochs=2) == 0
    a, b = metrics(straight)["epochs"], metrics(resumed)["epochs"]
    assert [r["epoch"] for r in b] == [0, 1, 2]
    assert rb_none(a) == rb_none(b) == [0]
    for ra, rb in zip(a, b):
        for key in ("train_elbo", "test_elbo", "test_kl"):
            if ra[key] is not None:
                assert ra[key] == pytest.approx(rb[key], rel=1e-5, abs=1e-4), (ra["epoch"], key)


def rb_none(rows):
    """Epochs without a train ELBO (only epoch 0, the untrained model)."""
    return [r["epoch"] for r in rows if r["train_elbo"] is None]


def test_numpy_figures_show_the_cb_mean(data_root):
    from solutions.numpy_ag import continuous_bernoulli, networks
    from vaekit.training.numpy_ag import Trainer

    trainer = Trainer(TrainConfig(code="solutions", hidden=(HIDDEN,), latent_dim=LATENT))
    z = np.random.default_rng(0).standard_normal((5, LATENT)).astype(np.float32) * 3
    logits = networks.decode(trainer.params["decoder"], z).astype(np.float64)
    eta = 1.0 / (1.0 + np.exp(-logits))
    cb_mean = eta / (2 * eta - 1) + 1 / (2 * np.arctanh(1 - 2 * eta))  # independent of the solution's code
    shown = trainer.decode_mean(z)
    np.testing.assert_allclose(shown, cb_mean, atol=1e-4)
    assert np.abs(shown - eta).max() > 1e-3  # not eta
    np.testing.assert_allclose(shown, continuous_bernoulli.cb_mean(logits), atol=1e-4)  # float32 vs float64


def test_pytorch_figures_show_the_cb_mean():
    import torch

    from vaekit.training.pytorch import Trainer

    trainer = Trainer(TrainConfig(track="pytorch", code="solutions", hidden=(HIDDEN,), latent_dim=LATENT))
    z = np.random.default_rng(0).standard_normal((5, LATENT)).astype(np.float32) * 3
    with torch.no_grad():
        logits = trainer.model.decoder(torch.from_numpy(z)).double().numpy()
    eta = 1.0 / (1.0 + np.exp(-logits))
    cb_mean = eta / (2 * eta - 1) + 1 / (2 * np.arctanh(1 - 2 * eta))
    shown = trainer.decode_mean(z)
    np.testing.assert_allclose(shown, cb_mean, atol=1e-4)
    assert np.abs(shown - eta).max() > 1e-3


def test_code_path_and_no_scatter_above_two_dimensions(data_root, tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--code", str(SOLUTIONS), "--data-root", str(data_root), "--epochs", "1",
                 "--max-batches", "1", "--batch-size", "8", "--hidden", "12,6", "--latent-dim", "3",
                 "--out", str(out)]) == 0
    assert not (out / "latent_scatter.png").exists() and (out / "samples.png").is_file()
    assert metrics(out)["config"]["hidden"] == [12, 6]


@pytest.mark.parametrize("track", TRACKS)
def test_unfinished_exercises_say_which(data_root, tmp_path, track, capsys):
    code = train(data_root, tmp_path / "run", track=track, code="exercises")
    err = capsys.readouterr().err
    assert code == 1
    assert "not finished" in err and "Exercise " in err and "not implemented yet" in err
    assert "--code solutions" in err and "pytest grader -m ex" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv, message", [
    (["--epochs", "-1"], "--epochs: must be >= 0"),
    (["--hidden", "abc"], "--hidden: expected positive integers"),
    (["--hidden", "400,0"], "--hidden: expected positive integers"),
    (["--track", "tensorflow"], "--track: invalid choice"),
    (["--lr", "0"], "--lr: must be a positive number"),
    (["--lr", "fast"], "--lr: expected a number"),
    (["--batch-size", "0"], "--batch-size: must be >= 1"),
    (["--samples", "two"], "--samples: expected an integer"),
    (["--device", "cuda"], "needs --track pytorch"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert message in err and "Traceback" not in err


def test_missing_data_exits_2(tmp_path, capsys):
    code = train(tmp_path / "empty", tmp_path / "run")
    err = capsys.readouterr().err
    assert code == 2 and "train-images-idx3-ubyte" in err and "not found" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_resume_without_checkpoint_or_with_other_settings_exits_2(data_root, tmp_path, capsys):
    out = tmp_path / "run"
    assert train(data_root, out, "--resume") == 2
    assert "no checkpoint" in capsys.readouterr().err
    assert train(data_root, out) == 0
    capsys.readouterr()
    code = main(["train", "--code", "solutions", "--data-root", str(data_root), "--epochs", "2", "--max-batches",
                 "1", "--hidden", "32", "--latent-dim", str(LATENT), "--out", str(out), "--resume"])
    assert code == 2 and "hidden" in capsys.readouterr().err


def test_unknown_code_folder_exits_2(data_root, tmp_path, capsys):
    assert train(data_root, tmp_path / "run", code=tmp_path / "nope") == 2
    assert "does not exist" in capsys.readouterr().err


def test_cuda_when_unavailable_exits_2(data_root, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    assert train(data_root, tmp_path / "run", "--device", "cuda", track="pytorch") == 2
    assert "no CUDA device" in capsys.readouterr().err


def test_config_fields_are_the_flags():
    parser = build_parser()
    sub = next(a for a in parser._subparsers._group_actions if a.dest == "command").choices["train"]
    flags = {a.dest for a in sub._actions if a.dest != "help"}
    assert flags == {f.name for f in fields(TrainConfig)}
    args = parser.parse_args(["train", "--hidden", "512,256", "--latent-dim", "2"])
    config = TrainConfig(**{f.name: getattr(args, f.name) for f in fields(TrainConfig)})
    assert config.hidden == (512, 256) and config.out_dir == Path("runs") / "numpy_ag"
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
