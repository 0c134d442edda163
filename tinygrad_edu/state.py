"""Process-wide switches of the engine, kept in one place so every module reads the same ones.

- ``grad_enabled``: record the graph (turned off by ``no_grad``).
- ``default_dtype``: the dtype floating data gets when none is asked for.
- ``scope``: the stack of ``nn.Module`` objects whose forward is running,
  stored on each new tensor so the renderer can group operations by module.
- ``composite``: the innermost composite call running (``records.composite``), stored on each new tensor.
- ``record_source`` / ``anomaly_mode``: debugging aids that cost time, off by default.

They are process-wide, as MyGrad's (PyTorch keeps its grad mode per thread): reading a
module attribute is the cheapest read there is, and every node reads several. So
``no_grad`` in one thread turns recording off in all of them; the checking tools,
which switch some of them for their whole run, take turns (``one_at_a_time``).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from .records import CompositeCall

grad_enabled: bool = True
default_dtype: np.dtype = np.dtype(np.float32)
scope: tuple[object, ...] = ()
composite: CompositeCall | None = None
record_source: bool = False
anomaly_mode: bool = False

F = TypeVar("F", bound=Callable[..., Any])
_checking = threading.RLock()


def one_at_a_time(function: F) -> F:
    """Run ``function`` (gradcheck, check_backprop) while no other thread runs one of them.

    Each switches ``default_dtype`` and ``record_source`` for its run and restores what it found. Two of
    them in two threads could interleave: the second finds the first's float64 and, ending last,
    restores it, so every tensor made afterwards in the program is float64. Re-entrant: a check may
    call another in the same thread.
    """

    @functools.wraps(function)
    def in_turn(*args: Any, **kwargs: Any) -> Any:
        with _checking:
            return function(*args, **kwargs)

    return in_turn  # type: ignore[return-value]


_PACKAGE_DIRS = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep
    for path in (__file__, os.path.join(os.path.dirname(__file__), os.pardir, "nn", "__init__.py"))
)


def set_default_dtype(dtype: object) -> None:
    """Make new floating tensors use ``dtype`` (``numpy.float32`` or ``numpy.float64``)."""
    global default_dtype
    resolved = np.dtype(dtype)  # type: ignore[call-overload]
    if resolved.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype such as numpy.float64, got {resolved}")
    default_dtype = resolved


def get_default_dtype() -> np.dtype:
    """The dtype that floating data is converted to when no dtype is given."""
    return default_dtype


def user_source_line() -> str:
    """``file:line: code`` of the innermost frame outside this library: the user's line that made an op."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_PACKAGE_DIRS) and "contextlib" not in filename:
            break
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "<unknown>"
    import linecache

    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {code}"
