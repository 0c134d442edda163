"""Drawing computation graphs with their gradients, for teaching and for debugging backprop.

``draw(loss)`` returns a ``graphviz.Digraph`` (inline in Jupyter, ``.render()`` to SVG/PNG/PDF);
``to_dot(loss)`` returns its DOT text; ``backward_frames(loss)`` runs backward and returns one
drawing per step; ``with group("loss"):`` clusters an expression like a module. See docs/graphs.md.
"""

from .frames import backward_frames
from .groups import group
from .render import Drawing, GraphvizNotFound, draw, to_dot

__all__ = ["Drawing", "GraphvizNotFound", "backward_frames", "draw", "group", "to_dot"]
