"""Central finite differences in float64, with a random upstream gradient, for the engine's tests.

The loss checked is ``sum(f(x) * upstream)`` for a seeded random ``upstream``:
with ``f(x).sum()`` instead, the gradient of softmax-like outputs is
identically zero and a sign-flipped or scaled backward would pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tinygrad_edu import Tensor


def numeric_gradients(
    fn: Callable[..., Tensor], arrays: Sequence[np.ndarray], upstream: np.ndarray, eps: float = 1e-6
) -> list[np.ndarray]:
    """d sum(fn(*arrays) * upstream) / d arrays[i], by central differences."""
    grads = []
    for i, array in enumerate(arrays):
        grad = np.zeros_like(array, dtype=np.float64)
        for index in np.ndindex(array.shape):
            values = []
            for step in (eps, -eps):
                shifted = [a.copy() for a in arrays]
                shifted[i][index] += step
                out = fn(*[Tensor(a, dtype=np.float64) for a in shifted])
                values.append(float(np.sum(out.data * upstream)))
            grad[index] = (values[0] - values[1]) / (2 * eps)
        grads.append(grad)
    return grads


def assert_gradients_match(
    fn: Callable[..., Tensor],
    *arrays: np.ndarray,
    seed: int = 0,
    atol: float = 1e-6,
    rtol: float = 1e-5,
) -> None:
    """Autodiff gradients of every input equal central differences (float64)."""
    arrays = tuple(np.asarray(a, dtype=np.float64) for a in arrays)
    inputs = [Tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    out = fn(*inputs)
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(upstream)
    expected = numeric_gradients(fn, arrays, upstream)
    for i, (tensor, numeric) in enumerate(zip(inputs, expected)):
        assert tensor.grad is not None, f"input {i} got no gradient"
        assert tensor.grad.shape == tensor.shape, f"input {i}: grad shape {tensor.grad.shape}"
        np.testing.assert_allclose(tensor.grad, numeric, atol=atol, rtol=rtol, err_msg=f"input {i}")
