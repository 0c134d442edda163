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
    """Swap two axes (PyTorch's rule, for every number of dimensions), or reverse all axes without arguments.

    ``x.transpose(0, 1)`` swaps axes 0 and 1, also on a 2-D tensor (where NumPy
    would read the same call as the identity permutation). ``x.transpose()`` is
    ``x.T``. A full permutation of three or more axes (``transpose(2, 0, 1)``,
    NumPy's spelling) is accepted too, because it cannot be mistaken for a swap;
    ``permute`` is the spelling for any permutation.
    """
    if not axes:  # reverse all axes: always valid (the common case: weight.T in every Linear layer)
        return P.Permute.apply(x, axes=tuple(range(x.ndim - 1, -1, -1)))
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        raise TypeError(
            f"transpose({axes[0]!r}): transpose takes two axes to swap, transpose(a, b) as in PyTorch; "
            f"for a full permutation use permute{tuple(axes[0])}."
        )
    if len(axes) == 2:
        return swapaxes(x, *axes)
    if len(axes) == 1:
        raise TypeError(
            f"transpose({axes[0]!r}): give two axes to swap, e.g. transpose(0, 1), no arguments to "
            f"reverse all axes, or use permute(...) for a full permutation."
        )
    return permute(x, *axes)


def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder all axes: result axis i is input axis ``dims[i]`` (``torch.permute``, ``numpy.transpose``)."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    normalized = tuple(_axis("permute", a, x.ndim) for a in dims)
    if sorted(normalized) != list(range(x.ndim)):
        raise ValueError(
            f"permute: {dims} is not a permutation of the {x.ndim} axes of a tensor of shape {x.shape}; "
            f"name every axis once in its new order, e.g. permute({', '.join(map(str, range(x.ndim)[::-1]))})."
        )
    return P.Permute.apply(x, axes=normalized)


def swapaxes(x: Tensor, axis0: Any, axis1: Any) -> Tensor:
    """Exchange two axes (``numpy.swapaxes``, ``torch.transpose``)."""
    a, b = _axis("swapaxes", axis0, x.ndim), _axis("swapaxes", axis1, x.ndim)
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return P.Permute.apply(x, axes=tuple(order))


def _axis(op_name: str, axis: Any, ndim: int) -> int:
    """One axis as a non-negative int; a clear error for a non-integer or one out of range."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op_name}: axes must be integers, got {type(axis).__name__} {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{op_name}: axis {axis} is out of range for a tensor with {ndim} dimension(s); "
            f"valid axes are {-ndim}..{ndim - 1}."
        )
    return int(axis) % ndim


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
