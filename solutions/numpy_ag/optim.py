"""Exercise 7: Adam and one training step with ``autograd`` (Kingma & Ba, 2015; docs/exercises/numpy.md#ex7_1).

Adam works on the flat parameter vector theta of shape (P,); :func:`flatten_params` turns the parameter
pytree into theta and back, with the same layout as ``autograd.misc.flatten``.
"""

import math

import autograd.numpy as np
import numpy as onp
from autograd import value_and_grad

from .networks import vae_forward


def _leaves(tree):
    """The arrays of a pytree in ``autograd.misc.flatten`` order: dict keys sorted, lists and tuples in order."""
    if isinstance(tree, dict):
        return [leaf for key in sorted(tree) for leaf in _leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


def _rebuild(tree, leaves):
    """A pytree shaped like ``tree`` whose arrays are taken in turn from the iterator ``leaves``."""
    if isinstance(tree, dict):
        built = {key: _rebuild(tree[key], leaves) for key in sorted(tree)}
        return {key: built[key] for key in tree}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_rebuild(item, leaves) for item in tree)
    return next(leaves)


def flatten_params(params):
    r"""The flat parameter vector theta of shape (P,) and ``unflatten(theta) -> params``.

    The layout is that of ``autograd.misc.flatten(params)``, but built with one concatenation, and
    ``unflatten`` cuts theta with ``np.split`` (whose gradient is one concatenation) instead of tracing
    through the pytree, so differentiating ``loss(unflatten(theta))`` costs little beyond the network itself.

    Args:
        params: a pytree (dicts, lists, tuples) of arrays.

    Returns:
        ``(theta, unflatten)``: theta of shape (P,), P the total number of parameters, and a function that
        maps any vector of shape (P,) (plain or traced by autograd) to a pytree shaped like ``params``.
    """
    leaves = _leaves(params)
    shapes = [onp.shape(leaf) for leaf in leaves]
    ends = onp.cumsum([int(onp.prod(shape)) for shape in shapes])
    theta = onp.concatenate([onp.ravel(leaf) for leaf in leaves])

    def unflatten(theta):
        parts = np.split(theta, ends[:-1])
        return _rebuild(params, iter([np.reshape(part, shape) for part, shape in zip(parts, shapes)]))

    return theta, unflatten


def adam_init(theta):
    r"""Adam's state for a flat parameter vector theta of shape (P,) (Exercise 7.1).

    Returns:
        ``{"m": zeros (P,), "v": zeros (P,), "t": 0}``: first and second moment estimates and the step count.

    See: docs/exercises/numpy.md#ex7_1
    """
    # BEGIN SOLUTION 7.1: Adam (3 points)
    return {"m": np.zeros_like(theta), "v": np.zeros_like(theta), "t": 0}
    # END SOLUTION


def adam_update(theta, grad, state, lr=1e-3, b1=0.9, b2=0.999, adam_eps=1e-8):
    r"""One Adam step that *descends* the loss (Exercise 7.1).

    .. math::
        t \leftarrow t+1,\quad m \leftarrow \beta_1 m + (1-\beta_1) g,\quad
        v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad
        \hat m = \frac{m}{1-\beta_1^t},\quad \hat v = \frac{v}{1-\beta_2^t},\quad
        \theta \leftarrow \theta - \alpha\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}

    The same update in fewer passes over the P parameters (Kingma & Ba, 2015, end of Section 2): multiplying
    the numerator and the denominator of m_hat / (sqrt(v_hat) + eps) by sqrt(1 - beta_2^t) gives

    .. math::
        \alpha_t = \alpha\,\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t},\quad
        \hat\epsilon = \epsilon\,\sqrt{1-\beta_2^t},\quad
        \theta \leftarrow \theta - \alpha_t\,\frac{m}{\sqrt{v} + \hat\epsilon},

    exactly (up to rounding): the bias corrections become two scalars, and m_hat and v_hat are never formed.
    Either form is a correct answer.

    Args:
        theta: parameters, shape (P,).
        grad: gradient of the loss at theta, shape (P,).
        state: the dict from :func:`adam_init` (or from the previous call); not modified.
        lr: step size alpha. b1, b2: decay rates beta_1, beta_2. adam_eps: epsilon.

    Returns:
        ``(theta, state)``: the new parameters (P,) and the new state dict.

    See: docs/exercises/numpy.md#ex7_1
    """
    # BEGIN SOLUTION 7.1
    t = state["t"] + 1
    m = b1 * state["m"] + (1.0 - b1) * grad
    v = b2 * state["v"] + (1.0 - b2) * grad**2
    # the bias corrections as Python floats (math.sqrt, not np.sqrt, whose float64 result would upcast float32)
    alpha_t = lr * math.sqrt(1.0 - b2**t) / (1.0 - b1**t)
    eps_hat = adam_eps * math.sqrt(1.0 - b2**t)
    theta = theta - alpha_t * m / (np.sqrt(v) + eps_hat)
    return theta, {"m": m, "v": v, "t": t}
    # END SOLUTION


def train_step(params, state, x, eps, lr=1e-3):
    r"""One gradient step on the loss -mean_b ELBO(x_b) with the pathwise gradient (Exercise 7.2).

    .. math::
        \text{loss}(\theta, \phi) = -\frac1B \sum_b \mathcal L(x_b), \qquad
        (\theta, \phi) \leftarrow \mathrm{Adam}\big(\nabla \text{loss}\big) \text{ with } \varepsilon \text{ fixed}

    Args:
        params: the parameter pytree.
        state: Adam state of the flattened parameters (from :func:`adam_init` on ``flatten_params(params)[0]``).
        x: a minibatch of images, shape (B, D_x).
        eps: standard normal noise, shape (K, B, D_z).
        lr: Adam step size.

    Returns:
        ``(params, state, loss)``: the updated pytree, the new Adam state and the loss (a float, nats per
        image) *before* the step.

    See: docs/exercises/numpy.md#ex7_2
    """
    # BEGIN SOLUTION 7.2: Training step (3 points; uses 6.4, 7.1)
    theta, unflatten = flatten_params(params)

    def loss(theta):
        return -np.mean(vae_forward(unflatten(theta), x, eps)[0])

    value, grad = value_and_grad(loss)(theta)
    theta, state = adam_update(theta, grad, state, lr=lr)
    return unflatten(theta), state, float(value)
    # END SOLUTION
