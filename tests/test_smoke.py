import numpy as np

from tinygrad_edu import Tensor


def test_square_gradient():
    w = Tensor([1.0, -2.0], requires_grad=True)
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, 2 * w.data)
