"""``pause_gc``: build and walk a very large graph without Python's cyclic garbage collector, on request.

A graph holds no reference cycles (see tensor.py): reference counting frees
each graph the moment its last tensor goes. Python's *cyclic* collector cannot
know that. While a graph of tens of thousands of nodes grows, it keeps walking
every tensor and node already built, looking for cycles that are not there:
building a 100,000-node chain takes about twice as long per node as a
1,000-node one (bench/README.md, "The cyclic garbage collector").

No switch inside the library could avoid that without changing a setting of
the whole process (``gc.disable``, ``gc.set_threshold``, ``gc.freeze``), and
the library never does that on its own. ``pause_gc`` is the explicit,
opt-in form: the collector is off inside the block and back as it was after.
"""

from __future__ import annotations

import contextlib
import gc


class pause_gc(contextlib.ContextDecorator):
    """Switch Python's cyclic garbage collector off inside the block (``gc.disable``), then restore it.

    For very large graphs (tens of thousands of nodes), which it builds and
    differentiates about twice as fast::

        with pause_gc():
            loss = long_unrolled_model(x)
            loss.backward()

    The setting is process-wide: inside the block, reference cycles anywhere in
    the program (other threads included) are not collected; they are collected
    later as usual. Tensors and graphs are freed by reference counting as
    always. If the collector was already off, it stays off. Nesting is fine.
    """

    def __init__(self) -> None:
        self._was_enabled: list[bool] = []  # one entry per block entered (the same object may be nested)

    def __enter__(self) -> None:
        self._was_enabled.append(gc.isenabled())
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled.pop():
            gc.enable()
