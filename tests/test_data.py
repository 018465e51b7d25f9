"""vaekit.data.load_mnist: values, layouts, the search order, clear errors for bad files, and no network."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

from tests.mnist_files import NAMES, idx_bytes, make_split, write_file, write_mnist
from vaekit import data
from vaekit.data import DataError, DataFormatError, DataNotFoundError, load_mnist


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail loudly if anything tries to download: torchvision's downloader or a raw URL open."""
    import urllib.request

    import torchvision.datasets as tvd

    def refuse(*args, **kwargs):
        raise AssertionError("a network call was attempted")

    monkeypatch.setattr(tvd.MNIST, "download", refuse)
    monkeypatch.setattr(tvd.FashionMNIST, "download", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.delenv(data.DATA_ROOT_ENV, raising=False)


LAYOUTS = {"torchvision": "MNIST/raw", "flat": "."}


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_loads_both_layouts_and_compressions(tmp_path, layout, gz):
    written = write_mnist(tmp_path / LAYOUTS[layout], gz=gz)
    for split in ("train", "test"):
        images, labels = written[split]
        x, y = load_mnist(split, root=tmp_path)
        assert x.dtype == np.float32 and y.dtype == np.int64
        assert x.shape == (len(images), 784) and y.shape == (len(images),)
        np.testing.assert_allclose(x, images.reshape(len(images), -1) / 255.0, rtol=0, atol=1e-7)
        np.testing.assert_array_equal(y, labels)
        assert x.min() == 0.0 and x.max() == 1.0
        # grey levels are kept: not binarised
        assert np.mean((x > 0) & (x < 1)) > 0.5
        assert len(np.unique(x)) > 200


def test_row_major_pixel_order(tmp_path):
    images = np.zeros((1, 28, 28), dtype=np.uint8)
    images[0, 2, 5] = 255  # row 2, column 5 -> flat index 2 * 28 + 5
    write_file(tmp_path / NAMES["test"][0], idx_bytes(images), gz=True)
    write_file(tmp_path / NAMES["test"][1], idx_bytes(np.array([3], dtype=np.uint8)), gz=True)
    x, y = load_mnist("test", root=tmp_path)
    assert np.flatnonzero(x[0]).tolist() == [2 * 28 + 5] and y.tolist() == [3]


def test_root_from_environment_then_default(tmp_path, monkeypatch):
    env_root, cwd = tmp_path / "env", tmp_path / "cwd"
    from_env = write_mnist(env_root, n_test=5, seed=0)["test"][0]
    from_cwd = write_mnist(cwd / "data" / "MNIST" / "raw", n_test=4, seed=10)["test"][0]
    monkeypatch.chdir(cwd)

    monkeypatch.setenv(data.DATA_ROOT_ENV, str(env_root))
    x, _ = load_mnist("test")
    np.testing.assert_array_equal(np.rint(x * 255), from_env.reshape(5, -1))

    monkeypatch.delenv(data.DATA_ROOT_ENV)  # then ./data
    x, _ = load_mnist("test")
    np.testing.assert_array_equal(np.rint(x * 255), from_cwd.reshape(4, -1))


def test_fashion_mnist_folder_and_debian_location(tmp_path, monkeypatch):
    write_mnist(tmp_path / "FashionMNIST" / "raw", n_test=6)
    assert len(load_mnist("test", root=tmp_path, dataset="fashion-mnist")[0]) == 6
    # MNIST does not read the FashionMNIST folder
    with pytest.raises(DataNotFoundError):
        load_mnist("test", root=tmp_path, dataset="mnist")

    debian = tmp_path / "debian" / "fashion-mnist"
    write_mnist(debian, n_test=3)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", debian)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert len(load_mnist("test", root=empty, dataset="fashion-mnist")[0]) == 3
    with pytest.raises(DataNotFoundError):  # the Debian folder holds Fashion-MNIST only
        load_mnist("test", root=empty, dataset="mnist")


def test_missing_file_names_it_and_says_where_to_put_it(tmp_path):
    images, _ = make_split(4, 0)
    write_file(tmp_path / NAMES["test"][0], idx_bytes(images), gz=True)  # no labels file
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("test", root=tmp_path)
    msg = str(info.value)
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, DataError)
    assert "t10k-labels-idx1-ubyte" in msg
    assert str(tmp_path / "MNIST" / "raw") in msg and str(tmp_path) in msg
    assert "--data-root" in msg and "download" in msg


def test_empty_root_reports_images_first(tmp_path):
    with pytest.raises(DataNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist("train", root=tmp_path / "nowhere")


def _write_test_split(folder, images=None, labels=None, gz=True):
    images_default, labels_default = make_split(5, 1)
    write_file(folder / NAMES["test"][0], idx_bytes(images_default) if images is None else images, gz)
    write_file(folder / NAMES["test"][1], idx_bytes(labels_default) if labels is None else labels, gz)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_truncated_images_file(tmp_path, gz):
    images, _ = make_split(5, 1)
    _write_test_split(tmp_path, images=idx_bytes(images)[:-100], gz=gz)
    with pytest.raises(DataFormatError) as info:
        load_mnist("test", root=tmp_path)
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte" in msg and "truncated" in msg and "(5, 28, 28)" in msg
    assert isinstance(info.value, ValueError)


def test_cut_gzip_stream(tmp_path):
    images, _ = make_split(5, 1)
    _write_test_split(tmp_path)
    path = tmp_path / (NAMES["test"][0] + ".gz")
    path.write_bytes(gzip.compress(idx_bytes(images))[:200])
    with pytest.raises(DataFormatError, match="t10k-images-idx3-ubyte.gz cannot be read"):
        load_mnist("test", root=tmp_path)


def test_not_a_gzip_file(tmp_path):
    _write_test_split(tmp_path)
    (tmp_path / (NAMES["test"][1] + ".gz")).write_bytes(b"<html>404 not found</html>")
    with pytest.raises(DataFormatError, match="t10k-labels-idx1-ubyte.gz cannot be read"):
        load_mnist("test", root=tmp_path)


def test_wrong_magic_number(tmp_path):
    _, labels = make_split(5, 1)
    _write_test_split(tmp_path, images=idx_bytes(labels))  # a labels file where the images should be
    with pytest.raises(DataFormatError) as info:
        load_mnist("test", root=tmp_path)
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte" in msg and "magic number 0x00000801" in msg and "0x00000803" in msg


def test_too_long_file(tmp_path):
    images, _ = make_split(5, 1)
    _write_test_split(tmp_path, images=idx_bytes(images) + b"\x00" * 10, gz=False)
    with pytest.raises(DataFormatError, match="too long"):
        load_mnist("test", root=tmp_path)


def test_mismatched_counts(tmp_path):
    images, labels = make_split(5, 1)
    _write_test_split(tmp_path, images=idx_bytes(images), labels=idx_bytes(labels[:4]))
    with pytest.raises(DataFormatError) as info:
        load_mnist("test", root=tmp_path)
    msg = str(info.value)
    assert "5 images" in msg and "4 labels" in msg and "t10k-labels-idx1-ubyte" in msg


def test_wrong_image_size_and_bad_label(tmp_path):
    small, labels = make_split(5, 1, side=14)
    _write_test_split(tmp_path, images=idx_bytes(small))
    with pytest.raises(DataFormatError, match="14x14 pixels, expected 28x28"):
        load_mnist("test", root=tmp_path)
    images, labels = make_split(5, 1)
    labels[2] = 11
    _write_test_split(tmp_path, images=idx_bytes(images), labels=idx_bytes(labels))
    with pytest.raises(DataFormatError, match="label 11"):
        load_mnist("test", root=tmp_path)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation", root=tmp_path)
    with pytest.raises(ValueError, match="dataset"):
        load_mnist("test", root=tmp_path, dataset="cifar10")


def test_download_true_reads_local_files_without_network(tmp_path):
    write_mnist(tmp_path, n_test=3)
    assert len(load_mnist("test", root=tmp_path, download=True)[0]) == 3  # the fixture refuses downloads


def test_failed_download_says_so(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    def offline(self):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://..., got: no network")

    monkeypatch.setattr(tvd.MNIST, "download", offline)
    with pytest.raises(DataNotFoundError) as info:
        load_mnist("test", root=tmp_path, download=True)
    msg = str(info.value)
    assert "downloading MNIST" in msg and "failed" in msg and str(tmp_path / "MNIST" / "raw") in msg
    assert "\n" not in msg


def test_download_uses_torchvision_layout(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    def fake_download(self):  # what torchvision leaves behind: .gz files and their extracted copies
        folder = tvd.MNIST.raw_folder.fget(self)
        os.makedirs(folder, exist_ok=True)
        for gz in (True, False):
            write_mnist(type(tmp_path)(folder), n_train=10, n_test=4, gz=gz)

    monkeypatch.setattr(tvd.MNIST, "download", fake_download)
    x, y = load_mnist("test", root=tmp_path, download=True)
    assert x.shape == (4, 784) and (tmp_path / "MNIST" / "raw" / NAMES["test"][0]).is_file()


REAL_ROOT = os.environ.get("VAEKIT_DATA_ROOT")  # read before the fixture above removes it


@pytest.mark.skipif(not REAL_ROOT, reason="set VAEKIT_DATA_ROOT to a folder with the MNIST IDX files")
def test_real_mnist(monkeypatch):
    monkeypatch.setenv(data.DATA_ROOT_ENV, REAL_ROOT)
    x_train, y_train = load_mnist("train")
    x_test, y_test = load_mnist("test")
    assert x_test.shape == (10_000, 784) and y_test.shape == (10_000,)
    assert x_train.shape[1] == 784 and len(x_train) in (5_000, 60_000) and len(y_train) == len(x_train)
    for x, y in ((x_train, y_train), (x_test, y_test)):
        assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() == 1.0
        assert 0.10 < x.mean() < 0.16  # MNIST's mean intensity is about 0.13
        assert sorted(np.unique(y).tolist()) == list(range(10))
    assert np.mean((x_test > 0) & (x_test < 1)) > 0.03  # grey levels (anti-aliased strokes) are kept


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_bytes_are_the_raw_grey_levels_and_load_mnist_their_scaling(tmp_path, layout, gz):
    written = write_mnist(tmp_path / LAYOUTS[layout], gz=gz)
    for split in ("train", "test"):
        images, labels = written[split]
        b, y = data.load_mnist_bytes(split, root=tmp_path)
        assert b.dtype == np.uint8 and b.shape == (len(images), 784)
        np.testing.assert_array_equal(b, images.reshape(len(images), 784))
        np.testing.assert_array_equal(y, labels)
        x, _ = load_mnist(split, root=tmp_path)  # unchanged: byte / 255 in float32
        np.testing.assert_array_equal(x, (images.reshape(len(images), 784) / np.float32(255.0)).astype(np.float32))
