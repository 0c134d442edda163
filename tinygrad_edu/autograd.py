"""Reverse-mode autodiff: walk the graph from the output back to the leaves.

Every tensor gets a sequence number when it is created. A tensor's inputs
always exist before it does, so they have smaller numbers: visiting tensors
from the highest number down reaches each one only after every tensor
computed from it, which is exactly when its gradient is complete.

``run_backward`` keeps the tensors that have received a gradient in a heap
and takes the highest number each time (as PyTorch's engine does): no
recursion, so a chain of 10,000 operations is fine, and no separate sorting
pass. For each tensor, ``backward_step`` hands its gradient to the primitive
that made it and checks what that primitive's ``backward`` returns (one
gradient per input, of the input's shape and dtype); the loop adds gradients
reaching the same tensor along several paths and schedules the inputs.
``topological_order`` lists the same order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Optional

import numpy as np

from . import state
from .anomaly import check_backward

if TYPE_CHECKING:
    from .function import Function
    from .tensor import Tensor

_ndarray = np.ndarray  # a gradient's type, compared with `is` on the hot path
StepCallback = Callable[["Tensor", np.ndarray, tuple[Optional[np.ndarray], ...]], None]


def topological_order(root: Tensor) -> list[Tensor]:
    """Tensors that require grad, reachable from ``root``, in the order backward visits them (root first).

    Highest sequence number first: a tensor comes only after every tensor in
    the graph that was computed from it, because those were created later.
    """
    order = []
    heap = [(-root._sequence, root)]
    queued = {id(root)}
    while heap:
        tensor = heapq.heappop(heap)[1]
        order.append(tensor)
        if tensor.op is not None:
            for parent, needed in zip(tensor.op.parents, tensor.op.needs_input_grad):
                if needed and id(parent) not in queued:
                    queued.add(id(parent))
                    heapq.heappush(heap, (-parent._sequence, parent))
    return order


def sum_to_shape(
    grad: np.ndarray, shape: tuple[int, ...], op: Function, out_shape: tuple[int, ...] | None = None
) -> np.ndarray:
    """Undo broadcasting: sum the axes along which an input of ``shape`` was stretched.

    Only a shape that broadcasting the input could have produced is reduced: aligned from the
    right, every axis where ``grad`` differs from ``shape`` must be an axis of the node's output
    (``out_shape``) of that same size. Anything else is a wrong backward, reported by name.
    """
    if grad.shape[1:] == shape and (out_shape is None or out_shape == grad.shape):
        return np.add.reduce(grad, axis=0)  # the common case: a bias added to every row of a batch
    if out_shape is not None and not _could_broadcast_to(grad.shape, shape, out_shape):
        raise _bad_gradient_shape(op, grad.shape, shape)
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise _bad_gradient_shape(op, grad.shape, shape)
    stretched = tuple(i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    if stretched:
        grad = np.add.reduce(grad, axis=stretched, keepdims=True)
    if extra:
        grad = np.add.reduce(grad, axis=tuple(range(extra)))
    if grad.shape != shape:
        raise _bad_gradient_shape(op, grad.shape, shape)
    return grad


def _could_broadcast_to(grad_shape: tuple[int, ...], shape: tuple[int, ...], out_shape: tuple[int, ...]) -> bool:
    """Whether ``grad_shape`` is ``shape`` stretched along axes (aligned from the right) that the output has."""
    if not len(shape) <= len(grad_shape) <= len(out_shape):
        return False
    padded = (1,) * (len(grad_shape) - len(shape)) + shape
    for axis_from_right, (n_grad, n_input) in enumerate(zip(reversed(grad_shape), reversed(padded))):
        if n_grad == n_input:
            continue
        if n_input != 1 or out_shape[-1 - axis_from_right] != n_grad:
            return False
    return True


def _bad_gradient_shape(op: Function, grad_shape: tuple[int, ...], shape: tuple[int, ...]) -> ValueError:
    return ValueError(
        f"{op.name}.backward returned a gradient of shape {grad_shape} for an input of shape {shape}; "
        f"a gradient must have its input's shape (or the shape the input was broadcast to in this "
        f"operation). Check the backward of {type(op).__name__}."
    )


def run_backward(
    root: Tensor, grad: np.ndarray, retain_graph: bool = False, on_step: StepCallback | None = None
) -> None:
    """Propagate ``grad`` (dL/d root) to every tensor in root's graph that requires grad.

    Every visited tensor gets ``.grad`` (leaves accumulate across calls). Unless
    ``retain_graph``, each node's saved arrays are released afterwards.
    ``on_step(tensor, upstream, input_grads)`` is called after each node, for
    tools that show the reverse pass step by step.
    """
    # Keyed by sequence number: unique per tensor like id(), and never changed (in-place
    # operators keep a tensor's number or make a new tensor), but already at hand (no call).
    pending: dict[int, np.ndarray] = {root._sequence: grad}  # gradients received, for tensors not yet visited
    waiting = [(-root._sequence, root)]  # those tensors, as a heap: highest sequence number first
    leaf_grads: set[int] = set()  # arrays (and their bases) handed to leaves in this pass
    anomaly_mode = state.anomaly_mode
    pop, push = heapq.heappop, heapq.heappush  # looked up once, not once per node
    while waiting:
        negative_sequence, tensor = pop(waiting)
        upstream = pending.pop(-negative_sequence)
        op = tensor.op
        if op is None:
            _store_leaf_grad(tensor, upstream, leaf_grads)
            continue
        input_grads = backward_step(tensor, op, upstream)
        for parent, parent_grad in zip(op.parents, input_grads):
            if parent_grad is None:
                continue
            key = parent._sequence
            previous = pending.get(key)
            if previous is None:  # its first gradient: it joins the waiting tensors
                pending[key] = parent_grad
                push(waiting, (-key, parent))
            else:
                pending[key] = _added(previous, parent_grad)
        if anomaly_mode:
            check_backward(op, upstream, tuple(input_grads))
        if on_step is not None:
            on_step(tensor, upstream, tuple(input_grads))
        if not retain_graph:
            op.saved_tensors = ()
            op.released = True
            op.locked = None  # unlocks the saved arrays (locks.Lock)


def backward_step(tensor: Tensor, op: Function, upstream: np.ndarray) -> Sequence[np.ndarray | None]:
    """One node of the reverse pass: keep ``tensor``'s gradient, run its op's backward, check the result.

    Returns one gradient per input of ``op``, each of that input's shape and
    dtype (None where no gradient is needed).
    """
    if op.released:
        raise RuntimeError(
            f"backward through the graph a second time: the arrays that {op.name} saved for its "
            f"derivative were freed after the first backward() to save memory. Recompute the "
            f"forward pass (e.g. loss = model(x); loss.backward()) for each backward; pass "
            f"retain_graph=True to the first backward() only if you really need two passes."
        )
    if tensor.grad is None:
        # An intermediate's gradient may be the very array passed on to its inputs: read-only.
        upstream.setflags(False)  # type: ignore[call-arg]  # positional: NumPy parses keywords slowly
        tensor.grad = upstream
    else:
        tensor.grad = _added(tensor.grad, upstream)  # retain_graph: a second pass accumulates
    input_grads = op.backward(op, upstream)
    if op.exact_gradient and type(input_grads[0]) is _ndarray:
        return input_grads  # a one-input primitive: its gradient fits by construction (see Function)
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    if len(input_grads) != len(op.parents):
        raise ValueError(
            f"{op.name}.backward returned {len(input_grads)} gradient(s) for {len(op.parents)} "
            f"input(s); return one per input (None where no gradient is needed)."
        )
    for parent, parent_grad, needed in zip(op.parents, input_grads, op.needs_input_grad):
        if parent_grad is None:
            continue
        target = parent.data
        if not (
            needed
            and type(parent_grad) is _ndarray
            and parent_grad.shape == target.shape
            and (parent_grad.dtype is target.dtype or parent_grad.dtype == target.dtype)  # `is`: cheap, usual
        ):
            return _conformed(tensor, op, input_grads)  # e.g. a bias's gradient, a mean's NumPy scalar
    return input_grads  # the usual case, checked without enumerate or a copy: every gradient fits


def _conformed(tensor: Tensor, op: Function, input_grads: Sequence[object]) -> list[np.ndarray | None]:
    """The gradients, with each unrequested one dropped and each other one conformed to its input."""
    converted: list[np.ndarray | None] = []
    for parent, parent_grad, needed in zip(op.parents, input_grads, op.needs_input_grad):
        if parent_grad is None or not needed:  # not needed: a custom Function may compute one anyway
            converted.append(None)
        else:
            converted.append(_conform(parent_grad, parent.data, op, tensor.data.shape))
    return converted


def _conform(grad: object, target: np.ndarray, op: Function, out_shape: tuple[int, ...]) -> np.ndarray:
    """A gradient with the shape (broadcast axes summed) and dtype of its input, or a clear error."""
    array = grad if isinstance(grad, np.ndarray) else _numeric(grad, op)
    if array.shape != target.shape:
        array = sum_to_shape(array, target.shape, op, out_shape)
    if array.dtype != target.dtype:
        array = _numeric(array, op).astype(target.dtype)  # float32 stays float32
    return array


def _numeric(grad: object, op: Function) -> np.ndarray:
    """A gradient a backward returned, as a numeric array; a clear error for anything else."""
    try:
        array = np.asarray(grad)
    except (TypeError, ValueError):  # e.g. a ragged list
        array = np.empty(0, dtype=object)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{op.name}.backward returned a gradient of type {type(grad).__name__} "
            f"({str(grad)[:40]!r}); a gradient must be a numeric array (or a number). "
            f"Check the backward of {type(op).__name__}."
        )
    return array


def _added(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a + b`` as an array: NumPy turns the sum of two 0-d arrays into a scalar (``numpy.float32``),
    which a scalar parameter's ``.grad`` must not be (optimizers and ``.grad[...] = 0`` need an array)."""
    total = a + b
    return total if type(total) is _ndarray else np.asarray(total)


def _store_leaf_grad(tensor: Tensor, grad: np.ndarray, leaf_grads: set[int]) -> None:
    """Set or accumulate a leaf's ``.grad``: an array of its own, shared with no other tensor.

    The user owns leaf gradients (optimizers read them, people edit them in
    place), so a gradient that is read-only (an intermediate's, or a view of
    one) or already given to another leaf is copied.
    """
    if tensor.grad is not None:
        tensor.grad = _added(tensor.grad, grad)  # a new array: nothing else sees the sum
        return
    base = grad.base
    if not grad.flags.writeable or id(grad) in leaf_grads or (base is not None and id(base) in leaf_grads):
        grad = grad.copy()  # shared: the leaf gets its own (a copy is a view of nothing)
    elif base is not None:
        leaf_grads.add(id(base))
    tensor.grad = grad
    leaf_grads.add(id(grad))
