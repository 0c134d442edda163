"""The reduction primitives ``sum`` and ``max`` with their argument checks (the composites ``mean``, ``min``,
``logsumexp``, ``var`` are in composites.py)."""

from __future__ import annotations

import builtins
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
    if isinstance(axis, (int, np.integer)):
        axes: tuple[object, ...] = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(
            f"{op_name}: axis must be an int, a tuple of ints or None, got {type(axis).__name__} {axis!r}"
        )
    normalized = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{op_name}: axis must be an int, a tuple of ints or None, got {axis!r}")
        if not -ndim <= a < builtins.max(ndim, 1):
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


def max(x: Tensor, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis``; tied maxima share the gradient evenly (as torch.amax)."""
    check_not_empty("max", x, axis)
    return P.Max.apply(x, axis=normalize_axis("max", axis, x.ndim), keepdims=keepdims)


def check_not_empty(op_name: str, x: Tensor, axis: Axis) -> None:
    if x.data.size == 0:
        raise ValueError(f"{op_name}: cannot reduce an empty tensor (shape {x.shape}, axis {axis})")
