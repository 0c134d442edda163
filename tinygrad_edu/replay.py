"""Recompute a recorded graph from new leaves, with some of its tensors computed another way.

``check_backprop`` reproduces a hand-derived mistake by swapping one
activation for a *variant* (same values, the mistaken derivative). Rather than
running the user's forward again with a function replaced (which would need to
patch functions the user wrote, and would not be thread-safe), the recorded
graph is replayed: every primitive is applied again, in creation order, to the
new inputs, and each swapped tensor is computed by its replacement instead.
Nothing global changes, so replays in several threads are independent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .autograd import topological_order
from .tensor import Tensor

Replacement = Callable[[Callable[[Tensor], Tensor]], Tensor]  # given "new tensor of an old one", the new one


def replay(root: Tensor, leaves: Mapping[int, Tensor], swaps: Mapping[int, Replacement] | None = None) -> Tensor:
    """``root`` recomputed: ``leaves`` maps id(old leaf) to its new tensor; ``swaps`` id(old tensor) to its
    replacement. Constants (tensors that need no gradient) are reused as they are."""
    swaps = swaps or {}
    new: dict[int, Tensor] = dict(leaves)

    def lookup(old: Tensor) -> Tensor:
        return new.get(id(old), old)

    for t in reversed(topological_order(root)):  # creation order: inputs before the tensors made from them
        if id(t) in new:
            continue
        if id(t) in swaps:
            new[id(t)] = swaps[id(t)](lookup)
        elif t.op is not None:
            new[id(t)] = type(t.op).apply(*[lookup(p) for p in t.op.parents], **t.op.options)
    return lookup(root)
