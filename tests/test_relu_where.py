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


def test_relu_and_leaky_relu_match_pytorch_at_the_edges():
    torch = pytest.importorskip("torch", reason="torch is the optional oracle")
    for ours, theirs in ((lambda t: t.relu(), torch.relu),
                         (lambda t: t.leaky_relu(0.1), lambda t: torch.nn.functional.leaky_relu(t, 0.1))):  # fmt: skip
        x = Tensor(EDGES, requires_grad=True, dtype=np.float64)
        reference = torch.tensor(EDGES, dtype=torch.float64, requires_grad=True)
        out, expected = ours(x), theirs(reference)
        out.backward(np.ones(len(EDGES)))  # not .sum(): leaky_relu(-inf) + inf would be NaN
        expected.backward(torch.ones(len(EDGES), dtype=torch.float64))
        np.testing.assert_array_equal(np.abs(out.data), np.abs(expected.detach().numpy()))  # -0.0 aside
        np.testing.assert_array_equal(x.grad, reference.grad.numpy())
