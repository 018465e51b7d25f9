"""The PyTorch reference's hand-written gradient of the continuous Bernoulli log density (``CBLogProb``).

The gradient of log p(x | l) = sum_d [(x_d - 1/2) l_d - A(l_d)] is x_d - E[x_d] in l and l_d in x. The
references here do not share code with ``CBLogProb.backward``: the mean E[x] = 1/(1 - e^-l) - 1/l computed with
mpmath at 50 digits, central finite differences, ``torch.autograd.gradcheck``, and autograd's own gradient of
the density written with torch operations alone.
"""

import mpmath
import numpy as np
import pytest
import torch

from solutions.pytorch import continuous_bernoulli as cb
from solutions.pytorch.networks import VAE

W = cb.LOG_PARTITION_WINDOW
EDGE_POINTS = [0.0, 1e-12, -1e-12, 1e-3, -1e-3, np.nextafter(W, 0.0), -np.nextafter(W, 0.0), W, -W, 0.11, -0.11,
               1.0, -1.0, 7.0, -7.0, 86.0, -86.0, 88.0, -88.0, 300.0, -300.0, 1e4, -1e4]


def mean_mp(l: float) -> float:
    """E[x] of CB(x; l) = 1/(1 - e^-l) - 1/l (1/2 at l = 0), at 50 significant digits."""
    if l == 0.0:
        return 0.5
    with mpmath.workdps(50):
        l = mpmath.mpf(l)
        return float(1 / (1 - mpmath.exp(-l)) - 1 / l)


def by_autograd(x, logits):
    """The same density with torch operations alone (the second form): autograd differentiates it."""
    a = torch.abs(logits)
    in_window = a < W
    safe = torch.where(in_window, W, a)
    exact = 0.5 * safe + torch.log(-torch.expm1(-safe) / safe)
    a2 = (a * in_window) ** 2
    return torch.sum((x - 0.5) * logits - torch.where(in_window, a2 / 24.0 - a2**2 / 2880.0, exact), dim=-1)


def grads(fn, x, logits, weights=None):
    """d sum(weights * fn(x, logits)) / d (x, logits) by autograd."""
    x, logits = x.clone().requires_grad_(), logits.clone().requires_grad_()
    value = fn(x, logits)
    weights = torch.ones_like(value) if weights is None else weights
    return torch.autograd.grad((weights * value).sum(), (x, logits))


def test_the_logit_gradient_is_x_minus_the_mean_at_every_hard_point():
    l = torch.tensor(EDGE_POINTS, dtype=torch.float64)[:, None]
    x = torch.linspace(0.0, 1.0, len(EDGE_POINTS), dtype=torch.float64)[:, None]
    _, d_logits = grads(cb.cb_log_prob, x, l)
    expected = x[:, 0].numpy() - np.array([mean_mp(v) for v in EDGE_POINTS])
    # inside the window the series leaves out + l^5 / 30240: at most 3.3e-10 at its edge
    np.testing.assert_allclose(d_logits[:, 0].numpy(), expected, rtol=1e-12, atol=4e-10)
    outside = np.abs(l[:, 0].numpy()) >= W
    np.testing.assert_allclose(d_logits[outside, 0].numpy(), expected[outside], rtol=1e-12, atol=1e-13)


def test_float32_gradient_stays_within_the_graders_tolerance_near_the_window():
    values = np.concatenate([np.geomspace(1e-4, 0.3, 200), -np.geomspace(1e-4, 0.3, 200)])
    l = torch.tensor(values, dtype=torch.float32)[:, None]
    x = torch.full_like(l, 0.25)
    _, d_logits = grads(cb.cb_log_prob, x, l)
    assert d_logits.dtype == torch.float32
    expected = 0.25 - np.array([mean_mp(float(v)) for v in l[:, 0].numpy()])
    error = np.abs(d_logits[:, 0].numpy().astype(np.float64) - expected)
    assert error.max() < 2.4e-5, (values[error.argmax()], error.max())


@pytest.mark.parametrize("x_shape, logits_shape",
                         [((4, 10), (3, 4, 10)), ((4, 10), (10,)), ((4, 10), (4, 1)), ((3, 1, 10), (4, 1)), ((2, 5), (2, 5))])
def test_gradcheck_in_both_inputs_with_broadcasting(x_shape, logits_shape):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(x_shape, generator=gen, dtype=torch.float64, requires_grad=True)
    logits = (3.0 * torch.randn(logits_shape, generator=gen, dtype=torch.float64)).requires_grad_()
    with torch.no_grad():  # keep finite differences (step 1e-6) away from the window's edge
        logits[(logits.abs() - W).abs() < 1e-3] += 0.01
    assert torch.autograd.gradcheck(cb.cb_log_prob, (x, logits))


def test_gradients_equal_autograds_of_the_same_density_under_random_weights():
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(6, 50, generator=gen, dtype=torch.float64)
    logits = 2.0 * torch.randn(3, 6, 50, generator=gen, dtype=torch.float64)
    logits[0, 0, :8] = torch.tensor([0.0, 1e-9, -0.05, 0.0999, 0.1, -0.1, 90.0, -90.0], dtype=torch.float64)
    weights = torch.randn(3, 6, generator=gen, dtype=torch.float64)
    for mine, theirs in zip(grads(cb.cb_log_prob, x, logits, weights), grads(by_autograd, x, logits, weights)):
        assert mine.shape == theirs.shape
        torch.testing.assert_close(mine, theirs, rtol=1e-12, atol=1e-13)


def test_values_equal_the_density_written_with_torch_operations_alone():
    gen = torch.Generator().manual_seed(2)
    x = torch.rand(5, 40, generator=gen, dtype=torch.float64)
    logits = 5.0 * torch.randn(2, 5, 40, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(cb.cb_log_prob(x, logits), by_autograd(x, logits), rtol=1e-14, atol=1e-12)


def test_without_gradients_nothing_is_recorded():
    x, logits = torch.rand(3, 8), torch.randn(3, 8, requires_grad=True)
    with torch.no_grad():
        value = cb.cb_log_prob(x, logits)
    assert not value.requires_grad and value.grad_fn is None
    assert cb.cb_log_prob(x, logits.detach()).grad_fn is None


def test_a_second_derivative_raises_instead_of_returning_a_wrong_one():
    logits = torch.randn(2, 8, dtype=torch.float64, requires_grad=True)
    value = cb.cb_log_prob(torch.rand(2, 8, dtype=torch.float64), logits)
    (grad,) = torch.autograd.grad(value.sum(), logits, create_graph=True)
    with pytest.raises(RuntimeError):
        torch.autograd.grad(grad.sum(), logits)


def test_a_vae_gets_the_same_parameter_gradients_as_with_autograds_density(monkeypatch):
    torch.manual_seed(0)
    model = VAE(784, (40,), 5).double()
    x = torch.rand(16, 784, dtype=torch.float64)
    eps = torch.randn(2, 16, 5, dtype=torch.float64)

    def parameter_grads():
        model.zero_grad()
        (-model(x, eps)[0].mean()).backward()
        return [p.grad.clone() for p in model.parameters()]

    mine = parameter_grads()
    import solutions.pytorch.elbo as elbo_module
    monkeypatch.setattr(elbo_module, "cb_log_prob", by_autograd)
    theirs = parameter_grads()
    for a, b in zip(mine, theirs):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
