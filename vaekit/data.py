"""MNIST as float arrays in [0, 1] (not binarised), and minibatches by index.

The data are the four IDX files of MNIST (or Fashion-MNIST), under their usual names
(``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte``), each either gzipped (``.gz``) or not. :func:`load_mnist` looks for them in

1. ``<root>/MNIST/raw/`` (``<root>/FashionMNIST/raw/``): where ``torchvision.datasets.MNIST`` keeps them;
2. ``<root>/`` itself;
3. for Fashion-MNIST only, ``/usr/share/datasets/fashion-mnist/``, where the Debian package
   ``dataset-fashion-mnist`` installs them;

with ``root`` the argument, else the environment variable ``VAEKIT_DATA_ROOT``, else ``./data``. Nothing is
downloaded unless ``download=True``, which asks torchvision to fetch the files into ``<root>/MNIST/raw/``.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from . import IMAGE_DIM, IMAGE_SIDE

DATA_ROOT_ENV = "VAEKIT_DATA_ROOT"
DEFAULT_ROOT = Path("data")
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")

SPLITS = ("train", "test")
# dataset name -> (torchvision class name, which is also its folder under root; a display name)
DATASETS = {"mnist": ("MNIST", "MNIST"), "fashion-mnist": ("FashionMNIST", "Fashion-MNIST")}
_PREFIX = {"train": "train", "test": "t10k"}

# IDX header: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions.
_UBYTE = 0x08
_IMAGES_NDIM, _LABELS_NDIM = 3, 1
N_CLASSES = 10


class DataError(Exception):
    """The data cannot be loaded; the message says which file, where it was looked for and what to do."""


class DataNotFoundError(DataError, FileNotFoundError):
    """An IDX file is in none of the folders searched, or the download failed."""


class DataFormatError(DataError, ValueError):
    """An IDX file exists but is not what it should be (bad gzip, wrong magic number, truncated, ...)."""


def idx_filenames(split: str) -> tuple[str, str]:
    """The (images, labels) IDX file names of a split, without ``.gz``: e.g. ``t10k-images-idx3-ubyte``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose 'train' or 'test'")
    prefix = _PREFIX[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


def default_root() -> Path:
    """``$VAEKIT_DATA_ROOT`` if set (and not empty), else ``./data``."""
    env = os.environ.get(DATA_ROOT_ENV, "").strip()
    return Path(env) if env else DEFAULT_ROOT


def search_dirs(root: str | Path | None = None, dataset: str = "mnist") -> list[Path]:
    """The folders searched for the IDX files, in order (see the module docstring)."""
    folder, _ = _dataset(dataset)
    root = Path(root).expanduser() if root is not None else default_root()
    dirs = [root / folder / "raw", root]
    if dataset == "fashion-mnist":
        dirs.append(DEBIAN_FASHION_MNIST)
    return dirs


def find_idx_file(name: str, dirs: list[Path]) -> Path | None:
    """The first of ``<dir>/<name>``, ``<dir>/<name>.gz`` that is a file, over ``dirs`` in order; else None."""
    for folder in dirs:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def read_idx(path: str | Path, ndim: int) -> np.ndarray:
    """Parse one IDX file of unsigned bytes (gzipped if its name ends in ``.gz``) into a uint8 array.

    Format: magic number ``00 00 08 <ndim>``, then ``ndim`` big-endian int32 sizes, then the bytes in C order.

    Args:
        path: the file.
        ndim: the expected number of dimensions: 3 for images (N, 28, 28), 1 for labels (N,).

    Returns:
        A uint8 array of the shape given in the header.

    Raises:
        DataFormatError: unreadable gzip, wrong magic number, or a data size that differs from the header.
    """
    path = Path(path)
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError; a cut-off gzip stream an EOFError
        raise DataFormatError(f"{path} cannot be read: {err}. {_REPLACE}") from err
    header_size = 4 + 4 * ndim
    magic, expected = raw[:4], bytes([0, 0, _UBYTE, ndim])
    if len(magic) == 4 and magic != expected:
        raise DataFormatError(
            f"{path} has magic number 0x{magic.hex()}, expected 0x{expected.hex()} (an IDX file of unsigned "
            f"bytes with {ndim} dimension(s)); is it the right file? {_REPLACE}"
        )
    if len(raw) < header_size:
        raise DataFormatError(f"{path} is truncated: {len(raw)} bytes, shorter than its header. {_REPLACE}")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    expected_bytes = int(np.prod(shape))
    found_bytes = len(raw) - header_size
    if found_bytes != expected_bytes:
        what = "truncated" if found_bytes < expected_bytes else "too long"
        raise DataFormatError(
            f"{path} is {what}: its header announces shape {shape}, i.e. {expected_bytes} bytes of data, "
            f"but it holds {found_bytes}. {_REPLACE}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


_REPLACE = "Replace it with a good copy (or delete it and load with download=True)."


def load_mnist(
    split: str = "train",
    root: str | Path | None = None,
    dataset: str = "mnist",
    download: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Load one split of MNIST or Fashion-MNIST as float32 pixels in [0, 1] and integer labels.

    .. math::
        x_{n,d} = \text{byte}_{n,d} / 255 \in [0, 1], \qquad d = 1..784 \text{ (row-major 28x28)}

    The pixels are *not* binarised: the continuous Bernoulli decoder models grey levels. For the bytes
    themselves (to dequantise them, see :mod:`vaekit.pixels`) use :func:`load_mnist_bytes`.

    Args:
        split: ``"train"`` (60,000 images, or however many the files hold) or ``"test"`` (10,000).
        root: folder to search (see the module docstring); default ``$VAEKIT_DATA_ROOT`` or ``./data``.
        dataset: ``"mnist"`` or ``"fashion-mnist"``.
        download: if the files are not found, download them with torchvision into ``<root>/<MNIST|FashionMNIST>/raw``.

    Returns:
        ``(x, labels)``: x float32 of shape (N, 784) in [0, 1]; labels int64 of shape (N,) in 0..9.

    Raises:
        DataNotFoundError: a file is missing (the message lists the folders searched), or the download failed.
        DataFormatError: a file is corrupt, or the images and labels do not match.
    """
    images, labels = load_mnist_bytes(split, root, dataset, download)
    x = images.astype(np.float32)
    x /= np.float32(255.0)
    return x, labels


def load_mnist_bytes(
    split: str = "train",
    root: str | Path | None = None,
    dataset: str = "mnist",
    download: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Load one split as the raw 8-bit grey levels, byte_{n,d} in {0, ..., 255}, and integer labels.

    Same files, search and errors as :func:`load_mnist`, which is ``load_mnist_bytes(...)[0] / 255``.

    Returns:
        ``(images, labels)``: images uint8 of shape (N, 784), row-major 28x28; labels int64 of shape (N,).
    """
    folder, display = _dataset(dataset)
    images_name, labels_name = idx_filenames(split)
    root = Path(root).expanduser() if root is not None else default_root()
    dirs = search_dirs(root, dataset)
    images_path = find_idx_file(images_name, dirs)
    labels_path = find_idx_file(labels_name, dirs)
    if (images_path is None or labels_path is None) and download:
        _download(root, dataset)
        images_path = find_idx_file(images_name, dirs)
        labels_path = find_idx_file(labels_name, dirs)
    for name, path in ((images_name, images_path), (labels_name, labels_path)):
        if path is None:
            raise DataNotFoundError(_not_found_message(display, split, name, root, dirs, folder))
    images = read_idx(images_path, _IMAGES_NDIM)
    labels = read_idx(labels_path, _LABELS_NDIM)
    if images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataFormatError(
            f"{images_path} holds images of {images.shape[1]}x{images.shape[2]} pixels, expected "
            f"{IMAGE_SIDE}x{IMAGE_SIDE}. {_REPLACE}"
        )
    if len(images) != len(labels):
        raise DataFormatError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels: the two "
            f"files of the {split} split must come from the same data set and have the same length."
        )
    if len(labels) and labels.max() >= N_CLASSES:
        raise DataFormatError(f"{labels_path} has a label {int(labels.max())}; labels must be 0..9. {_REPLACE}")
    return images.reshape(len(images), IMAGE_DIM), labels.astype(np.int64)


def _dataset(dataset: str) -> tuple[str, str]:
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of: {', '.join(DATASETS)}")
    return DATASETS[dataset]


def _not_found_message(display: str, split: str, name: str, root: Path, dirs: list[Path], folder: str) -> str:
    looked = ", ".join(str(d.absolute()) for d in dirs)
    return (
        f"{display} {split} file {name} (or {name}.gz) not found; looked in: {looked}. "
        f"Put the four IDX files ({', '.join(idx_filenames('train') + idx_filenames('test'))}, gzipped or not) "
        f"in {root / folder / 'raw'} or directly in {root}, or point to their folder with --data-root / "
        f"${DATA_ROOT_ENV}; or download them with download=True (`vaekit train --download`)."
        + (f" On Debian, `apt-get install dataset-fashion-mnist` puts them in {DEBIAN_FASHION_MNIST}, which is "
           "searched by itself." if folder == "FashionMNIST" else "")
    )


def _download(root: Path, dataset: str) -> None:
    """Fetch the four files with torchvision into ``<root>/<MNIST|FashionMNIST>/raw`` (both .gz and raw)."""
    folder, display = _dataset(dataset)
    try:
        from torchvision import datasets
    except ImportError as err:  # torchvision is a dependency, but say so plainly if it is missing
        raise DataNotFoundError(f"downloading {display} needs torchvision, which cannot be imported: {err}") from err
    cls = getattr(datasets, folder)
    try:
        root.mkdir(parents=True, exist_ok=True)
        for train in (True, False):
            cls(str(root), train=train, download=True)
    except Exception as err:  # no network, a mirror down, a bad checksum, a read-only folder, ...
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataNotFoundError(
            f"downloading {display} into {root / folder / 'raw'} failed ({first_line}); without a network, copy "
            f"the four IDX files there (or into {root}) by hand."
        ) from err


def minibatch_indices(n, batch_size, rng):
    """Shuffled index arrays that cover range(n) once, each of length batch_size (the last may be shorter).

    Args:
        n: number of examples N.
        batch_size: B.
        rng: a ``numpy.random.Generator`` that shuffles.

    Returns:
        A list of int arrays; ``x[idx]`` is one minibatch.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]
