"""ReLU is a where-node: no -0.0, relu(-inf) = 0, NaN propagates, and the gradients of PyTorch at the edges."""

import numpy as np
import pytest

from tinygrad_edu import Tensor

EDGES = [-np.inf, -1.0, -0.0, 0.0, 2.0, np.inf, np.nan]


def test_relu_at_the_edges():
    x = Tensor(EDGES, requires_grad=True)
    y = x.relu()
    np.testing.assert_array_equal(y.data, [0.0, 0.0, 0.0, 0.0, 2.0, np.inf, np.nan])
    assert not np.signbit(y.data[:4]).any()  # relu(-1) and relu(-0.0) are +0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 0, 0, 1, 1, 1])  # relu'(0) = 0; NaN passes its gradient


def test_leaky_relu_at_the_edges():
    x = Tensor(EDGES, requires_grad=True)
    y = x.leaky_relu(0.1)
    np.testing.assert_array_equal(y.data, np.array([-np.inf, -0.1, -0.0, 0.0, 2.0, np.inf, np.nan], np.float32))
    y.backward(np.ones(len(EDGES)))  # not .sum(): -inf + inf would be NaN
    np.testing.assert_allclose(x.grad, [0.1, 0.1, 0.1, 0.1, 1, 1, 0.1])  # slope at 0 and at NaN, as torch


@pytest.mark.parametrize("slope", [0.0, 0.01, 0.2, 1.0, 1.5, -0.1])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_leaky_relu_is_bit_for_bit_the_textbook_where(slope: float, dtype: type) -> None:
    """Whichever way the slope per element is built (max trick or lookup table), values and gradients are exact."""
    values = np.random.default_rng(3).standard_normal(500).astype(dtype)
    values[:4] = [0.0, -0.0, np.inf, -np.inf]
    x = Tensor(values, dtype=dtype, requires_grad=True)
    slope_d = np.asarray(slope, dtype)
    with np.errstate(invalid="ignore"):  # -inf * 0: NaN on both sides
        out = x.leaky_relu(slope)
        out.sum().backward()
        expected = np.where(values > 0, values, values * slope_d)
    np.testing.assert_array_equal(out.data, expected)
    np.testing.assert_array_equal(x.grad, np.where(values > 0, np.asarray(1, dtype), slope_d))
    assert out.dtype == dtype and x.grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_minus_abs_sign_is_exact(dtype: type) -> None:
    values = np.random.default_rng(4).standard_normal(300).astype(dtype) * 30
    values[:3] = [0.0, -0.0, 1e-30]
    x = Tensor(values, dtype=dtype, requires_grad=True)
    s = x.sigmoid()
    s.sum().backward()
    e = np.exp(-np.abs(values.astype(np.float64)))  # the reference in float64, without cancellation
    exact = np.where(values >= 0, 1, e) / (1 + e)
    slope = e / (1 + e) ** 2  # sigmoid' = sigmoid(x) sigmoid(-x)
    np.testing.assert_allclose(s.data, exact, rtol=4 * np.finfo(dtype).eps, atol=0)
    np.testing.assert_allclose(x.grad, slope, rtol=16 * np.finfo(dtype).eps, atol=0)
    assert s.data[0] == 0.5 and x.grad[0] == 0.25 and x.grad[1] == 0.25


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("other", [0.0, -0.0, 1.0, np.nan], ids=["+0", "-0", "one", "nan"])
@pytest.mark.parametrize("shape", [(3, 5), (128, 256)], ids=["small", "large"])
def test_the_where_primitive_is_np_where_bit_for_bit(dtype: type, other: float, shape: tuple[int, int]) -> None:
    """Large arrays take the bit-masking path (with a shortcut for a +0.0 branch), small ones np.where."""
    from tinygrad_edu.primitives import _where

    rng = np.random.default_rng(5)
    a = rng.standard_normal(shape).astype(dtype)
    a.flat[:5] = [np.nan, -0.0, 0.0, np.inf, -np.inf]
    condition = rng.random(shape) > 0.5
    scalar = np.asarray(other, dtype)
    for got, expected in (
        (_where(condition, a, scalar), np.where(condition, a, scalar)),
        (_where(condition, scalar, a), np.where(condition, scalar, a)),
        (_where(condition[:, :1], a, a[::-1]), np.where(condition[:, :1], a, a[::-1])),
        (_where(condition, a[:1], a[-1:]), np.where(condition, a[:1], a[-1:])),  # the condition is the largest
        (_where(condition, scalar, a[:1]), np.where(condition, scalar, a[:1])),
    ):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))
