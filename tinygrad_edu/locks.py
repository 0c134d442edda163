"""Arrays saved for backward are read-only while their graph can still run backward.

A node's backward reads the arrays its forward saved (``x`` for ``x * x``,
the output for ``exp``). If they were edited in between, the gradient would
be wrong without a word. So, as MyGrad does, recording a node makes each array
it saved read-only, together with every array it is a view of (writing into
the base would change the view). An edit then fails at once, at the line that
makes it, with NumPy's ``ValueError: assignment destination is read-only``.

The lock is released when the node's arrays are freed: after ``backward()``
(unless ``retain_graph=True``) or when the graph is garbage collected. Locks
are counted, because one array (a weight) is saved by many nodes and graphs.
Arrays that were read-only already are left alone and never made writable.

Sanctioned updates of a locked array (an optimizer step or ``w -= ...`` under
``no_grad`` while a graph that saved ``w`` is still referenced) go through
``writable_data``: the tensor gets a fresh copy, and the graph keeps the values
it was computed from.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .tensor import Tensor

_locks: dict[int, int] = {}  # id(array) -> number of live nodes that locked it (each node keeps it alive)


class Lock:
    """The arrays one node locked. Dropping it (the node is freed, or backward sets ``node.locked = None``)
    releases them: arrays no other live node holds become writable again."""

    __slots__ = ("arrays",)
    arrays: tuple[np.ndarray, ...]  # a tuple of arrays: the cyclic GC stops tracking it (fewer objects to walk)

    def __del__(self, locks: dict[int, int] = _locks) -> None:
        for array in reversed(self.arrays):  # views before the arrays they view
            key = id(array)
            count = locks[key] - 1
            if count:
                locks[key] = count
                continue
            del locks[key]
            try:
                array.setflags(True)
            except ValueError:  # its base is still locked by another graph: it stays read-only
                pass


_new_lock = object.__new__


def lock(arrays: Iterable[Any], locks: dict[int, int] = _locks) -> Lock | None:
    """Make each array and its bases read-only; the returned ``Lock`` releases them when dropped."""
    locked = []
    for array in arrays:
        while array is not None:
            key = id(array)
            count = locks.get(key)  # one lookup for the usual case (`in` then `+=` would be three)
            if count is None:
                try:
                    writeable = array.flags.writeable
                except AttributeError:  # not an array: a custom Function saved a number, or a buffer base
                    break
                if not writeable:  # read-only already (a constant, the user's): leave it
                    array = array.base
                    continue
                array.setflags(False)  # positional: NumPy parses the keyword form three times slower
                locks[key] = 1
            else:
                locks[key] = count + 1
            locked.append(array)
            array = array.base
    if not locked:
        return None
    held = _new_lock(Lock)  # no __init__: one Python call less per node that saves arrays
    held.arrays = tuple(locked)
    return held


def is_locked(array: np.ndarray) -> bool:
    """Whether a live graph saved this array or one it is a view of."""
    base: object = array
    while isinstance(base, np.ndarray):
        if id(base) in _locks:
            return True
        base = base.base
    return False


def writable_data(tensor: Tensor) -> np.ndarray:
    """``tensor.data``, safe to update in place: a copy first if a live graph saved it.

    The graph keeps the old array (its gradient stays that of the values it was
    computed from); the tensor, the same object, holds the new one. Optimizers
    and the in-place operators under ``no_grad`` write through this.
    """
    data = tensor.data
    if not data.flags.writeable or is_locked(data):
        tensor.data = data = data.copy()
    return data
