"""vaekit.io: each writer replaces the file whole or leaves the old one intact, and leaves no temporary file."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from vaekit import io


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_write_bytes_creates_folders_and_replaces(tmp_path):
    path = tmp_path / "a" / "b" / "file.bin"
    io.write_bytes(path, b"first")
    io.write_bytes(path, b"second")
    assert path.read_bytes() == b"second"
    assert leftovers(path.parent) == []


def test_exception_mid_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "result.txt"
    io.write_text(path, "old")
    with pytest.raises(RuntimeError, match="disk on fire"):
        with io.atomic_open(path, "w") as f:
            f.write("new, but only half")
            raise RuntimeError("disk on fire")
    assert path.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_failed_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "result.json"
    io.save_json(path, {"v": 1})

    def broken_replace(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):
        io.save_json(path, {"v": 2})
    monkeypatch.undo()
    assert io.load_json(path) == {"v": 1}
    assert leftovers(tmp_path) == []


def test_json_that_cannot_be_encoded_writes_nothing(tmp_path):
    path = tmp_path / "metrics.json"
    io.save_json(path, {"epochs": [1, 2]})
    with pytest.raises(TypeError):
        io.save_json(path, {"epochs": {1, 2}})  # a set is not JSON
    assert json.loads(path.read_text()) == {"epochs": [1, 2]}


def test_npz_round_trip_at_the_exact_path(tmp_path):
    path = tmp_path / "checkpoint.bin"  # np.savez would append .npz to a file name
    theta = np.arange(6, dtype=np.float32)
    io.save_npz(path, theta=theta, epoch=np.asarray(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.bin"]
    with np.load(path, allow_pickle=False) as f:
        np.testing.assert_array_equal(f["theta"], theta)
        assert f["theta"].dtype == np.float32 and int(f["epoch"]) == 3


def test_torch_save_round_trip_and_failure(tmp_path):
    path = tmp_path / "checkpoint.pt"
    io.torch_save({"w": torch.ones(3), "epoch": 1}, path)
    with pytest.raises(Exception):
        io.torch_save({"w": torch.zeros(3), "f": lambda: 0}, path)  # a lambda cannot be pickled
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["epoch"] == 1 and torch.equal(ckpt["w"], torch.ones(3))
    assert leftovers(tmp_path) == []


def test_new_files_follow_the_umask(tmp_path):
    umask = os.umask(0o022)
    try:
        path = io.write_bytes(tmp_path / "f", b"x")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        with io.atomic_open("x", "a"):
            pass
