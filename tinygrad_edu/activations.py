"""Activation functions and (log-)softmax, written as forward expressions of primitives.

No derivative is written here: each is differentiated by the chain rule through
the primitives it is made of. That is the point of the project: the classic
hand-derived mistakes (relu' evaluated at the activation, ``s(z) * s(1 - z)``,
a softmax normalised over the whole batch) cannot happen.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from . import primitives as P
from .elementwise import _constant
from .reductions import normalize_axis

if TYPE_CHECKING:
    from .tensor import Tensor


def relu(x: Tensor) -> Tensor:
    """max(x, 0) written as x * (x > 0): the derivative is the mask, and relu'(0) = 0 as in PyTorch."""
    return x * _constant(x, x.data > 0)


def leaky_relu(x: Tensor, slope: float = 0.01) -> Tensor:
    """x for x > 0, slope * x otherwise: x times a per-element constant slope (slope at 0, as PyTorch)."""
    return x * _constant(x, np.where(x.data > 0, 1.0, slope))


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), computed as (1 + tanh(x / 2)) / 2: the same function, never overflows."""
    return P.Tanh.apply(x * 0.5) * 0.5 + 0.5


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) / sum(exp(x)) along ``axis``, each row shifted by its own max so exp never overflows."""
    shifted = x - _row_max(x, axis)
    e = shifted.exp()
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """x - logsumexp(x) along ``axis``: finite for any finite input (no log of an underflowed 0)."""
    shifted = x - _row_max(x, axis)
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()


def _row_max(x: Tensor, axis: int) -> Tensor:
    """Each row's max, as a constant: softmax does not change when a row is shifted, so the shift
    needs no gradient (and non-finite maxima, e.g. an all -inf row, are replaced by 0)."""
    normalize_axis("softmax", axis, x.ndim)  # a clear error for a bad axis
    row_max = np.maximum.reduce(x.data, axis=axis, keepdims=True)
    if not math.isfinite(np.add.reduce(row_max, axis=None)):  # rare: fix only when some max is inf or NaN
        row_max = np.where(np.isfinite(row_max), row_max, 0)
    return _constant(x, row_max)
