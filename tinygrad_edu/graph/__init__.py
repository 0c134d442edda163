"""Drawing computation graphs with their gradients, for teaching and for debugging backprop.

``draw(loss)`` returns a ``graphviz.Digraph`` (inline in Jupyter, ``.render()`` to SVG/PNG/PDF);
``to_dot(loss)`` returns its DOT text; ``backward_frames(loss)`` runs backward and returns one
drawing per step; ``with group("loss"):`` clusters an expression like a module. See docs/graphs.md.
"""

from typing import Any

from .frames import backward_frames
from .groups import group
from .render import draw, to_dot


def __getattr__(name: str) -> Any:
    """``Drawing`` and ``GraphvizNotFound`` load the graphviz package on first use (PEP 562)."""
    if name in ("Drawing", "GraphvizNotFound"):
        from . import drawing  # here, not above: `import tinygrad_edu` needs no graphviz

        return getattr(drawing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Drawing", "GraphvizNotFound", "backward_frames", "draw", "group", "to_dot"]
