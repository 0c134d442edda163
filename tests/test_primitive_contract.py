"""The contract that lets the engine skip re-checking a one-input primitive's gradient.

``Function.exact_gradient`` tells the reverse pass that a backward returns a
tuple holding one gradient of its input's exact shape and dtype, so the engine
only checks that it is an array (autograd.backward_step). A primitive that broke
the promise would hand a wrong-shaped or float64 gradient on without a word, so
every such primitive is run here, in every float dtype, over many shapes (0-d
included), and its raw backward output is inspected. The comparison is against
the engine's full check: with the shortcut switched off, the gradients must be
the same, bit for bit.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu import primitives as P
from tinygrad_edu.function import Function

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
FLOATS = [np.float16, np.float32, np.float64]


def _last_axis(x: Tensor) -> int | None:
    return None if x.ndim == 0 else -1


# One way through the public API to each primitive that sets exact_gradient.
EXACT: dict[type[Function], Callable[[Tensor], Tensor]] = {
    P.Exp: lambda x: x.exp(),
    P.Log: lambda x: (x * x + 1).log(),
    P.Sin: lambda x: x.sin(),
    P.Cos: lambda x: x.cos(),
    P.Tanh: lambda x: x.tanh(),
    P.Sum: lambda x: x.sum(axis=_last_axis(x)),
    P.Max: lambda x: x.max(axis=_last_axis(x), keepdims=True),
    P.Reshape: lambda x: x.reshape(-1),
    P.Permute: lambda x: x.transpose(),
    P.Index: lambda x: x[..., :1] if x.ndim else x[()],
}


def test_every_primitive_that_claims_exact_gradients_is_checked_here() -> None:
    claiming = {
        cls
        for _, cls in inspect.getmembers(P, inspect.isclass)
        if issubclass(cls, Function) and cls is not Function and cls.exact_gradient
    }
    assert claiming == set(EXACT), "a primitive with exact_gradient = True needs a case in EXACT"


class WrongShapeAndDtype(Function):
    """A one-input custom Function whose backward breaks both rules."""

    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, grad):
        return (grad.astype(np.float64)[..., np.newaxis],)


def test_custom_functions_are_fully_checked_by_default() -> None:
    assert WrongShapeAndDtype.exact_gradient is False
    assert P.Add.exact_gradient is False  # several inputs: they may broadcast and mix dtypes


def _node_of(primitive: type[Function], out: Tensor) -> Function:
    """The node of ``out`` or of the tensor it was made from that ``primitive`` recorded."""
    stack = [out]
    while stack:
        tensor = stack.pop()
        if type(tensor.op) is primitive:
            return tensor.op
        if tensor.op is not None:
            stack.extend(tensor.op.parents)
    raise AssertionError(f"{primitive.__name__} was not recorded")


@pytest.mark.parametrize("primitive", list(EXACT), ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("dtype", FLOATS, ids=lambda dtype: np.dtype(dtype).name)
@settings(max_examples=25, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_one_input_primitive_returns_one_gradient_of_its_inputs_shape_and_dtype(
    primitive: type[Function], dtype: type, shape: tuple[int, ...], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    x = Tensor(rng.uniform(0.5, 1.5, shape), dtype=dtype, requires_grad=True)
    out = EXACT[primitive](x)
    node = _node_of(primitive, out)
    (input_tensor,) = node.parents  # one input, as the flag promises
    upstream = rng.standard_normal(out.shape).astype(dtype) if out.ndim else np.asarray(1.5, dtype)
    grads = type(node).backward(node, upstream)
    assert isinstance(grads, tuple) and len(grads) == 1
    (grad,) = grads
    assert np.shape(grad) == input_tensor.shape
    assert np.asarray(grad).dtype == input_tensor.dtype


@pytest.mark.parametrize("primitive", list(EXACT), ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_the_shortcut_gives_the_gradients_of_the_full_check(
    primitive: type[Function], shape: tuple[int, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    values = np.random.default_rng(len(shape)).uniform(0.5, 1.5, shape)

    def gradient() -> np.ndarray:
        x = Tensor(values, dtype=np.float32, requires_grad=True)
        (EXACT[primitive](x) * 1.5).sum().backward()
        assert x.grad is not None and x.grad.dtype == np.float32 and x.grad.shape == shape
        return x.grad

    fast = gradient()
    monkeypatch.setattr(primitive, "exact_gradient", False)
    np.testing.assert_array_equal(fast, gradient())


def test_a_one_input_custom_function_that_breaks_the_rules_is_still_caught() -> None:
    x = tg.Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="wrongshapeanddtype.backward returned a gradient of shape"):
        WrongShapeAndDtype.apply(x).sum().backward()


def test_a_subclass_with_its_own_backward_loses_the_promise() -> None:
    """Subclassing a primitive and replacing its backward must not inherit the skipped checks."""

    class SloppyTanh(P.Tanh):
        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return (grad * (1 - out * out)).astype(np.float64)  # a bare array, and float64

    class SameBackward(P.Tanh):
        pass

    assert SloppyTanh.exact_gradient is False and SameBackward.exact_gradient is True
    x = Tensor(np.full((2, 3), 0.5), requires_grad=True)
    SloppyTanh.apply(x).sum().backward()
    assert x.grad is not None and x.grad.shape == (2, 3) and x.grad.dtype == np.float32
