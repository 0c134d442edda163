"""``diagnose``: a health report for a model that trains badly, each finding with what to try.

The checks, on one batch, with dropout off (the model's mode is restored):

1. The initial loss against the loss of an uninformative prediction (an
   all-zero output: log C for cross-entropy, mean(y**2) for MSE).
2. Per-parameter gradient norms; parameters with no gradient or an all-zero
   one; gradients that shrink or grow by orders of magnitude across layers.
3. Dead ReLU units (0 for every example) and saturated sigmoid/tanh units.
4. The predicted classes collapsed to one; outputs that are already
   probabilities although the loss expects logits; a ReLU on the output.
5. Whether the model can overfit a few examples (it must: if it cannot, the
   bug is in the model, the loss or the training step, not in the data).
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_edu import Tensor
from tinygrad_edu.backprop_check import output_relu_warning, output_relus
from tinygrad_edu.recognize import Activation, find_activations

from .module import Module
from .optim import Adam


@dataclass
class Finding:
    """One check's result: ``level`` is "ok", "warning" or "problem"; ``advice`` says what to try."""

    check: str
    level: str
    message: str
    advice: str = ""


@dataclass
class HealthReport:
    """Truthy when no check found a problem; ``str()`` lists every finding and the gradient-norm table."""

    findings: list[Finding]
    gradient_table: list[tuple[str, tuple[int, ...], float, float | None]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return all(f.level != "problem" for f in self.findings)

    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level != "ok"]

    def _headline(self) -> str:
        return f"model health: {'ok' if self else 'PROBLEMS FOUND'}"

    def _rows(self) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = [("parameter", "shape", "|param|", "|grad|", "|grad|/|param|")]
        for name, shape, param_norm, grad_norm in self.gradient_table:
            ratio = "-" if grad_norm is None or param_norm == 0 else f"{grad_norm / param_norm:.2e}"
            grad = "none" if grad_norm is None else f"{grad_norm:.2e}"
            rows.append((name, str(shape), f"{param_norm:.2e}", grad, ratio))
        return rows

    def __str__(self) -> str:
        lines = [self._headline()]
        for f in self.findings:
            lines.append(f"[{f.level}] {f.check}: {f.message}")
            if f.advice:
                lines.append(f"    try: {f.advice}")
        lines.append("gradient norms:")
        rows = self._rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The same content as ``str()`` as two HTML tables, findings and gradient norms (for notebooks)."""
        findings = [("level", "check", "finding", "try")] + [(f.level, f.check, f.message, f.advice)
                                                             for f in self.findings]  # fmt: skip
        return (
            f"<div><p><b>{html.escape(self._headline())}</b></p>{_html_table(findings)}"
            f"<p>gradient norms:</p>{_html_table(self._rows())}</div>"
        )


def _html_table(rows: Sequence[tuple[str, ...]]) -> str:
    head, *body = rows
    cells = "<tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in head) + "</tr>"
    cells += "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body)
    return f"<table>{cells}</table>"


def diagnose(
    model: Module,
    loss_fn: Callable[[Tensor, Any], Tensor],
    batch: Sequence[Any],
    *,
    overfit_examples: int = 8,
    overfit_steps: int = 300,
    lr: float = 1e-2,
) -> HealthReport:
    """Check a (freshly initialised) model on one batch ``(inputs, targets)``; see the module docstring.

    ``loss_fn(model(inputs), targets)`` must return the scalar loss, e.g.
    ``nn.cross_entropy``. The overfitting check trains on the first
    ``overfit_examples`` examples with Adam(lr) and then restores every parameter.
    """
    x, y = batch
    x = x if isinstance(x, Tensor) else Tensor(x)
    was_training = model.training
    model.eval()
    try:
        model.zero_grad()
        out = model(x)
        loss = loss_fn(out, y)
        calls = find_activations(loss)
        loss.backward()
        findings = [_initial_loss(loss, out, y, loss_fn)]
        table, gradient_findings = _gradients(model)
        findings += gradient_findings
        layer_names = {id(m): name for name, m in model.named_modules()}
        findings += _units(calls, layer_names)
        findings += _outputs(out, y, loss, calls, layer_names)
        findings.append(_overfit(model, loss_fn, x, y, overfit_examples, overfit_steps, lr))
        model.zero_grad()
    finally:
        model.train(was_training)
    return HealthReport(findings, table)


def _initial_loss(loss: Tensor, out: Tensor, y: Any, loss_fn: Callable[[Tensor, Any], Tensor]) -> Finding:
    value = float(loss.data)
    expected = float(loss_fn(Tensor(np.zeros(out.shape), dtype=out.dtype), y).data)
    message = f"{value:.4g}; an uninformative prediction (all-zero output) scores {expected:.4g}"
    if not np.isfinite(value):
        return Finding("initial loss", "problem", message, "run the forward under detect_anomaly() to find the op")
    if value > 2 * expected + 1e-8:
        return Finding(
            "initial loss", "problem", message + ": the outputs start far too large or confidently wrong",
            "initialise the last layer smaller (e.g. multiply its weights by 0.01) so training starts from an "
            "uninformative prediction; check the input scale (normalise the inputs)",
        )  # fmt: skip
    return Finding("initial loss", "ok", message)


def _gradients(model: Module) -> tuple[list[tuple[str, tuple[int, ...], float, float | None]], list[Finding]]:
    table: list[tuple[str, tuple[int, ...], float, float | None]] = []
    findings = []
    for name, p in model.named_parameters():
        grad_norm = None if p.grad is None else float(np.linalg.norm(p.grad))
        table.append((name, p.shape, float(np.linalg.norm(p.data)), grad_norm))
        if p.grad is None:
            findings.append(Finding(
                "gradient", "problem", f"{name} got no gradient",
                "it is not used in forward, or the graph was cut (.data, .numpy(), .detach(), no_grad())",
            ))  # fmt: skip
        elif not np.isfinite(p.grad).all():
            findings.append(Finding("gradient", "problem", f"{name}'s gradient has NaN/inf",
                                    "run the forward and backward under detect_anomaly()"))
        elif grad_norm == 0.0:
            findings.append(Finding(
                "gradient", "problem", f"{name}'s gradient is all zero",
                "the units feeding it are dead (ReLU 0 everywhere) or saturated; see the unit checks below",
            ))  # fmt: skip
    weights = [(n, g) for n, shape, _, g in table if len(shape) >= 2 and g]
    if len(weights) >= 2:
        (first, g_first), (last, g_last) = weights[0], weights[-1]
        ratio = g_first / g_last
        if ratio < 1e-4 or ratio > 1e4:
            kind = "vanishing" if ratio < 1 else "exploding"
            findings.append(Finding(
                "gradient", "warning",
                f"{kind} gradients: |grad| of {first} is {ratio:.1e} times that of {last}",
                "use ReLU with He initialisation, fewer layers, or a smaller/larger init scale",
            ))  # fmt: skip
    if not findings:
        findings.append(Finding("gradient", "ok", "every parameter gets a finite, non-zero gradient"))
    return table, findings


def _layer(call: Activation, names: dict[int, str]) -> str:
    """The module that made the call, by its dotted name (or the user's line, outside modules)."""
    where = next((names[id(m)] for m in reversed(call.output.scope) if id(m) in names), "")
    return f"{call.name} {where!r}" if where else call.describe()


def _units(calls: list[Activation], names: dict[int, str]) -> list[Finding]:
    findings = []
    for call in calls:
        out = call.output.data
        if out.ndim != 2 or out.shape[0] < 2 or call.name not in ("relu", "sigmoid", "tanh"):
            continue
        layer = _layer(call, names)
        if call.name == "relu":
            stuck, what = np.all(out == 0, axis=0), "dead (0 for every example)"
            advice = "lower the learning rate, use He initialisation, or LeakyReLU"
        else:
            low, high = (0.01, 0.99) if call.name == "sigmoid" else (-0.99, 0.99)
            stuck = np.all((out < low) | (out > high), axis=0)
            what, advice = "saturated (flat part for every example)", "normalise the inputs or initialise smaller"
        fraction = float(np.mean(stuck))
        level = "problem" if fraction > 0.5 else "warning" if fraction > 0.1 else "ok"
        message = f"{fraction:.0%} of the {out.shape[1]} units of {layer} are {what}"
        findings.append(Finding("units", level, message, advice if level != "ok" else ""))
    return findings


def _outputs(out: Tensor, y: Any, loss: Tensor, calls: list[Activation], names: dict[int, str]) -> list[Finding]:
    warnings = (output_relu_warning(call, _layer(call, names)) for call in output_relus(loss, calls))
    findings = [Finding("output", "problem", w) for w in warnings if w is not None]
    labels = np.asarray(y.data if isinstance(y, Tensor) else y)
    if out.ndim != 2 or out.shape[1] < 2 or labels.dtype.kind not in "iu":
        return findings
    data = out.data
    if np.all(data >= 0) and np.allclose(data.sum(axis=1), 1, atol=1e-4):
        findings.append(Finding(
            "output", "problem", "the outputs are already probabilities (rows in [0, 1] summing to 1)",
            "remove the final softmax: cross-entropy expects raw logits and applies log_softmax itself",
        ))  # fmt: skip
    predicted = np.bincount(np.argmax(data, axis=1), minlength=out.shape[1])
    top = int(np.argmax(predicted))
    share = predicted[top] / len(data)
    label_share = float(np.mean(labels == top))
    histogram = ", ".join(f"{c}: {n}" for c, n in enumerate(predicted) if n)
    if share >= 0.9 and len(np.unique(labels)) > 1 and label_share < 0.9:
        findings.append(Finding(
            "predictions", "warning",
            f"collapsed: class {top} gets {share:.0%} of predictions but is {label_share:.0%} of labels "
            f"(predicted counts {histogram})",
            "one output dominates: check the last layer's bias and init scale, and that the inputs are normalised",
        ))  # fmt: skip
    else:
        findings.append(Finding("predictions", "ok", f"predicted class counts {histogram}"))
    return findings


def _overfit(
    model: Module, loss_fn: Callable[[Tensor, Any], Tensor], x: Tensor, y: Any, k: int, steps: int, lr: float
) -> Finding:
    params = list(model.parameters())
    saved = [p.data.copy() for p in params]
    xs = x[:k]
    ys = y[:k]
    trainable = [p for p in params if p.grad is not None]  # unused ones are reported above
    if not trainable:
        return Finding("overfit a small batch", "problem", "no parameter gets a gradient", "see above")
    optimizer = Adam(trainable, lr=lr)
    try:
        first = last = float(loss_fn(model(xs), ys).data)
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(model(xs), ys)
            loss.backward()
            optimizer.step()
            last = float(loss.data)
    finally:
        for p, data in zip(params, saved):
            p.data = data
            p.grad = None
    message = f"{len(xs.data)} examples, {steps} Adam steps (lr {lr:g}): loss {first:.4g} -> {last:.4g}"
    if np.isfinite(last) and last <= 0.1 * first:
        return Finding("overfit a small batch", "ok", message)
    return Finding(
        "overfit a small batch", "problem", message + ": the model cannot memorise a handful of examples",
        "this is a bug, not a data problem: check the loss gets logits and aligned labels, the output activation "
        "(none for regression), dead units, and the learning rate",
    )  # fmt: skip
