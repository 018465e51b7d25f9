"""Exercise T11, the challenge path: derive it yourself, then make it accurate.

The guided exercises (T1-T10) give every equation in its final form. These give only the definition and the
accuracy that is graded: the series, the window, the stable formula are yours to find. The continuous
Bernoulli is written with its logit l, eta = sigmoid(l): p(x | l) = C(l) eta^x (1 - eta)^(1 - x) on [0, 1],
C(l) the constant that makes it integrate to one. See docs/exercises/challenge.md#ext11_1.
"""

import math

import torch

# log 2 = log C(0), a Python float.
LOG_2 = math.log(2.0)


def cb_log_norm_series(logits):
    r"""The Taylor series of log C(l) about l = 0, truncated where it is accurate enough (Exercise T11.1).

    C(l) is the normaliser of the continuous Bernoulli as a function of the logit l (eta = sigmoid(l)):

    .. math::
        \frac{1}{C(l)} = \int_0^1 \eta^x (1 - \eta)^{1 - x}\,dx

    Derive the series of log C(l) about l = 0 yourself and keep as many terms as the accuracy below needs
    (no more is needed, more is allowed). Required, in float64:

        |series(l) - log C(l)| <= 1e-12 * |log C(l)|   for every |l| <= 0.1,

    and torch.autograd's derivative of your polynomial within 1e-8 |d log C / dl| + 1e-15 of d log C / dl there.

    Return the truncated series itself at every l: a polynomial in l, even outside |l| <= 0.1 (no switch to
    the closed form here: that is Exercise T11.2). The grader checks, at a few l up to 3, that your function
    equals the Taylor polynomial of log C truncated after some power of l (any power from l^6 up to l^30).

    Args:
        logits: l, a floating tensor of any shape.

    Returns:
        Same shape and dtype as ``logits``: the truncated series at each l.

    See: docs/exercises/challenge.md#ext11_1
    """
    # BEGIN SOLUTION T11.1: Challenge: Taylor series of log C (3 points)
    # d/dl log C = 1/l - 1/sinh(l) = sum_n (2^(2n) - 2) B_2n l^(2n-1) / (2n)!, so log C = log 2 + sum_n a_n l^(2n)
    # with a_n = (2^(2n) - 2) B_2n / ((2n)! 2n): 1/12, -7/1440, 31/90720, -127/4838400, ...
    # Stopping after l^6 leaves |a_4| l^8 = 2.6e-13 at l = 0.1, 3.8e-13 of log C (the l^4 series: 3.4e-10).
    l2 = logits * logits
    return LOG_2 + l2 * (1.0 / 12.0 + l2 * (-7.0 / 1440.0 + l2 * (31.0 / 90720.0)))
    # END SOLUTION


def taylor_window_f32():
    r"""Your Taylor window w for float32 logits, a Python float (Exercise T11.2).

    ``cb_log_norm_f32`` uses your series (Exercise T11.1) for |l| < w and the closed form of log C for |l| >= w.
    Choose w so that the requirements of ``cb_log_norm_f32`` hold on both sides of it, and write down, in a
    comment here, why: which error grows on each side of w, and how large each is at your w.

    Returns:
        w, a Python float.

    See: docs/exercises/challenge.md#ext11_2
    """
    # BEGIN SOLUTION T11.2: Challenge: a float32 Taylor window (4 points; uses T11.1)
    # Below w the series is used: its first omitted term a_4 l^8 (a_4 = -127/4838400) gives a gradient error
    # 8 |a_4| l^7, relative to d log C / dl ~ l/6 that is 48 |a_4| l^6 = 1.3e-3 l^6: 9e-7 at l = 0.3.
    # Above w the closed form is used: log(l / tanh(l/2)) has a derivative 1/l - 1/sinh(l) ~ l/6 made of two
    # terms of size 1/l, so float32 rounding (eps = 6e-8 per term) costs about eps/l of absolute gradient error,
    # 6 eps / l^2 = 4e-6 of the gradient at l = 0.3 (2e-3 at l = 1e-2, the float64 window). The two errors are
    # equal near l = 0.3; the values are accurate to a few eps on both sides.
    return 0.3
    # END SOLUTION


def cb_log_norm_f32(logits):
    r"""log C(l) for float32 logits, accurate in float32 with accurate float32 gradients (Exercise T11.2).

    Uses your series (Exercise T11.1) for |l| < ``taylor_window_f32()`` and the closed form of log C otherwise.
    Required, for float32 l anywhere in [-1e5, 1e5], on both sides of your window and at its edge (computed
    in float32, compared with the exact values at the same float32 l):

        value:    |f(l) - log C(l)|              <= 1e-6 |log C(l)| + 1e-6
        gradient: |torch.autograd f'(l) - (log C)'(l)| <= 1e-4 |(log C)'(l)| + 1e-9

    float32 in, float32 out (keep every constant a Python float), finite values and gradients everywhere.

    Args:
        logits: l, a float32 tensor of any shape.

    Returns:
        Same shape and dtype as ``logits``: log C(l).

    See: docs/exercises/challenge.md#ext11_2
    """
    # BEGIN SOLUTION T11.2
    window = taylor_window_f32()
    in_window = torch.abs(logits) < window
    safe = torch.where(in_window, window, logits)  # the closed form is 0/0 at l = 0: feed it a stand-in
    small = torch.where(in_window, logits, 0.0)  # the series overflows for huge l: feed it 0 outside the window
    exact = torch.log(safe / torch.tanh(0.5 * safe))
    return torch.where(in_window, cb_log_norm_series(small), exact)
    # END SOLUTION


def log_mean_exp(a, dim=-1, keepdim=False):
    r"""log(mean(exp(a))) along one dimension, accurate for entries of any size (Exercise T11.3).

    .. math::
        \mathrm{LME}(a) = \log \frac1n \sum_{i=1}^n e^{a_i}

    Requirements (float64): accurate to 1e-12 (relative, 1e-12 absolute) for finite entries of any size
    (exp(1000) overflows, exp(-1000) underflows: the result must not); an entry -inf counts as exp(-inf) = 0;
    a slice whose entries are all -inf gives -inf. The gradient (by torch.autograd) is finite wherever the result
    is, and correct, including 0 for -inf entries. Shapes follow ``torch.mean(a, dim=dim, keepdim=keepdim)``.

    Args:
        a: floating tensor, any shape with at least one dimension.
        dim: the dimension to reduce, an int (negative counts from the end).
        keepdim: keep the reduced dimension with length 1.

    Returns:
        The shape of ``torch.mean(a, dim=dim, keepdim=keepdim)``.

    See: docs/exercises/challenge.md#ext11_3
    """
    # BEGIN SOLUTION T11.3: Challenge: stable log-mean-exp (3 points)
    # log mean exp(a) = m + log mean exp(a - m) for any m; with m = max a every exp(a - m) <= 1 and one is 1.
    m = torch.amax(a, dim=dim, keepdim=True).detach()  # a constant shift: its gradient cancels exactly
    m = torch.where(torch.isfinite(m), m, 0.0)  # an all -inf slice: any shift works (exp gives 0, log gives -inf)
    out = torch.log(torch.mean(torch.exp(a - m), dim=dim, keepdim=True)) + m
    return out if keepdim else out.squeeze(dim)
    # END SOLUTION


def cb_mean_from_density(logits):
    r"""The mean of the continuous Bernoulli, derived from its density (Exercise T11.4).

    The density in the logit l is proportional to exp(l x) on [0, 1]:

    .. math::
        p(x \mid l) = \frac{e^{l x}}{Z(l)}, \qquad Z(l) = \int_0^1 e^{l x}\,dx, \qquad x \in [0, 1]

    (the same density as C(l) eta^x (1 - eta)^(1 - x) with eta = sigmoid(l); Z is not the C of 11.1).

    Derive E[x] from this alone. Required, in float64: within 1e-10 (relative) of the exact mean for every
    finite l, including l = 0, |l| down to 1e-12 and saturated logits up to |l| = 1e8; torch.autograd's gradient
    finite everywhere and within 1e-6 (relative, 1e-14 absolute) of the exact dE[x]/dl.

    Args:
        logits: l, a float64 tensor of any shape.

    Returns:
        Same shape as ``logits``: E[x], in [0, 1].

    See: docs/exercises/challenge.md#ext11_4
    """
    # BEGIN SOLUTION T11.4: Challenge: the CB mean from its density (3 points)
    # E[x] = d/dl log int_0^1 e^(lx) dx = d/dl log((e^l - 1)/l) = 1/(1 - e^(-l)) - 1/l = (1 + coth(l/2))/2 - 1/l.
    # Both terms are ~1/l near 0: below |l| = 1e-3 use the series 1/2 + l/12 - l^3/720 (next term l^5/30240).
    window = 1e-3
    in_window = torch.abs(logits) < window
    safe = torch.where(in_window, window, logits)
    small = torch.where(in_window, logits, 0.0)
    exact = 0.5 + 0.5 / torch.tanh(0.5 * safe) - 1.0 / safe
    taylor = 0.5 + small / 12.0 - small**3 / 720.0
    return torch.where(in_window, taylor, exact)
    # END SOLUTION
