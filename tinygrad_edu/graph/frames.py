"""The reverse pass as a slide show: one drawing per step of backward.

``backward_frames(loss)`` runs the backward pass itself, recording each step
through ``run_backward``'s ``on_step`` hook. Frame k shows the node being
processed (magenta border), the gradient it received (complete: all its
consumers were processed before it), and on each edge to its inputs the local
derivative and what this step adds to the input's gradient. Every other node
shows the gradient accumulated so far, so fan-out sums build up frame by frame.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd import run_backward, sum_to_shape
from ..primitives import PRIMITIVES
from .emit import GradientOf, StepMarks, values_text
from .model import ELEMENTWISE, backward_numbers
from .render import paint, plan

if TYPE_CHECKING:
    from ..tensor import Tensor
    from .drawing import Drawing


@dataclass
class Step:
    """What one backward step did: the node, the gradient it received, and what it sent to each input."""

    tensor: Tensor
    upstream: np.ndarray
    sent: list[np.ndarray | None]  # per input: its share of the gradient (input's shape), None if not needed
    local: list[np.ndarray | None]  # per input: the local derivative, where it is a plain array (see below)


def backward_frames(tensor: Tensor, **options: Any) -> list[Drawing]:
    """Run ``tensor.backward()`` and return one drawing per step of it (options as for ``draw``).

    Call it instead of ``loss.backward()``, on a freshly computed loss: it is
    the backward pass. Best for small graphs (a neuron, a tiny MLP).

    Examples
    --------
    >>> from tinygrad_edu import Tensor
    >>> w = Tensor([2.0], requires_grad=True, name="w")
    >>> frames = backward_frames((w * w).sum())
    >>> len(frames), w.grad
    (2, array([4.], dtype=float32))
    """
    roots, graph, style = plan(tensor, **options)
    root = roots[0]
    if len(roots) != 1 or not root.requires_grad or root.size != 1:
        raise ValueError("backward_frames needs one tensor with a single element that requires grad: the loss")
    if root.grad is not None or (root.op is not None and root.op.released):
        raise ValueError(
            "backward_frames runs the backward pass itself, but this loss has been backpropagated already. "
            "Compute the loss again and call backward_frames(loss) instead of loss.backward()."
        )
    steps = record_backward(root)
    style = dataclasses.replace(style, numbers=backward_numbers(roots))
    received: dict[int, np.ndarray] = {id(root): np.ones(root.shape, root.dtype)}
    arrived: dict[int, int] = {}
    frames = []
    for number, step in enumerate(steps, start=1):
        op = step.tensor.op
        assert op is not None
        marks = StepMarks(current=id(step.tensor))
        marks.notes[id(step.tensor)] = [f"▶ step {number}: its gradient is complete"]
        for parent, share, local in zip(op.parents, step.sent, step.local):
            if share is None:
                continue
            received[id(parent)] = share if id(parent) not in received else received[id(parent)] + share
            arrived[id(parent)] = arrived.get(id(parent), 0) + 1
            marks.edge_notes[(id(parent), id(step.tensor))] = _chain_rule(
                step.upstream, local, share, style.show_values
            )
        for key, count in arrived.items():
            if count < graph.uses.get(key, 0):
                marks.notes[key] = [f"so far: {count} of {graph.uses[key]} uses"]
        title = f"backward step {number} of {len(steps)}: {op.name}"
        frame_style = dataclasses.replace(style, title=f"{style.title}: {title}" if style.title else title)
        frames.append(paint(graph, frame_style, _lookup(dict(received)), True, None, marks))
    return frames


def _lookup(grads: dict[int, np.ndarray]) -> GradientOf:
    return lambda tensor: grads.get(id(tensor))


def record_backward(root: Tensor) -> list[Step]:
    """Run backward from ``root`` (seed 1) and return its steps, in the order backward made them."""
    steps: list[Step] = []

    def on_step(tensor: Tensor, upstream: np.ndarray, input_grads: tuple[np.ndarray | None, ...]) -> None:
        op = tensor.op
        assert op is not None
        sent = [
            None if g is None or not needed else sum_to_shape(np.asarray(g), p.shape, op).astype(p.dtype)
            for p, g, needed in zip(op.parents, input_grads, op.needs_input_grad)
        ]
        steps.append(Step(tensor, upstream, sent, _local_derivatives(tensor, upstream)))

    run_backward(root, np.ones(root.shape, root.dtype), on_step=on_step)
    return steps


def _local_derivatives(tensor: Tensor, upstream: np.ndarray) -> list[np.ndarray | None]:
    """d(output)/d(input) for each input, where that is a plain array: elementwise operations and
    operations with a scalar output. It is the primitive's backward applied to a gradient of ones
    (called here, while its saved arrays still exist). Otherwise (e.g. matmul) it is a Jacobian
    matrix, and only the product with the upstream gradient is shown."""
    op = tensor.op
    assert op is not None
    if type(op) not in PRIMITIVES or not (op.name in ELEMENTWISE or tensor.size == 1):
        return [None] * len(op.parents)
    grads = op.backward(op, np.ones_like(upstream))
    return [None if g is None else np.asarray(g) for g in grads]


def _chain_rule(upstream: np.ndarray, local: np.ndarray | None, share: np.ndarray, show_values: int) -> list[str]:
    """Edge text: the local derivative and what the step sends, as ``upstream × local = sent`` when small."""
    sent = _brief(share, show_values)
    if local is None:
        return [f"sends {sent}"]
    lines = [f"local derivative {_brief(local, show_values)}"]
    if upstream.size == 1 and local.size <= show_values and share.size <= show_values:
        return [*lines, f"sends {_brief(upstream, 1)} × {_brief(local, show_values)} = {sent}"]
    return [*lines, f"sends {sent}"]


def _brief(array: np.ndarray, show_values: int) -> str:
    if array.size <= show_values:
        return values_text(array)
    return f"‖·‖ = {float(np.linalg.norm(array.astype(np.float64))):.1e}"
