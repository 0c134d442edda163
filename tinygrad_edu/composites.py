"""Every composite of the engine: a forward expression of primitives, with no derivative written here.

Each function below is differentiated by the chain rule through the
primitives it calls, so the classic hand-derived mistakes (relu' evaluated at
the activation, ``s(z) * s(1 - z)``, a softmax normalised over the whole batch)
cannot happen. Each is marked ``@composite``: the tensors it creates remember
the call (name, inputs, options), so drawings show ``sigmoid`` as one node and
messages can say "in softmax".

Composites use only the Tensor's public methods, plus ``constant``: the one way
to bring values computed from the data into the graph as a constant (a sign, a
row max). A constant has no gradient, so a wrong derivative could hide in one
(``x * x.detach()`` has the value x² and the derivative x). Only the composites
named in ``DATA_CONSTANTS`` may do it, each saying why its derivative stays
exact; tests/test_design_rule.py checks that no other does and gradchecks them
all. Conditions (``x.data <= 0`` in relu) are not such constants: ``where``
sends no gradient into its condition.
"""

from __future__ import annotations

import builtins
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .records import composite
from .reductions import Axis, check_not_empty, normalize_axis

if TYPE_CHECKING:
    from .tensor import Tensor


DATA_CONSTANTS = frozenset({
    "abs", "clip", "nan_to_num",  # a sign; the replacement values where the output ignores x
    "sigmoid", "softplus",  # the sign s of -|x| = s * x (see _minus_abs)
    "leaky_relu",  # the slope, 1 or ``slope``: piecewise constant in x
    "softmax", "log_softmax", "logsumexp", "logaddexp", "binary_cross_entropy_with_logits",  # a shift m
    "log1p", "expm1",  # NumPy's rounding correction of log(1 + x), exp(x) - 1
})  # fmt: skip
"""The composites allowed to build constants from their inputs' values (see the module docstring)."""


def constant(like: Tensor, values: Any) -> Tensor:
    """``values`` as a tensor outside the graph, with ``like``'s dtype (a mask, a slope, a shift).

    The array is a new read-only one: no graph can see it change, so it needs no lock (locks.py).
    """
    array = np.asarray(values, dtype=like.dtype)  # values the composite just computed: nobody else holds them
    array.setflags(False)  # type: ignore[call-arg]  # positional: faster (see locks.py)
    return type(like)._make(array, None)


def _as_operand(like: Tensor, other: Any) -> Tensor:
    """A Tensor stays as it is; a number or an array becomes a constant of ``like``'s dtype."""
    return other if isinstance(other, type(like)) else constant(like, other)


# ---------------------------------------------------------------- elementwise


def neg(x: Tensor) -> Tensor:
    """-x, as x * -1 (not recorded as a composite: it is one primitive)."""
    return x * -1


@composite
def sqrt(x: Tensor) -> Tensor:
    """x ** 0.5 (its derivative is infinite at 0; a zero upstream gradient stays 0)."""
    return x**0.5


@composite
def abs(x: Tensor) -> Tensor:
    """|x| = x * sign(x); the sign is a constant, so abs'(x) = sign(x) and abs'(0) = 0, as in PyTorch."""
    return x * constant(x, np.sign(x.data))


@composite
def minimum(x: Tensor, other: Any) -> Tensor:
    """Elementwise minimum: min(a, b) = -max(-a, -b) (ties split the gradient in half)."""
    return -((-x).maximum(-_as_operand(x, other)))


@composite
def clip(x: Tensor, lo: float | None = None, hi: float | None = None) -> Tensor:
    """Clamp to [lo, hi]. Gradient 1 inside the interval (ends included), 0 outside, as in PyTorch.

    The clipped values are a constant: outside the interval the output does not
    depend on x, so its derivative there is 0.
    """
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo={lo} is greater than hi={hi}")
    inside = np.ones(x.shape, dtype=bool)
    if lo is not None:
        inside &= x.data >= lo
    if hi is not None:
        inside &= x.data <= hi
    return x.where(inside, constant(x, np.clip(x.data, lo, hi)))


@composite
def log1p(x: Tensor) -> Tensor:
    """log(1 + x), with NumPy's exact value for tiny x: log(1 + x) plus a constant correction.

    The correction ``np.log1p(x) - log(1 + x)`` is a constant (rounding error only),
    so the derivative is that of log(1 + x), 1 / (1 + x).
    """
    y = (x + 1).log()
    return y + constant(x, np.log1p(x.data) - y.data)


@composite
def expm1(x: Tensor) -> Tensor:
    """exp(x) - 1, with NumPy's exact value for tiny x (a constant correction, as in ``log1p``)."""
    y = x.exp() - 1
    return y + constant(x, np.expm1(x.data) - y.data)


@composite
def logaddexp(x: Tensor, other: Any) -> Tensor:
    """log(exp(x) + exp(other)), shifted by the larger of the two so neither exp overflows.

    The shift m is a constant: log(exp(x - m) + exp(other - m)) + m is the same
    function for any m, so its gradient (a softmax of the two) does not depend on m.
    """
    other = _as_operand(x, other)
    shift = np.maximum(x.data, other.data)
    shift_t = constant(x, np.where(np.isfinite(shift), shift, 0))
    return ((x - shift_t).exp() + (other - shift_t).exp()).log() + shift_t


@composite
def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN and infinities replaced by numbers (NumPy's defaults); those elements get gradient 0, the others 1."""
    replaced = np.nan_to_num(x.data, nan=nan, posinf=posinf, neginf=neginf)
    return x.where(np.isfinite(x.data), constant(x, replaced))


@composite
def norm(x: Tensor, ord: Any = None, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Vector p-norms and the Frobenius norm (``numpy.linalg.norm``), as sums of powers of |x|.

    ``ord`` None or 2 (vectors) / None or "fro" (matrices) is sqrt(sum(x * x));
    1 is sum(|x|), inf max(|x|), -inf min(|x|), other numbers (sum |x|**p)**(1/p).
    Matrix norms other than Frobenius (spectral, nuclear, induced 1/inf) need an
    SVD or are a max over column sums: not supported.
    """
    axes = normalize_axis("norm", axis, x.ndim)
    if axes is None and x.ndim > 2 and ord is not None:
        raise ValueError(f"norm: ord={ord!r} of a {x.ndim}-D tensor needs axis= one or two axes (as in NumPy)")
    matrix = (axes is None and x.ndim == 2) or (axes is not None and len(axes) == 2)
    if ord is None or (ord == "fro" and matrix) or (ord == 2 and not matrix):
        return (x * x).sum(axis=axes, keepdims=keepdims) ** 0.5
    if matrix or isinstance(ord, str) or ord == 0:
        raise TypeError(
            f"norm: ord={ord!r} over {'a matrix' if matrix else 'a vector'} is not supported on Tensors; "
            f"supported are ord=None/'fro' for matrices and ord=None/1/2/inf/-inf/p for vectors "
            f"(give axis= a single axis to take vector norms)."
        )
    if ord == math.inf:
        return x.abs().max(axis=axes, keepdims=keepdims)
    if ord == -math.inf:
        return x.abs().min(axis=axes, keepdims=keepdims)
    if ord == 1:
        return x.abs().sum(axis=axes, keepdims=keepdims)
    return (x.abs() ** ord).sum(axis=axes, keepdims=keepdims) ** (1.0 / ord)


# ---------------------------------------------------------------- activations


@composite
def relu(x: Tensor) -> Tensor:
    """max(x, 0) as where(x <= 0, 0, x): the gradient goes to x where x > 0, so relu'(0) = 0.

    The zero branch is a fresh +0.0, so relu(-1) = 0.0 (not -0.0) and relu(-inf) = 0.
    NaN is not <= 0, so relu(nan) = nan and its gradient passes through, as in PyTorch.
    """
    return x.where(~(x.data <= 0), 0.0)


@composite
def leaky_relu(x: Tensor, slope: float = 0.01) -> Tensor:
    """where(x > 0, x, slope * x), as x times its slope: the derivative is slope at 0 and below; NaN
    propagates (its derivative is slope too), both as in PyTorch.

    The slope (1 where x > 0, else ``slope``) is a constant, and an exact one: it is piecewise
    constant in x. One multiplication instead of a ``where`` and a multiplication: W3
    about 20 % less CPU time (bench/README.md).
    """
    return x * constant(x, _slopes(x.data > 0, slope, x.dtype))


@composite
def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), value and gradient accurate to a few ulps (relative) for every input, in both tails.

    The textbook expression itself while every x lies above the far negative tail
    (``_textbook_sigmoid_is_accurate``). In that tail exp(-x) heads for overflow, and the chain rule
    through 1 / u multiplies the upstream gradient by sigmoid(x)², which underflows: in float32 the
    gradient at x = -60 would be 0, not 8.8e-27. There, with e = exp(-|x|), which never overflows:
    1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0. Neither subtracts nearly equal numbers, so
    sigmoid(-40) is 4.25e-18, not 0 (``(1 + tanh(x / 2)) / 2`` cancels to 0 there). The two forms
    round differently for x < 0, so an element's last bit can depend on whether another element of
    the same array lies in the tail (as a matrix product's can depend on the batch size).
    """
    if _textbook_sigmoid_is_accurate(x.data):
        return 1.0 / ((-x).exp() + 1.0)
    positive = x.data >= 0
    e = _minus_abs(x, positive).exp()
    return constant(x, 1.0).where(positive, e) / (e + 1.0)  # 1 or e, over 1 + e: one division


@composite
def softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)) as max(x, 0) + log1p(exp(-|x|)): finite, with a finite gradient, for every finite x."""
    positive = x.data >= 0
    return x.where(positive, 0.0) + _log1p_of_small(_minus_abs(x, positive).exp())


@composite
def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x): finite where sigmoid underflows to 0 (logsigmoid(-200) = -200)."""
    return -softplus(-x)


_TEXTBOOK_SIGMOID_FLOOR = {dtype: np.log(np.finfo(dtype).tiny) / 4 for dtype in map(np.dtype, "efdg")}
"""Per float dtype, the x above which 1 / (1 + exp(-x)) and its chain-rule gradient are accurate: -21.8 in
float32, -177 in float64 (where sigmoid(x)² = sqrt(smallest normal number))."""


def _textbook_sigmoid_is_accurate(values: np.ndarray) -> bool:
    """Whether every value is at or above the dtype's floor (a NaN is not), so the textbook sigmoid is accurate.

    There exp(-x) is far from overflow and the gradient's factor sigmoid(x)² at least sqrt(smallest
    normal), so an upstream gradient down to that size keeps a few ulps (tests/test_silent_answers.py). The
    textbook expression makes 4 primitives where the exp(-|x|) form makes 5, plus the mask and the
    sign: W1's step 819 -> 751 us (-8 %, bench/w1_costs.py). One reduction (about 1 us for
    (100, 100) floats) decides.
    """
    floor = _TEXTBOOK_SIGMOID_FLOOR.get(values.dtype)
    return floor is not None and values.size > 0 and bool(np.minimum.reduce(values, axis=None) >= floor)


def _minus_abs(x: Tensor, positive: np.ndarray) -> Tensor:
    """-|x| as s * x, s = -1 where ``positive`` (x >= 0), else 1: at 0 its slope is -1, the x >= 0
    branch's (``abs`` has slope 0 there, which would lose sigmoid'(0) = 1/4).

    The sign s is a constant, and an exact one: s * x is -|x| with slope s on each side. One
    multiplication instead of ``(-x).where(positive, x)`` (two primitives): with the
    single division in ``sigmoid``, W1's epoch about 16 % less CPU time (bench/README.md).
    """
    sign = np.multiply(positive, -2, dtype=x.dtype)  # 1 - 2 [x >= 0], exactly: -1 or 1
    sign += 1
    return x * constant(x, sign)


def _slopes(rising: np.ndarray, slope: float, dtype: np.dtype) -> np.ndarray:
    """1 where ``rising``, else ``slope``, exactly: ``np.where(rising, 1, slope)`` without its branch per
    element, which is slow with a mask of mixed signs (78 us for (201, 64) elements).

    For the usual 0 <= slope <= 1 it is max(rising, slope) (True counts as 1), one pass: 14 against 32 us
    for the two-entry lookup table used for any other slope (bench/README.md).
    """
    if 0 <= slope <= 1:
        return np.maximum(rising, np.asarray(slope, dtype))
    return np.array((slope, 1), dtype=dtype).take(rising.astype(np.intp))


def _log1p_of_small(u: Tensor) -> Tensor:
    """log(1 + u) for 0 <= u <= 1, accurate even where 1 + u rounds (Kahan's correction).

    w = 1 + u is rounded; c = (w - 1) - u is exactly that rounding error, so
    log(1 + u) = log(w - c) ~ log(w) - c / w. Symbolically c is 0, so its gradient is 0.
    """
    w = u + 1.0
    return w.log() - ((w - 1.0) - u) / w


@composite
def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, each row shifted by its own max so exp never overflows."""
    e = _shift_by_row_max(x, axis, "softmax").exp()
    return e / e.sum(axis=axis, keepdims=True)


@composite
def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``: finite for any finite input (no log of an underflowed 0)."""
    shifted = _shift_by_row_max(x, axis, "log_softmax")
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()


def _shift_by_row_max(x: Tensor, axis: int, op_name: str) -> Tensor:
    """x minus each row's max, the max taken as a constant: softmax does not change when a row is
    shifted, so the shift needs no gradient.

    Rare cases, fixed only when some max is not finite: +inf entries count as the largest finite
    number (softmax's limit: the +inf entries share all the probability; their gradient is 0), and
    a row whose max is -inf or NaN is not shifted (its softmax is NaN: it has none).
    """
    normalize_axis(op_name, axis, x.ndim)  # a clear error for a bad axis
    if x.shape[axis] == 0:
        raise ValueError(
            f"{op_name}: axis {axis} of the tensor of shape {x.shape} has length 0, so there is nothing to "
            f"normalise over; check the axis (softmax is usually over the classes, axis=-1)."
        )
    row_max = np.maximum.reduce(x.data, axis=axis, keepdims=True)
    if not np.isfinite(row_max).all():  # (a sum of the maxes could overflow, with a warning)
        if np.isposinf(row_max).any():
            x = clip(x, hi=float(np.finfo(x.dtype).max))
            row_max = np.maximum.reduce(x.data, axis=axis, keepdims=True)
        row_max = np.where(np.isfinite(row_max), row_max, 0)
    return x - constant(x, row_max)


# ---------------------------------------------------------------- reductions


@composite
def mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``: the sum times 1/count."""
    axes = normalize_axis("mean", axis, x.ndim)
    count = x.data.size if axes is None else math.prod(x.shape[a] for a in axes)
    if count == 0:
        raise ValueError(f"mean: cannot average over an empty axis (shape {x.shape}, axis {axis})")
    return x.sum(axis=axes, keepdims=keepdims) * (1.0 / count)


@composite
def min(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``: -max(-x)."""
    check_not_empty("min", x, axis)
    return -((-x).max(axis=axis, keepdims=keepdims))


@composite
def logsumexp(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis``, shifted by the max so it never overflows.

    The shift m is a constant: log(sum(exp(x - m))) + m equals the unshifted
    value for any m, so its gradient (softmax of x) does not depend on m.
    """
    axes = normalize_axis("logsumexp", axis, x.ndim)
    check_not_empty("logsumexp", x, axis)
    shift = np.max(x.data, axis=axes, keepdims=True)
    shift_t = constant(x, np.where(np.isfinite(shift), shift, 0))
    out = (x - shift_t).exp().sum(axis=axes, keepdims=True).log() + shift_t
    if keepdims:
        return out
    kept = () if axes is None else tuple(n for i, n in enumerate(x.shape) if i not in axes)
    return out.reshape(kept)


@composite
def var(x: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis``: mean of squared deviations, divided by (count - ddof) (NumPy's ddof=0 default)."""
    axes = normalize_axis("var", axis, x.ndim)
    count = x.data.size if axes is None else math.prod(x.shape[a] for a in axes)
    if count - ddof <= 0:
        raise ValueError(
            f"var: {count} element(s) along axis {axis} with ddof={ddof} leave no degrees of freedom; "
            f"use ddof=0 or reduce over more elements."
        )
    deviation = x - x.mean(axis=axes, keepdims=True)
    return (deviation * deviation).sum(axis=axes, keepdims=keepdims) * (1.0 / (count - ddof))


@composite
def std(x: Tensor, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation: the square root of ``var`` (NumPy's ddof=0 default)."""
    return var(x, axis=axis, keepdims=keepdims, ddof=ddof) ** 0.5


# ---------------------------------------------------------------- shape


def flatten(x: Tensor, start_dim: int = 0) -> Tensor:
    """Merge the axes from ``start_dim`` on into one: (N, 28, 28).flatten(1) -> (N, 784). One reshape."""
    ndim = builtins.max(x.ndim, 1)
    if not -ndim <= start_dim < ndim:
        raise ValueError(f"flatten: start_dim {start_dim} is out of range for shape {x.shape}")
    return x.reshape(*x.shape[: start_dim % ndim], -1)
