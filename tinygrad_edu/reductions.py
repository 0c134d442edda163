"""Reductions. ``sum`` and ``max`` are primitives; ``mean``, ``min`` and ``logsumexp`` are built from them."""

from __future__ import annotations

import builtins
import math
from typing import TYPE_CHECKING, Union

import numpy as np

from . import primitives as P

if TYPE_CHECKING:
    from .tensor import Tensor

Axis = Union[int, tuple[int, ...], list[int], None]


def normalize_axis(op_name: str, axis: Axis, ndim: int) -> tuple[int, ...] | None:
    """Turn int / tuple / negative axes into a sorted tuple of non-negative axes (None = all)."""
    if axis is None:
        return None
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, quickly
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normalized = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(
                f"{op_name}: axis {a} is out of range for a tensor with {ndim} dimension(s); "
                f"valid axes are {-ndim}..{ndim - 1} (or None for all)."
            )
        normalized.append(int(a) % builtins.max(ndim, 1))
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op_name}: axis {axis} names the same axis twice")
    return tuple(sorted(normalized))


def sum(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (int, tuple, negative or None for all)."""
    return P.Sum.apply(x, axis=normalize_axis("sum", axis, x.ndim), keepdims=keepdims)


def mean(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``: the sum times 1/count."""
    axes = normalize_axis("mean", axis, x.ndim)
    count = x.size if axes is None else math.prod(x.shape[a] for a in axes)
    if count == 0:
        raise ValueError(f"mean: cannot average over an empty axis (shape {x.shape}, axis {axis})")
    return P.Sum.apply(x, axis=axes, keepdims=keepdims) * (1.0 / count)


def max(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; tied maxima share the gradient evenly (as torch.amax)."""
    _check_not_empty("max", x, axis)
    return P.Max.apply(x, axis=normalize_axis("max", axis, x.ndim), keepdims=keepdims)


def min(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis``: -max(-x)."""
    _check_not_empty("min", x, axis)
    return -P.Max.apply(-x, axis=normalize_axis("min", axis, x.ndim), keepdims=keepdims)


def logsumexp(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``axis``, shifted by the max so it never overflows.

    The shift m is a constant: log(sum(exp(x - m))) + m equals the unshifted
    value for any m, so its gradient (softmax of x) does not depend on m.
    """
    from .elementwise import _constant

    axes = normalize_axis("logsumexp", axis, x.ndim)
    _check_not_empty("logsumexp", x, axis)
    shift = np.max(x.data, axis=axes, keepdims=True)
    shift_t = _constant(x, np.where(np.isfinite(shift), shift, 0))
    out = (x - shift_t).exp().sum(axis=axes, keepdims=True).log() + shift_t
    if keepdims:
        return out
    kept = () if axes is None else tuple(n for i, n in enumerate(x.shape) if i not in axes)
    return out.reshape(kept)


def _check_not_empty(op_name: str, x: Tensor, axis: Axis) -> None:
    if x.size == 0:
        raise ValueError(f"{op_name}: cannot reduce an empty tensor (shape {x.shape}, axis {axis})")
