"""Records of composite calls: which named expression (``sigmoid``, ``softmax``, a loss) made a node.

A composite is an ordinary Python function of primitives, so the graph alone
would only show its primitives (a sigmoid as ``× 0.5``, ``tanh``, ...). The
``composite`` decorator wraps such a function: while it runs, every tensor it
creates carries the same ``CompositeCall`` in ``tensor.composite``. Drawings
show the call as one node, and the debugging tools name it in messages.

The record holds the call's inputs, options and the output's sequence number
(not the output itself: the output points at the record, and the graph keeps
no reference cycles). Nested composites (``cross_entropy`` calls
``log_softmax``) link to the call they run inside through ``parent``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, cast

from . import state

F = TypeVar("F", bound=Callable[..., Any])


class CompositeCall:
    """One call of a composite: its name, the tensors it was given, its options and the call it ran inside."""

    __slots__ = ("name", "inputs", "options", "parent", "scope", "output_sequence", "source")

    def __init__(self, name: str, inputs: tuple[Any, ...], options: dict[str, Any], parent: CompositeCall | None):
        self.name = name
        self.inputs = inputs  # the tensor arguments, in order
        self.options = options  # every other argument, by name (e.g. {"axis": 1} or {"slope": 0.01})
        self.parent = parent
        self.scope = state.scope  # the modules running at the call: drawings keep deeper modules' ops apart
        self.output_sequence: int | None = None  # the output tensor's _sequence, set when the call returns
        self.source: str | None = state.user_source_line() if state.record_source else None

    def label(self) -> str:
        """``name(option=value, ...)``, e.g. ``softmax(axis=1)``; options that are data (arrays) are left out."""
        shown = ", ".join(f"{key}={value!r}" for key, value in self.options.items() if _is_setting(value))
        return f"{self.name}({shown})" if shown else self.name

    def __repr__(self) -> str:
        return f"<composite {self.label()}>"


def composite(fn: F | None = None, *, name: str | None = None) -> Any:
    """Mark a function of tensors as a named composite, recorded on every tensor it creates.

    Use it bare (``@composite``) or with a name (``@composite(name="my_loss")``).
    Tensor arguments (positional or keyword) become the call's inputs, every
    other argument one of its options. The function's gradient is still the
    chain rule through the primitives it calls: the record changes no number.

    >>> @composite
    ... def swish(x):
    ...     return x * x.sigmoid()
    """

    def decorate(function: F) -> F:
        call_name = name or function.__name__
        try:
            parameter_names = list(inspect.signature(function).parameters)  # read once, not on every call
        except (TypeError, ValueError):  # builtins without a signature: options stay positional
            parameter_names = []

        @functools.wraps(function)
        def recorded(*args: Any, **kwargs: Any) -> Any:
            inputs, options = _split_arguments(parameter_names, args, kwargs)
            call = CompositeCall(call_name, inputs, options, state.composite)
            previous = state.composite
            state.composite = call
            try:
                out = function(*args, **kwargs)
            finally:
                state.composite = previous
            sequence = getattr(out, "_sequence", None)
            if sequence is not None:
                call.output_sequence = sequence
            return out

        recorded.__composite_name__ = call_name  # type: ignore[attr-defined]
        return cast(F, recorded)

    return decorate(fn) if fn is not None else decorate


def _split_arguments(
    names: list[str], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Tensor arguments (anything with a ``_sequence``) as inputs; the rest as options named by ``names``."""
    if not kwargs and len(args) == 1:  # the common case: relu(x), x.sigmoid()
        return args, {}
    inputs: list[Any] = []
    options: dict[str, Any] = {}
    for position, value in enumerate(args):
        if hasattr(value, "_sequence"):
            inputs.append(value)
        else:
            options[names[position] if position < len(names) else f"arg{position}"] = value
    for key, value in kwargs.items():
        if hasattr(value, "_sequence"):
            inputs.append(value)
        else:
            options[key] = value
    return tuple(inputs), options


def _is_setting(value: Any) -> bool:
    """A number, string, None or a short tuple of them: worth showing in a label (an array is not)."""
    if isinstance(value, (tuple, list)):
        return len(value) <= 4 and all(_is_setting(v) for v in value)
    return value is None or isinstance(value, (bool, int, float, str))


def composite_name(fn: Callable[..., Any]) -> str | None:
    """The recorded name of a function marked with ``composite``, or None."""
    return getattr(fn, "__composite_name__", None)
