"""``detect_anomaly``: stop at the first operation that produces NaN or inf, and say where it was made.

The error names the primitive, its input shapes, the user's line that created
it, the first bad element with the input values there, and the usual cause for
that primitive. Checking happens in ``Function.apply`` (forward) and in
``run_backward`` (gradients) while ``state.anomaly_mode`` is on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from . import state

if TYPE_CHECKING:
    from .function import Function
    from .tensor import Tensor


class AnomalyError(FloatingPointError):
    """Raised inside ``detect_anomaly()`` when an operation's output or gradient is not finite."""


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Check every forward output and backward gradient for NaN/inf while the block runs (also a decorator).

    Slow (it records the source line of every operation and scans every
    array), so use it to find the first bad operation, not while training.
    Build the graph inside the block too: a node made outside has no source line.
    """
    previous = (state.anomaly_mode, state.record_source)
    state.anomaly_mode = state.record_source = True
    try:
        yield
    finally:
        state.anomaly_mode, state.record_source = previous


FORWARD_CAUSES = {
    "log": "log of 0 gives -inf and of a negative number NaN: clip the input (x.clip(1e-12)) or use "
    "log_softmax / logsumexp instead of log(softmax) or log(sum(exp))",
    "div": "division by 0 (or 0/0): add a small epsilon to the denominator or mask the zeros",
    "exp": "exp overflows above ~88 (float32) or ~709 (float64): subtract the max first (softmax, "
    "logsumexp) or clip the input",
    "pow": "0 to a negative power, a negative number to a fractional power (sqrt of x < 0), or overflow",
    "sub": "inf - inf: an input was already infinite (overflow earlier?)",
    "add": "inf + (-inf), or the sum overflowed",
    "mul": "0 * inf, or the product overflowed",
    "matmul": "the products or their sums overflowed: the values are too large (exploding activations?)",
    "linear": "the layer's products or sums overflowed: the weights or inputs are too large (exploding "
    "activations? unscaled 0-255 pixels? too high a learning rate?)",
    "sum": "the sum overflowed or an element was already inf/NaN",
}
BACKWARD_CAUSES = {
    "pow": "the derivative of x**p with p < 1 is infinite at x = 0 (sqrt at 0): keep the input away "
    "from 0 (e.g. (x + 1e-12).sqrt()) or mask it",
    "div": "the derivative of a / b is infinite where b = 0: keep the denominator away from 0",
    "log": "the derivative of log(x) is 1/x, infinite at x = 0: clip the input",
}


def _describe(values: np.ndarray) -> str:
    n_nan = int(np.isnan(values).sum())
    n_inf = int(np.isinf(values).sum())
    return f"{n_nan} NaN and {n_inf} inf of {values.size} values"


def _first_bad(values: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])


def _inputs_at(index: tuple[int, ...], out_shape: tuple[int, ...], inputs: tuple[Any, ...]) -> str:
    """For an elementwise operation, the inputs' values at the output's bad element."""
    values = []
    for t in inputs:
        data = np.asarray(t.data)
        try:
            values.append(f"{np.broadcast_to(data, out_shape)[index].item():.6g}")
        except ValueError:  # not elementwise: the shapes do not broadcast to the output
            return ""
    return f"; inputs there: {', '.join(values)}" if values else ""


def _scope(tensors: tuple[Any, ...]) -> str:
    """The modules whose forward was running (from the tensors' scope), e.g. ``MLP > Linear``."""
    scope = next((t.scope for t in tensors if getattr(t, "scope", ())), ())
    return " > ".join(type(m).__name__ for m in scope)


def check_forward(op: Function, inputs: tuple[Tensor, ...], out: Tensor) -> None:
    """Raise if the operation's output is not finite (naming the op, the element and the user's line)."""
    if out.data.dtype.kind != "f" or np.isfinite(out.data).all():
        return
    shapes = ", ".join(str(t.shape) for t in inputs)
    source = getattr(op, "source", None) or state.user_source_line()
    inputs_finite = all(t.data.dtype.kind != "f" or np.isfinite(t.data).all() for t in inputs)
    cause = _cause_from_inputs(op.name, inputs) or FORWARD_CAUSES.get(op.name, "")
    if not inputs_finite:
        cause = "its inputs already contained NaN or inf: they came from outside the checked block"
    index = _first_bad(out.data)
    call = out.composite
    inside = f" (in {call.label()}{f', called at {call.source}' if call.source else ''})" if call else ""
    lines = [
        f"{op.name}{inside} produced {_describe(out.data)} in its forward output.",
        f"  input shapes: {shapes} -> output shape {out.shape}",
        f"  first bad element: {index}{_inputs_at(index, out.shape, inputs)}",
        f"  created at: {source}",
    ]
    if _scope((out,)):
        lines.append(f"  inside: {_scope((out,))}")
    if cause:
        lines.append(f"  likely cause: {cause}")
    raise AnomalyError("\n".join(lines))


UNDERFLOWED_SOFTMAX = {
    "div": "the denominator is a sum of exponentials that all underflowed to 0 (exp of very negative "
    "numbers), so the softmax is 0/0. Shift each row by its own max before exp, "
    "e = exp(z - z.max(axis=1, keepdims=True)) (the result is unchanged and the largest term is 1), or "
    "compute the loss with log_softmax; an epsilon in the denominator would only hide it",
    "log": "the input is a probability made from exponentials that underflowed to 0: log(0) = -inf. "
    "Compute log-probabilities directly with log_softmax (z - logsumexp(z)), or shift each row by its "
    "own max before exp",
}


def _cause_from_inputs(name: str, inputs: tuple[Any, ...]) -> str:
    """For a division or log: the advice when the offending zeros came from underflowed exponentials."""
    if name not in UNDERFLOWED_SOFTMAX:
        return ""
    operand = inputs[-1] if name == "div" else inputs[0]
    return UNDERFLOWED_SOFTMAX[name] if _made_by_exp(operand) else ""


def _made_by_exp(t: Any, depth: int = 4) -> bool:
    """Whether ``t`` is (a sum, ratio, reshape or selection of) the output of exp, a few operations back."""
    op = getattr(t, "op", None)
    if op is None or depth == 0:
        return False
    if op.name == "exp":
        return True
    if op.name in ("sum", "div", "reshape", "index", "mul", "permute"):
        return any(_made_by_exp(parent, depth - 1) for parent in op.parents)
    return False


def check_backward(op: Function, upstream: np.ndarray, input_grads: tuple[Any, ...]) -> None:
    """Raise if the gradient an operation passes to its inputs is not finite."""
    for position, grad in enumerate(input_grads):
        if grad is None:
            continue
        grad = np.asarray(grad)
        if np.isfinite(grad).all():
            continue
        shapes = ", ".join(str(p.shape) for p in op.parents)
        received_finite = bool(np.isfinite(upstream).all())
        cause = BACKWARD_CAUSES.get(op.name, "") if received_finite else "the gradient it received was not finite"
        lines = [
            f"{op.name}.backward produced {_describe(grad)} in the gradient of input {position}.",
            f"  input shapes: {shapes}",
            f"  first bad element: {_first_bad(grad)}",
            f"  created at: {op.source or '<unknown: the graph was built outside detect_anomaly()>'}",
        ]
        if _scope(op.parents):
            lines.append(f"  inside: {_scope(op.parents)}")
        if cause:
            lines.append(f"  likely cause: {cause}")
        raise AnomalyError("\n".join(lines))
