"""``Drawing``: a graphviz Digraph whose errors say how to install Graphviz.

Kept apart from render.py so that ``import tinygrad_edu`` does not import the
graphviz package: render.py imports this module when a drawing is asked for.
"""

from __future__ import annotations

from typing import Any

import graphviz

INSTALL_HINT = (
    "Graphviz's `dot` program was not found, so the graph cannot be rendered to an image. Install it: "
    "`sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
    "`conda install -c conda-forge graphviz`, or see https://graphviz.org/download/. "
    "The DOT source needs no Graphviz: drawing.save('graph.dot') or tinygrad_edu.to_dot(tensor) "
    "gives it, to render later or on another machine."
)


class GraphvizNotFound(graphviz.ExecutableNotFound):
    """Raised instead of graphviz's own error when ``dot`` is missing: it says how to install it."""

    def __init__(self) -> None:
        RuntimeError.__init__(self, INSTALL_HINT)


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph``: shows inline in Jupyter, ``.render()`` writes SVG/PNG/PDF, ``.source`` is DOT.

    Only difference: when Graphviz is not installed, the error explains how to install it.
    """

    def render(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFound() from error

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().pipe(*args, **kwargs)
        except graphviz.ExecutableNotFound as error:
            raise GraphvizNotFound() from error
