"""Optimizers the PyTorch way: AdamW, param_groups, state_dict resume, set_to_none, lr_scheduler, checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from nn.optim.lr_scheduler import CosineAnnealingLR, StepLR
from tinygrad_edu import Tensor, manual_seed


def quadratic_grads(params: list[Tensor], step: int) -> None:
    """A deterministic, step-dependent gradient for each parameter (as if from a loss)."""
    for index, p in enumerate(params):
        p.grad = (p.data - (index + 1.0)) * 2.0 + np.cos(step + np.arange(p.size).reshape(p.shape))


def make_params() -> list[Tensor]:
    return [
        Tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True, dtype=np.float64),
        Tensor([0.5, -0.25], requires_grad=True, dtype=np.float64),
    ]


# ---------------------------------------------------------------- AdamW


def adamw_reference(start: np.ndarray, grads: list[np.ndarray], lr, betas, eps, weight_decay) -> np.ndarray:
    """Loshchilov & Hutter's AdamW, written out: decay the weight, then Adam's bias-corrected step."""
    p, m, v = start.copy(), np.zeros_like(start), np.zeros_like(start)
    for t, g in enumerate(grads, start=1):
        p = p - lr * weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def test_adamw_follows_the_formula() -> None:
    rng = np.random.default_rng(0)
    start = rng.normal(size=(3, 4))
    grads = [rng.normal(size=(3, 4)) for _ in range(12)]
    param = Tensor(start, requires_grad=True, dtype=np.float64)
    optimizer = nn.optim.AdamW([param], lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)
    for g in grads:
        param.grad = g.copy()
        optimizer.step()
    np.testing.assert_allclose(param.data, adamw_reference(start, grads, 0.05, (0.8, 0.99), 1e-6, 0.1), rtol=1e-12)


def test_adamw_decay_differs_from_adams_l2_penalty() -> None:
    def run(cls) -> np.ndarray:
        param = Tensor([10.0, 0.01], requires_grad=True, dtype=np.float64)
        optimizer = cls([param], lr=0.1, weight_decay=0.5)
        for _ in range(5):
            param.grad = np.array([100.0, 0.0])
            optimizer.step()
        return param.data

    assert not np.allclose(run(nn.optim.AdamW), run(nn.optim.Adam))


def test_adamw_defaults_are_pytorchs() -> None:
    group = nn.optim.AdamW(make_params()).param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == (1e-3, (0.9, 0.999), 1e-8, 0.01)


# ---------------------------------------------------------------- state_dict / resume


OPTIMIZERS = [
    lambda params: nn.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda params: nn.optim.Adam(params, lr=0.05, weight_decay=0.01),
    lambda params: nn.optim.AdamW(params, lr=0.05),
]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_a_stopped_and_resumed_run_follows_the_same_trajectory(make) -> None:
    params = make_params()
    optimizer = make(params)
    trajectory = []
    for step in range(10):
        quadratic_grads(params, step)
        optimizer.step()
        trajectory.append([p.data.copy() for p in params])
        if step == 4:
            saved_params = [p.data.copy() for p in params]
            saved_state = optimizer.state_dict()

    resumed_params = make_params()
    for p, saved in zip(resumed_params, saved_params):
        p.data[...] = saved
    resumed = make(resumed_params)
    resumed.load_state_dict(saved_state)
    for step in range(5, 10):
        quadratic_grads(resumed_params, step)
        resumed.step()
        for p, expected in zip(resumed_params, trajectory[step]):
            np.testing.assert_array_equal(p.data, expected)


def test_a_fresh_optimizer_does_not_resume_the_trajectory() -> None:
    """The check above can fail: without load_state_dict, Adam's averages restart and the path differs."""
    params = make_params()
    optimizer = nn.optim.Adam(params, lr=0.05)
    for step in range(3):
        quadratic_grads(params, step)
        optimizer.step()
    fresh = nn.optim.Adam(params, lr=0.05)
    reference = [p.data.copy() for p in params]
    quadratic_grads(params, 3)
    optimizer.step()
    continued = [p.data.copy() for p in params]
    for p, value in zip(params, reference):
        p.data[...] = value
    quadratic_grads(params, 3)
    fresh.step()
    assert not np.allclose(params[0].data, continued[0])


def test_state_dict_is_a_copy_in_pytorchs_layout() -> None:
    params = make_params()
    optimizer = nn.optim.Adam(params, lr=0.1)
    quadratic_grads(params, 0)
    optimizer.step()
    assert optimizer.state[params[0]]["step"] == 1  # keyed by the parameter, as in PyTorch
    state = optimizer.state_dict()
    assert set(state) == {"state", "param_groups"}
    assert state["param_groups"][0]["params"] == [0, 1]
    assert state["state"][0]["step"] == 1 and set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    snapshot = state["state"][0]["exp_avg"].copy()
    quadratic_grads(params, 1)
    optimizer.step()
    np.testing.assert_array_equal(state["state"][0]["exp_avg"], snapshot)  # not changed by later steps


def test_load_state_dict_restores_the_learning_rate() -> None:
    optimizer = nn.optim.SGD(make_params(), lr=0.1)
    optimizer.lr = 0.01
    other = nn.optim.SGD(make_params(), lr=0.1)
    other.load_state_dict(optimizer.state_dict())
    assert other.lr == 0.01


def test_load_state_dict_rejects_another_models_state() -> None:
    small = nn.optim.Adam([Tensor([1.0], requires_grad=True)])
    big = nn.optim.Adam(make_params())
    with pytest.raises(ValueError, match=r"groups of \[1\] parameters, this one \[2\]"):
        big.load_state_dict(small.state_dict())
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        big.load_state_dict({"exp_avg": 1})
    params = make_params()
    optimizer = nn.optim.Adam(params)
    quadratic_grads(params, 0)
    optimizer.step()
    state = optimizer.state_dict()
    state["state"][0]["exp_avg"] = np.zeros(5)
    with pytest.raises(ValueError, match=r"exp_avg of parameter 0 .* has shape \(5,\)"):
        nn.optim.Adam(make_params()).load_state_dict(state)


# ---------------------------------------------------------------- param_groups / zero_grad / schedulers


def test_param_groups_with_their_own_learning_rate() -> None:
    body, head = make_params()
    optimizer = nn.optim.SGD([{"params": [body]}, {"params": [head], "lr": 1.0}], lr=0.1)
    assert [group["lr"] for group in optimizer.param_groups] == [0.1, 1.0]
    body.grad, head.grad = np.ones(body.shape), np.ones(head.shape)
    start_body, start_head = body.data.copy(), head.data.copy()
    optimizer.step()
    np.testing.assert_allclose(body.data, start_body - 0.1)
    np.testing.assert_allclose(head.data, start_head - 1.0)


def test_changing_a_groups_lr_the_pytorch_way() -> None:
    (param,) = make_params()[1:]
    optimizer = nn.optim.SGD([param], lr=1.0)
    for group in optimizer.param_groups:
        group["lr"] = 0.5
    param.grad = np.ones(2)
    start = param.data.copy()
    optimizer.step()
    np.testing.assert_allclose(param.data, start - 0.5)
    assert optimizer.lr == 0.5


def test_param_group_errors() -> None:
    with pytest.raises(ValueError, match="unknown setting"):
        nn.optim.SGD([{"params": make_params(), "momentun": 0.9}], lr=0.1)
    p = make_params()
    with pytest.raises(ValueError, match="given twice"):
        nn.optim.SGD([{"params": p}, {"params": p[:1]}], lr=0.1)


def test_zero_grad_set_to_none_or_to_zeros() -> None:
    params = make_params()
    optimizer = nn.optim.SGD(params, lr=0.1)
    quadratic_grads(params, 0)
    kept = params[0].grad
    optimizer.zero_grad(set_to_none=False)
    assert params[0].grad is kept and not params[0].grad.any()
    optimizer.zero_grad()
    assert params[0].grad is None and params[1].grad is None


def test_schedulers_under_lr_scheduler_step_every_group() -> None:
    a, b = make_params()
    optimizer = nn.optim.SGD([{"params": [a], "lr": 1.0}, {"params": [b], "lr": 0.1}], lr=1.0)
    schedule = StepLR(optimizer, step_size=1, gamma=0.5)
    schedule.step()
    assert schedule.get_last_lr() == [0.5, 0.05]
    assert nn.optim.lr_scheduler.CosineAnnealingLR is CosineAnnealingLR is nn.optim.CosineAnnealingLR


def test_scheduler_state_resumes() -> None:
    optimizer = nn.optim.SGD(make_params(), lr=1.0)
    schedule = CosineAnnealingLR(optimizer, T_max=10)
    for _ in range(3):
        schedule.step()
    state = schedule.state_dict()
    other_optimizer = nn.optim.SGD(make_params(), lr=1.0)
    other = CosineAnnealingLR(other_optimizer, T_max=10)
    other.load_state_dict(state)
    other_optimizer.load_state_dict(optimizer.state_dict())
    schedule.step()
    other.step()
    assert other.get_last_lr() == schedule.get_last_lr()


# ---------------------------------------------------------------- hyperparameter and gradient checks


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda p: nn.optim.SGD(p, lr="0.1"), TypeError, "SGD: lr must be a number, got '0.1'"),
        (lambda p: nn.optim.SGD(p, lr=math.inf), ValueError, "lr must be finite"),
        (lambda p: nn.optim.Adam(p, lr=math.nan), ValueError, "lr must be finite"),
        (lambda p: nn.optim.SGD(p, lr=0.1, momentum=None), TypeError, "momentum must be a number"),
        (lambda p: nn.optim.Adam(p, betas=(0.9,)), ValueError, r"betas must be a pair"),
        (lambda p: nn.optim.Adam(p, betas=0.9), ValueError, r"betas must be a pair"),
        (lambda p: nn.optim.AdamW(p, betas=(0.9, "0.999")), TypeError, r"betas\[1\] must be a number"),
    ],
)
def test_bad_hyperparameters_are_named(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make(make_params())


def test_setting_a_bad_lr_later_is_rejected_too() -> None:
    optimizer = nn.optim.SGD(make_params(), lr=0.1)
    with pytest.raises(ValueError, match="finite"):
        optimizer.lr = math.inf


def test_valid_hyperparameters_still_work() -> None:
    optimizer = nn.optim.Adam(make_params(), lr=np.float64(0.01), betas=[0.8, 0.9], eps=0)
    assert optimizer.param_groups[0]["betas"] == (0.8, 0.9)
    assert nn.optim.SGD(make_params(), lr=1).lr == 1.0


@pytest.mark.parametrize("cls", [nn.optim.SGD, nn.optim.Adam, nn.optim.AdamW])
def test_a_hand_set_gradient_of_the_wrong_shape_is_named(cls) -> None:
    params = make_params()
    optimizer = cls(params, lr=0.1)
    quadratic_grads(params, 0)
    params[1].grad = np.ones(1)  # would broadcast into the (2,) parameter
    before = [p.data.copy() for p in params]
    with pytest.raises(ValueError, match=r"\.grad of parameter 1 .* shape \(1,\).* parameter's shape \(2,\)"):
        optimizer.step()
    for p, value in zip(params, before):
        np.testing.assert_array_equal(p.data, value)  # nothing was updated


def test_a_hand_set_gradient_list_is_named() -> None:
    params = make_params()
    optimizer = nn.optim.SGD(params, lr=0.1)
    quadratic_grads(params, 0)
    params[1].grad = [1.0, 1.0]  # type: ignore[assignment]
    with pytest.raises(ValueError, match="is a list"):
        optimizer.step()


def test_a_hand_set_gradient_of_the_right_shape_works() -> None:
    manual_seed(0)
    model = nn.Linear(2, 1)
    optimizer = nn.optim.Adam(model.named_parameters(), lr=0.1)
    model.weight.grad = np.ones((1, 2), dtype=np.float32)
    model.bias.grad = np.ones(1, dtype=np.float32)
    before = model.weight.data.copy()
    optimizer.step()
    np.testing.assert_allclose(model.weight.data, before - 0.1, rtol=1e-5)
