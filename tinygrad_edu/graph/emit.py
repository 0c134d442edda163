"""DOT for a graph model: node labels, colours, module clusters, and a legend for all of them.

Everything is written into a ``graphviz.Digraph`` given by the caller; labels
are Graphviz's HTML-like labels so a node can hold a bold title, small notes
and coloured rows (a collapsed module lists its parameters, each coloured by
its own gradient).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from . import scale
from .describe import format_number
from .model import Edge, Graph, Node

if TYPE_CHECKING:
    from ..tensor import Tensor

GradientOf = Callable[["Tensor"], Optional[np.ndarray]]
FONT = "Helvetica"
EDGE_WITHOUT_GRADIENT = "#9a9a9a"


@dataclass
class Style:
    """How to draw; the public ``draw()`` options that do not change which nodes exist."""

    statistic: str = "norm"
    show_values: int = 4
    numbers: dict[int, int] = field(default_factory=dict)  # id(tensor) -> backward visit order, if numbered
    rankdir: str = "TB"
    title: str | None = None
    legend: bool = True


@dataclass
class StepMarks:
    """Extra marks for one frame of the backward pass (see frames.py)."""

    current: int  # id of the tensor backward is processing
    notes: dict[int, list[str]] = field(default_factory=dict)  # id(tensor) -> extra label lines
    edge_notes: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # (id(input), id(output))


class _Painter:
    """Turns model nodes and edges into DOT statements, remembering which marks the legend must explain."""

    def __init__(
        self,
        graph: Graph,
        gradient_of: GradientOf,
        style: Style,
        computed: bool,
        marks: StepMarks | None,
    ) -> None:
        self.graph, self.gradient_of, self.style, self.marks = graph, gradient_of, style, marks
        self.computed = computed  # False: drawn before backward, so a missing gradient is "not yet"
        self.used: set[str] = set()  # marks to explain in the legend
        self._summaries: dict[int, scale.GradientSummary | None] = {}
        self.fan_out: dict[int, int] = {}  # id(tensor) -> how many drawn edges carry it
        for edge in graph.edges:
            self.fan_out[id(edge.tensor)] = self.fan_out.get(id(edge.tensor), 0) + 1

    def summary(self, tensor: Tensor) -> scale.GradientSummary | None:
        if id(tensor) not in self._summaries:
            grad = self.gradient_of(tensor) if tensor.requires_grad else None
            self._summaries[id(tensor)] = None if grad is None else scale.summarize(grad, self.style.statistic)
        return self._summaries[id(tensor)]

    # ------------------------------------------------------------ nodes

    def node_attributes(self, node: Node) -> dict[str, str]:
        tensor = node.tensor
        summary = self.summary(tensor)
        attrs = {"label": self.label(node)}
        if node.kind == "constant":
            self.used.add("constant")
            return {**attrs, "shape": "ellipse", "style": "filled", "fillcolor": scale.CONSTANT_COLOUR,
                    "color": EDGE_WITHOUT_GRADIENT, "fontcolor": "#444444"}  # fmt: skip
        shapes = {
            "op": ("box", "rounded,filled"), "leaf": ("box", "filled"),
            "composite": ("box", "rounded,filled"), "module": ("box3d", "filled"),
        }  # fmt: skip
        shape, fill_style = shapes[node.kind]
        self.used.add(node.kind)
        attrs.update(shape=shape, style=fill_style, penwidth="1.2" if node.kind != "leaf" else "2.2")
        if node.kind == "module":
            attrs.update(margin="0.14,0.1")  # room for the 3-D edge
        if node.kind == "composite":
            attrs.update(peripheries="2")  # a double border: one node standing for several primitives
        if summary is None:
            self.used.add("none")
            attrs.update(fillcolor=scale.NO_GRADIENT_COLOUR, style=fill_style + ",dashed")
        else:
            self.used.add("nonfinite" if summary.nonfinite else "zero" if summary.all_zero else "scale")
            attrs.update(fillcolor=summary.colour, fontcolor=summary.text_colour)
        if node.activation is not None and node.activation.dead_fraction >= scale.DEAD_ALERT:
            self.used.add("dead")
            attrs.update(color=scale.DEAD_UNITS_COLOUR, penwidth="3.5")
        if self.marks is not None and any(id(t) == self.marks.current for t in _tensors_of(node)):
            self.used.add("current")
            attrs.update(color=scale.CURRENT_STEP_COLOUR, penwidth="4.5")
        return attrs

    def label(self, node: Node) -> str:
        tensor = node.tensor
        rows = [f"<B>{self.number_prefix(node)}{_escape(node.title)}</B>"]
        shape = f"{_shape_text(tensor.shape)} {tensor.dtype}"
        if node.kind in ("module", "composite"):  # its only note, "n operations inside", shares the shape's row
            rows.append(_small(", ".join([shape, *node.notes])))
        else:
            rows += [_small(note) for note in node.notes]
            rows.append(_small(shape))
        if 0 < tensor.size <= self.style.show_values:
            rows.append(f"data {_escape(values_text(tensor.data))}")
        rows += self.gradient_rows(tensor, node.kind == "module")
        uses = self.fan_out.get(id(tensor), 0)
        if tensor.requires_grad and uses > 1:
            self.used.add("fan-out")
            rows.append(_small(f"grad = sum over {uses} uses"))
        if node.activation is not None:
            mask = node.activation
            state = "dead" if mask.kind == "ReLU" else "on the slope side"
            percent = 100.0 * mask.off_units / max(mask.units, 1)
            rows.append(_small(f"{mask.kind}: {mask.off_units}/{mask.units} units {state} ({percent:.0f}%)"))
        if self.marks is not None:
            for member in _tensors_of(node):
                rows += [_escape(note) for note in self.marks.notes.get(id(member), [])]
        param_rows = [self.parameter_row(name, param) for name, param in node.params]
        return _table(rows, param_rows)

    def number_prefix(self, node: Node) -> str:
        known = self.style.numbers
        numbers = sorted(known[id(t)] for t in _tensors_of(node) if id(t) in known)
        if not numbers:
            return ""
        self.used.add("numbered")
        return f"#{numbers[0]} " if len(numbers) == 1 else f"#{numbers[0]}–{numbers[-1]} "

    def gradient_rows(self, tensor: Tensor, is_module: bool) -> list[str]:
        if not tensor.requires_grad:
            return []
        summary = self.summary(tensor)
        symbol = scale.STATISTICS[self.style.statistic]
        prefix = "output " if is_module else ""
        if summary is None:
            return [_small("no gradient yet" if self.marks is not None or not self.computed else "no gradient")]
        if summary.nonfinite:
            return [f"<B>{prefix}grad: {summary.nonfinite} NaN/inf of {summary.size}</B>"]
        if summary.all_zero:
            return [f"<B>{prefix}grad = 0 everywhere</B>"]
        grad = self.gradient_of(tensor)
        rows = []
        if not is_module and grad is not None and tensor.size <= self.style.show_values:
            rows.append(f"grad {_escape(values_text(grad))}")
        if is_module or tensor.size > 1 or not rows:
            rows.append(f"{prefix}{symbol} = {summary.value:.1e}")
        return rows

    def parameter_row(self, name: str, param: Tensor) -> str:
        """One coloured table row of a collapsed module: a parameter, its shape and its gradient."""
        summary = self.summary(param)
        text = f"{_escape(name)} {_shape_text(param.shape)}"
        if summary is None:
            return f'<TD BGCOLOR="{scale.NO_GRADIENT_COLOUR}">{_small(text)}</TD>'
        if summary.nonfinite:
            value = "NaN/inf"
        elif summary.all_zero:
            value = "grad = 0"
        else:
            value = f"{scale.STATISTICS[self.style.statistic]} = {summary.value:.1e}"
        font = f'<FONT COLOR="{summary.text_colour}" POINT-SIZE="10">{text}: {value}</FONT>'
        return f'<TD BGCOLOR="{summary.colour}">{font}</TD>'

    # ------------------------------------------------------------ edges

    def edge_attributes(self, edge: Edge) -> dict[str, str]:
        lines = [_shape_text(edge.tensor.shape)]
        if edge.operand:
            self.used.add("operands")
            lines[0] = f"{edge.operand}: {lines[0]}"
        if edge.summed_axes:
            self.used.add("broadcast")
            axes = ", ".join(str(a) for a in edge.summed_axes)
            lines[0] += f" → {_shape_text(edge.consumer.shape)}"
            lines.append(f"Σ grad over axis {axes}" if len(edge.summed_axes) == 1 else f"Σ grad over axes {axes}")
        if self.marks is not None:
            lines += self.marks.edge_notes.get((id(edge.tensor), id(edge.consumer)), [])
        attrs = {"label": "\\n".join(lines)}
        summary = self.summary(edge.tensor)
        if not edge.tensor.requires_grad:
            attrs.update(color=EDGE_WITHOUT_GRADIENT, style="dashed")
        elif summary is None:
            attrs.update(color="black")
        else:
            self.used.add("edge colour")
            attrs.update(color=summary.colour, penwidth="2")
        return attrs


def emit(
    dot: Any,
    graph: Graph,
    gradient_of: GradientOf,
    style: Style,
    computed: bool,
    banner: str | None = None,
    marks: StepMarks | None = None,
) -> None:
    """Write ``graph`` into the graphviz Digraph ``dot``: attributes, clustered nodes, edges, legend."""
    painter = _Painter(graph, gradient_of, style, computed, marks)
    dot.attr(rankdir=style.rankdir, fontname=FONT, labelloc="t", nodesep="0.25", ranksep="0.35")
    dot.attr("node", fontname=FONT, fontsize="11", margin="0.08,0.04")
    dot.attr("edge", fontname=FONT, fontsize="9", arrowsize="0.7")
    heading = [f"<B>{_escape(style.title)}</B>"] if style.title else []
    if banner:
        heading.append(f'<FONT COLOR="{scale.NONFINITE_COLOUR}"><B>{_escape(banner)}</B></FONT>')
    if heading:
        dot.attr(label="<" + "<BR/>".join(heading) + ">", fontsize="14")
    _emit_level(dot, graph, painter, (), [0])
    for edge in graph.edges:
        dot.edge(edge.source, edge.target, **painter.edge_attributes(edge))
    if style.legend:
        dot.node("legend", label=_legend(painter.used, style.statistic), shape="plain")


def _emit_level(dot: Any, graph: Graph, painter: _Painter, prefix: tuple[int, ...], counter: list[int]) -> None:
    """Nodes whose module chain is exactly ``prefix``, then one nested cluster per child module."""
    children: dict[int, Any] = {}
    for node in graph.nodes:
        ids = tuple(id(m) for m in node.chain)
        if ids == prefix:
            dot.node(node.key, **painter.node_attributes(node))
        elif ids[: len(prefix)] == prefix and ids[len(prefix)] not in children:
            children[ids[len(prefix)]] = node.chain[len(prefix)]
    for module_id, module in children.items():
        counter[0] += 1
        with dot.subgraph(name=f"cluster_{counter[0]}") as cluster:
            cluster.attr(label=_escape(graph.names.label(module)), style="rounded", color="#8c8c8c",
                         fontsize="11", fontcolor="#333333", margin="10")  # fmt: skip
            _emit_level(cluster, graph, painter, (*prefix, module_id), counter)


def _legend(used: set[str], statistic: str) -> str:
    """The legend as one HTML table: the colour scale (when gradients are shown) and every mark in use."""
    width = len(scale.PALETTE)

    def line(content: str, align: str = "LEFT") -> str:
        return f'<TR><TD COLSPAN="{width + 1}" ALIGN="{align}">{content}</TD></TR>'

    def entry(swatch: str, text: str, colour: str = "white", font: str = "black") -> str:
        label = f'<FONT COLOR="{font}" POINT-SIZE="9">{_escape(swatch)}</FONT>' if swatch else ""
        return (
            f'<TR><TD BGCOLOR="{colour}" BORDER="1" WIDTH="34">{label}</TD>'
            f'<TD COLSPAN="{width}" ALIGN="LEFT">{_small(text)}</TD></TR>'
        )

    rows = [line("<B>Legend</B>", "CENTER")]
    if "scale" in used:
        symbol = scale.STATISTICS[statistic]
        meaning = "L2 norm" if statistic == "norm" else "mean absolute value"
        rows.append(line(_small(f"fill: size of the gradient, {symbol} ({meaning}), one colour per decade")))
        cells = "".join(
            f'<TD BGCOLOR="{colour}" WIDTH="30"><FONT COLOR="{scale.text_colour_on(i)}" '
            f'POINT-SIZE="9">{scale.decade_label(i)}</FONT></TD>'
            for i, colour in enumerate(scale.PALETTE)
        )
        rows.append(f"<TR><TD></TD>{cells}</TR>")
        half = width // 2
        rows.append(
            f'<TR><TD></TD><TD COLSPAN="{half}" ALIGN="LEFT">{_small("← smaller")}</TD>'
            f'<TD COLSPAN="{width - half}" ALIGN="RIGHT">{_small("larger →")}</TD></TR>'
        )
    marks = {
        "zero": ("0", "gradient exactly 0 everywhere", scale.ZERO_COLOUR),
        "nonfinite": ("NaN", "NaN or inf in the gradient", scale.NONFINITE_COLOUR, "white"),
        "edge colour": ("→", "edge colour: the gradient flowing back along the edge (its source's)", "white"),
        "none": ("", "dashed border: no gradient (yet)", "white"),
        "constant": ("const", "ellipse: constant (input data, target): never has a gradient", scale.CONSTANT_COLOUR),
        "dead": (
            "",
            f"orange border: ≥{scale.DEAD_ALERT:.0%} of a ReLU's units dead (off for the whole batch)",
            scale.DEAD_UNITS_COLOUR,
        ),
        "current": ("", "magenta border: the node backward is processing", scale.CURRENT_STEP_COLOUR),
        "numbered": ("#k", "the order in which backward visits the node", "white"),
        "fan-out": ("Σ", "sum over n uses: the gradients from n consumers are added", "white"),
        "broadcast": ("Σ", "on an edge: the input was broadcast, so backward summed its gradient", "white"),
        "operands": ("a, b", "operand order (a − b, a @ b)", "white"),
    }
    rows += [entry(*marks[mark]) for mark in marks if mark in used]
    shapes = {
        "op": "rounded box: operation",
        "composite": "double box: a composite (sigmoid, a loss); draw(..., expand=True) shows its primitives",
        "leaf": "box: leaf with grad (parameter)",
        "module": "3-D box: a module",
    }
    shown = [text for kind, text in shapes.items() if kind in used]
    if shown:
        rows.append(entry("", " · ".join(shown)))
    table = '<TABLE BORDER="1" COLOR="#999999" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">'
    return f"<{table}{''.join(rows)}</TABLE>>"


def _tensors_of(node: Node) -> list[Tensor]:
    """The tensors a node stands for: a module's members, or the node's own tensor."""
    return node.members or [node.tensor]


def _table(rows: list[str], cells: list[str]) -> str:
    body = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows) + "".join(f"<TR>{cell}</TR>" for cell in cells)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{body}</TABLE>>'


def _small(text: str) -> str:
    return f'<FONT POINT-SIZE="9">{_escape(text)}</FONT>'


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "scalar" if shape == () else str(shape)


def values_text(array: np.ndarray) -> str:
    """A small array on one line: ``0.5``, ``[1, -2, 3]``, ``[[1, 2], [3, 4]]``."""
    if array.size == 1:
        return format_number(array.reshape(-1)[0])

    def nested(values: Any) -> str:
        return f"[{', '.join(nested(v) for v in values)}]" if isinstance(values, list) else format_number(values)

    return nested(array.tolist())
