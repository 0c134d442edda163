"""``detect_anomaly``: stop at the first operation that produces NaN or inf, and say where it was made."""

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
    """Check every forward output and backward gradient for NaN/inf while the block runs.

    Slow (it records the source line of every operation and scans every
    array), so use it to find the first bad operation, not while training.
    """
    previous = (state.anomaly_mode, state.record_source)
    state.anomaly_mode = state.record_source = True
    try:
        yield
    finally:
        state.anomaly_mode, state.record_source = previous


def _describe(values: np.ndarray) -> str:
    n_nan = int(np.isnan(values).sum())
    n_inf = int(np.isinf(values).sum())
    return f"{n_nan} NaN and {n_inf} inf of {values.size} values"


def check_forward(op: Function, inputs: tuple[Tensor, ...], out: Tensor) -> None:
    """Raise if the operation's output is not finite (naming the op and the user's line)."""
    if out.data.dtype.kind != "f" or np.isfinite(out.data).all():
        return
    shapes = ", ".join(str(t.shape) for t in inputs)
    source = getattr(op, "source", None) or state.user_source_line()
    inputs_finite = all(t.data.dtype.kind != "f" or np.isfinite(t.data).all() for t in inputs)
    cause = "" if inputs_finite else " (its inputs already contained NaN or inf)"
    raise AnomalyError(
        f"{op.name} produced {_describe(out.data)} in its forward output{cause}.\n"
        f"  input shapes: {shapes} -> output shape {out.shape}\n"
        f"  created at: {source}"
    )


def check_backward(op: Function, upstream: np.ndarray, input_grads: tuple[Any, ...]) -> None:
    """Raise if the gradient an operation passes to its inputs is not finite."""
    for position, grad in enumerate(input_grads):
        if grad is None:
            continue
        grad = np.asarray(grad)
        if np.isfinite(grad).all():
            continue
        shapes = ", ".join(str(p.shape) for p in op.parents)
        upstream_note = "" if np.isfinite(upstream).all() else " (the gradient it received was not finite)"
        raise AnomalyError(
            f"{op.name}.backward produced {_describe(grad)} in the gradient of input {position}"
            f"{upstream_note}.\n"
            f"  input shapes: {shapes}\n"
            f"  created at: {op.source or '<unknown: the graph was built outside detect_anomaly()>'}"
        )
