"""The division's gradient far from 1, and the np.dot path for products with an inner dimension of 1."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from tinygrad_edu import Tensor
from tinygrad_edu.primitives import _matmul


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "a, b",
    [(1e30, 1e20), (1e-30, 1e-23), (-3e10, 2.5e19), (7e-20, -1e-20), (2.0, 4.0), (-1.5, 3e-3)],
)
def test_the_gradient_of_a_division_is_right_where_b_squared_overflows_or_underflows(dtype, a, b):
    """d/db (a / b) = -a / b**2: b**2 overflows past 1.8e19 in float32 (the gradient was -0) and
    underflows below 1e-23 (the gradient was -inf), though the gradient itself is an ordinary number."""
    ta, tb = Tensor([a], dtype=dtype, requires_grad=True), Tensor([b], dtype=dtype, requires_grad=True)
    (ta / tb).backward()
    a, b = float(ta.data[0]), float(tb.data[0])  # the values the tensors hold, in float64
    exact_b, exact_a = -a / b / b, 1 / b
    rtol = 4 * float(np.finfo(dtype).eps)
    assert float(tb.grad[0]) == pytest.approx(exact_b, rel=rtol, abs=0)
    assert float(ta.grad[0]) == pytest.approx(exact_a, rel=rtol, abs=0)


def test_a_zero_upstream_gradient_through_a_division_by_zero_stays_zero():
    """where() discards the branch 1 / x at x = 0: its gradient there is 0, not 0 * inf = nan."""
    x = Tensor([0.0, 2.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        y = (1.0 / x).where(np.array([False, True]), 0.0).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, [0.0, -0.25])


def test_division_broadcasts_its_gradients_back_to_each_input():
    rng = np.random.default_rng(3)
    a = Tensor(rng.uniform(1, 2, (4, 3)), dtype=np.float64, requires_grad=True)
    b = Tensor(rng.uniform(1, 2, (3,)), dtype=np.float64, requires_grad=True)
    (a / b).sum().backward()
    np.testing.assert_allclose(a.grad, np.broadcast_to(1 / b.data, (4, 3)), rtol=1e-15)
    np.testing.assert_allclose(b.grad, -(a.data / b.data**2).sum(axis=0), rtol=1e-14)


_dims = st.integers(1, 9)


@settings(max_examples=60, deadline=None)
@given(
    m=_dims, k=st.sampled_from([1, 1, 2, 5]), n=_dims, transpose_b=st.booleans(), dtype=st.sampled_from(["f4", "f8"])
)
def test_matmul_helper_is_bit_for_bit_np_matmul(m, k, n, transpose_b, dtype):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((n, k)).astype(dtype).T if transpose_b else rng.standard_normal((k, n)).astype(dtype)
    got, expected = _matmul(a, b), np.matmul(a, b)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert got.tobytes() == expected.tobytes()


def test_matmul_helper_keeps_matmul_semantics_for_vectors_and_batches():
    rng = np.random.default_rng(0)
    for a, b in [
        (rng.standard_normal(4), rng.standard_normal(4)),
        (rng.standard_normal((2, 3, 1)), rng.standard_normal((2, 1, 5))),
        (rng.standard_normal((3, 1)), rng.standard_normal(1)),
    ]:
        np.testing.assert_array_equal(_matmul(a, b), np.matmul(a, b))


def test_a_layer_with_one_input_and_one_output_has_the_gradients_of_the_textbook_expression():
    """nn.Linear(1, 8) and nn.Linear(8, 1) (the W3 regression net) against x @ W.T + b written by hand."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((11, 1))
    first, second = nn.Linear(1, 8), nn.Linear(8, 1)
    for layer in (first, second):
        layer.weight.data = layer.weight.data.astype(np.float64)
        layer.bias.data = layer.bias.data.astype(np.float64)
    out = second(first(Tensor(x, dtype=np.float64)).tanh())
    (out * out).sum().backward()
    w1, b1, w2, b2 = first.weight.data, first.bias.data, second.weight.data, second.bias.data
    h = np.tanh(x @ w1.T + b1)
    y = h @ w2.T + b2
    dy = 2 * y
    dh = dy @ w2 * (1 - h**2)
    np.testing.assert_allclose(second.weight.grad, dy.T @ h, rtol=1e-12)
    np.testing.assert_allclose(second.bias.grad, dy.sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(first.weight.grad, dh.T @ x, rtol=1e-12)
    np.testing.assert_allclose(first.bias.grad, dh.sum(axis=0), rtol=1e-12)
