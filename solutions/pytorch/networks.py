"""Exercise T6: the MLP encoder q(z|x), decoder p(x|z) and the whole VAE as ``torch.nn`` modules.

Each affine layer is an ``nn.Linear``, whose ``weight`` of shape (fan_out, fan_in) is the transpose of the
NumPy track's W of shape (fan_in, fan_out), so a layer is ``h @ weight.T + bias``; its default
initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), is the NumPy track's ``init_linear``.
See docs/exercises/pytorch.md#ext6_1.
"""

from torch import nn

from .elbo import elbo


def mlp_hidden(widths):
    r"""Hidden layers h <- relu(h W^T + b) from widths[0] to widths[-1], as one ``nn.Sequential``.

    Args:
        widths: layer widths, e.g. (784, 400) for one hidden layer of 400 units; a single width gives no
            layer (the identity).

    Returns:
        ``nn.Sequential(Linear(widths[0], widths[1]), ReLU(), Linear(widths[1], widths[2]), ReLU(), ...)``,
        mapping (..., widths[0]) -> (..., widths[-1]).
    """
    layers = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers)


class Encoder(nn.Module):
    r"""Encoder q_phi(z|x): the mean and log variance of the diagonal Gaussian (Exercise T6.1).

    .. math::
        h = \mathrm{MLP}_\phi(x), \qquad \mu = h W_\mu^\top + b_\mu, \qquad
        \text{log\_var} = h W_{\gamma}^\top + b_{\gamma}

    Attributes:
        hidden: ``nn.Sequential`` of Linear + ReLU layers, D_x -> hidden_dims[-1] (see :func:`mlp_hidden`).
        to_mu: ``nn.Linear`` head, hidden_dims[-1] -> D_z.
        to_log_var: ``nn.Linear`` head, hidden_dims[-1] -> D_z.

    See: docs/exercises/pytorch.md#ext6_1
    """

    def __init__(self, x_dim, hidden_dims, z_dim):
        r"""Build the layers.

        Args:
            x_dim: D_x, e.g. 784.
            hidden_dims: hidden widths, listed from the x side, e.g. (400,).
            z_dim: D_z, e.g. 20.

        See: docs/exercises/pytorch.md#ext6_1
        """
        super().__init__()
        # BEGIN SOLUTION T6.1: Encoder module (2 points)
        widths = [x_dim, *hidden_dims]
        self.hidden = mlp_hidden(widths)
        self.to_mu = nn.Linear(widths[-1], z_dim)
        self.to_log_var = nn.Linear(widths[-1], z_dim)
        # END SOLUTION

    def forward(self, x):
        r"""Encode a batch.

        Args:
            x: images, tensor of shape (B, D_x).

        Returns:
            ``(mu, log_var)``, tensors of shape (B, D_z) each.

        See: docs/exercises/pytorch.md#ext6_1
        """
        # BEGIN SOLUTION T6.1
        h = self.hidden(x)
        return self.to_mu(h), self.to_log_var(h)
        # END SOLUTION


class Decoder(nn.Module):
    r"""Decoder p_theta(x|z): logits l = f_theta(z) of the continuous Bernoulli, eta = sigmoid(l) (Exercise T6.2).

    Attributes:
        hidden: ``nn.Sequential`` of Linear + ReLU layers, D_z -> hidden_dims[-1] (see :func:`mlp_hidden`).
        to_logits: ``nn.Linear`` head, hidden_dims[-1] -> D_x.

    See: docs/exercises/pytorch.md#ext6_2
    """

    def __init__(self, z_dim, hidden_dims, x_dim):
        r"""Build the layers.

        Args:
            z_dim: D_z, e.g. 20.
            hidden_dims: hidden widths, listed from the z side, e.g. (400,).
            x_dim: D_x, e.g. 784.

        See: docs/exercises/pytorch.md#ext6_2
        """
        super().__init__()
        # BEGIN SOLUTION T6.2: Decoder module (2 points)
        widths = [z_dim, *hidden_dims]
        self.hidden = mlp_hidden(widths)
        self.to_logits = nn.Linear(widths[-1], x_dim)
        # END SOLUTION

    def forward(self, z):
        r"""Decode latent codes.

        Args:
            z: latent codes, tensor of shape (..., D_z), e.g. (K, B, D_z).

        Returns:
            Logits, tensor of shape (..., D_x). Not probabilities: no sigmoid here.

        See: docs/exercises/pytorch.md#ext6_2
        """
        # BEGIN SOLUTION T6.2
        return self.to_logits(self.hidden(z))
        # END SOLUTION


class VAE(nn.Module):
    r"""The whole VAE: encode, sample with eps, decode, and the ELBO terms (Exercise T6.3).

    The decoder mirrors the encoder: its hidden widths are ``hidden_dims`` reversed, so the layers match
    the NumPy track's ``init_vae_params(rng, x_dim, hidden_dims, z_dim)`` one for one.

    Attributes:
        encoder: an :class:`Encoder` ``(x_dim, hidden_dims, z_dim)``.
        decoder: a :class:`Decoder` ``(z_dim, reversed(hidden_dims), x_dim)``.

    See: docs/exercises/pytorch.md#ext6_3
    """

    def __init__(self, x_dim=784, hidden_dims=(400,), z_dim=20):
        r"""Build the encoder and the decoder.

        Args:
            x_dim: D_x.
            hidden_dims: hidden widths of the encoder, from the x side; the decoder mirrors them.
            z_dim: D_z.

        See: docs/exercises/pytorch.md#ext6_3
        """
        super().__init__()
        # BEGIN SOLUTION T6.3: VAE module (2 points; uses T5.1, T6.1, T6.2)
        self.encoder = Encoder(x_dim, hidden_dims, z_dim)
        self.decoder = Decoder(z_dim, tuple(reversed(hidden_dims)), x_dim)
        # END SOLUTION

    def forward(self, x, eps):
        r"""The ELBO terms of a batch.

        Args:
            x: images in [0, 1], tensor of shape (B, D_x).
            eps: standard normal noise, tensor of shape (K, B, D_z).

        Returns:
            ``(elbo, log_lik, kl)``, tensors of shape (B,) each, in nats, as returned by :func:`~.elbo.elbo`.

        See: docs/exercises/pytorch.md#ext6_3
        """
        # BEGIN SOLUTION T6.3
        return elbo(x, *self.encoder(x), eps, self.decoder)
        # END SOLUTION
