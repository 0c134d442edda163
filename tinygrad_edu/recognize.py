"""Find the activations a recorded graph computes, whether they are our composites or the user's own code.

A user's sigmoid is ``1.0 / (1.0 + np.exp(-z))``, their ReLU ``np.maximum(0, z)``
or ``(z > 0) * z``, their softmax ``e / e.sum(axis=1, keepdims=True)``. The
graph holds only the primitives of such expressions, so a spelling-by-spelling
match would miss most of them. Instead each tensor ``a`` is tested against the
part of the graph that computes it from a single tensor ``z`` (every other
input a constant): if ``a`` equals ``f(z)`` in value for a known function
``f``, with ``z`` varied enough to tell the functions apart, it is ``f``.
Calls of our composites (``x.sigmoid()``, ``nn.functional.relu``) are read
from their records directly.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .tensor import Tensor

COMPOSITES = ("relu", "leaky_relu", "sigmoid", "tanh", "softmax", "log_softmax", "clip")
RELU_FAMILY = ("relu", "leaky_relu", "clip")
_REGION_LIMIT = 12  # primitives searched back from a tensor: an activation is a short expression


@dataclass(eq=False)  # compared by identity: its fields are tensors
class Activation:
    """One activation in the graph: its function, input and output tensors, options, and where it was made."""

    name: str  # relu, leaky_relu, sigmoid, tanh, softmax, log_softmax, clip (clip only at 0 from below)
    input: Tensor
    output: Tensor
    options: dict[str, Any] = field(default_factory=dict)  # axis for softmax, slope for leaky_relu
    source: str = ""  # the user's line that made it ("" when sources were not recorded)
    own: bool = False  # the user's own expression, recognised from its values (not our composite)

    def describe(self) -> str:
        """``your own sigmoid (1 / (1 + exp(-z))), created at model.py:12: ...`` or ``sigmoid at ...``."""
        what = f"your own {self.name} ({_SPELLINGS[self.name]})" if self.own else self.name
        return f"{what}, created at {self.source}" if self.source else what


_SPELLINGS = {
    "relu": "max(z, 0)",
    "leaky_relu": "z for z > 0, slope * z below",
    "sigmoid": "1 / (1 + exp(-z))",
    "tanh": "tanh(z)",
    "softmax": "exp(z) / sum(exp(z)) per row",
    "log_softmax": "z - log(sum(exp(z))) per row",
    "clip": "clip(z, 0, ...)",
    "binary_cross_entropy": "-sum(y * log(p) + (1 - y) * log(1 - p))",
    "categorical_cross_entropy": "-sum(y * log(p))",
}


def find_activations(root: Tensor) -> list[Activation]:
    """Every activation that ``root`` was computed from, in the order they were made."""
    tensors = _reachable(root)
    found: list[Activation] = []
    taken: set[int] = set()  # tensors inside an activation already found
    for t in sorted(tensors, key=lambda t: -t._sequence):  # outermost expressions first
        if id(t) in taken:
            continue
        call = t.composite
        if call is not None and call.output_sequence != t._sequence:
            continue  # a tensor inside a composite: the composite is what the user called
        activation = _from_record(t) if call is not None else _recognise(t, taken)
        if activation is not None:
            found.append(activation)
    return sorted(found, key=lambda a: a.output._sequence)


def _reachable(root: Tensor) -> list[Tensor]:
    seen = {id(root): root}
    stack = [root]
    while stack:
        t = stack.pop()
        if t.op is not None:
            for parent in t.op.parents:
                if id(parent) not in seen:
                    seen[id(parent)] = parent
                    stack.append(parent)
    return list(seen.values())


def _from_record(t: Tensor) -> Activation | None:
    call = t.composite
    assert call is not None
    if call.name not in COMPOSITES or not call.inputs:
        return None
    options = dict(call.options)
    if call.name in ("softmax", "log_softmax"):
        options.setdefault("axis", -1)
    if call.name == "leaky_relu":
        options.setdefault("slope", 0.01)
    if call.name == "clip":
        lo, hi = options.get("lo", options.get("arg1")), options.get("hi", options.get("arg2"))
        if lo != 0 or (hi is not None and hi <= 0):
            return None  # only a clip at 0 from below acts as a ReLU
    source = call.source or (t.op.source if t.op is not None and t.op.source else "")
    return Activation(call.name, call.inputs[0], t, options, source)


def _recognise(a: Tensor, taken: set[int]) -> Activation | None:
    """The farthest single input ``z`` from which ``a`` is a known function, tested on the values."""
    match: tuple[str, dict[str, Any], Tensor, list[Tensor]] | None = None
    for z, region in _single_inputs(a):
        if z.shape != a.shape:
            continue
        tested = _identify(z.data, a.data)
        if tested is not None:
            match = (tested[0], tested[1], z, region)
    if match is None:
        return None
    name, options, z, region = match
    taken.update(id(t) for t in region)
    source = a.op.source if a.op is not None and a.op.source else ""
    return Activation(name, z, a, options, source, own=True)


def _single_inputs(a: Tensor) -> Iterator[tuple[Tensor, list[Tensor]]]:
    """Tensors ``z`` such that ``a`` is computed from ``z`` alone (and constants), nearest first."""
    if a.op is None:
        return
    region = [a]
    inside = {id(a)}
    frontier: list[tuple[int, Tensor]] = []
    queued: set[int] = set()

    def add_parents(t: Tensor) -> None:
        assert t.op is not None
        for parent in t.op.parents:
            if parent.requires_grad and id(parent) not in queued and id(parent) not in inside:
                queued.add(id(parent))
                heapq.heappush(frontier, (-parent._sequence, parent))

    add_parents(a)
    for _ in range(_REGION_LIMIT):
        if len(frontier) == 1:
            yield frontier[0][1], list(region)
        if not frontier:
            return
        _, newest = frontier[0]
        if newest.op is None:
            return  # a parameter (a leaf): the expression depends on more than one thing
        heapq.heappop(frontier)
        queued.discard(id(newest))
        region.append(newest)
        inside.add(id(newest))
        add_parents(newest)


def _identify(z: np.ndarray, a: np.ndarray) -> tuple[str, dict[str, Any]] | None:
    """Which known activation maps ``z`` to ``a`` (values within float rounding), or None."""
    if z.dtype.kind != "f" or z.size < 2 or not np.isfinite(z).all() or not np.isfinite(a).all():
        return None
    negative, positive = z < 0, z > 0
    with np.errstate(all="ignore"):
        if negative.any() and positive.any() and np.array_equal(a[positive], z[positive]):
            if np.all(a[~positive] == 0):
                return "relu", {}
            slopes = a[negative] / z[negative]
            slope = float(slopes[0])
            if 0 < abs(slope) < 1 and np.allclose(slopes, slope, rtol=1e-9) and np.all(a[z == 0] == 0):
                return "leaky_relu", {"slope": round(slope, 12)}
        if np.ptp(z) > 1e-3:
            if _near(a, 0.5 * (1 + np.tanh(0.5 * z))):
                return "sigmoid", {}
            if _near(a, np.tanh(z)):
                return "tanh", {}
        for axis in range(z.ndim - 1, -1, -1) if z.ndim else ():
            if z.shape[axis] < 2 or np.ptp(z, axis=axis).max() < 1e-3:
                continue
            shifted = z - z.max(axis=axis, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
            if _near(a, np.exp(log_p)):
                return "softmax", {"axis": axis - z.ndim}
            if _near(a, log_p):
                return "log_softmax", {"axis": axis - z.ndim}
    return None


def _near(a: np.ndarray, b: np.ndarray) -> bool:
    tolerance = 1e-9 if a.dtype == np.float64 else 1e-5
    return bool(np.allclose(a, b, rtol=tolerance, atol=tolerance))


def find_losses(root: Tensor) -> list[Activation]:
    """A cross-entropy at the root, binary or categorical, of probabilities ``p`` against a constant target.

    Read after backward: besides the value, ``p.grad`` must have the loss's derivative form, c * (-y / p) for
    the categorical one and c * (-y / p + (1 - y) / (1 - p)) for the binary one, with one scale c > 0.
    The target (``options["target"]``) and the scale (``options["scale"]``) are kept for the variants.
    """
    if root.size != 1:
        return []
    for p, region in _single_inputs(root):
        if p.grad is None or p.data.dtype.kind != "f" or p.size < 2:
            continue
        for y in _constants_like(p, region):
            name_scale = _cross_entropy_of(float(root.data.reshape(())), p.data, np.asarray(p.grad), y)
            if name_scale is not None:
                name, scale = name_scale
                options = {"target": y, "scale": scale}
                source = root.op.source if root.op is not None and root.op.source else ""
                return [Activation(name, p, root, options, source, own=True)]
    return []


def _constants_like(p: Tensor, region: list[Tensor]) -> list[np.ndarray]:
    found: list[np.ndarray] = []
    for t in region:
        assert t.op is not None
        for parent in t.op.parents:
            if not parent.requires_grad and parent.shape == p.shape and parent.data.dtype.kind in "biuf":
                values = np.asarray(parent.data, dtype=np.float64)
                if values.min() >= 0 and values.max() <= 1 and not any(values is f for f in found):
                    found.append(values)
    return found


def _cross_entropy_of(loss: float, p: np.ndarray, grad: np.ndarray, y: np.ndarray) -> tuple[str, float] | None:
    with np.errstate(all="ignore"):
        forms = {
            "binary_cross_entropy": (-(y * np.log(p) + (1 - y) * np.log(1 - p)), -y / p + (1 - y) / (1 - p)),
            "categorical_cross_entropy": (-(y * np.log(p)), -y / p),
        }
    for name, (terms, derivative) in forms.items():
        if not (np.isfinite(terms).all() and np.isfinite(derivative).all()):
            continue
        norm = float(np.sum(derivative * derivative))
        if norm == 0:
            continue
        scale = float(np.sum(grad * derivative)) / norm
        if scale > 0 and _near(grad, scale * derivative) and _near(np.array(loss), scale * np.sum(terms)):
            return name, scale
    return None
