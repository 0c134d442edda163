"""Optimizers against PyTorch's documented update rules (float64), dtype and error behaviour, schedules."""

import math

import numpy as np
import pytest
from nn_gradcheck import float64  # noqa: F401  (a fixture, used by name)

import nn
from tinygrad_edu import Tensor

STEPS = 5
PARAM = Tensor([1.0], requires_grad=True)


def gradient_sequence(shape, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(STEPS)]


def run_optimizer(optimizer_class, start, grads, **kwargs):
    """Apply the optimizer to one parameter with the given gradients; return the parameter after each step."""
    param = Tensor(start, requires_grad=True)
    optimizer = optimizer_class([param], **kwargs)
    history = []
    for grad in grads:
        param.grad = grad.copy()
        optimizer.step()
        history.append(param.data.copy())
    return history


def sgd_reference(p, grads, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    """torch.optim.SGD's documented algorithm (dampening 0), one line per line of the docs."""
    history, b = [], None
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        if momentum != 0:
            b = g if t == 1 else momentum * b + g
            g = g + momentum * b if nesterov else b
        p = p - lr * g
        history.append(p)
    return history


def adam_reference(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """torch.optim.Adam's documented algorithm (amsgrad=False, maximize=False)."""
    history, m, v = [], np.zeros_like(p), np.zeros_like(p)
    beta1, beta2 = betas
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(p)
    return history


@pytest.mark.parametrize(
    "settings",
    [
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"lr": 0.1, "weight_decay": 0.01},
        {"lr": 0.02, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True},
    ],
)
@pytest.mark.usefixtures("float64")
def test_sgd_matches_the_pytorch_update_rule(settings):
    start = np.random.default_rng(1).standard_normal((3, 4))
    grads = gradient_sequence((3, 4))
    for ours, expected in zip(
        run_optimizer(nn.optim.SGD, start, grads, **settings), sgd_reference(start, grads, **settings)
    ):
        np.testing.assert_allclose(ours, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"lr": 0.01, "betas": (0.8, 0.99)},
        {"lr": 0.003, "eps": 1e-3, "weight_decay": 0.1},
    ],
)
@pytest.mark.usefixtures("float64")
def test_adam_matches_the_pytorch_update_rule(settings):
    start = np.random.default_rng(2).standard_normal((5,))
    grads = gradient_sequence((5,), seed=3)
    grads[2][1] = 0.0  # a zero gradient exercises eps
    for ours, expected in zip(
        run_optimizer(nn.optim.Adam, start, grads, **settings), adam_reference(start, grads, **settings)
    ):
        np.testing.assert_allclose(ours, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(
    "make",
    [
        lambda params: nn.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True),
        lambda params: nn.optim.Adam(params, lr=0.1, weight_decay=0.01),
    ],
)
def test_steps_update_float32_in_place_without_a_graph(make):
    mlp = nn.MLP([2, 3, 1])
    arrays = [p.data for p in mlp.parameters()]
    optimizer = make(mlp.parameters())
    for _ in range(2):
        optimizer.zero_grad()
        nn.mse_loss(mlp(Tensor(np.ones((4, 2)))), np.zeros((4, 1))).backward()
        optimizer.step()
    for param, array in zip(mlp.parameters(), arrays):
        assert param.data is array and param.data.dtype == np.float32
        assert param.is_leaf and param.requires_grad


def test_zero_grad_sets_gradients_to_none():
    param = Tensor(np.ones(2), requires_grad=True)
    optimizer = nn.optim.SGD([param], lr=0.1)
    (param * param).sum().backward()
    optimizer.zero_grad()
    assert param.grad is None


def test_step_without_gradient_names_the_parameters():
    mlp = nn.MLP([2, 3, 1])
    optimizer = nn.optim.Adam(mlp.named_parameters())
    before = mlp.state_dict()
    mlp(Tensor(np.ones((1, 2)))).sum().backward()
    mlp.layers[2].bias.grad = None
    with pytest.raises(RuntimeError, match=r"no gradient for layers.2.bias\. Call loss.backward\(\)"):
        optimizer.step()
    for name, value in mlp.state_dict().items():  # nothing was updated
        np.testing.assert_array_equal(value, before[name])
    unnamed = nn.optim.SGD(mlp.parameters(), lr=0.1)
    with pytest.raises(RuntimeError, match=r"parameter 3 'bias' \(shape \(1,\)\)"):
        unnamed.step()


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: nn.optim.SGD(iter([]), lr=0.1), ValueError, "got no parameters"),
        (lambda: nn.optim.SGD([Tensor([1.0])], lr=0.1), TypeError, "not a parameter"),
        (lambda: nn.optim.SGD([PARAM, PARAM], lr=0.1), ValueError, "given twice"),
        (lambda: nn.optim.SGD([PARAM], lr=-1), ValueError, "lr must be >= 0"),
        (lambda: nn.optim.SGD([PARAM], lr=0.1, nesterov=True), ValueError, "nesterov=True needs a momentum"),
        (lambda: nn.optim.Adam([PARAM], betas=(0.9, 1.0)), ValueError, r"betas must each be in \[0, 1\)"),
    ],
)
def test_constructor_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_repr():
    assert (
        repr(nn.optim.SGD([PARAM], lr=0.1))
        == "SGD(1 parameters, lr=0.1, momentum=0.0, weight_decay=0.0, nesterov=False)"
    )


def test_step_lr_schedule():
    optimizer = nn.optim.SGD([PARAM], lr=1.0)
    schedule = nn.optim.StepLR(optimizer, step_size=2, gamma=0.5)
    rates = []
    for _ in range(5):
        schedule.step()
        (rate,) = schedule.get_last_lr()  # one per parameter group, as in PyTorch
        rates.append(rate)
    assert rates == [1.0, 0.5, 0.5, 0.25, 0.25]


def test_cosine_schedule_goes_from_the_base_rate_to_eta_min():
    optimizer = nn.optim.Adam([PARAM], lr=0.1)
    schedule = nn.optim.CosineAnnealingLR(optimizer, T_max=4, eta_min=0.01)
    rates = [optimizer.lr]
    for _ in range(4):
        schedule.step()
        rates.append(optimizer.lr)
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)]
    np.testing.assert_allclose(rates, expected)
    assert rates[-1] == pytest.approx(0.01)


@pytest.mark.usefixtures("float64")
def test_the_learning_rate_can_be_changed_between_steps():
    param = Tensor(np.zeros(1), requires_grad=True)
    optimizer = nn.optim.SGD([param], lr=1.0)
    for lr in (1.0, 0.5):
        optimizer.lr = lr
        param.grad = np.ones(1)
        optimizer.step()
    np.testing.assert_allclose(param.data, [-1.5])
