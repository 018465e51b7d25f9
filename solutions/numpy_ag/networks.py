"""Exercise 6: the MLP encoder q(z|x) and decoder p(x|z) as functions of a parameter pytree.

Parameters are nested dicts of arrays (a "pytree"), e.g. ``params["encoder"]["to_mu"] = (W, b)`` with
W of shape (fan_in, fan_out), so a layer is ``h @ W + b``. See docs/exercises/numpy.md#ex6_1.
"""

from functools import partial

import autograd.numpy as np

from .elbo import elbo


def init_linear(rng, fan_in, fan_out, dtype=np.float64):
    r"""One affine layer (W, b) with W, b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), PyTorch's default for nn.Linear.

    Returns:
        ``(W, b)`` with W of shape (fan_in, fan_out) and b of shape (fan_out,).
    """
    bound = 1.0 / np.sqrt(fan_in)
    W = rng.uniform(-bound, bound, size=(fan_in, fan_out)).astype(dtype)
    b = rng.uniform(-bound, bound, size=(fan_out,)).astype(dtype)
    return W, b


def init_vae_params(rng, x_dim, hidden_dims, z_dim, dtype=np.float64):
    r"""Initial parameters of the encoder and decoder MLPs (Exercise 6.1).

    Encoder: x (D_x) -> hidden layers -> heads ``to_mu`` and ``to_log_var`` (D_z each).
    Decoder: z (D_z) -> the hidden layers in reverse order -> head ``to_logits`` (D_x).
    Every layer is made by :func:`init_linear`.

    Args:
        rng: a ``numpy.random.Generator``; the only source of randomness.
        x_dim: D_x, e.g. 784.
        hidden_dims: hidden widths of the encoder, e.g. (400,); the decoder mirrors them.
        z_dim: D_z, e.g. 20.
        dtype: floating dtype of every array.

    Returns:
        ``{"encoder": {"hidden": [(W, b), ...], "to_mu": (W, b), "to_log_var": (W, b)},
        "decoder": {"hidden": [(W, b), ...], "to_logits": (W, b)}}``.

    See: docs/exercises/numpy.md#ex6_1
    """
    # BEGIN SOLUTION 6.1: MLP parameters (2 points)
    widths = [x_dim, *hidden_dims]
    encoder = {
        "hidden": [init_linear(rng, i, o, dtype) for i, o in zip(widths[:-1], widths[1:])],
        "to_mu": init_linear(rng, widths[-1], z_dim, dtype),
        "to_log_var": init_linear(rng, widths[-1], z_dim, dtype),
    }
    widths = [z_dim, *reversed(hidden_dims)]
    decoder = {
        "hidden": [init_linear(rng, i, o, dtype) for i, o in zip(widths[:-1], widths[1:])],
        "to_logits": init_linear(rng, widths[-1], x_dim, dtype),
    }
    return {"encoder": encoder, "decoder": decoder}
    # END SOLUTION


def mlp_hidden(layers, h):
    r"""Apply hidden layers h <- relu(h @ W + b) in turn. Shapes: (..., fan_in) -> (..., fan_out)."""
    for W, b in layers:
        h = np.maximum(h @ W + b, 0.0)
    return h


def encode(encoder_params, x):
    r"""Encoder q_phi(z|x): the mean and log variance of the diagonal Gaussian (Exercise 6.2).

    .. math::
        h = \mathrm{MLP}_\phi(x), \qquad \mu = h W_\mu + b_\mu, \qquad
        \text{log\_var} = h W_{\gamma} + b_{\gamma}

    Args:
        encoder_params: ``params["encoder"]`` from :func:`init_vae_params`.
        x: images, shape (B, D_x).

    Returns:
        ``(mu, log_var)``, each of shape (B, D_z).

    See: docs/exercises/numpy.md#ex6_2
    """
    # BEGIN SOLUTION 6.2: Encoder (2 points)
    h = mlp_hidden(encoder_params["hidden"], x)
    W_mu, b_mu = encoder_params["to_mu"]
    W_lv, b_lv = encoder_params["to_log_var"]
    return h @ W_mu + b_mu, h @ W_lv + b_lv
    # END SOLUTION


def decode(decoder_params, z):
    r"""Decoder p_theta(x|z): the logits l = f_theta(z) of the continuous Bernoulli, eta = sigmoid(l) (Exercise 6.3).

    Args:
        decoder_params: ``params["decoder"]`` from :func:`init_vae_params`.
        z: latent codes, shape (..., D_z), e.g. (K, B, D_z).

    Returns:
        Logits of shape (..., D_x). Not probabilities: no sigmoid here.

    See: docs/exercises/numpy.md#ex6_3
    """
    # BEGIN SOLUTION 6.3: Decoder (2 points)
    h = mlp_hidden(decoder_params["hidden"], z)
    W, b = decoder_params["to_logits"]
    return h @ W + b
    # END SOLUTION


def vae_forward(params, x, eps):
    r"""The whole VAE on a batch: encode, sample with eps, decode, and the ELBO terms (Exercise 6.4).

    Args:
        params: the pytree from :func:`init_vae_params`.
        x: images in [0, 1], shape (B, D_x).
        eps: standard normal noise, shape (K, B, D_z).

    Returns:
        ``(elbo, log_lik, kl)``, each of shape (B,) in nats, as returned by :func:`elbo`.

    See: docs/exercises/numpy.md#ex6_4
    """
    # BEGIN SOLUTION 6.4: VAE forward pass (2 points; uses 5.1, 6.2, 6.3)
    mu, log_var = encode(params["encoder"], x)
    return elbo(x, mu, log_var, eps, partial(decode, params["decoder"]))
    # END SOLUTION
