"""What a drawing shows: the nodes and edges of a computation graph, before any colour or DOT syntax.

The walk starts at the drawn tensor and follows ``tensor.op.parents`` to every
tensor it was computed from, constants included (backward skips those). Then:

- Each call of a composite (``sigmoid``, ``softmax``, a loss, any function
  marked ``@composite``) is one node, labelled with the call
  (``softmax(axis=1)``), read from the records every tensor carries
  (``tensor.composite``, see records.py). ``expand`` opens some or all of them
  into their primitives. A composite groups only the operations it ran in its
  own module scope: a model called inside a loss function keeps its clusters.
- Constants that only parametrise an operation are folded into its label
  instead of getting a node: Python scalars (``mul`` with ``· × 0.5``) and
  boolean conditions (``where(mask, ·, 0)``).
- A ReLU's units are counted from its call's input: a unit is *off* when its
  input is <= 0 for every example of the batch (the units are the last axis):
  a dead ReLU unit gets no gradient from this batch at all.
- Each tensor sits in the clusters of the nn.Modules whose forward created it
  (``tensor.scope``); parameters sit in the module that owns them, found with
  the outermost module's ``named_parameters()``. When collapsing, all of a
  module's tensors are drawn as one node.
- Movement operations are titled as the user wrote them: ``.T``, ``reshape``, ``·[:, 3]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from ..autograd import topological_order
from ..records import CompositeCall
from .describe import COMMUTATIVE, expression, format_number, index_text, options_text
from .groups import Group

if TYPE_CHECKING:
    from ..tensor import Tensor

Expand = Union[bool, str, Iterable[str]]
ACTIVATIONS = {"relu": "ReLU", "leaky_relu": "leaky ReLU"}  # composites whose units a drawing counts

ELEMENTWISE = {"add", "sub", "mul", "div", "pow", "maximum", "where", "exp", "log", "sin", "cos", "tanh"}


@dataclass
class ActivationMask:
    """A ReLU-family activation found in the graph and how many of its units were off for the whole batch."""

    kind: str  # "ReLU" or "leaky ReLU"
    off_units: int
    units: int

    @property
    def dead_fraction(self) -> float:
        """Fraction of units that got no gradient at all from this batch (leaky units always get some)."""
        return self.off_units / max(self.units, 1) if self.kind == "ReLU" else 0.0


@dataclass
class Node:
    key: str
    kind: str  # "op", "leaf" (requires grad, no op), "constant", "composite" or "module"
    title: str
    tensor: Tensor  # for a module: its output
    chain: tuple[Any, ...]  # the modules whose clusters hold this node, outermost first
    notes: list[str] = field(default_factory=list)
    members: list[Tensor] = field(default_factory=list)  # module or composite: every tensor drawn inside it
    params: list[tuple[str, Tensor]] = field(default_factory=list)  # module: its parameters
    activation: ActivationMask | None = None


@dataclass
class Edge:
    source: str
    target: str
    tensor: Tensor  # what flows along the edge (its gradient flows back)
    consumer: Tensor  # the operation's output that the edge feeds
    operand: str  # "a", "b", ... when the target has several inputs and their order matters
    summed_axes: tuple[int, ...] = ()  # axes backward summed over because ``tensor`` was broadcast


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    uses: dict[int, int]  # id(tensor) -> how many operand slots consume it (what backward sums over)
    names: ModuleNames


class ModuleNames:
    """Dotted names of modules and parameters, read from the outermost module of each tensor's scope.

    Groups (``graph.group``) are not modules: a model called inside ``with group(...)`` is still the
    root of its names, and its parameters are placed inside that group's cluster too.
    """

    def __init__(self, tensors: Iterable[Tensor]) -> None:
        self.roots: list[Any] = []
        self._module_names: dict[int, str] = {}
        self.params: dict[int, tuple[str, tuple[Any, ...]]] = {}  # id -> (dotted name, enclosing chain)
        for tensor in tensors:
            position = next((i for i, m in enumerate(tensor.scope) if not isinstance(m, Group)), None)
            if position is None or any(tensor.scope[position] is r for r in self.roots):
                continue
            root = tensor.scope[position]
            self.roots.append(root)
            self._read_names(root, tensor.scope[:position])

    def _read_names(self, root: Any, outer: tuple[Any, ...]) -> None:
        by_name = dict(root.named_modules()) if hasattr(root, "named_modules") else {"": root}
        for name, module in by_name.items():
            self._module_names.setdefault(id(module), name)
        for name, param in root.named_parameters() if hasattr(root, "named_parameters") else ():
            parts = name.split(".")[:-1]
            prefixes = [".".join(parts[:k]) for k in range(len(parts) + 1)]
            chain = outer + tuple(by_name[p] for p in prefixes if p in by_name)
            self.params.setdefault(id(param), (name, chain))

    def name_of(self, module: Any) -> str:
        """The dotted name, e.g. ``layers.0`` ("" for an outermost module or an unknown one)."""
        return self._module_names.get(id(module), "")

    def label(self, module: Any) -> str:
        """``layers.0 (Linear)``; an outermost module is its class name (numbered if several share it)."""
        if isinstance(module, Group):
            return module.name
        cls = type(module).__name__
        name = self.name_of(module)
        if name:
            return f"{name} ({cls})"
        same_class = [r for r in self.roots if type(r) is type(module)]
        number = next((i for i, r in enumerate(same_class, start=1) if r is module), 0)
        return f"{cls} #{number}" if len(same_class) > 1 and number else cls


def build_graph(
    roots: Sequence[Tensor], collapse: bool = False, depth: int | None = None, expand: Expand = False
) -> Graph:
    """The nodes and edges to draw for ``roots``; see the module docstring for the rules."""
    tensors = _inputs_first(roots)
    names = ModuleNames(tensors)
    operands = {id(t): _operand_texts(t) for t in tensors if t.op is not None}
    activations = _activations(tensors)
    uses: dict[int, int] = {}
    drawn_inputs = {id(r) for r in roots}
    for tensor in tensors:
        for parent, text in zip(tensor.op.parents, operands[id(tensor)]) if tensor.op is not None else ():
            uses[id(parent)] = uses.get(id(parent), 0) + 1
            if text is None:
                drawn_inputs.add(id(parent))

    chains = {id(t): _chain(t, names) for t in tensors}
    collapsing = collapse or depth is not None
    inner = {id(m) for chain in chains.values() for m in chain[:-1]}  # modules with child modules
    opened = _expanded(expand, tensors)

    def unit(chain: tuple[Any, ...]) -> Any:
        """The module a tensor with this chain is collapsed into, or None."""
        if not collapsing or not chain:
            return None
        if depth is not None and len(chain) > depth:
            return chain[depth]
        return chain[-1] if id(chain[-1]) not in inner else None

    nodes: list[Node] = []
    node_of: dict[int, str] = {}  # id(tensor) -> key of the node showing it (absent: a folded constant)
    module_nodes: dict[int, Node] = {}
    composite_nodes: dict[int, Node] = {}
    for tensor in tensors:
        chain = chains[id(tensor)]
        module = unit(chain)
        call = _composite_unit(tensor, opened) if module is None else None
        if module is not None:
            if id(module) not in module_nodes:
                outer = chain[: [id(m) for m in chain].index(id(module))]
                module_nodes[id(module)] = Node(f"m{len(nodes)}", "module", names.label(module), tensor, outer)
                nodes.append(module_nodes[id(module)])
            node = module_nodes[id(module)]
            _add_member(node, tensor, names.name_of(module), names, activations.get(id(tensor)))
        elif call is not None:
            if id(call) not in composite_nodes:
                composite_nodes[id(call)] = Node(f"c{len(nodes)}", "composite", call.label(), tensor, chain)
                nodes.append(composite_nodes[id(call)])
            node = composite_nodes[id(call)]
            _add_member(node, tensor, "", names, activations.get(id(tensor)))
        elif _is_constant(tensor) and id(tensor) not in drawn_inputs:
            continue  # folded into the label of every operation that uses it
        else:
            node = _tensor_node(f"t{len(nodes)}", tensor, chain, names)
            if tensor.op is not None:
                _describe_operation(node, operands[id(tensor)])
                node.activation = activations.get(id(tensor))
            nodes.append(node)
        node_of[id(tensor)] = node.key

    grouped = {n.key for n in (*module_nodes.values(), *composite_nodes.values())}
    edges = _edges(tensors, operands, node_of, grouped)
    for node in module_nodes.values():
        _finish_group(node, edges, roots)
    for node in composite_nodes.values():
        _finish_group(node, edges, roots)
    return Graph(nodes, edges, uses, names)


def _calls(tensor: Tensor) -> list[CompositeCall]:
    """The composite calls that made ``tensor``, outermost first, counting only those run in its own
    module scope (a model called inside a loss function is not part of the loss's node)."""
    calls = []
    call = tensor.composite
    while call is not None:
        if len(call.scope) == len(tensor.scope) and all(a is b for a, b in zip(call.scope, tensor.scope)):
            calls.append(call)
        call = call.parent
    return calls[::-1]


def _composite_unit(tensor: Tensor, opened: Callable[[str], bool]) -> CompositeCall | None:
    """The outermost call holding ``tensor`` that is not expanded: the node it is drawn in (None: its own)."""
    return next((call for call in _calls(tensor) if not opened(call.name)), None)


def _expanded(expand: Expand, tensors: list[Tensor]) -> Callable[[str], bool]:
    """``expand`` as a test on a composite's name; an unknown name is an error, not a silent no-op."""
    if isinstance(expand, bool):
        return lambda name: expand
    wanted = {expand} if isinstance(expand, str) else set(expand)
    if not all(isinstance(name, str) for name in wanted):
        raise TypeError(f"draw: expand must be True, False, a composite's name or a list of names, got {expand!r}")
    present = {call.name for t in tensors for call in _calls(t)}
    unknown = sorted(wanted - present)
    if unknown:
        listed = ", ".join(sorted(present)) or "none"
        raise ValueError(
            f"draw: expand={expand!r} names {', '.join(unknown)}, which this graph does not use; "
            f"its composites are: {listed}. Pass expand=True to open all of them."
        )
    return wanted.__contains__


def _activations(tensors: list[Tensor]) -> dict[int, ActivationMask]:
    """id(output) -> units off, for each ReLU-family call in the graph (read from its record and input)."""
    found: dict[int, ActivationMask] = {}
    for tensor in tensors:
        call = tensor.composite
        if call is None or call.name not in ACTIVATIONS or call.output_sequence != tensor._sequence:
            continue
        if call.inputs and tensor.size >= 2:
            found[id(tensor)] = _count_off(ACTIVATIONS[call.name], ~(call.inputs[0].data > 0))
    return found


def _inputs_first(roots: Sequence[Tensor]) -> list[Tensor]:
    """Every tensor the roots were computed from, constants included, each listed after its inputs.

    Depth-first with an explicit stack (a chain of 10,000 operations must not
    hit Python's recursion limit): a tensor is appended once all its inputs are.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor.op is not None:
            stack.extend((parent, False) for parent in reversed(tensor.op.parents) if id(parent) not in visited)
    return order


def backward_numbers(roots: Sequence[Tensor]) -> dict[int, int]:
    """id(tensor) -> 1, 2, ...: the order in which backward visits the tensors (each root counted apart)."""
    numbers: dict[int, int] = {}
    for root in roots:
        if root.requires_grad:
            for position, tensor in enumerate(topological_order(root), start=1):
                numbers.setdefault(id(tensor), position)
    return numbers


def _count_off(kind: str, off: np.ndarray) -> ActivationMask:
    """Units are the last axis; a unit is off when it is off for every example (all leading axes)."""
    if off.ndim < 2:
        return ActivationMask(kind, int(off.sum()), off.size)
    per_unit = off.reshape(-1, off.shape[-1]).all(axis=0)
    return ActivationMask(kind, int(per_unit.sum()), per_unit.size)


def _is_constant(tensor: Tensor) -> bool:
    return tensor.op is None and not tensor.requires_grad


def _fold_text(parent: Tensor) -> str | None:
    """How an unnamed constant operand is written inside its operation's label (None: draw it)."""
    if not _is_constant(parent) or parent.name:
        return None
    if parent.dtype == np.bool_:
        return "mask" if parent.size > 1 else format_number(parent.data.item())
    if parent.size == 1:
        return format_number(parent.data.item())
    return None


def _operand_texts(tensor: Tensor) -> list[str | None]:
    """Per operand of ``tensor.op``: its folded text, or None if the operand is drawn as a node."""
    assert tensor.op is not None
    return [_fold_text(p) for p in tensor.op.parents]


def _chain(tensor: Tensor, names: ModuleNames) -> tuple[Any, ...]:
    if tensor.op is None and id(tensor) in names.params:
        return names.params[id(tensor)][1]
    return tensor.scope


def _tensor_node(key: str, tensor: Tensor, chain: tuple[Any, ...], names: ModuleNames) -> Node:
    if tensor.op is not None:
        return Node(key, "op", _spelling(tensor), tensor, chain)
    if id(tensor) in names.params:
        title = names.params[id(tensor)][0]
    else:
        title = tensor.name or ("leaf" if tensor.requires_grad else "constant")
    return Node(key, "leaf" if tensor.requires_grad else "constant", title, tensor, chain)


def _spelling(tensor: Tensor) -> str:
    """The operation's title as the user wrote it: ``.T``, ``transpose(1, 0, 2)``, ``·[:, 3]``; else its name."""
    assert tensor.op is not None
    name, options = tensor.op.name, tensor.op.options
    if name == "permute":
        axes = tuple(options["axes"])
        return ".T" if axes == tuple(range(len(axes) - 1, -1, -1)) else f"transpose{axes}"
    if name == "index":
        return "·" + index_text(options["index"])
    return name


def _describe_operation(node: Node, operands: list[str | None]) -> None:
    assert node.tensor.op is not None
    written = expression(node.tensor.op.name, operands)
    options = options_text(node.tensor.op.name, node.tensor.op.options)
    node.notes.extend(text for text in (written, options) if text)


def _add_member(
    node: Node, tensor: Tensor, module_name: str, names: ModuleNames, activation: ActivationMask | None
) -> None:
    node.members.append(tensor)
    if node.kind == "module" and tensor.op is None and tensor.requires_grad:
        name = names.params[id(tensor)][0] if id(tensor) in names.params else tensor.name or "leaf"
        node.params.append((name.removeprefix(f"{module_name}.") if module_name else name, tensor))
    if activation is not None:
        node.activation = activation


def _finish_group(node: Node, edges: list[Edge], roots: Sequence[Tensor]) -> None:
    """A module or composite node shows its output: the last member that leaves it (or is drawn as a root)."""
    leaving = {id(e.tensor) for e in edges if e.source == node.key}
    outputs = [t for t in node.members if id(t) in leaving or any(t is r for r in roots)]
    if outputs:
        node.tensor = outputs[-1]
    operations = sum(1 for t in node.members if t.op is not None)
    node.notes.append(f"{operations} operation{'s' if operations != 1 else ''} inside")


def _edges(
    tensors: list[Tensor],
    operands: dict[int, list[str | None]],
    node_of: dict[int, str],
    module_keys: set[str],
) -> list[Edge]:
    edges: list[Edge] = []
    seen: set[tuple[str, str, int]] = set()
    for tensor in tensors:
        if tensor.op is None:
            continue
        target = node_of[id(tensor)]
        texts = operands[id(tensor)]
        drawn = [p for p, text in zip(tensor.op.parents, texts) if text is None]
        ordered = len(drawn) > 1 and tensor.op.name not in COMMUTATIVE
        letters = iter("abcdefghijklmnopqrstuvwxyz")
        for position, (parent, text) in enumerate(zip(tensor.op.parents, texts)):
            if text is not None:
                continue
            letter = next(letters) if ordered else ""
            source = node_of[id(parent)]
            if source == target:
                continue
            if source in module_keys or target in module_keys:
                if (source, target, id(parent)) in seen:
                    continue
                seen.add((source, target, id(parent)))
                letter = ""
            summed: tuple[int, ...] = ()
            broadcast = tensor.op.name in ELEMENTWISE or (tensor.op.name == "linear" and position == 2)  # bias
            if broadcast and parent.shape != tensor.shape:
                summed = broadcast_axes(parent.shape, tensor.shape)
            edges.append(Edge(source, target, parent, tensor, letter, summed))
    return edges


def broadcast_axes(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Axes of ``out_shape`` along which an input of ``shape`` was stretched (and its gradient summed)."""
    extra = len(out_shape) - len(shape)
    stretched = [i + extra for i, n in enumerate(shape) if n == 1 and out_shape[i + extra] != 1]
    return tuple(range(extra)) + tuple(stretched)
