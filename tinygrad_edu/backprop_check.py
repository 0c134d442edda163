"""``check_backprop``: compare hand-derived gradients with autodiff, per parameter, and name the mistake.

The user writes the forward pass once with Tensor operations (they mirror
NumPy: ``@``, ``.T``, ``.exp()``, ``.sum(axis=...)``, ``.relu()``, ...) and
hands over their own gradients. Autodiff, in float64, gives the true ones; the
patterns of ``bug_patterns.py`` explain a difference only when they reproduce
it exactly.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from . import primitives as P
from . import state
from .activation_calls import Call, Mutation, watch_activations
from .bug_patterns import (
    VARIANTS,
    Diagnosis,
    KnownVariant,
    close,
    factor_pattern,
    shape_pattern,
    weight_decay_pattern,
)
from .tensor import Tensor

Gradients = Mapping[str, Any]
GradientSource = Union[Gradients, Callable[[], Union[Gradients, tuple[float, Gradients]]]]


@dataclass
class ParameterCheck:
    """One parameter: your gradient against autodiff's, and the named mistake if one fits."""

    name: str
    shape: tuple[int, ...]
    status: str  # "ok", "wrong", "wrong shape", "missing"
    relative_error: float | None = None
    worst_index: tuple[int, ...] | None = None
    yours: float | None = None
    true: float | None = None
    diagnosis: Diagnosis | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class BackpropReport:
    """Truthy when every gradient (and the loss, if given) matches; ``str()`` explains each mismatch."""

    parameters: list[ParameterCheck]
    true_loss: float
    your_loss: float | None = None
    loss_ok: bool = True
    loss_diagnosis: Diagnosis | None = None
    float_event: str | None = None
    findings: list[str] = field(default_factory=list)
    extra_names: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.loss_ok and all(p.ok for p in self.parameters)

    def __str__(self) -> str:
        wrong = sum(not p.ok for p in self.parameters)
        head = "all gradients match" if wrong == 0 else f"{wrong} of {len(self.parameters)} gradients wrong"
        lines = [f"check_backprop: {head} (autodiff in float64)"]
        lines += _table(self.parameters)
        if self.your_loss is not None:
            verdict = "ok" if self.loss_ok else "WRONG"
            lines.append(f"loss: yours {self.your_loss:.6g}, autodiff {self.true_loss:.6g}: {verdict}")
        explained: dict[str, list[str]] = {}  # one explanation, listing every parameter it applies to
        for p in self.parameters:
            if not p.ok:
                explained.setdefault(_explain(p.diagnosis, p.status), []).append(p.name)
        lines += [f"{', '.join(names)}: {text}" for text, names in explained.items()]
        if not self.loss_ok:
            lines.append(f"loss: {_explain(self.loss_diagnosis, 'wrong')}")
        if self.float_event:
            lines.append(f"first floating-point problem in your gradient code: {self.float_event}")
        if self.extra_names:
            lines.append(f"gradients for unknown names (ignored): {', '.join(self.extra_names)}")
        lines += [f"warning: {finding}" for finding in self.findings]
        return "\n".join(lines)


def check_backprop(
    forward: Callable[..., Tensor],
    params: Mapping[str, Any],
    grads: GradientSource,
    *,
    loss: float | None = None,
    batch_size: int | None = None,
    atol: float = 1e-7,
    rtol: float = 1e-5,
) -> BackpropReport:
    """Check your hand-derived gradients against autodiff, and name the classic mistake when one fits.

    ``forward(**params)`` receives each parameter as a float64 Tensor by name
    and returns the scalar loss, written with Tensor operations. ``grads`` maps
    names to your gradient arrays, or is a function of no arguments that
    returns them (or ``(loss, grads)``); a function is run with NumPy's
    floating-point checks on, so the first NaN/inf in your code is located.
    ``loss`` is your loss value, if not returned by ``grads``. ``batch_size``
    lets a factor N be named as sum-vs-mean. A gradient matches when every
    element is within ``atol + rtol * max|true gradient|``.
    """
    arrays = {name: np.array(_data(value), dtype=np.float64) for name, value in params.items()}
    your_loss, yours, float_event = _user_gradients(grads)
    if loss is not None:
        your_loss = float(loss)
    true_loss, true, calls, findings = _run(forward, arrays, None)
    checks = [_compare(name, arrays[name], yours.get(name), true[name], atol, rtol) for name in arrays]
    report = BackpropReport(checks, true_loss, your_loss, _loss_matches(your_loss, true_loss, atol, rtol))
    report.float_event, report.findings = float_event, findings
    report.extra_names = sorted(set(yours) - set(arrays))
    for check in checks:
        if check.status in ("wrong", "wrong shape"):
            check.diagnosis = _array_diagnosis(np.asarray(yours[check.name], dtype=np.float64),
                                               true[check.name], arrays[check.name], atol, rtol, batch_size)
    if not report:
        _diagnose_by_variants(report, forward, arrays, yours, true, calls, atol, rtol)
    return report


def _loss_matches(yours: float | None, true: float, atol: float, rtol: float) -> bool:
    return yours is None or close(np.array(yours), np.array(true), atol, rtol)


def _data(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


# ---------------------------------------------------------------- the two sides


def _user_gradients(source: GradientSource) -> tuple[float | None, dict[str, np.ndarray], str | None]:
    """Your gradients (and loss), and the first NaN/inf-producing NumPy operation if a function made them."""
    if not callable(source):
        return None, {name: np.asarray(_data(g)) for name, g in source.items()}, None
    with _first_float_event() as event:
        result = source()
    loss = None
    if isinstance(result, tuple):
        loss, result = float(result[0]), result[1]
    return loss, {name: np.asarray(_data(g)) for name, g in result.items()}, event[0] if event else None


_NUMPY_DIR = os.path.dirname(np.__file__) + os.sep
_FLOAT_HINTS = {
    "divide by zero": "division by zero or log(0) (gives inf)",
    "invalid value": "an undefined result: 0/0, inf - inf, 0 * inf or log of a negative number (gives NaN)",
    "overflow": "overflow: a result too large for the dtype, e.g. exp of a large number (gives inf)",
}


@contextlib.contextmanager
def _first_float_event() -> Iterator[list[str]]:
    """Record where NumPy first divides by zero, overflows or makes NaN, without changing any result."""
    events: list[str] = []

    def record(kind: str, flag: int) -> None:
        if events:
            return
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename.startswith(_NUMPY_DIR):
            frame = frame.f_back  # type: ignore[assignment]
        where = "<unknown>"
        if frame is not None:
            code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
            where = f"{frame.f_code.co_filename}:{frame.f_lineno}: {code}"
        events.append(f"{_FLOAT_HINTS.get(kind, kind)}\n  at {where}")

    with np.errstate(call=record, divide="call", over="call", invalid="call", under="ignore"):
        yield events


def _run(
    forward: Callable[..., Tensor], arrays: Mapping[str, np.ndarray], mutation: Mutation | None
) -> tuple[float, dict[str, np.ndarray], list[Call], list[str]]:
    """Autodiff of ``forward`` in float64: loss, gradient per parameter, activation calls, findings."""
    tensors = {name: Tensor(a, dtype=np.float64, requires_grad=True) for name, a in arrays.items()}
    previous = state.default_dtype
    state.default_dtype = np.dtype(np.float64)
    try:
        with np.errstate(all="ignore"), watch_activations(mutation) as calls:
            out = forward(**tensors)
            if not isinstance(out, Tensor) or out.size != 1:
                raise TypeError(
                    f"check_backprop: forward must return the scalar loss as a Tensor, got "
                    f"{getattr(out, 'shape', type(out).__name__)}; reduce it (e.g. .mean()) like your loss."
                )
            if out.requires_grad:
                out.backward()
    finally:
        state.default_dtype = previous
    grads = {n: t.grad if t.grad is not None else np.zeros_like(t.data) for n, t in tensors.items()}
    findings = []
    if mutation is None:
        warnings = (output_relu_warning(call, call.source) for call in output_relus(out, calls))
        findings = [w for w in warnings if w is not None]
    return float(out.data.reshape(())), grads, calls, findings


def output_relus(loss: Tensor, calls: list[Call]) -> list[Call]:
    """ReLU calls between the last matmul (or linear layer) and the loss: they clamp the model's outputs at 0."""
    reached: set[int] = set()
    stack = [loss]
    while stack:
        tensor = stack.pop()
        if id(tensor) in reached:
            continue
        reached.add(id(tensor))
        if tensor.op is not None and not isinstance(tensor.op, (P.MatMul, P.Linear)):
            stack.extend(tensor.op.parents)
    return [c for c in calls if c.name == "relu" and id(c.output) in reached]


def output_relu_warning(call: Call, where: str) -> str | None:
    """What is wrong with a ReLU on the output, if some outputs are clamped (None if none is)."""
    zeros = int(np.sum(call.output.data == 0))
    if not zeros:
        return None
    return (
        f"a ReLU is applied to the model's output ({where}): {zeros} of {call.output.size} outputs are "
        f"clamped at 0 and get no gradient, and no output can be negative. A regression output takes no "
        f"activation: remove it."
    )


# ---------------------------------------------------------------- comparing and explaining


def _compare(
    name: str, param: np.ndarray, yours: Any, true: np.ndarray, atol: float, rtol: float
) -> ParameterCheck:
    if yours is None:
        return ParameterCheck(name, param.shape, "missing")
    yours = np.asarray(yours, dtype=np.float64)
    if yours.shape != true.shape:
        return ParameterCheck(name, param.shape, "wrong shape")
    if close(yours, true, atol, rtol):
        return ParameterCheck(name, param.shape, "ok", _relative(yours, true))
    with np.errstate(all="ignore"):
        error = np.where(np.isfinite(yours) & np.isfinite(true), np.abs(yours - true), np.inf)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), error.shape))
    relative = _relative(yours, true)
    return ParameterCheck(name, param.shape, "wrong", relative, worst, yours[worst], true[worst])


def _relative(yours: np.ndarray, true: np.ndarray) -> float:
    norm = float(np.linalg.norm(true))
    with np.errstate(all="ignore"):
        difference = float(np.linalg.norm(yours - true))
    return difference / norm if norm > 0 else difference


def _array_diagnosis(
    yours: np.ndarray, true: np.ndarray, param: np.ndarray, atol: float, rtol: float, batch_size: int | None
) -> Diagnosis | None:
    if yours.shape != true.shape:
        return shape_pattern(yours, true, atol, rtol)
    if not (np.isfinite(yours).all() and np.isfinite(true).all()):
        return None
    if yours.ndim == 2 and yours.shape[0] == yours.shape[1]:
        transposed = shape_pattern(yours, true, atol, rtol)
        if transposed is not None:
            return transposed
    return factor_pattern(yours, true, atol, rtol, batch_size) or weight_decay_pattern(
        yours, true, param, atol, rtol
    )


def _diagnose_by_variants(
    report: BackpropReport,
    forward: Callable[..., Tensor],
    arrays: Mapping[str, np.ndarray],
    yours: Mapping[str, np.ndarray],
    true: Mapping[str, np.ndarray],
    calls: list[Call],
    atol: float,
    rtol: float,
) -> None:
    """Rerun the forward with each known wrong activation derivative; name the ones that reproduce yours."""
    open_checks = [c for c in report.parameters if c.status == "wrong" and c.diagnosis is None]
    loss_open = not report.loss_ok
    for known in VARIANTS:
        count = sum(1 for c in calls if c.name == known.activation)
        targets: list[int | None] = list(range(count)) + ([None] if count > 1 else [])
        for index in targets:
            if not open_checks and not loss_open:
                return
            loss, grads, _, _ = _run(forward, arrays, Mutation(known.activation, index, known.variant))
            where = _location(known, index, count, calls)
            for check in list(open_checks):
                mine = np.asarray(yours[check.name], dtype=np.float64)
                variant = grads[check.name]
                if close(mine, variant, atol, rtol) and not close(variant, true[check.name], atol, rtol):
                    check.diagnosis = Diagnosis(known.mistake, known.detail, where)
                    open_checks.remove(check)
            if loss_open and _loss_matches(report.your_loss, loss, atol, rtol):
                report.loss_diagnosis = Diagnosis(known.mistake, known.detail, where)
                loss_open = False


def _location(known: KnownVariant, index: int | None, count: int, calls: list[Call]) -> str:
    if index is None:
        return f"every {known.activation} call of your forward ({count} calls)"
    source = next(c.source for c in calls if c.name == known.activation and c.index == index)
    return f"the {known.activation} call {source}"


def _explain(diagnosis: Diagnosis | None, status: str) -> str:
    if status == "missing":
        return "no gradient given for this parameter."
    if diagnosis is None:
        what = "shape mismatch" if status == "wrong shape" else "mismatch"
        return f"{what}, no known pattern (compare your derivation step by step with gradcheck)."
    where = f"\n    at: {diagnosis.location}" if diagnosis.location else ""
    return f"{diagnosis.mistake}\n    {diagnosis.detail}{where}"


def _table(checks: list[ParameterCheck]) -> list[str]:
    rows = [("parameter", "shape", "rel error", "worst index", "yours", "true", "verdict")]
    for c in checks:
        has_worst = c.worst_index is not None
        rows.append((
            c.name, str(c.shape),
            "-" if c.relative_error is None else f"{c.relative_error:.2e}",
            str(c.worst_index) if has_worst else "-",
            f"{c.yours:.6g}" if has_worst else "-",
            f"{c.true:.6g}" if has_worst else "-",
            "ok" if c.ok else c.status.upper() + (f": {c.diagnosis.mistake}" if c.diagnosis else ""),
        ))  # fmt: skip
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
