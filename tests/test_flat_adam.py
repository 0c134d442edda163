"""Adam's flat state (nn/optim/flat.py): bit for bit the per-parameter update, whatever changes between steps."""

import math

import numpy as np
import pytest

import nn
from tinygrad_edu import Tensor, no_grad


def per_parameter_adam(params, grads, state, lr, betas, eps, weight_decay, decoupled):
    """The textbook loop, one parameter at a time, with the optimizer's operations in the same order."""
    beta1, beta2 = betas
    for p, g in zip(params, grads):
        entry = state.setdefault(id(p), {"step": 0, "m": np.zeros_like(p), "v": np.zeros_like(p)})
        entry["step"] += 1
        t, m, v = entry["step"], entry["m"], entry["v"]
        if weight_decay:
            if decoupled:
                p *= 1 - lr * weight_decay
            else:
                g = g + weight_decay * p
        sqrt_c2 = math.sqrt(1 - beta2**t)
        step_size = lr * sqrt_c2 / (1 - beta1**t)
        tmp = np.multiply(g, 1 - beta1)
        m *= beta1
        m += tmp
        tmp = np.multiply(g, g)
        tmp *= 1 - beta2
        v *= beta2
        v += tmp
        tmp = np.sqrt(v)
        tmp += eps * sqrt_c2
        tmp = np.divide(m, tmp)
        tmp *= step_size
        p -= tmp


SHAPES = [(5, 3), (3,), (1,), (), (2, 1, 4)]


@pytest.mark.parametrize("cls, weight_decay", [(nn.optim.Adam, 0.0), (nn.optim.Adam, 0.1), (nn.optim.AdamW, 0.1)])
def test_flat_adam_is_bit_for_bit_the_per_parameter_loop(cls, weight_decay):
    rng = np.random.default_rng(0)
    dtypes = [np.float32, np.float64, np.float32, np.float32, np.float64]  # two dtypes: two flat arrays
    start = [rng.standard_normal(shape).astype(dtype) for shape, dtype in zip(SHAPES, dtypes)]
    params = [Tensor(a.copy(), dtype=a.dtype, requires_grad=True) for a in start]
    optimizer = cls(params, lr=0.01, weight_decay=weight_decay)
    reference = [a.copy() for a in start]
    reference_state: dict = {}
    for _ in range(7):
        grads = [rng.standard_normal(a.shape).astype(a.dtype) for a in start]
        for p, g in zip(params, grads):
            p.grad = g.copy()
        optimizer.step()
        decoupled = cls is nn.optim.AdamW
        per_parameter_adam(reference, grads, reference_state, 0.01, (0.9, 0.999), 1e-8, weight_decay, decoupled)
        for p, r in zip(params, reference):
            assert p.data.dtype == r.dtype and p.data.tobytes() == r.tobytes()
    for p, r in zip(params, reference):
        entry = optimizer.state[p]
        assert entry["step"] == 7 and entry["exp_avg"].shape == p.shape
        assert entry["exp_avg"].tobytes() == reference_state[id(r)]["m"].tobytes()
        assert entry["exp_avg_sq"].tobytes() == reference_state[id(r)]["v"].tobytes()


def two_groups():
    rng = np.random.default_rng(1)
    params = [Tensor(rng.standard_normal(shape), requires_grad=True) for shape in [(4, 2), (2,), (3,)]]
    optimizer = nn.optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.1}], lr=0.01)
    return params, optimizer


def train(params, optimizer, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        for p in params:
            p.grad = rng.standard_normal(p.shape).astype(p.dtype)
        optimizer.step()


def test_a_loaded_state_is_used_by_the_next_step():
    """Stop after 3 steps, load the state into a fresh optimizer over the same values: the same 2 next steps."""
    params, optimizer = two_groups()
    train(params, optimizer, 3, seed=2)
    saved, values = optimizer.state_dict(), [p.data.copy() for p in params]
    train(params, optimizer, 2, seed=3)

    resumed, fresh = two_groups()
    train(resumed, fresh, 1, seed=4)  # a step that the loaded state must overwrite
    fresh.load_state_dict(saved)
    with no_grad():
        for p, value in zip(resumed, values):
            p.data = value.copy()
    train(resumed, fresh, 2, seed=3)
    for p, q in zip(resumed, params):
        assert p.data.tobytes() == q.data.tobytes()


def test_an_average_set_by_hand_is_the_one_the_update_uses():
    p = Tensor(np.ones(3), requires_grad=True)
    optimizer = nn.optim.Adam([p], lr=0.1)
    p.grad = np.ones(3)
    optimizer.step()
    optimizer.state[p]["exp_avg"] = np.zeros(3)  # a new array, not the flat view
    optimizer.state[p]["exp_avg_sq"][...] = 0.0  # written through the view
    before = p.data.copy()
    p.grad = np.zeros(3)
    optimizer.step()
    np.testing.assert_array_equal(p.data, before)  # m = 0 and g = 0: no move
    assert optimizer.state[p]["step"] == 2


def test_parameters_at_different_step_counts_get_their_own_bias_correction():
    a, b = (Tensor(np.ones(2), dtype=np.float64, requires_grad=True) for _ in range(2))
    optimizer = nn.optim.Adam([a, b], lr=0.1)
    state = optimizer.state_dict()
    state["state"] = {
        0: {"step": 5, "exp_avg": np.full(2, 0.5), "exp_avg_sq": np.full(2, 0.25)},
        1: {"step": 1, "exp_avg": np.full(2, 0.5), "exp_avg_sq": np.full(2, 0.25)},
    }
    optimizer.load_state_dict(state)
    a.grad, b.grad = np.ones(2), np.ones(2)
    optimizer.step()
    for p, t in ((a, 6), (b, 2)):
        m, v = 0.9 * 0.5 + 0.1, 0.999 * 0.25 + 0.001
        expected = 1 - 0.1 * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(p.data, expected, rtol=1e-12)
        assert optimizer.state[p]["step"] == t


def test_a_parameter_saved_by_a_live_graph_is_updated_in_a_copy():
    p = Tensor(np.ones(3), requires_grad=True)
    optimizer = nn.optim.Adam([p], lr=0.1)
    kept = (p * p).sum()  # the graph saved p's array (read-only while it lives)
    saved_array = p.data
    p.grad = np.ones(3)
    optimizer.step()
    assert p.data is not saved_array and not np.array_equal(p.data, saved_array)
    np.testing.assert_array_equal(saved_array, np.ones(3))  # the graph keeps the values it was computed from
    kept.backward()
