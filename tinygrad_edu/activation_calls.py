"""Watch (and, for diagnosis, swap) the activation functions a forward pass calls.

``check_backprop`` reproduces a classic hand-derived mistake by running the
user's forward again with one activation replaced by a *variant*: a function
with the same values whose autodiff gradient is the mistaken one. The
variants live in ``bug_patterns.py``; this module only intercepts the calls
(``Tensor.relu`` and ``composites.relu`` alike), numbers them in call order,
and remembers the user's line that made each one. ``nn.diagnose`` uses the same
record to find dead ReLU units.

Not thread-safe: the functions are swapped on the class for the duration of the block.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from . import composites, state
from .tensor import Tensor

WATCHED = ("relu", "sigmoid", "tanh", "softmax", "log_softmax")

Variant = Callable[..., Tensor]  # variant(original, x, *args, **kwargs) -> Tensor


@dataclass
class Call:
    """One activation call: which function, its number among that function's calls, where, its tensors."""

    name: str
    index: int
    source: str
    input: Tensor
    output: Tensor


@dataclass
class Mutation:
    """Replace calls of ``name`` (only call number ``index``, or all when None) by ``variant``."""

    name: str
    index: int | None
    variant: Variant


@contextlib.contextmanager
def watch_activations(mutation: Mutation | None = None) -> Iterator[list[Call]]:
    """Inside the block, record each watched activation call into the yielded list; apply ``mutation``."""
    calls: list[Call] = []
    originals = {name: getattr(Tensor, name) for name in WATCHED}
    module_originals = {name: getattr(composites, name) for name in WATCHED if hasattr(composites, name)}

    def wrap(name: str) -> Callable[..., Tensor]:
        original = originals[name]

        def watched(x: Tensor, *args: Any, **kwargs: Any) -> Tensor:
            index = sum(1 for c in calls if c.name == name)
            if mutation is not None and mutation.name == name and mutation.index in (None, index):
                out = mutation.variant(original, x, *args, **kwargs)
            else:
                out = original(x, *args, **kwargs)
            calls.append(Call(name, index, state.user_source_line(), x, out))
            return out

        return watched

    try:
        for name in WATCHED:
            setattr(Tensor, name, wrap(name))
        for name in module_originals:
            setattr(composites, name, getattr(Tensor, name))
        yield calls
    finally:
        for name, original in originals.items():
            setattr(Tensor, name, original)
        for name, original in module_originals.items():
            setattr(composites, name, original)
