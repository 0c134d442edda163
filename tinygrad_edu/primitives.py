"""The primitives: the only operations in tinygrad-edu with a hand-written derivative.

Every other operation (activations, softmax, losses, mean, clip, ...) is a
forward expression of these, so its gradient comes out of the chain rule and
nobody writes a derivative again. Each primitive is declared once, its
``forward`` and ``backward`` side by side.

Conventions every backward follows:

- Gradients of elementwise operations may have the broadcast shape; the engine
  sums the broadcast axes away centrally (``autograd.sum_to_shape``).
- Inputs that do not need a gradient get ``None`` (``ctx.needs_input_grad``).
- Nothing saved in forward is ever modified: backward builds new arrays.
- Where a local derivative can be infinite (log at 0, division by 0, sqrt/pow
  at 0) and the upstream gradient is exactly 0, the contribution is 0, not
  ``0 * inf = nan``: a ``where`` that discards a branch must not leak NaN.
- At non-differentiable points we follow PyTorch: ties in ``maximum`` split the
  gradient in half, ties in ``max`` split it evenly among the tied elements.
"""

from __future__ import annotations

import math

import numpy as np

from .function import Function


def _zero_where_upstream_is_zero(upstream: np.ndarray, product: np.ndarray) -> np.ndarray:
    """Replace ``0 * inf = nan`` by 0 wherever the upstream gradient is exactly 0."""
    # A cheap test first: any NaN makes the max NaN. (A sum would too, but it can overflow, with a warning.)
    if math.isnan(np.maximum.reduce(product, axis=None, initial=-math.inf)):
        return np.where(upstream == 0, np.zeros((), product.dtype), product)
    return product


# ---------------------------------------------------------------- binary, elementwise


class Add(Function):
    """a + b. Both inputs receive the upstream gradient unchanged."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    """a - b."""

    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, (-grad if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """a * b: each input's gradient is the upstream gradient times the other input."""

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad  # save only what the needed gradients use (less to lock)
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (
            grad * b if ctx.needs_input_grad[0] else None,
            grad * a if ctx.needs_input_grad[1] else None,
        )


class Div(Function):
    """a / b: d/da = 1/b, d/db = -a/b**2 = -(1/b) (a/b).

    The second form is the one computed: b**2 overflows to inf for |b| > 1.8e19 in float32 (and
    underflows to 0 for |b| < 1e-23), which made d/db 0 or inf where it is an ordinary number;
    (1/b) (a/b) stays finite wherever the gradient is.
    """

    @staticmethod
    def forward(ctx, a, b):
        out = a / b
        ctx.save_for_backward(b, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        b, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            grad_a = _zero_where_upstream_is_zero(grad, grad / b)  # grad * d/da
            grad_b = _zero_where_upstream_is_zero(grad, -grad_a * out) if ctx.needs_input_grad[1] else None
        return (grad_a if ctx.needs_input_grad[0] else None), grad_b


class Pow(Function):
    """a ** b: d/da = b * a**(b-1), d/db = a**b * log(a)."""

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        grad_a = grad_b = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if ctx.needs_input_grad[0]:
                grad_a = _zero_where_upstream_is_zero(grad, grad * b * a ** (b - 1))
            if ctx.needs_input_grad[1]:
                grad_b = _zero_where_upstream_is_zero(grad, grad * out * np.log(a))
        return grad_a, grad_b


class Maximum(Function):
    """Elementwise max(a, b). The larger input gets the gradient; a tie splits it in half."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        share_a = (a > b) + 0.5 * (a == b)  # 1, 0 or 1/2 per element
        share_a = share_a.astype(grad.dtype, copy=False)
        return (
            grad * share_a if ctx.needs_input_grad[0] else None,
            grad * (1 - share_a) if ctx.needs_input_grad[1] else None,
        )


class Where(Function):
    """where(condition, a, b): the gradient goes to the branch that was chosen; the condition has none."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        return _where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        zero = np.zeros((), grad.dtype)
        return (
            None,
            _where(condition, grad, zero) if ctx.needs_input_grad[1] else None,
            _where(condition, zero, grad) if ctx.needs_input_grad[2] else None,
        )


# ---------------------------------------------------------------- unary, elementwise


class Exp(Function):
    """exp(x): its own derivative."""

    exact_gradient = True

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        with np.errstate(invalid="ignore"):  # 0 * inf where exp overflowed; fixed just below
            return (_zero_where_upstream_is_zero(grad, grad * out),)


class Log(Function):
    """Natural log: d/dx = 1/x (infinite at 0, so a zero upstream gradient stays 0)."""

    exact_gradient = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return (_zero_where_upstream_is_zero(grad, grad / x),)


class Sin(Function):
    """sin(x): d/dx = cos(x)."""

    exact_gradient = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (grad * np.cos(x),)


class Cos(Function):
    """cos(x): d/dx = -sin(x)."""

    exact_gradient = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return (-grad * np.sin(x),)


class Tanh(Function):
    """tanh(x): d/dx = 1 - tanh(x)**2. A primitive because it is bounded and stable (exp(2x) would overflow)."""

    exact_gradient = True

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return (grad * (1 - out * out),)


# ---------------------------------------------------------------- reductions


class Sum(Function):
    """Sum over axes. Backward copies (broadcasts) the upstream gradient back to every summed element."""

    exact_gradient = True

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        ctx.input_shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        return np.add.reduce(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.keepdims and ctx.axis is not None:  # put the summed axes back, with size 1
            grad = grad.reshape([1 if i in ctx.axis else n for i, n in enumerate(ctx.input_shape)])
        return (_broadcast_copy(grad, ctx.input_shape),)


class Max(Function):
    """Max over axes. The maximum gets the gradient; tied maxima share it evenly (as torch.amax)."""

    exact_gradient = True

    @staticmethod
    def forward(ctx, x, axis, keepdims):
        out = np.maximum.reduce(x, axis=axis, keepdims=True)
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out if keepdims else np.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        is_max = x == out
        ties = np.sum(is_max, axis=ctx.axis, keepdims=True).astype(grad.dtype)
        share = np.reshape(grad, out.shape) / ties
        return (is_max * share,)


# ---------------------------------------------------------------- movement


class Reshape(Function):
    """Same numbers, new shape: the gradient is reshaped back."""

    exact_gradient = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.input_shape = x.shape
        return np.reshape(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return (np.reshape(grad, ctx.input_shape),)


class Permute(Function):
    """Reorder axes (transpose): the gradient is permuted back with the inverse order."""

    exact_gradient = True

    @staticmethod
    def forward(ctx, x, axes):
        ctx.inverse_axes = tuple(sorted(range(len(axes)), key=axes.__getitem__))
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, grad):
        return (grad.transpose(ctx.inverse_axes),)


class Index(Function):
    """x[index]: the gradient is scattered back; repeated integer indices accumulate."""

    exact_gradient = True

    @staticmethod
    def forward(ctx, x, index, advanced):
        ctx.input_shape = x.shape
        ctx.index = index
        ctx.advanced = advanced
        return x[index]

    @staticmethod
    def backward(ctx, grad):
        full = np.zeros(ctx.input_shape, dtype=grad.dtype)
        if ctx.advanced:
            np.add.at(full, ctx.index, grad)  # the same element may be picked twice
        else:
            full[ctx.index] = grad
        return (full,)


class Cat(Function):
    """Concatenate along an axis: the gradient is split back into the pieces."""

    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.split_points = np.cumsum([a.shape[axis] for a in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.split_points, axis=ctx.axis))


# ---------------------------------------------------------------- linear algebra


class MatMul(Function):
    """a @ b with numpy.matmul semantics (1-D, 2-D and batched).

    For 2-D inputs: d/da = grad @ b.T and d/db = a.T @ grad. 1-D inputs are
    treated as a row (a) or a column (b) vector, as numpy does, and batch axes
    that were broadcast are summed away by the engine.
    """

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        if a.ndim == 2 and b.ndim == 2:  # the common case, kept obvious
            return (
                _matmul_like(a, grad, b.T) if ctx.needs_input_grad[0] else None,  # d/da = grad @ b.T
                _matmul_like(b, a.T, grad) if ctx.needs_input_grad[1] else None,  # d/db = a.T @ grad
            )
        a2 = a[np.newaxis, :] if a.ndim == 1 else a
        b2 = b[:, np.newaxis] if b.ndim == 1 else b
        grad2 = grad
        if b.ndim == 1:
            grad2 = grad2[..., np.newaxis]
        if a.ndim == 1:
            grad2 = np.expand_dims(grad2, -2)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = grad2 @ np.swapaxes(b2, -1, -2)
            grad_a = grad_a[..., 0, :] if a.ndim == 1 else grad_a
        if ctx.needs_input_grad[1]:
            grad_b = np.swapaxes(a2, -1, -2) @ grad2
            grad_b = grad_b[..., 0] if b.ndim == 1 else grad_b
        return grad_a, grad_b


class Linear(Function):
    """x @ weight.T + bias, the affine map of every ``nn.Linear`` layer (PyTorch's ``F.linear``).

    It could be written with three primitives (Permute, MatMul, Add), and it
    gives the same numbers as that expression (a test checks it). It is one
    primitive because every layer of every network runs it: one node instead of
    three cuts the engine's bookkeeping for a layer by two thirds. Its
    derivative is theirs combined: d/dx = grad @ weight, d/dweight = grad.T @ x
    (a sum over every sample) and, for the bias, the upstream gradient, which
    the engine sums over the batch as for any broadcast addition.
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        need_x, need_weight, _ = ctx.needs_input_grad
        ctx.save_for_backward(x if need_weight else None, weight if need_x else None)
        return _matmul(x, weight.T) + bias

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        grad_weight = None
        if ctx.needs_input_grad[1]:  # batch axes (all but the last) flattened into rows of samples
            grad_weight = _matmul(grad.reshape(-1, grad.shape[-1]).T, x.reshape(-1, x.shape[-1]))  # grad.T @ x
        return (_matmul(grad, weight) if ctx.needs_input_grad[0] else None, grad_weight, grad)  # grad @ weight


# ---------------------------------------------------------------- speed helpers (same numbers, less time)


def _broadcast_copy(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``np.broadcast_to(grad, shape)`` as a new writable array: filling a preallocated array took
    5 us against 21 us for ``np.array(np.broadcast_to(...))`` with a (64, 1) gradient spread to (64, 128)."""
    spread = np.empty(shape, dtype=grad.dtype)
    spread[...] = grad
    return spread


_UNSIGNED = {2: np.uint16, 4: np.uint32, 8: np.uint64}  # an integer of each float's width


def _where(condition: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.where(condition, a, b)``, bit for bit, by masking the bits of a and b (floats of one dtype).

    np.where branches per element, which is slow with a mask of mixed signs (a relu's): 200-260 us
    against 40-55 us for a (128, 256) float32 array. The mask is all ones where ``condition``
    holds, so every value (NaN, inf, -0.0) is copied exactly. Small arrays (where the extra calls
    cost more than they save), other dtypes and mixed dtypes go to np.where.

    When one branch is the number +0.0 (relu, and every where's backward), whose bits are all 0,
    masking the other branch is the whole answer: two passes (relu's forward and backward on
    (128, 256) floats: 70 -> 25 us each). Otherwise b ^ ((a ^ b) & mask): four passes.
    """
    dtype = a.dtype
    bits = _UNSIGNED.get(dtype.itemsize)
    if b.dtype != dtype or dtype.kind != "f" or bits is None or max(a.size, b.size, condition.size) < 8192:
        return np.where(condition, a, b)
    if _is_plus_zero(a):
        not_mask = np.subtract(condition, 1, dtype=bits)  # True -> 0, False -> all ones (1 - 1, 0 - 1)
        return np.bitwise_and(not_mask, b.view(bits)).view(dtype)
    mask = np.negative(condition, dtype=bits)  # True -> all ones, False -> 0
    if _is_plus_zero(b):
        return np.bitwise_and(mask, a.view(bits)).view(dtype)
    b_bits = b.view(bits)  # b, with the bits in which a differs flipped where the condition holds
    chosen = np.bitwise_and(np.bitwise_xor(a.view(bits), b_bits), mask)
    chosen ^= b_bits
    return chosen.view(dtype)


def _is_plus_zero(x: np.ndarray) -> bool:
    """Whether ``x`` is the single number +0.0 (all bits 0; -0.0 has its sign bit set)."""
    return x.ndim == 0 and x == 0 and not np.signbit(x)


def _matmul_like(target: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``left @ right``, in the memory layout of ``target`` (the input whose gradient it is).

    For a transposed input such as ``W.T`` in ``x @ W.T``, computing ``(right.T @ left.T).T``
    gives the gradient in W.T's column-major layout, so W's gradient needs no transposing copy
    later: 0.71 ms against 1.02 ms for the gradient of a (128, 784) weight with a batch of 64.
    """
    if target.flags.f_contiguous and not target.flags.c_contiguous:
        return _matmul(right.T, left.T).T
    return _matmul(left, right)


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b``, through ``np.dot`` when the inner dimension is 1 (a column times a row), bit for bit the same.

    np.matmul does not hand that shape to BLAS and runs its own slower loop: 45 us against 7 us
    with np.dot for (201, 1) @ (1, 64), the first layer of a network with one input (W3) and the
    gradient of a layer with one output. Every other shape goes to np.matmul.
    """
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] == 1:
        return np.dot(a, b)
    return np.matmul(a, b)


PRIMITIVES: tuple[type[Function], ...] = (
    Add, Sub, Mul, Div, Pow, Maximum, Where,
    Exp, Log, Sin, Cos, Tanh,
    Sum, Max,
    Reshape, Permute, Index, Cat,
    MatMul, Linear,
)  # fmt: skip
"""The closed set. A test checks that every composite builds graphs of these only."""
