"""The `Function` base class: one node of the computation graph.

A Function is applied to tensors, computes its output with NumPy in `forward`,
and, during the backward pass, turns the gradient of its output into gradients
of its inputs in `backward`. The same object is the *context* (`ctx`) that
carries arrays from `forward` to `backward`, exactly like
`torch.autograd.Function`:

    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return (3 * x ** 2 * grad,)

    y = Cube.apply(t)

The engine's own derivatives all live in `primitives.py`; this module only
knows how to record a node and what a node holds.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from . import state
from .anomaly import check_forward
from .locks import Lock, lock

if TYPE_CHECKING:
    from .tensor import Tensor

_ndarray = np.ndarray  # compared with `is` on the hot path (an isinstance call costs more)


class Function:
    """A recorded operation: its inputs, what forward saved, and how to differentiate it.

    Subclass it and write two static methods:

    - ``forward(ctx, *arrays, **options) -> np.ndarray``: NumPy in, NumPy out.
      Call ``ctx.save_for_backward(...)`` for arrays that backward needs.
    - ``backward(ctx, grad) -> tuple``: one gradient (or ``None``) per tensor
      input, each of the input's shape, or of the broadcast shape: the engine
      sums broadcast axes away for you. ``ctx.needs_input_grad[i]`` says
      whether input ``i`` wants a gradient, so work can be skipped.

    Then call ``YourFunction.apply(*tensors, **options)``.
    """

    parents: tuple[Tensor, ...]
    options: dict[str, Any]
    needs_input_grad: tuple[bool, ...]
    saved_tensors: tuple[np.ndarray, ...] = ()
    released: bool = False  # set once backward has freed the saved arrays
    locked: Lock | None = None  # the saved arrays made read-only while this node can run backward (locks.py)
    source: str | None = None  # the user's line that made this node (detect_anomaly, gradcheck)
    # The engine checks every gradient a backward returns (one per input, the input's shape and dtype) and
    # conforms it (sums broadcast axes, converts the dtype), or names the Function in a clear error.
    # One-input primitives set this: their backward returns a tuple holding one array of the input's shape
    # and dtype by construction (tests/test_primitive_contract.py proves it for each), so only the array
    # type is checked (a 0-d result may be a NumPy scalar). A subclass that defines its own backward
    # starts at False again (__init_subclass__).
    exact_gradient: ClassVar[bool] = False

    def save_for_backward(self, *arrays: np.ndarray) -> None:
        """Keep arrays for backward. They are released after backward (unless retain_graph)."""
        self.saved_tensors = arrays

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse, when the class is defined, a forward or backward written without ``@staticmethod``."""
        super().__init_subclass__(**kwargs)
        for method in ("forward", "backward"):
            if method in cls.__dict__ and not isinstance(cls.__dict__[method], staticmethod):
                raise TypeError(
                    f"{cls.__name__}.{method} must be a @staticmethod taking ctx first, as in "
                    f"torch.autograd.Function: write '@staticmethod' above 'def {method}(ctx, ...)'."
                )
        if "backward" in cls.__dict__ and "exact_gradient" not in cls.__dict__:
            cls.exact_gradient = False  # the promise was about the inherited backward, not this new one

    @property
    def name(self) -> str:
        """Lower-case name of the operation, e.g. ``matmul``."""
        return type(self).__name__.lower()

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError("a Function subclass must define a static forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Any, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        raise NotImplementedError("a Function subclass must define a static backward(ctx, grad)")

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        """Run forward on the inputs' arrays and, if any input needs a gradient, record the node."""
        try:
            needs, arrays = _flags_and_arrays(inputs)
        except AttributeError:  # a number or an array among the inputs: it becomes a constant tensor
            inputs = _with_constants(cls.__name__.lower(), inputs)
            needs, arrays = _flags_and_arrays(inputs)
        tensor_type = type(inputs[0])  # the output is a tensor like the inputs (no import of tensor.py)
        ctx = cls()
        ctx.needs_input_grad = needs  # forward may read it too, to save only what backward will need
        try:
            out_data = cls.forward(ctx, *arrays, **options)
        except (ValueError, IndexError) as error:
            raise _explain_forward_error(ctx.name, inputs, error) from error
        if type(out_data) is not _ndarray:  # a NumPy scalar (0-d results), a list, an ndarray subclass
            out_data = np.asarray(out_data)
        if True in needs and state.grad_enabled:
            ctx.parents = inputs
            ctx.options = options
            if state.record_source:
                ctx.source = state.user_source_line()
            if ctx.saved_tensors:
                ctx.locked = lock(ctx.saved_tensors)
            out = tensor_type._make(out_data, ctx)
        else:
            out = tensor_type._make(out_data, None)
        if state.anomaly_mode:
            check_forward(ctx, inputs, out)
        return out

    def __repr__(self) -> str:
        shapes = ", ".join(str(p.shape) for p in getattr(self, "parents", ()))
        return f"<{type(self).__name__}({shapes})>"


def _flags_and_arrays(inputs: tuple[Tensor, ...]) -> tuple[tuple[bool, ...], tuple[np.ndarray, ...]]:
    """Each input's ``requires_grad`` and its array.

    One and two inputs (almost every node) are unpacked by hand: the two list
    comprehensions of the general case cost more than the rest of this function
    (W4: -3,300 CPU instructions per binary node, bench/README.md).
    """
    if len(inputs) == 2:
        a, b = inputs
        return (a._requires_grad, b._requires_grad), (a.data, b.data)
    if len(inputs) == 1:
        (x,) = inputs
        return (x._requires_grad,), (x.data,)
    return tuple([t._requires_grad for t in inputs]), tuple([t.data for t in inputs])


def _with_constants(name: str, inputs: tuple[Any, ...]) -> tuple[Tensor, ...]:
    """Numbers and arrays among ``inputs`` as constant tensors of the first tensor input's dtype."""
    like = next((x for x in inputs if hasattr(x, "_requires_grad")), None)
    if like is None:
        kinds = ", ".join(type(x).__name__ for x in inputs) or "no inputs"
        raise TypeError(f"{name}.apply: needs at least one Tensor among its inputs, got {kinds}")
    return tuple(x if isinstance(x, type(like)) else like._operand(x, name) for x in inputs)


def _explain_forward_error(name: str, tensors: tuple[Tensor, ...], error: Exception) -> Exception:
    """NumPy's error, prefixed with the operation and its input shapes, plus the rule to apply."""
    shapes = ", ".join(str(t.shape) for t in tensors)
    message = f"{name}: inputs of shapes {shapes}: {error}"
    if "broadcast" in str(error):
        message += (
            ". Aligned from the right, each pair of dimensions must be equal or one of them 1; "
            "reshape one operand (e.g. x.reshape(-1, 1)) or check which axis you meant."
        )
    return type(error)(message)


class no_grad(contextlib.ContextDecorator):
    """Context manager and decorator under which no graph is recorded.

    Use it for evaluation and for optimizer updates: results have
    ``requires_grad=False`` and keep no reference to their inputs.
    """

    def __enter__(self) -> None:
        self._previous = state.grad_enabled
        state.grad_enabled = False

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._previous


class enable_grad(contextlib.ContextDecorator):
    """Turn graph recording back on inside a ``no_grad`` block."""

    def __enter__(self) -> None:
        self._previous = state.grad_enabled
        state.grad_enabled = True

    def __exit__(self, *exc: object) -> None:
        state.grad_enabled = self._previous


def is_grad_enabled() -> bool:
    """Whether operations are currently being recorded for backward."""
    return state.grad_enabled


class module_scope:
    """Tag every tensor created inside with ``module`` (used by nn.Module and the graph renderer).

    A small class rather than a generator: nn.Module enters it on every call.
    """

    __slots__ = ("module", "_previous")

    def __init__(self, module: object) -> None:
        self.module = module

    def __enter__(self) -> None:
        self._previous = state.scope
        state.scope = (*self._previous, self.module)

    def __exit__(self, *exc: object) -> None:
        state.scope = self._previous
