"""vaekit.plotting: image tiling, input checks, and PNG files written without pyplot."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from vaekit import plotting


def test_tile_places_images_row_by_row():
    images = np.stack([np.full(784, v) for v in (0.1, 0.2, 0.3)])
    canvas = plotting.tile(images, n_cols=2, pad=1)
    assert canvas.shape == (28 + 1 + 28, 28 + 1 + 28)
    assert np.all(canvas[:28, :28] == 0.1) and np.all(canvas[:28, 29:] == 0.2)
    assert np.all(canvas[29:, :28] == 0.3)
    assert np.all(canvas[29:, 29:] == 1.0) and np.all(canvas[28, :] == 1.0)  # empty cell and gap are white


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match=r"shape \(N, 784\)"):
        plotting.tile(np.zeros((3, 28, 28)), 2)
    with pytest.raises(ValueError, match="NaN"):
        plotting.tile(np.full((1, 784), np.nan), 2)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plotting.save_latent_scatter("unused.png", np.zeros((5, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="same shape"):
        plotting.save_reconstructions("unused.png", np.zeros((2, 784)), np.zeros((3, 784)))


def test_figures_are_pngs_of_the_content(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.random((12, 784))
    path = plotting.save_reconstructions(tmp_path / "r.png", x, x[::-1], n_cols=6)
    assert imread(path).shape[2] in (3, 4)
    plotting.save_image_grid(tmp_path / "s.png", x, n_cols=4, title="samples")
    plotting.save_latent_scatter(tmp_path / "z.png", rng.standard_normal((50, 2)), rng.integers(0, 10, 50))
    plotting.save_traversal(tmp_path / "t.png", rng.random((2, 3, 784)), [0, 4], ["-1σ", "0σ", "+1σ"])
    plotting.save_interpolation(tmp_path / "i.png", x[:5], np.linspace(0, 1, 5))
    for name in ("r", "s", "z", "t", "i"):
        image = imread(tmp_path / f"{name}.png")
        assert image.shape[0] > 40 and image[..., :3].std() > 0.05
    # a black image shows up black in the grid: the grey map is fixed to [0, 1], not rescaled
    black = plotting.save_image_grid(tmp_path / "black.png", np.zeros((1, 784)), n_cols=1)
    rgb = imread(black)[..., :3]
    assert (rgb < 0.05).all(axis=-1).mean() > 0.3


def test_training_curves_are_drawn_and_check_their_input(tmp_path):
    epochs = [0, 1, 2]
    path = plotting.save_training_curves(tmp_path / "c.png", epochs, [None, 900.0, 1700.0],
                                         [-3.3, 1526.5, 1873.2], [-3.2, 1691.5, 2035.5], [0.1, 165.0, 162.2])
    assert imread(path).shape[2] in (3, 4)
    with pytest.raises(ValueError, match="one value per epoch"):
        plotting.save_training_curves(tmp_path / "x.png", epochs, [None, 1.0], [1, 2, 3], [1, 2, 3], [0, 0, 0])
    with pytest.raises(ValueError, match="test_kl contains NaN"):
        plotting.save_training_curves(tmp_path / "x.png", epochs, [None, 1, 2], [1, 2, 3], [1, 2, 3], [0, np.nan, 0])
