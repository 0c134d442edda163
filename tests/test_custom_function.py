"""User-defined operations (subclasses of Function): usable in any graph, checked by gradcheck."""

import numpy as np

from tinygrad_edu import Function, Tensor
from tinygrad_edu.gradcheck import gradcheck


class ScaledShift(Function):
    """a * scale + b with b broadcast over the rows; backward returns the broadcast shape for b."""

    @staticmethod
    def forward(ctx, a, b, scale=1.0):
        ctx.scale = scale
        return a * scale + b

    @staticmethod
    def backward(ctx, grad):
        return (
            grad * ctx.scale if ctx.needs_input_grad[0] else None,
            grad if ctx.needs_input_grad[1] else None,  # shape (rows, cols): the engine sums the rows
        )


class Softplus(Function):
    """log(1 + exp(x)), with its derivative sigmoid(x) written by hand."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad / (1 + np.exp(-x)),)


def test_custom_function_in_a_graph_with_broadcasting():
    rng = np.random.default_rng(0)
    a = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = Tensor(rng.standard_normal(4), requires_grad=True)
    out = Softplus.apply(ScaledShift.apply(a, b, scale=2.0)) * a  # a is used twice
    out.sum().backward()
    assert b.grad.shape == (4,) and a.grad.shape == (3, 4)
    z = 2 * a.data + b.data
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(b.grad, (s * a.data).sum(axis=0), rtol=1e-5)
    np.testing.assert_allclose(a.grad, 2 * s * a.data + np.logaddexp(0, z), rtol=1e-5)


def test_custom_functions_pass_gradcheck():
    rng = np.random.default_rng(1)
    a = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = Tensor(rng.standard_normal(4), requires_grad=True)
    report = gradcheck(lambda a, b: Softplus.apply(ScaledShift.apply(a, b, scale=-0.5)), a, b)
    assert report, str(report)


def test_needs_input_grad_skips_constant_inputs():
    seen = []

    class Spy(ScaledShift):
        @staticmethod
        def backward(ctx, grad):
            seen.append(ctx.needs_input_grad)
            return ScaledShift.backward(ctx, grad)

    a = Tensor(np.ones((2, 3)), requires_grad=True)
    Spy.apply(a, np.zeros(3)).sum().backward()
    assert seen == [(True, False)]
    np.testing.assert_array_equal(a.grad, np.ones((2, 3)))
