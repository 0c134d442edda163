"""``gradcheck``: compare autodiff with central finite differences and, on disagreement, find the wrong node.

How it decides, element by element (all in float64, whatever the inputs' dtype):

- The objective is ``sum(fn(*inputs) * v)`` with ``v`` a seeded random
  upstream gradient. With ``v = 1`` (the ``.sum()`` shortcut) the gradient of
  softmax is exactly 0 whatever its backward does wrong with a constant factor
  or sign, so ``v`` must be random.
- numeric = (f(x + eps) - f(x - eps)) / (2 eps); the element passes when
  ``|analytic - numeric| <= atol + rtol * |numeric|`` (numpy.allclose's rule).
- A *kink*: the one-sided slopes (f(x + eps) - f(x)) / eps and
  (f(x) - f(x - eps)) / eps differ by more than that same tolerance (for a
  smooth function they differ by about eps * f'', far less), and the analytic
  value lies between them (it is the derivative on one side, or a subgradient).
  Then the central difference is an average across a corner, not a derivative:
  the element is reported as a kink, not as a failure. ReLU or abs within eps
  of 0 and tied maxima are kinks; a wrong derivative there is still a failure
  when it lies outside the one-sided slopes.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import state
from .autograd import sum_to_shape, topological_order
from .function import Function, no_grad
from .locks import writable_data
from .tensor import Tensor

Index = tuple[int, ...]


class GradcheckError(AssertionError):
    """Raised by ``gradcheck(..., raise_on_fail=True)``; the message is the full report."""


@dataclass
class InputResult:
    """How one input's gradient compared: the errors, the worst element, and the kinks."""

    position: int
    shape: Index
    checked: int
    failures: int
    max_abs_error: float
    max_rel_error: float
    worst_index: Index | None
    analytic: float
    numeric: float
    kinks: list[Index] = field(default_factory=list)
    nonfinite: list[Index] = field(default_factory=list)  # fn is NaN/inf within eps: nothing to compare

    @property
    def ok(self) -> bool:
        return self.failures == 0 and not self.nonfinite


@dataclass
class NodeFault:
    """The first recorded operation whose own backward disagrees with finite differences of its forward."""

    primitive: str
    source: str | None
    input_shapes: list[Index]
    result: InputResult


@dataclass
class GradcheckReport:
    """Truthy when every checked element agrees (kinks excepted); ``str()`` is a readable table."""

    inputs: list[InputResult]
    settings: str
    fault: NodeFault | None = None
    nondeterministic: str | None = None
    nonfinite_value: str | None = None  # fn's value itself is NaN/inf at the inputs: where it first appears

    def __bool__(self) -> bool:
        return self.nondeterministic is None and self.nonfinite_value is None and all(r.ok for r in self.inputs)

    def __str__(self) -> str:
        return "\n".join([self._title(), *self._table_lines(), *self._notes()])

    def _repr_html_(self) -> str:
        """The same report for Jupyter: the title, the table as an HTML table (failed rows in red), the notes."""
        parts = [f"<p><b>{html.escape(self._title())}</b></p>"]
        if self._problem() is None:
            header, *rows = _cells(self.inputs)
            head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
            failed = '<tr style="color:#c00">'
            body = "".join(
                ("<tr>" if r.ok else failed)
                + "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
                + ("<td></td></tr>" if r.ok else "<td>&lt;- FAILED</td></tr>")
                for row, r in zip(rows, self.inputs)
            )
            parts.append(f"<table><tr>{head}<th></th></tr>{body}</table>")
        parts += [f"<pre>{html.escape(note)}</pre>" for note in self._notes()]
        return "".join(parts)

    def _title(self) -> str:
        return f"gradcheck {'passed' if self else 'FAILED'} ({self.settings})"

    def _problem(self) -> str | None:
        """Why nothing could be compared: fn is not deterministic, or its value is NaN/inf."""
        return self.nondeterministic if self.nondeterministic is not None else self.nonfinite_value

    def _table_lines(self) -> list[str]:
        return [] if self._problem() is not None else _table(self.inputs)

    def _notes(self) -> list[str]:
        """What the table does not say: non-determinism, NaN/inf values, kinks, and which operation is wrong."""
        problem = self._problem()
        if problem is not None:
            return [problem]
        lines = []
        for r in self.inputs:
            if r.nonfinite:
                shown = _first_few(r.nonfinite)
                lines.append(
                    f"input {r.position}: fn is NaN or inf within eps of {len(r.nonfinite)} element(s) at "
                    f"{shown}, so the finite difference there is not a number and nothing can be compared "
                    f"(the edge of a domain, such as log near 0, or an overflow). Move those inputs away "
                    f"from it or use a smaller eps; the backward is not blamed."
                )
        for r in self.inputs:
            if r.kinks:
                shown = _first_few(r.kinks)
                lines.append(
                    f"input {r.position}: {len(r.kinks)} kink(s) at {shown}: the function is not "
                    f"differentiable within eps of these points (ReLU/abs at 0, tied maxima); the one-sided "
                    f"slopes differ and autodiff took one of them. Not counted as failures."
                )
        if any(r.failures for r in self.inputs):
            lines.append(_describe_fault(self.fault))
        return lines


@state.one_at_a_time
def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_on_fail: bool = False,
    max_elements: int | None = None,
    seed: int = 0,
) -> GradcheckReport:
    """Check ``fn``'s autodiff gradients for every input with ``requires_grad`` against finite differences.

    ``fn(*inputs)`` must return a Tensor. Everything is recomputed in float64
    on copies of the inputs, so the inputs' ``.grad`` is left alone.
    ``max_elements`` checks only that many (seeded) random elements of each
    input, for large inputs. ``raise_on_fail=True`` raises ``GradcheckError``
    with the report, for use in tests. When it fails, the report names the
    first recorded operation whose backward is wrong and the line that made it.
    If fn's value is NaN/inf at the inputs, or within eps of them, the report
    says so (and where the NaN/inf first appears) instead of blaming a backward.
    The inputs may also be given as one tuple, PyTorch's ``gradcheck(fn, (x, y))``.
    """
    if len(inputs) == 1 and isinstance(inputs[0], (tuple, list)) and any(isinstance(v, Tensor) for v in inputs[0]):
        inputs = tuple(inputs[0])  # PyTorch's spelling, gradcheck(fn, (x, y)): the inputs as one tuple
    copies = [_float64_copy(x) for x in inputs]
    checked = [i for i, x in enumerate(copies) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(
            "gradcheck: none of the inputs requires grad, so there is nothing to check; create the "
            "inputs to differentiate with requires_grad=True, e.g. Tensor(x, requires_grad=True)."
        )
    settings = f"float64, eps={eps:g}, atol={atol:g}, rtol={rtol:g}, seed={seed}"
    rng = np.random.default_rng(seed)
    previous = (state.default_dtype, state.record_source)
    state.default_dtype = np.dtype(np.float64)  # constants made inside fn are float64 too
    try:
        nondeterministic = _nondeterminism(fn, copies)
        if nondeterministic is not None:
            report = GradcheckReport([], settings, nondeterministic=nondeterministic)
        else:
            report = _check(fn, copies, checked, rng, settings, eps, atol, rtol, max_elements)
    finally:
        state.default_dtype, state.record_source = previous
    if raise_on_fail and not report:
        raise GradcheckError(str(report))
    return report


def _check(
    fn: Callable[..., Tensor],
    copies: list[Any],
    checked: list[int],
    rng: np.random.Generator,
    settings: str,
    eps: float,
    atol: float,
    rtol: float,
    max_elements: int | None,
) -> GradcheckReport:
    state.record_source = True  # so a faulty node can name the user's line
    out = _output(fn, copies)
    if not np.isfinite(out.data).all():
        return GradcheckReport([], settings, nonfinite_value=_first_nonfinite(out))
    upstream = rng.standard_normal(out.shape)
    if out.requires_grad:
        out.backward(upstream, retain_graph=True)

    def objective() -> float:
        with no_grad():
            return float(np.sum(_output(fn, copies).data.astype(np.float64) * upstream))

    results = []
    for position in checked:
        x = copies[position]
        analytic = x.grad if x.grad is not None else np.zeros_like(x.data)
        indices = _pick(x.data.shape, max_elements, rng)
        values = writable_data(x)  # the retained graph keeps its own copy of the values it saved
        results.append(_compare(objective, values, analytic, indices, position, eps, atol, rtol))
    report = GradcheckReport(results, settings)
    if any(r.failures for r in results) and out.requires_grad:
        report.fault = _localise(out, rng, eps, atol, rtol, max_elements)
    return report


def _float64_copy(x: Any) -> Any:
    """Tensors and float arrays become float64 copies (keeping requires_grad); anything else is passed on."""
    if isinstance(x, Tensor):
        if x.dtype.kind != "f":
            return x
        return Tensor(x.data, dtype=np.float64, requires_grad=x.requires_grad, name=x.name)
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(np.float64)
    return x


def _output(fn: Callable[..., Tensor], inputs: list[Any]) -> Tensor:
    out = fn(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(
            f"gradcheck: fn must return a Tensor, got {type(out).__name__}; to check several outputs, "
            f"combine them into one (e.g. stack them, or add their sums)."
        )
    return out


def _nondeterminism(fn: Callable[..., Tensor], inputs: list[Any]) -> str | None:
    """A message if two calls on the same inputs differ (finite differences would measure noise)."""
    with no_grad():
        first, second = _output(fn, inputs).data, _output(fn, inputs).data
    if first.shape == second.shape and np.array_equal(first, second, equal_nan=True):
        return None
    if first.shape != second.shape:
        difference = f"shapes {first.shape} and {second.shape}"
    else:
        difference = f"max difference {np.nanmax(np.abs(first - second)):.3g}"
    return (
        f"fn is not deterministic: two calls on the same inputs gave different outputs ({difference}), so "
        f"finite differences would measure the randomness, not the derivative. Make it deterministic "
        f"(model.eval() to turn dropout off, or call manual_seed(...) at the start of fn) and check again."
    )


def _pick(shape: Index, max_elements: int | None, rng: np.random.Generator) -> list[Index]:
    """All element indices, or a seeded random subset of ``max_elements`` of them (in order)."""
    size = int(np.prod(shape))
    flat = np.arange(size)
    if max_elements is not None and size > max_elements:
        flat = np.sort(rng.choice(size, max_elements, replace=False))
    return [tuple(int(i) for i in np.unravel_index(k, shape)) for k in flat]


def _compare(
    objective: Callable[[], float],
    x: np.ndarray,
    analytic: np.ndarray,
    indices: list[Index],
    position: int,
    eps: float,
    atol: float,
    rtol: float,
) -> InputResult:
    """Perturb ``x`` in place element by element (restoring it) and compare with ``analytic``."""
    f0 = objective()
    abs_errors, rel_errors, excess, numerics, kinks, nonfinite = [], [], [], [], [], []
    for index in indices:
        original = x[index]
        x[index] = original + eps
        f_plus = objective()
        x[index] = original - eps
        f_minus = objective()
        x[index] = original
        if not (np.isfinite(f_plus) and np.isfinite(f_minus)):
            nonfinite.append(index)
            continue
        numeric = (f_plus - f_minus) / (2 * eps)
        a = float(analytic[index])
        tolerance = atol + rtol * abs(numeric)
        error = abs(a - numeric)
        right, left = (f_plus - f0) / eps, (f0 - f_minus) / eps
        if error > tolerance and abs(right - left) > tolerance:
            if min(left, right) - tolerance <= a <= max(left, right) + tolerance:
                kinks.append(index)
                continue
        numerics.append((index, a, numeric))
        abs_errors.append(error)
        scale = max(abs(a), abs(numeric))
        rel_errors.append(error / scale if scale > 0 else 0.0)
        excess.append(error / tolerance if np.isfinite(error) else np.inf)
    if not numerics:
        return InputResult(position, x.shape, len(indices), 0, 0.0, 0.0, None, 0.0, 0.0, kinks, nonfinite)
    worst = int(np.argmax(excess))
    worst_index, a, numeric = numerics[worst]
    failures = sum(1 for e in excess if not e <= 1.0)
    return InputResult(
        position, x.shape, len(indices), failures, float(max(abs_errors)), float(max(rel_errors)),
        worst_index, a, numeric, kinks, nonfinite,
    )  # fmt: skip


def _first_nonfinite(out: Tensor) -> str:
    """Where a NaN or inf first appears in the forward pass that made ``out`` (oldest tensor first)."""
    seen, stack, tensors = {id(out)}, [out], []
    while stack:
        tensor = stack.pop()
        tensors.append(tensor)
        for parent in tensor.op.parents if tensor.op is not None else ():
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    kind = "NaN" if np.isnan(out.data).any() else "inf"
    for tensor in sorted(tensors, key=lambda t: t._sequence):
        data = tensor.data
        if data.dtype.kind == "f" and not np.isfinite(data).all():
            break
    if tensor.op is None:
        where = f"it is already in an input or constant of shape {tensor.shape}"
    else:
        inside = f" (inside {tensor.composite.label()})" if tensor.composite is not None else ""
        where = (
            f"it first appears in the output of {tensor.op.name}{inside}, shape {tensor.shape}, "
            f"made at {tensor.op.source or '<unknown>'}"
        )
    return (
        f"fn's value is {kind} at these inputs, so it has no derivative there to check; {where}. "
        f"Check the inputs against the function's domain (e.g. log of a negative number); the backward "
        f"is not blamed."
    )


# ---------------------------------------------------------------- localisation


def _localise(
    out: Tensor, rng: np.random.Generator, eps: float, atol: float, rtol: float, max_elements: int | None
) -> NodeFault | None:
    """Check each recorded node's backward against its own forward, inputs first; the first wrong one."""
    for tensor in reversed(topological_order(out)):
        op = tensor.op
        if op is None:
            continue
        fault = _check_node(op, rng, eps, atol, rtol, max_elements)
        if fault is not None:
            return fault
    return None


def _fresh_context(op: Function) -> Function:
    """A new context like ``op``'s: what one forward run stored on it must not leak into the next."""
    ctx = type(op)()
    ctx.saved_tensors = ()
    ctx.parents, ctx.options, ctx.needs_input_grad = op.parents, op.options, op.needs_input_grad
    ctx.released, ctx.source = False, op.source
    return ctx


def _check_node(
    op: Function, rng: np.random.Generator, eps: float, atol: float, rtol: float, max_elements: int | None
) -> NodeFault | None:
    """Rerun the node's forward and backward in float64 on its own inputs; compare with finite differences."""
    cls = type(op)
    arrays = [p.data.astype(np.float64) if p.data.dtype.kind == "f" else p.data for p in op.parents]
    ctx = _fresh_context(op)
    upstream = rng.standard_normal(np.shape(cls.forward(ctx, *arrays, **op.options)))
    grads = cls.backward(ctx, upstream)
    if not isinstance(grads, tuple):
        grads = (grads,)

    def objective() -> float:
        return float(np.sum(np.asarray(cls.forward(_fresh_context(op), *arrays, **op.options)) * upstream))

    for position, (parent, needed) in enumerate(zip(op.parents, op.needs_input_grad)):
        if not needed:
            continue
        grad = grads[position] if position < len(grads) else None
        analytic = np.zeros(parent.shape)
        if grad is not None:
            analytic = sum_to_shape(np.asarray(grad), parent.shape, op)
        indices = _pick(parent.shape, max_elements, rng)
        result = _compare(objective, arrays[position], analytic, indices, position, eps, atol, rtol)
        if not result.ok:
            return NodeFault(cls.__name__, op.source, [p.shape for p in op.parents], result)
    return None


# ---------------------------------------------------------------- printing


def _table(results: Sequence[InputResult]) -> list[str]:
    rows = _cells(results)
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    marks = [""] + ["" if r.ok else "  <- FAILED" for r in results]
    return [line + mark for line, mark in zip(lines, marks)]


def _cells(results: Sequence[InputResult]) -> list[tuple[str, ...]]:
    """The report's table as text cells: a header row, then one row per checked input."""
    header = ("input", "shape", "checked", "wrong", "max abs err", "max rel err", "worst index", "analytic")
    rows: list[tuple[str, ...]] = [(*header, "numeric", "kinks")]
    for r in results:
        rows.append((
            str(r.position), str(r.shape), str(r.checked), str(r.failures),
            f"{r.max_abs_error:.2e}", f"{r.max_rel_error:.2e}",
            "-" if r.worst_index is None else str(r.worst_index),
            "-" if r.worst_index is None else f"{r.analytic:.6g}",
            "-" if r.worst_index is None else f"{r.numeric:.6g}",
            str(len(r.kinks)),
        ))  # fmt: skip
    return rows


def _describe_fault(fault: NodeFault | None) -> str:
    if fault is None:
        return (
            "Every recorded operation's backward agrees with its own forward, so the error comes from "
            "computation the graph did not record: a value taken out with .data / .numpy() / .item() and "
            "used again, or a constant computed from an input. Keep the whole computation in Tensor "
            "operations."
        )
    r = fault.result
    shapes = ", ".join(str(s) for s in fault.input_shapes)
    return (
        f"First wrong operation: {fault.primitive} (inputs of shapes {shapes})\n"
        f"  created at: {fault.source or '<unknown>'}\n"
        f"  its backward disagrees with finite differences of its own forward for input {r.position} at "
        f"index {r.worst_index}: analytic {r.analytic:.6g}, numeric {r.numeric:.6g} "
        f"({r.failures} of {r.checked} elements wrong). Fix that backward."
    )


def _first_few(indices: list[Index]) -> str:
    """The first five element indices, and "..." when there are more."""
    return ", ".join(str(i) for i in indices[:5]) + (" ..." if len(indices) > 5 else "")
