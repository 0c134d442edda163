"""What a drawing shows: the nodes and edges of a computation graph, before any colour or DOT syntax.

The walk starts at the drawn tensor and follows ``tensor.op.parents`` to every
tensor it was computed from, constants included (backward skips those). Then:

- Constants that only parametrise an operation are folded into its label
  instead of getting a node: Python scalars (``mul`` with ``· × 0.5``),
  boolean conditions, and ReLU-family masks. A graph of ``sigmoid`` is then a
  short chain of labelled operations, not a hairball of constant nodes.
- ReLU-family activations are recognised by their mask, exactly as the
  engine builds them: ``relu(x) = x * m`` where the constant ``m`` is 1 where
  ``x > 0`` and 0 elsewhere; a leaky ReLU's ``m`` is 1 where ``x > 0`` and
  ``slope`` elsewhere (0 < slope < 1). Checking the mask against the other
  operand's sign keeps look-alikes out (a one-hot target is 0/1 too). This
  works with or without nn modules. The units are the last axis; a unit is
  *off* when it is off for every example of the batch: a dead ReLU unit gets
  no gradient from this batch at all.
- Each tensor sits in the clusters of the nn.Modules whose forward created it
  (``tensor.scope``); parameters sit in the module that owns them, found with
  the outermost module's ``named_parameters()``. When collapsing, all of a
  module's tensors are drawn as one node.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import topological_order
from .describe import COMMUTATIVE, expression, format_number, options_text
from .groups import Group

if TYPE_CHECKING:
    from ..tensor import Tensor

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
    kind: str  # "op", "leaf" (requires grad, no op), "constant" or "module"
    title: str
    tensor: Tensor  # for a module: its output
    chain: tuple[Any, ...]  # the modules whose clusters hold this node, outermost first
    notes: list[str] = field(default_factory=list)
    members: list[Tensor] = field(default_factory=list)  # module: every tensor drawn inside it
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
    uses: dict[int, int]  # id(tensor) -> how many operand slots consume it
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


def build_graph(roots: Sequence[Tensor], collapse: bool = False, depth: int | None = None) -> Graph:
    """The nodes and edges to draw for ``roots``; see the module docstring for the rules."""
    tensors = _inputs_first(roots)
    names = ModuleNames(tensors)
    masks = {id(t): activation_mask(t) for t in tensors if t.op is not None}
    operands = {id(t): _operand_texts(t, masks[id(t)]) for t in tensors if t.op is not None}
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
    for tensor in tensors:
        if _is_constant(tensor) and id(tensor) not in drawn_inputs:
            continue  # folded into the label of every operation that uses it
        chain = chains[id(tensor)]
        module = unit(chain)
        if module is None:
            node = _tensor_node(f"t{len(nodes)}", tensor, chain, names)
            if tensor.op is not None:
                _describe_operation(node, operands[id(tensor)], masks[id(tensor)])
            nodes.append(node)
        else:
            if id(module) not in module_nodes:
                outer = chain[: [id(m) for m in chain].index(id(module))]
                module_nodes[id(module)] = Node(f"m{len(nodes)}", "module", names.label(module), tensor, outer)
                nodes.append(module_nodes[id(module)])
            node = module_nodes[id(module)]
            _add_member(node, tensor, names.name_of(module), names, masks.get(id(tensor)))
        node_of[id(tensor)] = node.key

    edges = _edges(tensors, operands, node_of, {n.key for n in module_nodes.values()})
    for node in module_nodes.values():
        _finish_module(node, edges, roots)
    return Graph(nodes, edges, uses, names)



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


def activation_mask(tensor: Tensor) -> tuple[int, ActivationMask] | None:
    """(mask's operand position, mask info) if ``tensor`` is a ReLU-family ``x * mask`` (see module docstring)."""
    op = tensor.op
    if op is None or op.name != "mul" or tensor.size < 2:
        return None
    for position, (mask, x) in enumerate([op.parents, op.parents[::-1]]):
        if not _is_constant(mask) or mask.shape != tensor.shape or x.shape != tensor.shape:
            continue
        on = x.data > 0
        if np.array_equal(mask.data, on):
            return position, _count_off("ReLU", ~on)
        slopes = np.unique(mask.data[~on])
        if slopes.size == 1 and 0 < slopes[0] < 1 and np.all(mask.data[on] == 1):
            return position, _count_off("leaky ReLU", ~on)
    return None


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
        return "mask"
    if parent.size == 1:
        return format_number(parent.data.item())
    return None


def _operand_texts(tensor: Tensor, mask: tuple[int, ActivationMask] | None) -> list[str | None]:
    """Per operand of ``tensor.op``: its folded text, or None if the operand is drawn as a node."""
    assert tensor.op is not None
    texts = [_fold_text(p) for p in tensor.op.parents]
    if mask is not None:
        texts[mask[0]] = "mask" if mask[1].kind == "ReLU" else "slope mask"
    return texts


def _chain(tensor: Tensor, names: ModuleNames) -> tuple[Any, ...]:
    if tensor.op is None and id(tensor) in names.params:
        return names.params[id(tensor)][1]
    return tensor.scope


def _tensor_node(key: str, tensor: Tensor, chain: tuple[Any, ...], names: ModuleNames) -> Node:
    if tensor.op is not None:
        return Node(key, "op", tensor.op.name, tensor, chain)
    if id(tensor) in names.params:
        title = names.params[id(tensor)][0]
    else:
        title = tensor.name or ("leaf" if tensor.requires_grad else "constant")
    return Node(key, "leaf" if tensor.requires_grad else "constant", title, tensor, chain)


def _describe_operation(node: Node, operands: list[str | None], mask: tuple[int, ActivationMask] | None) -> None:
    assert node.tensor.op is not None
    written = expression(node.tensor.op.name, operands)
    options = options_text(node.tensor.op.name, node.tensor.op.options)
    node.notes.extend(text for text in (written, options) if text)
    node.activation = mask[1] if mask else None


def _add_member(
    node: Node, tensor: Tensor, module_name: str, names: ModuleNames, mask: tuple[int, ActivationMask] | None
) -> None:
    node.members.append(tensor)
    if tensor.op is None and tensor.requires_grad:
        name = names.params[id(tensor)][0] if id(tensor) in names.params else tensor.name or "leaf"
        node.params.append((name.removeprefix(f"{module_name}.") if module_name else name, tensor))
    if mask is not None:
        node.activation = mask[1]


def _finish_module(node: Node, edges: list[Edge], roots: Sequence[Tensor]) -> None:
    """A module node shows its output: the last member that leaves the module (or is drawn as a root)."""
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
