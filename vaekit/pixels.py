r"""Pixels seen by a density model: uniform dequantisation, bits per dimension, and clipping eta.

MNIST pixels are bytes, b in {0, ..., 255}. A continuous density p on [0, 1]^D (the continuous Bernoulli
decoder) fitted to the points b / 255 can grow without bound on them: at a pixel that is exactly 0 the CB
density is C(eta)(1 - eta), about |l| for a logit l -> -inf. Two remedies (docs/theory/evaluation.md):

* **Uniform dequantisation** (Theis et al., 2016): train and evaluate on x = (b + u) / 256, u ~ U(0, 1)^D.
  Then log P(b) >= E_u log p((b + u) / 256) - D log 256, a bound on the probability of the bytes, which
  reads in bits per dimension as ``bits_per_dim``.
* **Clipping** eta = sigmoid(l) to [eta_min, 1 - eta_min], as the released code of the continuous Bernoulli
  paper does with eta_min = 1e-4: the logits are clamped to +-logit(1 - eta_min), which caps the density of a
  pixel at ``cb_log_prob_ceiling(eta_min)``.

Shapes: images (N, D) with D = 784; the functions work on any shape.
"""

from __future__ import annotations

import math

import numpy as np

LEVELS = 256  # grey levels of an 8-bit pixel
CB_PAPER_ETA_MIN = 1e-4  # the clip of eta in the continuous Bernoulli paper's released VAE code

# Tags that keep the noise streams of training and evaluation apart for one seed.
TRAIN_NOISE, EVAL_NOISE = 1, 2


def dequantise(images: np.ndarray, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    r"""Uniformly dequantised pixels.

    .. math::
        x_{n,d} = (b_{n,d} + u_{n,d}) / 256, \qquad u_{n,d} \sim U(0, 1) \text{ independent}

    so x lies in the cell [b/256, (b+1)/256] of its byte (the upper end only through float rounding).

    Args:
        images: bytes b, an integer array of any shape (e.g. (N, 784) uint8) with values 0..255.
        rng: a ``numpy.random.Generator``, the source of u.
        dtype: floating dtype of the result.

    Returns:
        x of the shape of ``images`` and dtype ``dtype``, in [0, 1].

    Raises:
        ValueError: values outside 0..255, or a non-integer array.
    """
    images = np.asarray(images)
    if not np.issubdtype(images.dtype, np.integer):
        raise ValueError(f"dequantise needs the integer grey levels 0..255 (e.g. from load_mnist_bytes), got an "
                         f"array of {images.dtype}; pixels already scaled to [0, 1] cannot be dequantised")
    if images.size and (images.min() < 0 or images.max() >= LEVELS):
        raise ValueError(f"dequantise needs grey levels in 0..{LEVELS - 1}, got values in "
                         f"{int(images.min())}..{int(images.max())}")
    x = rng.random(images.shape, dtype=np.float32)  # u, then b + u in place (one array, no temporaries)
    x += images
    x *= np.float32(1.0 / LEVELS)  # a power of two: exact
    return x.astype(dtype, copy=False)


def noise_rng(seed: int, stream: int, index: int) -> np.random.Generator:
    """The generator of one draw of dequantisation noise: ``stream`` is TRAIN_NOISE (``index`` = the epoch, so
    every epoch has fresh noise and a resumed run the same) or EVAL_NOISE (``index`` = the draw, fixed for the
    whole run, so test numbers of different epochs compare the same points)."""
    return np.random.default_rng([int(seed), int(stream), int(index)])


def discrete_log_prob_bound(log_density, n_dims: int, levels: int = LEVELS):
    r"""A lower bound on log P(bytes) from the log density of the dequantised pixels, in nats.

    .. math::
        \log P(b) = \log \int_{[0,1)^D} p\big(\tfrac{b + u}{L}\big) L^{-D}\,du
        \;\ge\; \mathbb E_u \log p\big(\tfrac{b+u}{L}\big) - D \log L

    (Jensen's inequality; L = 256 levels). Pass the ELBO or the IWAE estimate of log p averaged over u: a lower
    bound on log p stays a lower bound.

    Args:
        log_density: E_u log p(x) (or a lower bound on it) in nats per image; float or array.
        n_dims: D, pixels per image.
        levels: L.
    """
    return log_density - n_dims * math.log(levels)


def bits_per_dim(log_density, n_dims: int, levels: int = LEVELS):
    r"""Upper bound on the code length of the bytes in bits per pixel (lower is better).

    .. math::
        \text{bits/dim} = -\frac{\mathbb E_u \log p\big(\tfrac{b+u}{L}\big) - D \log L}{D \log 2}
        = \log_2 L - \frac{\mathbb E_u \log p}{D \log 2}

    8 bits/dim is the uniform distribution over the 256 levels, 0 a model that knows every byte.

    Args:
        log_density: E_u log p(x) of the dequantised pixels (e.g. the test ELBO) in nats per image.
        n_dims: D.
        levels: L.
    """
    return -discrete_log_prob_bound(log_density, n_dims, levels) / (n_dims * math.log(2.0))


def eta_clip_logit(eta_min: float) -> float:
    r"""The logit bound that clips eta = sigmoid(l) to [eta_min, 1 - eta_min]: logit(1 - eta_min) = log((1 - eta_min)/eta_min).

    Clamping l to [-bound, bound] is the same as clipping eta, since sigmoid is increasing and
    sigmoid(-l) = 1 - sigmoid(l). For eta_min = 1e-4 the bound is log 9999 = 9.2102.
    """
    if not 0.0 < eta_min < 0.5:
        raise ValueError(f"eta_min must lie in (0, 0.5), got {eta_min}; the CB paper's code uses {CB_PAPER_ETA_MIN}")
    return math.log((1.0 - eta_min) / eta_min)


def cb_log_prob_ceiling(eta_min: float) -> float:
    r"""The largest log density one continuous Bernoulli pixel reaches when eta is clipped to [eta_min, 1 - eta_min].

    For eta < 1/2 the density C(eta) eta^x (1 - eta)^(1 - x) decreases in x, so its maximum is at x = 0:
    C(eta)(1 - eta), which grows as eta falls; with l = logit(eta_min) < 0 and C = l / tanh(l / 2),

    .. math::
        \max_{x, \eta} \log p(x\mid\eta) = \log(1 - \eta_{\min}) + \log\frac{|l|}{\tanh(|l|/2)}

    (the same at x = 1, eta = 1 - eta_min, by symmetry). For eta_min = 1e-4: 2.2204 nats per pixel, so a
    784-pixel image has log p(x|z) <= 1740.8 nats and the ELBO is bounded by that too.
    """
    bound = eta_clip_logit(eta_min)
    return math.log1p(-eta_min) + math.log(bound / math.tanh(0.5 * bound))
