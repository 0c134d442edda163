"""In-place operators ``+=``, ``-=``, ``*=``, ``/=`` and ``zero_()`` / ``fill_()``, with PyTorch's rules.

- Under ``no_grad`` (and whenever nothing involved requires grad) they change
  the tensor's values and keep the object, so the manual SGD step
  ``for p in model.parameters(): p -= lr * p.grad`` updates the model.
- With recording on, a leaf that requires grad (a parameter) refuses them, as
  in PyTorch: the update is not part of the model, so it belongs in ``no_grad``.
- With recording on, a tensor computed in the graph (or any tensor combined
  with one that requires grad) is not changed: ``loss += term`` rebinds
  ``loss`` to the new tensor ``loss + term``, as JAX does for its immutable
  arrays, so accumulating in a forward records the right graph. ``zero_()``
  and ``fill_()`` have no result to rebind, so there they raise.

If a live graph saved the tensor's array, the tensor gets a new array first
(``locks.writable_data``): the graph keeps the values it was computed from.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from . import state
from .locks import writable_data

if TYPE_CHECKING:
    from .tensor import Tensor

_OPERATORS: dict[str, tuple[np.ufunc, Callable[[Any, Any], Any]]] = {
    "+=": (np.add, operator.add),
    "-=": (np.subtract, operator.sub),
    "*=": (np.multiply, operator.mul),
    "/=": (np.true_divide, operator.truediv),
}


def augmented(tensor: Tensor, other: Any, symbol: str) -> Tensor:
    """``tensor <symbol> other``: in place (returning ``tensor``) or, in a recorded graph, a new tensor."""
    ufunc, out_of_place = _OPERATORS[symbol]
    if state.grad_enabled and (tensor._requires_grad or getattr(other, "_requires_grad", False)):
        if tensor._requires_grad and tensor.op is None:
            raise _leaf_error(tensor, symbol, f"w {symbol} lr * w.grad")
        return out_of_place(tensor, other)  # the name is rebound to a new node of the graph
    values = tensor._operand(other, symbol).data
    if np.broadcast_shapes(tensor.shape, values.shape) != tensor.shape:
        raise ValueError(
            f"{symbol}: a tensor of shape {tensor.shape} cannot be updated in place with shape "
            f"{values.shape}: the result would have shape "
            f"{np.broadcast_shapes(tensor.shape, values.shape)}. Write t = t {symbol[0]} other for a new tensor."
        )
    result_dtype = np.result_type(tensor.dtype, values.dtype, np.float64 if ufunc is np.true_divide else np.bool_)
    if not np.can_cast(result_dtype, tensor.dtype, "same_kind"):
        raise TypeError(
            f"{symbol}: the result would be {result_dtype}, which cannot be stored in place in this "
            f"{tensor.dtype} tensor; write t = t {symbol[0]} other for a new tensor (or convert t first)."
        )
    data = writable_data(tensor)
    ufunc(data, values, out=data, casting="unsafe")
    return tensor


def fill(tensor: Tensor, value: Any, method: str) -> Tensor:
    """Set every element to ``value`` in place (``zero_()``, ``fill_(value)``); returns ``tensor``."""
    if isinstance(value, type(tensor)) and value.size == 1:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{method}: the value must be a number, got {type(value).__name__} {value!r}")
    if state.grad_enabled and tensor._requires_grad:
        if tensor.op is None:
            raise _leaf_error(tensor, method, f"w.{method.replace('value', '0.5')}")
        raise RuntimeError(
            f"{method} on a tensor computed in the graph (by {tensor.op.name}): it would have to change a "
            f"recorded value, and there is no result to rebind. Make a new tensor instead, e.g. "
            f"h = h * 0, or call it under no_grad() if the graph no longer matters."
        )
    writable_data(tensor).fill(value)
    return tensor


def _leaf_error(tensor: Tensor, what: str, example: str) -> RuntimeError:
    label = f" {tensor.name!r}" if tensor.name else ""
    return RuntimeError(
        f"{what} on the leaf tensor{label} (shape {tensor.shape}) that requires grad, while "
        f"operations are being recorded: an update of a parameter is not part of the model (PyTorch "
        f"refuses it too). Make the update with recording off:\n"
        f"    with no_grad():\n"
        f"        {example}\n"
        f"or use an optimizer from nn.optim."
    )
