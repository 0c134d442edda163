"""The public entry points ``draw`` and ``to_dot``: check the options, build the graph model, paint it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Union

from ..tensor import Tensor
from . import scale
from .emit import GradientOf, StepMarks, Style, emit
from .model import Expand, Graph, backward_numbers, build_graph

if TYPE_CHECKING:
    from .drawing import Drawing

Drawable = Union["Tensor", Sequence["Tensor"]]

def draw(
    tensor: Drawable,
    *,
    expand: Expand = False,
    collapse: bool = False,
    depth: int | None = None,
    show_values: int = 4,
    statistic: str = "norm",
    numbered: bool = False,
    max_nodes: int = 150,
    rankdir: str = "TB",
    title: str | None = None,
    legend: bool = True,
) -> Drawing:
    """Draw the computation graph that produced ``tensor`` (or several tensors), with its gradients.

    Parameters
    ----------
    tensor : Tensor or sequence of Tensors
        Usually the loss, after ``loss.backward()``. Drawn before backward, the
        picture says so in red and shows no gradients.
    expand : bool, str or list of str
        Each composite call (``sigmoid``, ``softmax(axis=1)``, ``cross_entropy``,
        any ``@composite`` function) is one node by default. ``expand=True``
        draws every one as its primitives; a name (``"sigmoid"``) or a list of
        names opens only those (a nested one stays closed unless named too).
    collapse : bool
        Draw each innermost ``nn.Module`` (Linear, ReLU, ...) as a single node.
    depth : int, optional
        Draw the modules this many levels below the model (1 = its direct
        children) as single nodes; implies ``collapse``.
    show_values : int
        Print the data and gradient of tensors with at most this many elements.
    statistic : "norm" or "mean_abs"
        How a gradient is summarised and coloured: L2 norm, or mean |g|
        (comparable between tensors of different sizes).
    numbered : bool
        Number the nodes in the order backward visits them.
    max_nodes : int
        Refuse to draw more nodes than this (the error says how to collapse).
    rankdir : "TB", "LR", "BT" or "RL"
        Direction of data flow: top to bottom, left to right, ...
    title : str, optional
        Printed above the graph.
    legend : bool
        Add the legend that explains every colour and mark used.

    Returns
    -------
    Drawing
        A ``graphviz.Digraph``: displays inline in Jupyter; ``.render("g", format="svg")``
        writes ``g.svg`` (needs Graphviz's ``dot``); ``.source`` is the DOT text.

    Examples
    --------
    >>> from tinygrad_edu import Tensor, draw
    >>> w = Tensor([0.5, -1.0], requires_grad=True, name="w")
    >>> loss = (w * w).sum()
    >>> loss.backward()
    >>> "‖g‖" in draw(loss).source
    True
    """
    roots, graph, style = plan(
        tensor, expand=expand, collapse=collapse, depth=depth, show_values=show_values, statistic=statistic,
        numbered=numbered, max_nodes=max_nodes, rankdir=rankdir, title=title, legend=legend,
    )  # fmt: skip
    computed = any(r.grad is not None for r in roots if r.requires_grad)
    if not any(r.requires_grad for r in roots):
        banner: str | None = (
            "no gradients: this tensor does not require grad (no input had requires_grad=True, "
            "or it was computed under no_grad())"
        )
    elif not computed:
        banner = "gradients not computed yet: call loss.backward() before drawing to see them"
    else:
        banner = None
    return paint(graph, style, (lambda t: t.grad) if computed else (lambda t: None), computed, banner)


def to_dot(tensor: Drawable, **options: Any) -> str:
    """The DOT source of ``draw(tensor, **options)``: text, no Graphviz program needed."""
    return str(draw(tensor, **options).source)


def plan(
    tensor: Drawable,
    *,
    expand: Expand = False,
    collapse: bool = False,
    depth: int | None = None,
    show_values: int = 4,
    statistic: str = "norm",
    numbered: bool = False,
    max_nodes: int = 150,
    rankdir: str = "TB",
    title: str | None = None,
    legend: bool = True,
) -> tuple[list[Tensor], Graph, Style]:
    """Check the options of ``draw`` and build the graph model (shared with the backward frames)."""
    roots = [tensor] if isinstance(tensor, Tensor) else list(tensor) if isinstance(tensor, (list, tuple)) else []
    if not roots or not all(isinstance(r, Tensor) for r in roots):
        others = sorted({type(r).__name__ for r in roots if not isinstance(r, Tensor)})
        got = f"a {type(tensor).__name__} holding {', '.join(others)}" if others else type(tensor).__name__
        got = f"an empty {got}" if isinstance(tensor, (list, tuple)) and not roots else got
        raise TypeError(
            f"draw: expected a Tensor (usually the loss) or a list of Tensors, got {got}; "
            f"draw the Tensor a computation returned, e.g. draw(loss)."
        )
    if statistic not in scale.STATISTICS:
        raise ValueError(f"draw: statistic must be one of {sorted(scale.STATISTICS)}, got {statistic!r}")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"draw: rankdir must be 'TB', 'LR', 'BT' or 'RL', got {rankdir!r}")
    if depth is not None and depth < 0:
        raise ValueError(f"draw: depth must be 0 or more (0 draws the whole model as one node), got {depth}")
    graph = build_graph(roots, collapse, depth, expand)
    _check_size(graph, max_nodes, collapse or depth is not None)
    numbers = backward_numbers(roots) if numbered else {}
    return roots, graph, Style(statistic, show_values, numbers, rankdir, title, legend)


def paint(
    graph: Graph,
    style: Style,
    gradient_of: GradientOf,
    computed: bool,
    banner: str | None = None,
    marks: StepMarks | None = None,
) -> Drawing:
    """A new Drawing of ``graph`` with the gradients that ``gradient_of`` gives."""
    from .drawing import Drawing  # imported here, not above: `import tinygrad_edu` needs no graphviz

    drawing = Drawing(name="computation_graph")
    emit(drawing, graph, gradient_of, style, computed, banner, marks)
    return drawing


def _check_size(graph: Graph, max_nodes: int, collapsing: bool) -> None:
    """A big graph drawn in full is an unreadable hairball: refuse, and say how to make it smaller."""
    count = len(graph.nodes)
    if count <= max_nodes:
        return
    if not graph.names.roots:
        hint = (
            "No nn.Module took part, so there is nothing to collapse: draw a smaller part of the "
            "computation (an intermediate tensor)"
        )
    elif collapsing:
        hint = (
            "Collapse bigger blocks with a smaller depth (depth=1: each child of the model is one node; "
            "depth=0: the whole model)"
        )
    else:
        hint = "Draw each nn.Module as a single node with collapse=True (or depth=1 for bigger blocks)"
    raise ValueError(
        f"draw: this graph has {count} nodes, more than max_nodes={max_nodes}: drawn in full it would be an "
        f"unreadable hairball. {hint}, or pass max_nodes={count} to draw it anyway."
    )
