"""Exercise T10: two ways to differentiate an expectation, the pathwise and the score-function estimator.

A toy problem first, x ~ N(mu, sigma^2) with f(x) = (x - k)^2, where the variances are known exactly
(:mod:`vaekit.gradient_variance`), then the encoder of the VAE. The randomness always comes in as ``eps``.
See docs/theory/gradients.md and docs/exercises/estimators.md#ext10_1.
"""

import torch

from .continuous_bernoulli import cb_log_prob
from .elbo import elbo
from .gaussian import log_normal_diag, log_standard_normal

ESTIMATORS = ("pathwise", "score")


def pathwise_grad_mu(mu, sigma, eps, k):
    r"""Single-sample pathwise (reparameterisation) estimates of d/dmu E[(x - k)^2], x ~ N(mu, sigma^2) (Exercise T10.1).

    .. math::
        x = \mu + \sigma\varepsilon, \qquad
        g_{\text{path}} = \frac{\partial f(\mu + \sigma\varepsilon)}{\partial\mu} = f'(x) = 2(x - k),
        \qquad \mathbb E\,g = 2(\mu - k), \quad \mathrm{Var}\,g = 4\sigma^2

    Args:
        mu: the mean, a float (or a tensor broadcastable with eps).
        sigma: the standard deviation (> 0), a float or broadcastable tensor.
        eps: standard normal draws, tensor of shape (N,): one estimate per draw.
        k: the target of f(x) = (x - k)^2, a float.

    Returns:
        Tensor of shape (N,): the N single-sample estimates.

    See: docs/exercises/estimators.md#ext10_1
    """
    # BEGIN SOLUTION T10.1: Pathwise gradient on a toy problem (1 point)
    x = mu + sigma * eps
    return 2.0 * (x - k)
    # END SOLUTION


def score_function_grad_mu(mu, sigma, eps, k, baseline=0.0):
    r"""Single-sample score-function (REINFORCE) estimates of d/dmu E[(x - k)^2], with a baseline (Exercise T10.2).

    .. math::
        g_{\text{SF}} = \big(f(x) - b\big)\,\frac{\partial}{\partial\mu}\log\mathcal N(x; \mu, \sigma^2)
        = \big((x - k)^2 - b\big)\,\frac{x - \mu}{\sigma^2}, \qquad x = \mu + \sigma\varepsilon

    Unbiased for every constant b, since E[d/dmu log N(x; mu, sigma^2)] = 0; b changes only the variance.

    Args:
        mu, sigma, eps, k: as in :func:`pathwise_grad_mu`.
        baseline: the control variate b, a float (or a tensor broadcastable with eps) independent of eps.

    Returns:
        Tensor of shape (N,): the N single-sample estimates.

    See: docs/exercises/estimators.md#ext10_2
    """
    # BEGIN SOLUTION T10.2: Score-function gradient with a baseline (2 points)
    x = mu + sigma * eps
    score = (x - mu) / sigma**2
    return ((x - k) ** 2 - baseline) * score
    # END SOLUTION


def score_function_surrogate(x, mu, log_var, eps, decode, baseline=0.0):
    r"""A surrogate whose gradient is the score-function estimate of the ELBO's gradient (Exercise T10.3).

    .. math::
        z_k = \mathrm{stop}(\mu + \sigma\odot\varepsilon_k), \qquad
        f_k = \log p_\theta(x\mid z_k) + \log p(z_k) - \log q_\phi(z_k\mid x),

        s(x) = \frac1K\sum_{k=1}^K \log q_\phi(z_k\mid x)\;\mathrm{stop}(f_k - b), \qquad
        \nabla_\phi\, s = \frac1K\sum_k (f_k - b)\,\nabla_\phi \log q_\phi(z_k\mid x)
        \approx \nabla_\phi \mathcal L(x)

    Nothing but log q(z_k|x), as a function of mu and log_var at the *fixed* points z_k, carries a gradient:
    ``.detach()`` z_k and f_k (stop = detach). The value of s means nothing; its gradient is the estimate.

    Args:
        x: images in [0, 1], tensor of shape (B, D_x).
        mu: encoder means, tensor of shape (B, D_z).
        log_var: encoder log variances, tensor of shape (B, D_z).
        eps: standard normal noise, tensor of shape (K, B, D_z).
        decode: callable z (K, B, D_z) -> logits (K, B, D_x), e.g. a :class:`~.networks.Decoder`.
        baseline: b, a float or a tensor broadcastable to (K, B) (e.g. one value per example, shape (B,)),
            computed without these eps.

    Returns:
        Tensor of shape (B,): the surrogate s(x) of each example.

    See: docs/exercises/estimators.md#ext10_3
    """
    # BEGIN SOLUTION T10.3: Score-function surrogate of the ELBO (3 points; uses T1.1, T1.2, T2.2)
    z = (mu + torch.exp(0.5 * log_var) * eps).detach()  # (K, B, D_z)
    log_q = log_normal_diag(z, mu, log_var)  # (K, B)
    with torch.no_grad():
        f = cb_log_prob(x, decode(z)) + log_standard_normal(z) - log_q  # (K, B)
    return torch.mean(log_q * (f - baseline), dim=0)
    # END SOLUTION


def encoder_gradient(model, x, eps, estimator="pathwise", baseline=0.0):
    r"""One estimate of the gradient of the minibatch's mean ELBO w.r.t. the encoder's parameters phi (Exercise T10.4).

    .. math::
        g_{\text{path}} = \nabla_\phi \frac1B\sum_b \mathcal L(x_b), \qquad
        g_{\text{SF}} = \nabla_\phi \frac1B\sum_b s(x_b)

    with L the ELBO of :func:`~.elbo.elbo` (analytic KL, z = mu + sigma * eps) and s the surrogate of
    :func:`score_function_surrogate`. Both are unbiased estimates of the same gradient; calling this with R
    independent ``eps`` and taking the variance of each entry over the R results measures each estimator's
    per-parameter variance. Use ``torch.autograd.grad``: the model's ``.grad`` fields are left alone.

    Args:
        model: a :class:`~.networks.VAE` (``model.encoder``, ``model.decoder``).
        x: a minibatch of images, tensor of shape (B, D_x).
        eps: standard normal noise, tensor of shape (K, B, D_z).
        estimator: ``"pathwise"`` or ``"score"``.
        baseline: b of the score-function estimator (ignored by the pathwise one).

    Returns:
        Tensor of shape (P_enc,): the gradient (of the ELBO, to be *ascended*) as one flat vector in the
        layout of ``torch.nn.utils.parameters_to_vector(model.encoder.parameters())``.

    See: docs/exercises/estimators.md#ext10_4
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    # BEGIN SOLUTION T10.4: Encoder gradient of either estimator (2 points; uses T5.1, T6.1, T6.2, T10.3)
    phi = list(model.encoder.parameters())
    mu, log_var = model.encoder(x)
    if estimator == "pathwise":
        objective = torch.mean(elbo(x, mu, log_var, eps, model.decoder)[0])
    else:
        objective = torch.mean(score_function_surrogate(x, mu, log_var, eps, model.decoder, baseline))
    grads = torch.autograd.grad(objective, phi)
    return torch.cat([g.reshape(-1) for g in grads])
    # END SOLUTION
