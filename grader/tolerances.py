"""Every tolerance the grader uses, in one place. Comparisons are made in float64 unless a test says otherwise."""

import numpy as np

# Values of a function against the frozen reference: |got - expected| <= ATOL + RTOL * |expected|.
RTOL = 1e-7
ATOL = 1e-9

# Gradients against the reference gradient (both analytic).
GRAD_RTOL = 1e-6
GRAD_ATOL = 1e-8

# Gradients against central finite differences with step FD_STEP (error O(h^2) + rounding O(eps/h)).
FD_STEP = 1e-6
FD_RTOL = 1e-5
FD_ATOL = 1e-6

# Float32 inputs: results are compared with the float64 reference at float32 precision.
F32_RTOL = 1e-4
F32_ATOL = 1e-4

# Monte Carlo checks: a sample statistic must lie within this many standard errors of its expectation.
# With Z = 6 a correct implementation fails with probability below 2e-9 per check.
MC_Z = 6.0

# --- NumPy track, float32 (grader/numpy_ag) ----------------------------------------------------------------
# Unit roundoff of float32 (2^-23). A correct float32 computation of the continuous Bernoulli's exact branch
# loses digits to cancellation: log C and the mean divide by l (their gradients, the mean's, by l^2), so their
# absolute rounding error is about F32_EPS / |l| (F32_EPS / l^2) times a small constant. The docstrings put the
# Taylor window at |l| < CB_TAYLOR_WINDOW, so the largest error a correct implementation may show is the one at
# the window's edge; the tolerances below allow 2-3x that (measured: the reference solution in float32 reaches
# 0.57, 1.1 and 1.2 x F32_EPS / w (w^2) for the log C gradient, the mean and the mean's gradient). A window 10x
# too small (1e-3) shows 7x, 5x and 60x these errors at l = 1.1e-3 and fails, as it should: at l = 1.1e-3 its
# log C gradient is 30-40% wrong.
F32_EPS = 2.0**-23
CB_TAYLOR_WINDOW = 1e-2
CB32_VALUE_RTOL = 1e-6  # log C and log p in float32: well conditioned (a few F32_EPS)
CB32_VALUE_ATOL = 1e-6


def cb32_log_prob_atol(x, logits):
    """Absolute tolerance of a float32 log p(x | l) = x l - log(1 + e^l) + log C(l), per entry: its terms are of
    size |x l| + |l| each and cancel (x = 0.95, l = 100: 95 - 100 + 4.6), so float32 rounding of the terms, a few
    F32_EPS of their size, is what a correct float32 implementation can reach."""
    import numpy as np

    x, logits = np.asarray(x, dtype=np.float64), np.asarray(logits, dtype=np.float64)
    return CB32_VALUE_ATOL + 4 * F32_EPS * (np.abs(x * logits) + np.abs(logits) + 1.0)
CB32_LOG_NORM_GRAD_ATOL = 2.0 * F32_EPS / CB_TAYLOR_WINDOW  # 2.4e-5
CB32_MEAN_ATOL = 2.5 * F32_EPS / CB_TAYLOR_WINDOW  # 3.0e-5
CB32_MEAN_GRAD_ATOL = 3.0 * F32_EPS / CB_TAYLOR_WINDOW**2  # 3.6e-3
CB32_GRAD_RTOL = 1e-5  # away from the window the gradients are well conditioned

# Adam in Kingma & Ba's "efficient" form, theta -= lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps), is
# published and accepted: it is the documented update with eps replaced by eps / sqrt(1 - b2^t). The two steps
# s (documented) and s' (efficient) differ by |s - s'| <= |s| * eps / (sqrt(v) + eps) per entry and step (for
# t = 1 and |g| = 0.02 that is 1.6e-5 of the step: 0.0999984 instead of 0.1). The grader allows ADAM_EPS_SLACK
# times this bound, summed over the steps taken, on top of its usual tolerance; every other mistake (a missing
# bias correction, t from 0, g for g^2) is off by far more than eps / sqrt(v).
ADAM_EPS_SLACK = 2.0
ADAM_B1, ADAM_B2, ADAM_EPS = 0.9, 0.999, 1e-8  # the documented defaults (adam_update's and torch.optim.Adam's)


def adam_slack(step, v, adam_eps: float = ADAM_EPS):
    """ADAM_EPS_SLACK * |step| * eps / (sqrt(v) + eps): how far the efficient form may be from the documented
    step ``step`` (per entry, one step); ``v`` is the (uncorrected) second moment after the step."""
    return ADAM_EPS_SLACK * np.abs(step) * adam_eps / (np.sqrt(v) + adam_eps)


def first_step_slack(step, lr: float):
    """adam_slack of the first Adam step, from the expected step alone: at t = 1 the step is s = -lr g / (|g| + eps),
    so |g| = eps |s| / (lr - |s|) and v = (1 - b2) g^2."""
    g = ADAM_EPS * np.abs(step) / np.maximum(lr - np.abs(step), 1e-300)
    return adam_slack(step, (1 - ADAM_B2) * g**2)


# Monte Carlo estimates of the grader's own expected values (cases "wider/..."): they are computed with so many
# draws that their standard error is below 1/10 of the standard error of the test statistic compared with them.
