"""The report of ``check_backprop``: one row per parameter, then one explanation per mistake (text or HTML)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from .bug_patterns import Diagnosis


@dataclass
class ParameterCheck:
    """One parameter: your gradient against autodiff's, and the named mistake if one fits."""

    name: str
    shape: tuple[int, ...]
    status: str  # "ok", "wrong", "wrong shape", "missing", "reference not finite"
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
    reference_problem: str | None = None  # the forward itself makes NaN/inf: nothing can be checked

    def __bool__(self) -> bool:
        return self.reference_problem is None and self.loss_ok and all(p.ok for p in self.parameters)

    def _headline(self) -> str:
        if self.reference_problem is not None:
            return "check_backprop: cannot check: the forward you passed produces NaN/inf"
        wrong = sum(not p.ok for p in self.parameters)
        head = "all gradients match" if wrong == 0 else f"{wrong} of {len(self.parameters)} gradients wrong"
        return f"check_backprop: {head} (autodiff in float64)"

    def _explanations(self) -> list[str]:
        lines = []
        if self.reference_problem is not None:  # nothing of yours is judged against a NaN reference
            lines.append(self.reference_problem)
            if self.your_loss is not None:
                lines.append(f"loss: yours {self.your_loss:.6g}, autodiff {self.true_loss:.6g}: not judged")
            if self.float_event:
                lines.append(f"first floating-point problem in your gradient code: {self.float_event}")
            return lines
        if self.your_loss is not None:
            verdict = "ok" if self.loss_ok else "WRONG"
            lines.append(f"loss: yours {self.your_loss:.6g}, autodiff {self.true_loss:.6g}: {verdict}")
        explained: dict[str, list[str]] = {}  # one explanation, listing every parameter it applies to
        for p in self.parameters:
            if not p.ok and p.status != "reference not finite":
                explained.setdefault(_explain(p.diagnosis, p.status, self.loss_ok), []).append(p.name)
        lines += [f"{', '.join(names)}: {text}" for text, names in explained.items()]
        if not self.loss_ok:
            lines.append(f"loss: {_explain_loss(self.loss_diagnosis)}")
        if self.float_event:
            lines.append(f"first floating-point problem in your gradient code: {self.float_event}")
        if self.extra_names:
            lines.append(f"gradients for unknown names (ignored): {', '.join(self.extra_names)}")
        return lines + [f"warning: {finding}" for finding in self.findings]

    def __str__(self) -> str:
        return "\n".join([self._headline(), *_table(self.parameters), *self._explanations()])

    def _repr_html_(self) -> str:
        """The same content as ``str()``, with the per-parameter table as an HTML table (for notebooks)."""
        rows = _rows(self.parameters)
        cells = "".join(
            "<tr>" + "".join(f"<{tag}>{html.escape(cell)}</{tag}>" for cell in row) + "</tr>"
            for tag, row in [("th", rows[0])] + [("td", r) for r in rows[1:]]
        )
        notes = "".join(f"<li><pre>{html.escape(line)}</pre></li>" for line in self._explanations())
        return (
            f"<div><p><b>{html.escape(self._headline())}</b></p><table>{cells}</table>"
            + (f"<ul>{notes}</ul>" if notes else "") + "</div>"
        )


def _explain(diagnosis: Diagnosis | None, status: str, loss_ok: bool = True) -> str:
    if status == "missing":
        return "no gradient given for this parameter."
    if diagnosis is None:
        what = "shape mismatch" if status == "wrong shape" else "mismatch"
        if not loss_ok:
            return f"{what}, no known pattern; your loss differs too, so fix the forward first (see the loss)."
        return f"{what}, no known pattern (compare your derivation step by step with gradcheck)."
    where = f"\n    at: {diagnosis.location}" if diagnosis.location else ""
    return f"{diagnosis.mistake}\n    {diagnosis.detail}{where}"


def _explain_loss(diagnosis: Diagnosis | None) -> str:
    if diagnosis is not None:
        return _explain(diagnosis, "wrong")
    return (
        "your loss differs from the loss of the forward you passed, so the forward you differentiated by "
        "hand is not that forward (a different loss function or reduction, or a term such as weight decay "
        "in one and not the other). Compare the two forwards' values from the input on: the first "
        "intermediate that differs is where they part."
    )


def _rows(checks: list[ParameterCheck]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [("parameter", "shape", "rel error", "worst index", "yours", "true", "verdict")]
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
    return rows


def _table(checks: list[ParameterCheck]) -> list[str]:
    rows = _rows(checks)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
