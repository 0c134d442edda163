"""``check_backprop``: compare hand-derived gradients with autodiff, per parameter, and name the mistake.

Pass your own forward function, unchanged: it receives the parameters as
float64 Tensors, in the structure you keep them in (keywords, lists such as
``weights[1:]``, dicts), and NumPy functions and Tensor operations alike
record the graph. Autodiff of that graph gives the true gradients. The
patterns of ``bug_patterns.py`` explain a difference only when they reproduce
it exactly: an array transform of the true gradient, or the graph replayed
with one activation given a classic mistaken derivative (``replay.py``; the
activations are found in the graph by ``recognize.py``, the user's own
spellings included).
"""

from __future__ import annotations

import contextlib
import linecache
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from . import primitives as P
from . import state
from .backprop_params import Slot, build, gradients, slots
from .backprop_report import BackpropReport, ParameterCheck
from .bug_patterns import Diagnosis, close, factor_pattern, shape_pattern, weight_decay_pattern
from .bug_variants import OVERWRITTEN, VARIANTS, overwritten_by_derivative, saved_activation_overwritten
from .recognize import RELU_FAMILY, Activation, find_activations, find_losses
from .replay import Replacement, replay
from .tensor import Tensor

GradientSource = Any  # a dict (in params' structure), or a function returning it or (loss, dict)


@state.one_at_a_time
def check_backprop(
    forward: Callable[..., Tensor],
    params: Mapping[str, Any],
    grads: GradientSource,
    *,
    loss: float | None = None,
    batch_size: int | None = None,
    names: Mapping[str, Sequence[str]] | None = None,
    atol: float = 1e-7,
    rtol: float = 1e-5,
) -> BackpropReport:
    """Check your hand-derived gradients against autodiff, and name the classic mistake when one fits.

    ``forward(**params)`` is your own forward function, unchanged: it receives
    the parameters as float64 Tensors in the structure of ``params`` (a dict
    of keyword -> array, list of arrays or dict of arrays) and returns the
    scalar loss. ``grads`` holds your gradients in the same structure (or by
    the report's names), or is a function of no arguments that returns them
    (or ``(loss, grads)``); a function is run with NumPy's floating-point
    checks on, so the first NaN/inf in your code is located. ``loss`` is your
    loss value, if not returned by ``grads``. ``batch_size`` lets a factor N
    be named as sum-vs-mean. ``names`` names the arrays of a list in the
    report, e.g. ``names={"weights": ["W1", "W2"]}`` (default ``weights[0]``).
    A gradient matches when every element is within ``atol + rtol * max|true gradient|``.
    """
    if not callable(forward):
        raise TypeError(f"check_backprop: forward must be your forward function, got {type(forward).__name__}")
    layout = slots(params, names)
    arrays = {slot.name: array for slot, array in layout}
    your_loss, result, float_event = _user_gradients(grads)
    yours, extra = gradients(result, [slot for slot, _ in layout], params)
    if loss is not None:
        your_loss = float(loss)
    run = _Run(forward, params, layout)
    true = run.gradients
    checks = [_compare(name, arrays[name], yours.get(name), true[name], atol, rtol) for name in arrays]
    report = BackpropReport(checks, run.loss, your_loss, _loss_matches(your_loss, run.loss, atol, rtol))
    report.float_event, report.extra_names = float_event, extra
    report.reference_problem = _reference_problem(run)
    if report.reference_problem is not None:
        report.parameters = [ParameterCheck(c.name, c.shape, "reference not finite") for c in checks]
        report.loss_ok = False
        return report
    report.findings = [w for w in (output_relu_warning(a) for a in output_relus(run.output, run.activations)) if w]
    averaged = _averaged_shapes(run.output)
    for check in checks:
        if check.status in ("wrong", "wrong shape"):
            check.diagnosis = _array_diagnosis(np.asarray(yours[check.name], dtype=np.float64),
                                               true[check.name], arrays[check.name], atol, rtol, batch_size,
                                               averaged)  # fmt: skip
    if not report.loss_ok:
        report.loss_diagnosis = _penalty_in_the_loss(report, atol, rtol)
    if not report:
        _diagnose_by_variants(report, run, yours, atol, rtol)
        _diagnose_overwritten(report, run, yours, atol, rtol)
    return report


def _penalty_in_the_loss(report: BackpropReport, atol: float, rtol: float) -> Diagnosis | None:
    """If the penalties found in the gradients also account for your loss's difference, that is the loss's story."""
    penalties = [p.diagnosis for p in report.parameters if p.diagnosis and p.diagnosis.loss_difference is not None]
    if not penalties or report.your_loss is None:
        return None
    expected = report.true_loss + sum(d.loss_difference or 0.0 for d in penalties)
    if not _loss_matches(report.your_loss, expected, atol, rtol):
        return None
    return Diagnosis(
        penalties[0].mistake,
        "your loss differs from autodiff's by exactly the penalty difference found in the gradients above: "
        "your hand-written forward uses the same penalty as your gradient, the forward you passed another. "
        "Decide which penalty you mean and write it in both.",
    )


def _loss_matches(yours: float | None, true: float, atol: float, rtol: float) -> bool:
    return yours is None or close(np.array(yours), np.array(true), atol, rtol)


# ---------------------------------------------------------------- the two sides


class _Run:
    """Autodiff of the user's forward in float64: the loss tensor, its graph, the true gradients."""

    def __init__(self, forward: Callable[..., Tensor], params: Mapping[str, Any],
                 layout: list[tuple[Slot, np.ndarray]]) -> None:  # fmt: skip
        by_place = {(slot.keyword, slot.inner): (slot.name, array) for slot, array in layout}
        self.leaves: dict[str, Tensor] = {}

        def make(slot: Slot) -> Tensor:
            name, array = by_place[(slot.keyword, slot.inner)]
            self.leaves[name] = Tensor(array, dtype=np.float64, requires_grad=True)
            return self.leaves[name]

        previous = state.default_dtype, state.record_source
        state.default_dtype, state.record_source = np.dtype(np.float64), True
        try:
            with np.errstate(all="ignore"):
                out = forward(**build(params, make))
                if not isinstance(out, Tensor) or out.size != 1:
                    raise TypeError(
                        f"check_backprop: forward must return the scalar loss as a Tensor, got "
                        f"{getattr(out, 'shape', type(out).__name__)}; reduce it (e.g. .mean()) like your loss."
                    )
                if out.requires_grad:
                    out.backward()
        finally:
            state.default_dtype, state.record_source = previous
        self.output = out
        self.loss = float(out.data.reshape(()))
        self.gradients = {n: t.grad if t.grad is not None else np.zeros_like(t.data) for n, t in self.leaves.items()}
        self.activations = find_activations(out) + find_losses(out) if out.requires_grad else []

    def variant(self, swaps: Mapping[int, Replacement]) -> tuple[float, dict[str, np.ndarray]]:
        """Loss and gradients of the same graph with some tensors computed by ``swaps``."""
        new = {name: Tensor(t.data, dtype=np.float64, requires_grad=True) for name, t in self.leaves.items()}
        with np.errstate(all="ignore"):
            out = replay(self.output, {id(self.leaves[n]): t for n, t in new.items()}, swaps)
            if out.requires_grad:
                out.backward()
        grads = {n: t.grad if t.grad is not None else np.zeros_like(t.data) for n, t in new.items()}
        return float(out.data.reshape(())), grads


def _user_gradients(source: GradientSource) -> tuple[float | None, Any, str | None]:
    """Your gradients (and loss), and the first NaN/inf-producing NumPy operation if a function made them."""
    if not callable(source):
        return None, source, None
    with _first_float_event() as event:
        result = source()
    loss = None
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], Mapping):
        loss, result = float(result[0]), result[1]
    return loss, result, event[0] if event else None


def _reference_problem(run: _Run) -> str | None:
    """If autodiff's own loss or gradients are NaN/inf: where the forward first makes them."""
    bad_grads = [n for n, g in run.gradients.items() if not np.isfinite(g).all()]
    if np.isfinite(run.loss) and not bad_grads:
        return None
    first = _first_nonfinite(run.output)
    if first is not None:
        return (
            f"the forward produces NaN/inf, so there is no true gradient to compare with (your gradients are "
            f"not judged): first at {_describe_node(first)}. Fix the forward (run it under detect_anomaly() "
            f"for the likely cause), then check again."
        )
    return (
        f"the forward is finite but autodiff's gradient of {', '.join(bad_grads)} is NaN/inf: an operation with "
        f"an infinite derivative at these inputs (sqrt or x**p, p < 1, at 0; log at 0). Move the inputs off "
        f"that point (or run loss.backward() under detect_anomaly() to find it); your gradients are not judged."
    )


def _first_nonfinite(root: Tensor) -> Tensor | None:
    seen: dict[int, Tensor] = {}
    stack = [root]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen[id(t)] = t
        if t.op is not None:
            stack.extend(t.op.parents)
    bad = [t for t in seen.values() if t.op is not None and t.data.dtype.kind == "f" and not np.isfinite(t.data).all()]
    return min(bad, key=lambda t: t._sequence) if bad else None


def _describe_node(t: Tensor) -> str:
    assert t.op is not None
    inside = f" (in {t.composite.label()}, called at {t.composite.source})" if t.composite is not None else ""
    return f"{t.op.name}{inside}, created at {t.op.source or '<unknown>'}"


def _averaged_shapes(root: Tensor) -> list[tuple[int, ...]]:
    """Shapes of the arrays the loss takes a full mean of (``mean()``, ``np.mean``, ``mse_loss``)."""
    shapes = []
    stack, seen = [root], set()
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        call = t.composite
        if call is not None and call.output_sequence == t._sequence and call.inputs:
            if (call.name == "mean" and call.options.get("axis") is None) or (
                call.name == "mse_loss" and call.options.get("reduction", "mean") == "mean"
            ):
                shapes.append(tuple(call.inputs[0].shape))
        if t.op is not None:
            stack.extend(t.op.parents)
    return shapes


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



def output_relus(loss: Tensor, activations: list[Activation]) -> list[Activation]:
    """ReLU-family activations between the last matmul (or linear layer) and the loss: they act on the outputs."""
    reached: set[int] = set()
    stack = [loss]
    while stack:
        tensor = stack.pop()
        if id(tensor) in reached:
            continue
        reached.add(id(tensor))
        if tensor.op is not None and not isinstance(tensor.op, (P.MatMul, P.Linear)):
            stack.extend(tensor.op.parents)
    return [a for a in activations if a.name in RELU_FAMILY and id(a.output) in reached]


def output_relu_warning(activation: Activation, where: str | None = None) -> str | None:
    """What is wrong with a ReLU-family activation on the output, if some outputs are affected (else None)."""
    where = where or activation.describe()
    z = activation.input.data
    below = int(np.sum(z < 0)) if activation.name == "leaky_relu" else int(np.sum(activation.output.data == 0))
    if not below:
        return None
    if activation.name == "leaky_relu":
        slope = activation.options.get("slope", 0.01)
        return (
            f"a leaky ReLU is applied to the model's output ({where}): {below} of {z.size} outputs are on its "
            f"leaky side, scaled by {slope:g}, and get {1 / slope:g}x smaller gradients (a gradient check "
            f"there compares much smaller numbers). A regression output takes no activation: remove it."
        )
    return (
        f"a ReLU is applied to the model's output ({where}): {below} of {z.size} outputs are "
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
    yours: np.ndarray,
    true: np.ndarray,
    param: np.ndarray,
    atol: float,
    rtol: float,
    batch_size: int | None,
    averaged: list[tuple[int, ...]],
) -> Diagnosis | None:
    if yours.shape != true.shape:
        return shape_pattern(yours, true, atol, rtol)
    if not (np.isfinite(yours).all() and np.isfinite(true).all()):
        return None
    if yours.ndim == 2 and yours.shape[0] == yours.shape[1]:
        transposed = shape_pattern(yours, true, atol, rtol)
        if transposed is not None:
            return transposed
    return factor_pattern(yours, true, atol, rtol, batch_size, averaged) or weight_decay_pattern(
        yours, true, param, atol, rtol
    )


def _diagnose_by_variants(
    report: BackpropReport, run: _Run, yours: Mapping[str, Any], atol: float, rtol: float
) -> None:
    """Replay the graph with each known wrong activation derivative; name the ones that reproduce yours."""
    open_checks = [c for c in report.parameters if c.status == "wrong" and c.diagnosis is None]
    loss_open = not report.loss_ok
    for known in VARIANTS:
        calls = [a for a in run.activations if a.name == known.activation]
        targets: list[list[Activation]] = [[a] for a in calls] + ([calls] if len(calls) > 1 else [])
        for chosen in targets:
            if not open_checks and not loss_open:
                return
            swaps = {id(a.output): _swap(known.variant, a) for a in chosen}
            loss, grads = run.variant(swaps)
            if len(chosen) > 1:
                where = f"every {known.activation} ({len(chosen)} calls)"
            else:
                where = chosen[0].describe() + (f" (call {calls.index(chosen[0]) + 1} of {len(calls)})"
                                                 if len(calls) > 1 else "")  # fmt: skip
            for check in list(open_checks):
                mine = np.asarray(yours[check.name], dtype=np.float64)
                variant = grads[check.name]
                if close(mine, variant, atol, rtol) and not close(variant, run.gradients[check.name], atol, rtol):
                    check.diagnosis = Diagnosis(known.mistake, known.detail, where)
                    open_checks.remove(check)
            if loss_open and _loss_matches(report.your_loss, loss, atol, rtol):
                report.loss_diagnosis = Diagnosis(known.mistake, known.detail, where)
                loss_open = False


def _diagnose_overwritten(
    report: BackpropReport, run: _Run, yours: Mapping[str, Any], atol: float, rtol: float
) -> None:
    """A weight gradient made from an activation that the backward overwrote in place with its derivative."""
    consumers = _consumers(run.output)
    for activation in run.activations:
        if overwritten_by_derivative(activation) is None:
            continue
        products = [t for t in consumers.get(id(activation.output), []) if isinstance(t.op, P.MatMul)]
        for product in products:
            open_checks = [c for c in report.parameters if c.status == "wrong" and c.diagnosis is None]
            if not open_checks:
                return
            _, grads = run.variant({id(product): _overwrite(activation, product)})
            for check in open_checks:
                mine = np.asarray(yours[check.name], dtype=np.float64)
                if close(mine, grads[check.name], atol, rtol) and not close(
                    grads[check.name], run.gradients[check.name], atol, rtol
                ):
                    check.diagnosis = Diagnosis(*OVERWRITTEN, activation.describe())


def _overwrite(activation: Activation, product: Tensor) -> Replacement:
    return lambda new: saved_activation_overwritten(activation, product, new)


def _consumers(root: Tensor) -> dict[int, list[Tensor]]:
    found: dict[int, list[Tensor]] = {}
    stack, seen = [root], set()
    while stack:
        t = stack.pop()
        if id(t) in seen or t.op is None:
            continue
        seen.add(id(t))
        for parent in t.op.parents:
            found.setdefault(id(parent), []).append(t)
            stack.append(parent)
    return found


def _swap(variant: Any, activation: Activation) -> Replacement:
    return lambda new: variant(activation, new(activation.input))


