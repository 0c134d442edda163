"""ReLU is a where-node: no -0.0, relu(-inf) = 0, NaN propagates, and the gradients of PyTorch at the edges."""

import numpy as np

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
