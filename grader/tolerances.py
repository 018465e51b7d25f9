"""Every tolerance the grader uses, in one place. Comparisons are made in float64 unless a test says otherwise."""

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
