"""Tiny MNIST-like IDX files for tests, written with nothing but ``struct`` and ``gzip`` (independent of vaekit.data)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array: 0x00 0x00 0x08 ndim, the sizes as big-endian int32, the bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.tobytes()


def write_file(path: Path, data: bytes, gz: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def make_split(n: int, seed: int, side: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """n random grey-level images (n, side, side) uint8 with every value 0..255 likely, and labels cycling 0..9."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, side, side), dtype=np.uint8)
    images[:, :2, :] = 0  # some exact zeros ...
    images[:, -2:, :] = 255  # ... and exact ones after scaling
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def write_mnist(folder: Path, n_train: int = 12, n_test: int = 7, gz: bool = True, seed: int = 0) -> dict:
    """Write both splits into ``folder`` (the caller picks the layout); return {split: (images, labels)}."""
    data = {}
    for k, (split, n) in enumerate((("train", n_train), ("test", n_test))):
        images, labels = make_split(n, seed + k)
        image_name, label_name = NAMES[split]
        write_file(folder / image_name, idx_bytes(images), gz)
        write_file(folder / label_name, idx_bytes(labels), gz)
        data[split] = (images, labels)
    return data
