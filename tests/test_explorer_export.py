"""scripts/export_decoder.py and vaekit/explorer.py: the decoder of a vaekit train checkpoint (either track)
exported for the page "Explore the latent space", checked against the track's own encoder and decoder, with
clear errors for unusable input. The committed export in docs/assets/explore/ is checked for size, layout and
the run it names."""

from __future__ import annotations

import contextlib
import io
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.docs_support import DOCS, ROOT
from tests.mnist_files import write_mnist
from vaekit import explorer
from vaekit.cli import main

SCRIPT = ROOT / "scripts" / "export_decoder.py"
CHECKPOINT = {"numpy_ag": "checkpoint.npz", "pytorch": "checkpoint.pt"}
HIDDEN = 16


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist")
    write_mnist(root, n_train=40, n_test=30, gz=True)
    return root


def train(data_root, out, track="pytorch", latent_dim=2, hidden=HIDDEN, seed=0):
    code = main(["train", "--track", track, "--code", "solutions", "--data-root", str(data_root), "--epochs", "1",
                 "--max-batches", "2", "--batch-size", "8", "--hidden", str(hidden), "--latent-dim",
                 str(latent_dim), "--seed", str(seed), "--out", str(out)])
    assert code == 0
    return Path(out) / CHECKPOINT[track]


def relu_mlp(layers, z):
    """Independent NumPy decoder: h <- relu(h W + b) for the hidden layers, then h W + b (float64)."""
    h = np.asarray(z, np.float64)
    for W, b in layers[:-1]:
        h = np.maximum(h @ W.astype(np.float64) + b, 0.0)
    W, b = layers[-1]
    return h @ W.astype(np.float64) + b


def sigmoid(l):
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(l, np.float64)))


@pytest.mark.parametrize("track", ["pytorch", "numpy_ag"])
def test_export_reproduces_the_tracks_decoder_and_codes(data_root, tmp_path, track):
    from vaekit.data import load_mnist

    checkpoint = train(data_root, tmp_path / "run", track=track)
    out = tmp_path / "export"
    meta = explorer.export_decoder(checkpoint, out, data_root, made_by="test")
    assert {p.name for p in out.iterdir()} == {"decoder.bin", "decoder.json", "reference.npz", "still.png"}
    assert json.loads((out / "decoder.json").read_text()) == meta
    blob = (out / "decoder.bin").read_bytes()
    assert len(blob) == meta["bytes"] and meta["model"]["layers"] == [[2, HIDDEN], [HIDDEN, 784]]
    arrays = explorer.unpack(blob, meta["arrays"])
    # The stored weights are the checkpoint's, to the stated precision ...
    trainer, config = explorer.load_trainer(checkpoint)
    exact = explorer.decoder_layers(trainer)
    stored = explorer.layers_from(arrays)
    for (W, b), (Ws, bs) in zip(exact, stored, strict=True):
        rtol = 0 if meta["precision"]["weights"] == "float32" else 2.0**-11
        np.testing.assert_allclose(Ws, W, rtol=rtol, atol=1e-7)
        np.testing.assert_allclose(bs, b, rtol=rtol, atol=1e-7)
    # ... the reference outputs are the track's own decoder at the reference codes ...
    ref = np.load(out / "reference.npz")
    assert ref["z"].shape == (20, 2) and ref["mean"].shape == (20, 784)
    np.testing.assert_allclose(ref["mean"], trainer.decode_mean(ref["z"]), atol=1e-6)
    np.testing.assert_allclose(ref["logits"], relu_mlp(exact, ref["z"]), atol=1e-3)
    np.testing.assert_allclose(ref["eta"], sigmoid(ref["logits"]), atol=1e-6)
    # ... and the stored weights decode within the tolerance of them.
    logits = relu_mlp(stored, ref["z"])
    assert np.abs(sigmoid(logits) - ref["eta"]).max() <= explorer.TOLERANCE
    # The codes are the encoder means of the test images, with their labels.
    x_test, labels = load_mnist("test", data_root)
    np.testing.assert_allclose(arrays["codes"], trainer.encode_mean(x_test), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(arrays["labels"], labels)
    # The run is named, without local paths.
    run = meta["run"]
    assert run["track"] == track and run["latent_dim"] == 2 and run["epoch"] == 1 and run["n_train"] == 40
    assert run["command"] == (f"vaekit train --track {track} --code solutions --epochs 1 --batch-size 8 "
                              f"--latent-dim 2 --hidden {HIDDEN} --max-batches 2 --data-root DIR").replace(
                                  "--track numpy_ag ", "")
    assert "test_elbo" in run and run["test_elbo"] == pytest.approx(run["test_log_lik"] - run["test_kl"], abs=0.02)
    assert str(tmp_path) not in (out / "decoder.json").read_text()


def test_small_weights_are_stored_in_float16(data_root, tmp_path):
    """A barely trained model has small weights and activations: float16 is precise enough and half the size."""
    meta = explorer.export_decoder(train(data_root, tmp_path / "run"), tmp_path / "export", data_root)
    assert meta["precision"]["weights"] == "float16"
    assert meta["precision"]["max_abs_error"] == meta["precision"]["max_abs_error_float16"]
    assert max(meta["precision"]["max_abs_error"]["mean"], meta["precision"]["max_abs_error"]["eta"]) <= 1e-3
    assert {a["dtype"] for a in meta["arrays"] if a["name"][0] in "Wb"} == {"float16"}


def test_a_higher_dimensional_model_is_shown_on_its_principal_plane(data_root, tmp_path):
    checkpoint = train(data_root, tmp_path / "run", latent_dim=5)
    meta = explorer.export_decoder(checkpoint, tmp_path / "export", data_root)
    trainer, _ = explorer.load_trainer(checkpoint)
    from vaekit.data import load_mnist

    mu = trainer.encode_mean(load_mnist("test", data_root)[0]).astype(np.float64)
    plane = meta["plane"]
    axes, origin = np.array(plane["axes"]), np.array(plane["origin"])
    np.testing.assert_allclose(axes @ axes.T, np.eye(2), atol=1e-5)  # orthonormal
    np.testing.assert_allclose(origin, mu.mean(axis=0), atol=1e-5)
    # the first axis carries the most variance of any direction: no unit vector beats it
    spread = np.var(mu @ axes.T, axis=0)
    eigenvalues = np.linalg.eigvalsh(np.cov(mu, rowvar=False, ddof=0))[::-1]
    np.testing.assert_allclose(spread, eigenvalues[:2], rtol=1e-4)
    assert plane["explained"][0] >= plane["explained"][1] and sum(plane["explained"]) <= 1 + 1e-6
    codes = explorer.unpack((tmp_path / "export" / "decoder.bin").read_bytes(), meta["arrays"])["codes"]
    np.testing.assert_allclose(codes, (mu - origin) @ axes.T, atol=1e-4)
    np.testing.assert_allclose(plane["prior_centre"], -(origin @ axes.T), atol=1e-5)
    ref = np.load(tmp_path / "export" / "reference.npz")
    np.testing.assert_allclose(ref["z"], origin + ref["plane"] @ axes, atol=1e-4)


def test_unusable_input_gets_a_clear_error(data_root, tmp_path):
    with pytest.raises(explorer.ExportError, match="no checkpoint at .*vaekit train"):
        explorer.export_decoder(tmp_path / "missing.pt", tmp_path / "out", data_root)
    (tmp_path / "weights.txt").write_text("x")
    with pytest.raises(explorer.ExportError, match="checkpoint.pt or checkpoint.npz"):
        explorer.export_decoder(tmp_path / "weights.txt", tmp_path / "out", data_root)
    one_d = train(data_root, tmp_path / "dz1", latent_dim=1)
    with pytest.raises(explorer.ExportError, match="D_z = 1"):
        explorer.export_decoder(one_d, tmp_path / "out", data_root)
    assert not (tmp_path / "out").exists()  # nothing half-written


def _script(*args, cwd=ROOT):
    env = {k: v for k, v in os.environ.items() if k != "VAEKIT_DATA_ROOT"}
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_the_script_exports_or_says_what_is_wrong(data_root, tmp_path):
    checkpoint = train(data_root, tmp_path / "run")
    done = _script(checkpoint, "--data-root", data_root, "--out", tmp_path / "export", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote decoder.bin" in done.stdout and (tmp_path / "export" / "decoder.json").is_file()
    # The errors, through the script's main() in this process (a subprocess each would only add torch's import).
    main = runpy.run_path(str(SCRIPT))["main"]
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = main([str(tmp_path / "nothing.pt"), "--data-root", str(data_root), "--out", str(tmp_path / "x")])
    assert code == 2 and "export_decoder: error: no checkpoint at" in err.getvalue(), err.getvalue()
    with contextlib.redirect_stderr(io.StringIO()) as err:
        code = main([str(checkpoint), "--data-root", str(tmp_path / "empty"), "--out", str(tmp_path / "y")])
    assert code == 2 and "export_decoder: error:" in err.getvalue(), err.getvalue()
    assert not (tmp_path / "y").exists()


def test_the_committed_export_fits_the_page():
    folder = DOCS / "assets" / "explore" / "dz2"
    meta = json.loads((folder / "decoder.json").read_text(encoding="utf-8"))
    blob = (folder / "decoder.bin").read_bytes()
    assert len(blob) == meta["bytes"] <= explorer.MAX_BYTES
    import hashlib

    assert hashlib.sha256(blob).hexdigest() == meta["sha256"]
    arrays = explorer.unpack(blob, meta["arrays"])
    assert meta["model"]["z_dim"] == 2 and meta["model"]["layers"] == [[2, 400], [400, 784]]
    assert arrays["codes"].shape == (meta["codes"]["n"], 2) and set(np.unique(arrays["labels"])) == set(range(10))
    run = meta["run"]
    assert run["latent_dim"] == 2 and run["code"] == "solutions" and run["track"] == "pytorch"
    assert run["epoch"] == run["epochs"] and run["n_train"] == 60_000 and run["max_batches"] is None
    assert run["command"].startswith("vaekit train ") and "--latent-dim 2" in run["command"]
    # the reference codes decode, with the stored weights, to the stored full-precision outputs
    ref = np.load(folder / "reference.npz")
    eta = sigmoid(relu_mlp(explorer.layers_from(arrays), ref["z"]))
    assert np.abs(eta - ref["eta"]).max() <= explorer.TOLERANCE
