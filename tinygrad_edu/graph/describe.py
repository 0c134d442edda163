"""How operations and numbers are written in node labels: ``· × 0.5``, ``a @ b``, ``over axis 1``, ``[:, 3]``."""

from __future__ import annotations

from typing import Any

import numpy as np

SYMBOLS = {"add": "+", "sub": "−", "mul": "×", "div": "/", "pow": "^", "matmul": "@"}
COMMUTATIVE = {"add", "mul", "maximum"}


def expression(name: str, texts: list[str | None]) -> str | None:
    """``· × 0.5``, ``1 − ·``, ``a @ b``: the operation with folded constants and operand letters."""
    drawn = sum(1 for t in texts if t is None)
    if drawn == len(texts) and (drawn < 2 or name in COMMUTATIVE):
        return None
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    args = [text if text is not None else ("·" if drawn == 1 else next(letters)) for text in texts]
    if name == "linear" and len(args) == 3:
        return f"{args[0]} @ {args[1]}ᵀ + {args[2]}"
    if name in SYMBOLS and len(args) == 2:
        return f"{args[0]} {SYMBOLS[name]} {args[1]}"
    return f"{name}({', '.join(args)})"


def options_text(name: str, options: dict[str, Any]) -> str | None:
    """What an operation's options say that its shapes do not: the axes of sum, max and cat."""
    if name in ("sum", "max"):
        axis = options.get("axis")
        where = "all axes" if axis is None else f"axis {axis[0]}" if len(axis) == 1 else f"axes {axis}"
        return f"over {where}" + (", keepdims" if options.get("keepdims") else "")
    if name == "cat":
        return f"axis {options['axis']}"
    return None


def index_text(index: Any) -> str:
    """``[:, 3]``, ``[indices (32,), indices (32,)]``: numpy's index notation, arrays by kind and shape."""
    parts = index if isinstance(index, tuple) else (index,)
    shown = []
    for part in parts:
        if isinstance(part, slice):
            bounds = ["" if v is None else str(v) for v in (part.start, part.stop, part.step)]
            shown.append(":".join(bounds[:2] if part.step is None else bounds))
        elif isinstance(part, np.ndarray):
            kind = "bool mask" if part.dtype == np.bool_ else "indices"
            shown.append(f"{kind} {part.shape}")
        elif part is Ellipsis:
            shown.append("...")
        else:
            shown.append(str(part))
    return f"[{', '.join(shown)}]"


def format_number(value: Any) -> str:
    """Short, readable: 0.5, -3, 1.2e-05."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    value = float(value)
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.2e}"
