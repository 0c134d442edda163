"""Elementwise composites: forward expressions of primitives, so their derivatives come for free.

``abs`` (like ``relu`` in activations.py) multiplies the input by a constant
that depends on its sign. The constant is taken from the data, outside the
graph, so the derivative is exactly that constant: 1 or -1, and 0 at 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import primitives as P
from .function import _tensor_type

if TYPE_CHECKING:
    from .tensor import Tensor


def _constant(x: Tensor, values: Any) -> Tensor:
    """A tensor outside the graph with x's dtype (a mask, a slope, a clipped value)."""
    return _tensor_type()._make(np.asarray(values, dtype=x.dtype), None)


def neg(x: Tensor) -> Tensor:
    """-x, as x * -1."""
    return x * -1


def sqrt(x: Tensor) -> Tensor:
    """x ** 0.5 (its derivative is infinite at 0; a zero upstream gradient stays 0)."""
    return x**0.5


def abs(x: Tensor) -> Tensor:
    """|x| = x * sign(x); abs'(0) = 0, as in PyTorch."""
    return x * _constant(x, np.sign(x.data))


def minimum(x: Tensor, other: Any) -> Tensor:
    """Elementwise minimum: min(a, b) = -max(-a, -b) (ties split the gradient in half)."""
    return -P.Maximum.apply(-x, -x._operand(other, "minimum"))


def clip(x: Tensor, lo: float | None = None, hi: float | None = None) -> Tensor:
    """Clamp to [lo, hi]. Gradient 1 inside the interval (ends included), 0 outside, as in PyTorch."""
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo={lo} is greater than hi={hi}")
    from .tensor import where

    inside = np.ones(x.shape, dtype=bool)
    if lo is not None:
        inside &= x.data >= lo
    if hi is not None:
        inside &= x.data <= hi
    return where(inside, x, _constant(x, np.clip(x.data, lo, hi)))
