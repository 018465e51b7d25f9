# Exercise file: fill in the parts marked TODO; leave signatures and docstrings as they are.
# The grader: bash scripts/grade.sh (all exercises) or bash scripts/grade.sh 2.1 (one).
"""Exercise T2: the continuous Bernoulli distribution CB(x; eta), eta = sigmoid(logits).

The density on x in [0, 1] is  p(x | eta) = C(eta) eta^x (1 - eta)^(1 - x)  with the normalising constant
C(eta) = 2 atanh(1 - 2 eta) / (1 - 2 eta), and C(1/2) = 2 (Loaiza-Ganem & Cunningham, 2019).
Everything here takes the decoder's logits l = log(eta / (1 - eta)), never eta itself.
``torch.distributions.ContinuousBernoulli`` computes the same density from eta (clamped near 0 and 1);
these functions stay exact for every finite logit. See docs/theory/decoder.md and
docs/exercises/pytorch.md#ext2_1.
"""

import math

import torch
import torch.nn.functional as F  # noqa: F401 - binary_cross_entropy_with_logits, for the first form of T2.2
from torch.autograd.function import once_differentiable

# |logits| below this use the Taylor series of log C; eta = sigmoid(0.01) = 0.5025, so the window is
# eta in (0.4975, 0.5025).
TAYLOR_WINDOW = 1e-2
# log 2 = log C(1/2).
LOG_2 = math.log(2.0)
# |logits| below this use the series of the log-partition function A in cb_log_prob: its exact form subtracts
# e^{-|l|} from 1, which cancels digits as |l| -> 0 (the gradient's error grows like 1 / l^2), so its window is wider.
LOG_PARTITION_WINDOW = 0.1
# e^{-a} for a > 87.3 is below float32's smallest normal number; CPUs compute such results slowly, and 1 - e^{-87}
# is already 1 in float32 and float64 alike, so cb_log_prob caps the argument of its exp (only) at 87.
EXP_CAP = 87.0


def cb_log_norm(logits):
    r"""Log normalising constant log C(eta) of the continuous Bernoulli, from logits (Exercise T2.1).

    With eta = sigmoid(l) one has 1 - 2 eta = -tanh(l / 2) and atanh(1 - 2 eta) = -l / 2, so

    .. math::
        C = \frac{l}{\tanh(l/2)}, \qquad
        \log C = \log\frac{l}{\tanh(l/2)} \quad (|l| \ge 10^{-2}), \qquad
        \log C \approx \log 2 + \frac{l^2}{12} - \frac{7\,l^4}{1440} \quad (|l| < 10^{-2}).

    The exact branch is 0/0 at l = 0. ``torch.where`` evaluates *both* branches and its backward pass
    multiplies the unused branch's gradient by zero, and 0 * NaN = NaN: each branch must be fed a safe
    stand-in value where it is not selected, or it poisons the gradient even where it is not used.

    Args:
        logits: decoder outputs l, a floating tensor of any shape.

    Returns:
        Tensor of the same shape as ``logits``: log C(sigmoid(l)) in nats; finite, with finite gradients,
        for every finite l.

    See: docs/exercises/pytorch.md#ext2_1
    """
    # TODO(Exercise T2.1): Continuous Bernoulli log normaliser.
    raise NotImplementedError("Exercise T2.1 (cb_log_norm): not implemented yet; see docs/exercises/pytorch.md#ext2_1")


def cb_log_prob(x, logits):
    r"""Log density of independent continuous Bernoulli pixels, summed over the last axis (Exercise T2.2).

    .. math::
        \log p(x \mid \eta) = \sum_d \big[x_d \log\eta_d + (1-x_d)\log(1-\eta_d) + \log C(\eta_d)\big],
        \qquad x_d \log\eta_d + (1-x_d)\log(1-\eta_d) = x_d l_d - \log(1 + e^{l_d})

    The first two terms are minus the binary cross-entropy (``F.binary_cross_entropy_with_logits``, which
    needs x and logits of one shape); without the last one this is the (wrong) Bernoulli log-likelihood of
    grey-level pixels. The same sum, written as an exponential family in l with the centred statistic x - 1/2
    (docs/theory/decoder.md#one-formula-for-the-density), is

    .. math::
        \log p(x \mid \eta) = \sum_d \big[(x_d - \tfrac12)\, l_d - A(l_d)\big], \qquad
        A(l) = \log \int_0^1 e^{(x - \frac12) l}\,dx = \log\frac{\sinh(l/2)}{l/2},

    and with a = |l| (A is even)

    .. math::
        A = \frac a2 + \log\frac{1 - e^{-a}}{a} \quad (a \ge 0.1), \qquad
        A \approx \frac{a^2}{24} - \frac{a^4}{2880} \quad (a < 0.1).

    Either form is correct. This one makes fewer passes over the (K, B, D) logits, so training is faster;
    like log C, its exact branch is 0/0 at l = 0: with ``torch.where`` it needs a safe stand-in value inside its
    window.
    The reference goes one step further: it returns ``CBLogProb.apply(x, logits)``, the second form with its
    gradient written by hand (see :class:`CBLogProb`). A body of torch operations alone, in either form, is
    just as correct, and autograd then finds the gradient by itself.

    Args:
        x: pixel intensities in [0, 1], tensor of shape (..., D).
        logits: decoder logits l, shape broadcastable to x, e.g. (K, B, D) against x of shape (B, D).

    Returns:
        Tensor of shape (...): log p(x | eta) in nats, summed over the D pixels.

    See: docs/exercises/pytorch.md#ext2_2
    """
    # TODO(Exercise T2.2): Continuous Bernoulli log density.
    raise NotImplementedError("Exercise T2.2 (cb_log_prob): not implemented yet; see docs/exercises/pytorch.md#ext2_2")


class CBLogProb(torch.autograd.Function):
    r"""cb_log_prob with its gradient written by hand (optional in Exercise T2.2; the reference uses it).

    The exponential-family form's gradient is the statistic minus its mean, with no autograd needed:

    .. math::
        \frac{\partial}{\partial l_d} \log p(x \mid \eta) = x_d - \tfrac12 - A'(l_d) = x_d - \mathbb E[x_d],
        \qquad \frac{\partial}{\partial x_d} \log p(x \mid \eta) = l_d,

    .. math::
        A'(l) = \operatorname{sign}(l)\Big(\frac{1}{1 - e^{-a}} - \frac1a - \frac12\Big) \quad (a = |l| \ge 0.1),
        \qquad A'(l) \approx \frac{l}{12} - \frac{l^3}{720} \quad (a < 0.1).

    The bracket of A' is odd in l by itself; it is written with a = |l| so that e^{-a} cannot overflow. Inside
    the window the series leaves out l^5 / 30240, at most 3.3e-10 (relative 4e-8), far below float32's rounding.

    ``forward`` computes the value and, when the logits need a gradient, saves x - 1/2 - A'(l) of the broadcast
    shape of x and the logits, e.g. (K, B, D); ``backward`` multiplies it by the incoming gradient. No graph is
    recorded inside ``forward``, so it may write in place into the tensors it makes itself (never into x or the
    logits, which belong to the caller). It computes the exact branch everywhere, at a = 0.1 inside the window
    (any finite stand-in would do there), and overwrites the few logits inside the window with the series,
    instead of computing both branches on every logit and choosing with ``torch.where``. The same density left to
    autograd, in torch operations alone, records twenty-odd operations on the (K, B, D) logits and runs a
    backward pass for each: a PyTorch training step of 784-400-20 then takes about 13% longer (with this class,
    about 11% less time). The values are those of the same operations without the class, to the last bit; the
    gradients agree with autograd's to rounding (within 5e-6 in float32, near the window's edge; 1e-14 in float64).

    Use it as ``CBLogProb.apply(x, logits)``, with x (..., D) and logits broadcastable to it; the result has
    shape (...). It can be differentiated once (a second derivative raises an error).

    See: docs/exercises/pytorch.md#ext2_2
    """

    @staticmethod
    def forward(ctx, x, logits):
        """log p(x | eta), summed over the last axis, from x (..., D) and logits l broadcastable to it."""
        # TODO(Exercise T2.2, optional): Continuous Bernoulli log density; the exercise can do without it.
        raise NotImplementedError("Exercise T2.2 (CBLogProb.forward): optional, not implemented; see docs/exercises/pytorch.md#ext2_2")

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        """The incoming gradient (...,) times d log p / dx = l and d log p / dl, each summed back to the shape of
        its input (x or the logits) over the axes it was broadcast along."""
        # TODO(Exercise T2.2, optional): Continuous Bernoulli log density; the exercise can do without it.
        raise NotImplementedError("Exercise T2.2 (CBLogProb.backward): optional, not implemented; see docs/exercises/pytorch.md#ext2_2")


def cb_mean(logits):
    r"""Mean of the continuous Bernoulli, from logits (Exercise T2.3). Use it to show reconstructions.

    .. math::
        \mathbb E[x] = \frac{\eta}{2\eta - 1} + \frac{1}{2\,\mathrm{atanh}(1 - 2\eta)}
        = \frac{\eta}{\tanh(l/2)} - \frac1l \quad (|l| \ge 10^{-2}), \qquad
        \mathbb E[x] \approx \frac12 + \frac{l}{12} - \frac{l^3}{720} \quad (|l| < 10^{-2}).

    Note that the mean is *not* eta: a CB with eta = 0.8 has mean 0.61.

    Args:
        logits: decoder logits l, a floating tensor of any shape.

    Returns:
        Tensor of the same shape as ``logits``: the mean, in [0, 1].

    See: docs/exercises/pytorch.md#ext2_3
    """
    # TODO(Exercise T2.3): Continuous Bernoulli mean.
    raise NotImplementedError("Exercise T2.3 (cb_mean): not implemented yet; see docs/exercises/pytorch.md#ext2_3")
