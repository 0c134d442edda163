"""Tests for the hand-written NumPy reference MLP (bench/numpy_reference.py).

Expected values are always recomputed from first principles in the test (finite
differences, the textbook Adam/SGD formulas, a naive softmax), never pasted in.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.numpy_reference import SGD, Adam, NumpyMLP, accuracy, init_params, train_epoch

ACTIVATIONS = ["sigmoid", "relu"]
SHAPES = {"one hidden layer": [7, 6, 4], "two hidden layers": [7, 6, 5, 4]}


def _random_model(sizes, activation, dtype, seed=0):
    """A small model with random (non-zero) biases, so every gradient entry is exercised."""
    rng = np.random.default_rng(seed)
    params = [
        (w, rng.normal(0.0, 0.5, b.shape).astype(dtype))
        for w, b in init_params(sizes, activation, rng, dtype)
    ]
    return NumpyMLP(params, activation)


def _random_batch(n, d, k, dtype, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype(dtype), rng.integers(0, k, size=n)


def _naive_loss(model, x, y):
    """Mean cross-entropy written the obvious way (fine for the small logits used here)."""
    logits = model.forward(x).astype(np.float64)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


# ---------------------------------------------------------------- gradients


@pytest.mark.parametrize("sizes", list(SHAPES.values()), ids=list(SHAPES))
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradients_match_central_finite_differences_in_float64(activation, sizes):
    model = _random_model(sizes, activation, np.float64)
    x, y = _random_batch(9, sizes[0], sizes[-1], np.float64)
    _, grads = model.loss_and_grads(x, y)
    analytic = model.flat_grads.copy()
    assert all(g.base is not None for pair in grads for g in pair)  # views into flat_grads

    h = 1e-6
    numeric = np.empty_like(analytic)
    p = model.flat_params
    for k in range(p.size):
        orig = p[k]
        p[k] = orig + h
        loss_plus, _ = model.loss_and_grads(x, y)
        p[k] = orig - h
        loss_minus, _ = model.loss_and_grads(x, y)
        p[k] = orig
        numeric[k] = (loss_plus - loss_minus) / (2 * h)

    # Central differences are O(h^2) accurate; rounding costs ~ eps * loss / h.
    scale = np.abs(numeric).max()
    np.testing.assert_allclose(analytic, numeric, rtol=0, atol=1e-6 * scale)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_loss_matches_naive_cross_entropy(activation):
    model = _random_model(SHAPES["two hidden layers"], activation, np.float64)
    x, y = _random_batch(11, 7, 4, np.float64)
    loss, _ = model.loss_and_grads(x, y)
    assert loss == pytest.approx(_naive_loss(model, x, y), rel=1e-12)


def test_batch_sizes_can_change_between_calls():
    model = _random_model(SHAPES["one hidden layer"], "relu", np.float64)
    x, y = _random_batch(10, 7, 4, np.float64)
    for n in (10, 3, 10):
        loss, _ = model.loss_and_grads(x[:n], y[:n])
        assert loss == pytest.approx(_naive_loss(model, x[:n], y[:n]), rel=1e-12)


# ---------------------------------------------------------------- dtypes and numerics


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_float32_stays_float32_everywhere(activation):
    sizes = SHAPES["two hidden layers"]
    model = NumpyMLP(init_params(sizes, activation, 0), activation)
    x, y = _random_batch(16, sizes[0], sizes[-1], np.float32)
    opt = Adam() if activation == "relu" else SGD(0.1)
    loss, grads = model.loss_and_grads(x, y)
    opt.step(model.flat_params, model.flat_grads)
    arrays = [model.flat_params, model.flat_grads, model.forward(x)]
    arrays += [a for pair in model.params + grads for a in pair]
    arrays += [a for a in vars(opt).values() if isinstance(a, np.ndarray)]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}
    assert math.isfinite(loss)


def test_inputs_of_another_dtype_are_rejected_not_promoted():
    model = NumpyMLP(init_params([7, 6, 4], "relu", 0), "relu")
    x, y = _random_batch(5, 7, 4, np.float64)
    with pytest.raises(TypeError):
        model.loss_and_grads(x, y)
    with pytest.raises(TypeError):
        model.forward(x)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_huge_pre_activations_give_finite_loss_without_warnings(activation):
    model = NumpyMLP(init_params([7, 6, 4], activation, 0), activation)
    model.flat_params *= 1e4  # logits and hidden pre-activations of order 1e4: exp would overflow
    x, y = _random_batch(32, 7, 4, np.float32)
    loss, _ = model.loss_and_grads(x, y)
    assert math.isfinite(loss)
    assert np.isfinite(model.flat_grads).all()
    assert np.isfinite(model.forward(x)).all()


# ---------------------------------------------------------------- optimizers


def test_sgd_step_is_p_minus_lr_g():
    rng = np.random.default_rng(0)
    p, g = rng.normal(size=50), rng.normal(size=50)
    expected = p - 0.3 * g
    SGD(0.3).step(p, g)
    np.testing.assert_allclose(p, expected, rtol=1e-15)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_adam_steps_match_the_pytorch_formulas(dtype, rtol):
    lr, b1, b2, eps = 0.01, 0.8, 0.95, 1e-3  # non-default values, so each one matters
    rng = np.random.default_rng(0)
    p = rng.normal(size=40)
    grads = [rng.normal(size=40) for _ in range(3)]
    grads[1][:5] = 0.0  # v stays tiny there: eps must matter

    # The formulas, literally, in float64.
    ref_p, m, v = p.copy(), np.zeros(40), np.zeros(40)
    ref_steps = []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        ref_p = ref_p - lr * m_hat / (np.sqrt(v_hat) + eps)
        ref_steps.append(ref_p)

    opt = Adam(lr, (b1, b2), eps)
    ours = p.astype(dtype)
    for g, expected in zip(grads, ref_steps):
        opt.step(ours, g.astype(dtype))
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, expected, rtol=rtol)


# ---------------------------------------------------------------- initialisation


def test_init_params_layout_and_scale():
    sizes = [784, 256, 128, 10]
    he = init_params(sizes, "relu", 0)
    for (w, b), n_in, n_out in zip(he, sizes[:-1], sizes[1:]):
        assert w.shape == (n_out, n_in) and b.shape == (n_out,)  # nn.Linear layout
        assert w.dtype == b.dtype == np.float32
        assert not b.any()
    # He normal: std sqrt(2 / fan_in); 200k samples pin the std to well under 1%.
    assert he[0][0].std() == pytest.approx(math.sqrt(2 / 784), rel=0.02)

    xavier = init_params([784, 100, 10], "sigmoid", 0)
    limit = math.sqrt(6 / (784 + 100))
    w = xavier[0][0]
    assert np.abs(w).max() <= limit
    assert w.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)  # std of U(-a, a)


def test_init_params_is_reproducible_and_dtype_independent():
    a = init_params([20, 10, 3], "relu", 5)
    b = init_params([20, 10, 3], "relu", np.random.default_rng(5))
    c = init_params([20, 10, 3], "relu", 5, dtype=np.float64)
    for (wa, _), (wb, _), (wc, _) in zip(a, b, c):
        np.testing.assert_array_equal(wa, wb)
        np.testing.assert_array_equal(wa, wc.astype(np.float32))


def test_model_copies_params_instead_of_aliasing_them():
    params = init_params([7, 6, 4], "relu", 0)
    before = [w.copy() for w, _ in params]
    model = NumpyMLP(params, "relu")
    x, y = _random_batch(8, 7, 4, np.float32)
    model.loss_and_grads(x, y)
    SGD(1.0).step(model.flat_params, model.flat_grads)
    for (w, _), w0 in zip(params, before):
        np.testing.assert_array_equal(w, w0)
    assert not np.array_equal(model.params[0][0], before[0])


# ---------------------------------------------------------------- training


def _separable_problem(n=600, d=20, k=4, seed=0):
    """Gaussian inputs labelled by a random linear teacher: separable by construction."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (x @ rng.normal(size=(d, k))).argmax(axis=1)
    return x, y


@pytest.mark.parametrize(
    "activation, sizes, make_opt, batch",
    [
        ("sigmoid", [20, 32, 4], lambda: SGD(0.5), 20),  # config (a) in miniature
        ("relu", [20, 32, 16, 4], lambda: Adam(1e-2), 32),  # config (b) in miniature
    ],
)
def test_a_few_hundred_steps_reduce_the_loss(activation, sizes, make_opt, batch):
    x, y = _separable_problem()
    model = NumpyMLP(init_params(sizes, activation, 0), activation)
    opt = make_opt()
    start_loss, _ = model.loss_and_grads(x, y)
    rng = np.random.default_rng(1)
    for _ in range(15):  # 15 epochs x 30 batches = 450 steps
        train_epoch(model, opt, x, y, batch, rng.permutation(len(x)))
    end_loss, _ = model.loss_and_grads(x, y)
    chance = np.bincount(y).max() / len(y)
    assert end_loss < start_loss / 4
    assert accuracy(model, x, y) > (1 + chance) / 2


def test_train_epoch_follows_the_given_order_and_keeps_the_last_batch():
    x, y = _separable_problem(n=50)
    order = np.random.default_rng(3).permutation(50)
    params = init_params([20, 8, 4], "sigmoid", 0)

    model = NumpyMLP(params, "sigmoid")
    mean_loss = train_epoch(model, SGD(0.1), x, y, 16, order)

    manual = NumpyMLP(params, "sigmoid")
    opt, losses = SGD(0.1), []
    for start in range(0, 50, 16):  # 16 + 16 + 16 + 2
        idx = order[start : start + 16]
        loss, _ = manual.loss_and_grads(x[idx], y[idx])
        opt.step(manual.flat_params, manual.flat_grads)
        losses.append(loss)
    np.testing.assert_array_equal(model.flat_params, manual.flat_params)
    assert mean_loss == pytest.approx(np.mean(losses), rel=1e-12)
    assert len(losses) == 4

    # drop_last: the same first three steps, and the 2-row remainder is skipped.
    dropped_mean = train_epoch(NumpyMLP(params, "sigmoid"), SGD(0.1), x, y, 16, order, drop_last=True)
    assert dropped_mean == pytest.approx(np.mean(losses[:3]), rel=1e-12)
