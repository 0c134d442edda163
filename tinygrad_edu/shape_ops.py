"""Shape operations: reshape, transpose, indexing, joining. Thin checks around the movement primitives."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import primitives as P

if TYPE_CHECKING:
    from .tensor import Tensor


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """Same elements, new shape; accepts ``reshape(2, 3)``, ``reshape((2, 3))`` and one -1."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    target = tuple(int(n) for n in shape if isinstance(n, (int, np.integer)))
    known = int(np.prod([n for n in target if n != -1]))
    fits = (
        len(target) == len(shape)
        and all(n >= -1 for n in target)
        and target.count(-1) <= 1
        and (x.size == known if -1 not in target else known > 0 and x.size % known == 0)
    )
    if not fits:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {shape}; "
            f"the number of elements must stay the same (at most one dimension may be -1)."
        )
    return P.Reshape.apply(x, shape=target)


def transpose(x: Tensor, *axes: Any) -> Tensor:
    """Permute axes like numpy: no arguments reverses them, otherwise give a full permutation."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:  # reverse all axes: always valid (the common case: weight.T in every Linear layer)
        return P.Permute.apply(x, axes=tuple(range(x.ndim - 1, -1, -1)))
    normalized = tuple(int(a) % max(x.ndim, 1) if isinstance(a, (int, np.integer)) else a for a in axes)
    if sorted(normalized) != list(range(x.ndim)):
        raise ValueError(
            f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of a tensor of shape "
            f"{x.shape}. Like numpy, transpose takes every axis in its new order, e.g. "
            f"transpose(0, 2, 1); .T reverses all axes."
        )
    return P.Permute.apply(x, axes=normalized)


def getitem(x: Tensor, index: Any) -> Tensor:
    """NumPy indexing: ints, slices, None, Ellipsis, integer arrays and boolean masks."""
    parts = index if isinstance(index, tuple) else (index,)
    converted = []
    advanced = False
    for part in parts:
        if isinstance(part, type(x)):
            part = part.data
        elif isinstance(part, list):
            part = np.asarray(part)
        if isinstance(part, np.ndarray):
            if part.dtype.kind not in "biu":
                raise IndexError(
                    f"index: arrays used as indices must be integer or boolean, got dtype {part.dtype}"
                )
            advanced = advanced or part.dtype.kind in "iu"  # only integer arrays can repeat an element
        converted.append(part)
    numpy_index = tuple(converted) if isinstance(index, tuple) else converted[0]
    return P.Index.apply(x, index=numpy_index, advanced=advanced)


def cat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Concatenate tensors along an existing axis; all other dimensions must match."""
    items = list(tensors)
    if not items:
        raise ValueError("cat: needs at least one tensor")
    ndim = items[0].ndim
    if ndim == 0 or not -ndim <= axis < ndim:
        raise ValueError(f"cat: axis {axis} is out of range for tensors with {ndim} dimension(s)")
    axis %= ndim
    for t in items:
        others_match = t.ndim == ndim and all(
            a == b for i, (a, b) in enumerate(zip(t.shape, items[0].shape)) if i != axis
        )
        if not others_match:
            shapes = ", ".join(str(u.shape) for u in items)
            raise ValueError(
                f"cat: shapes {shapes} do not fit together along axis {axis}: every other dimension "
                f"must be equal."
            )
    return P.Cat.apply(*items, axis=axis)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Stack same-shaped tensors along a new axis: each gets a size-1 axis, then they are concatenated."""
    items = list(tensors)
    if not items:
        raise ValueError("stack: needs at least one tensor")
    if any(t.shape != items[0].shape for t in items):
        shapes = ", ".join(str(t.shape) for t in items)
        raise ValueError(f"stack: all tensors must have the same shape, got {shapes}")
    ndim = items[0].ndim + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"stack: axis {axis} is out of range for the result's {ndim} dimensions")
    axis %= ndim
    new_shape = items[0].shape[:axis] + (1,) + items[0].shape[axis:]
    return cat([reshape(t, *new_shape) for t in items], axis=axis)
