"""The classic mistakes of hand-derived backprop, each as a test the numbers must pass before it is named.

Two kinds of evidence, neither of them a derivative written by hand:

- *Array patterns*: the user's gradient is an exact transform of the true
  (autodiff) one: a constant factor, the transpose, per-example rows not
  summed, or the true gradient plus the autodiff gradient of a wrong
  weight-decay term.
- *Variants* (``bug_variants.py``): the recorded graph replayed with one
  activation computed by a function with the same values whose autodiff
  gradient is the mistaken one. If the user's gradient equals the variant's,
  and differs from the true one, that mistake explains it.

A pattern is named only when it reproduces the user's array to the checking
tolerance; otherwise the verdict is "mismatch, no known pattern".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .tensor import Tensor


@dataclass
class Diagnosis:
    """A named mistake and what to do about it."""

    mistake: str
    detail: str
    location: str = ""  # where the mistake is: the activation it was reproduced at
    loss_difference: float | None = None  # for a penalty: what it adds to your loss over the true one


def close(yours: np.ndarray, true: np.ndarray, atol: float, rtol: float) -> bool:
    """Same shape, NaN/inf in the same places, finite values within ``atol + rtol * max|true|`` everywhere.

    The tolerance scales with the largest true element, so an element much
    smaller than the rest is not judged by its own (noisy) relative error.
    """
    yours, true = np.asarray(yours, dtype=np.float64), np.asarray(true, dtype=np.float64)
    if yours.shape != true.shape:
        return False
    finite = np.isfinite(true)
    if not np.array_equal(finite, np.isfinite(yours)):
        return False
    if not np.array_equal(yours[~finite], true[~finite], equal_nan=True):
        return False
    scale = float(np.max(np.abs(true[finite]), initial=0.0))
    return bool(np.all(np.abs(yours[finite] - true[finite]) <= atol + rtol * scale))


# ---------------------------------------------------------------- array patterns


def shape_pattern(yours: np.ndarray, true: np.ndarray, atol: float, rtol: float) -> Diagnosis | None:
    """For a gradient of the wrong shape: the transpose, or per-example gradients not summed."""
    if yours.shape == true.T.shape and close(yours.T, true, atol, rtol):
        return Diagnosis(
            "transposed",
            f"your array is the transpose of the gradient (shape {yours.shape}, the parameter's is "
            f"{true.shape}): a gradient always has its parameter's shape; for y = x @ W.T the weight "
            f"gradient is dy.T @ x, for y = x @ W it is x.T @ dy.",
        )
    if yours.ndim >= 1 and yours.ndim in (true.ndim, true.ndim + 1) and yours.shape[0] > 1:
        summed = yours.sum(axis=0, keepdims=yours.ndim == true.ndim)
        if summed.shape == true.shape and close(summed, true, atol, rtol):
            return Diagnosis(
                "missing sum over the batch",
                f"your array has one row per example (shape {yours.shape}); their sum over axis 0 is the "
                f"gradient. A bias is shared by every example, so its gradient adds them up: "
                f"db = dz.sum(axis=0).",
            )
    if yours.size == 1 and true.size > 1 and close(yours.reshape(()), np.sum(true), atol, rtol * true.size):
        return Diagnosis(
            "summed over every axis",
            f"your single number is the sum of the gradient's {true.size} elements: sum over the batch "
            f"axis only (axis=0), keeping one value per unit.",
        )
    return None


def factor_pattern(
    yours: np.ndarray,
    true: np.ndarray,
    atol: float,
    rtol: float,
    batch_size: int | None,
    averaged: Sequence[tuple[int, ...]] = (),
) -> Diagnosis | None:
    """The user's gradient is c times the true one, everywhere: a sign flip, a batch size, a missing 2.

    ``averaged`` holds the shapes of the arrays the loss takes a full mean of, so
    a factor equal to the outputs per example is named as that mean's count.
    """
    norm = float(np.sum(true * true))
    if norm == 0.0:
        return None
    c = float(np.sum(yours * true)) / norm
    if abs(c - 1) < 1e-6 or abs(c) < 1e-12 or not close(yours, c * true, atol, rtol):
        return None
    if abs(c + 1) < 1e-6:
        return Diagnosis(
            "sign flip",
            "your gradient is the negative of the true one: the derivative of (y_hat - y)**2 is "
            "2 * (y_hat - y), not (y - y_hat); gradient descent subtracts +dL/dw.",
        )
    magnitude = _name_magnitude(abs(c), batch_size) or _mean_count(abs(c), averaged)
    if magnitude is None:
        if true.size < 2:
            return None  # any single number is some multiple of another: only a named factor is evidence
        integer = round(c)
        is_integer = c > 2 and abs(c - integer) < 1e-6
        hint = f" If your batch size is {integer}: sum vs mean." if is_integer and batch_size is None else ""
        return Diagnosis(
            "constant factor",
            f"your gradient is {c:.6g} times the true one in every element: a scale (1/N, a 2, a "
            f"learning rate) is applied in the wrong place.{hint}",
        )
    name, detail = magnitude
    if c < 0:
        return Diagnosis(f"sign flip and {name}", f"your gradient is negated, and {detail}")
    return Diagnosis(name, detail)


def _name_magnitude(c: float, batch_size: int | None) -> tuple[str, str] | None:
    def near(target: float) -> bool:
        return abs(c - target) <= 1e-6 * target

    if batch_size is not None and batch_size > 2 and near(batch_size):
        return (
            "sum vs mean (factor = batch size)",
            f"it is {batch_size} (the batch size) times the true gradient: you differentiated the summed "
            f"loss, but the loss is the mean over the batch. Divide by N (e.g. dz = (p - y) / N).",
        )
    if batch_size is not None and batch_size > 2 and near(1 / batch_size):
        return (
            "divided by the batch size twice",
            f"it is 1/{batch_size} (1/batch size) of the true gradient: the loss is already a mean (or "
            f"a sum), and your gradient divides by N once too often.",
        )
    if near(0.5):
        return (
            "missing factor 2",
            "it is half the true gradient: d/dy (y - t)**2 = 2 * (y - t): the 2 of the square (e.g. in "
            "the MSE) is missing.",
        )
    if near(2.0):
        return (
            "extra factor 2",
            "it is twice the true gradient: a factor 2 too many (the loss may be defined with a 1/2 in "
            "front, whose derivative has no 2).",
        )
    return None


def _mean_count(c: float, averaged: Sequence[tuple[int, ...]]) -> tuple[str, str] | None:
    """c is the number of elements per example of an array the loss averages over every element."""
    for shape in averaged:
        per_example = math.prod(shape[1:])
        if len(shape) < 2 or per_example < 2:
            continue
        total = math.prod(shape)
        if abs(c - per_example) <= 1e-6 * per_example:
            return (
                "mean over every element, gradient divided by the batch size only",
                f"it is {per_example} times the true gradient: the loss is a mean over all {total} elements "
                f"of an array of shape {shape}, so its derivative divides by {total}; your gradient divides "
                f"by the {shape[0]} examples only. Divide by {total} too (or make the loss a sum over the "
                f"{per_example} outputs and a mean over the examples).",
            )
        if abs(c * per_example - 1) <= 1e-6:
            return (
                "divided by the outputs per example too",
                f"it is 1/{per_example} of the true gradient: your gradient divides by all {total} elements "
                f"of an array of shape {shape}, but the loss averages over the {shape[0]} examples only.",
            )
    return None


def weight_decay_pattern(
    yours: np.ndarray, true: np.ndarray, weight: np.ndarray, atol: float, rtol: float
) -> Diagnosis | None:
    """yours - true = a * d sum(w**2) + b * d sum(w): a penalty term that the loss and your gradient disagree on.

    Both coefficients are fitted, so the verdict says which side has which
    penalty. The penalty may leave out a bias row (``theta[1:]``), as code with
    a row of biases in ``theta`` does.
    """
    tolerance = atol + rtol * float(np.max(np.abs(true), initial=0.0))
    difference = yours - true
    penalised = [(np.ones(weight.shape, dtype=bool), "")]
    if weight.ndim == 2 and weight.shape[0] > 2:
        bias_row = np.ones(weight.shape, dtype=bool)
        bias_row[0] = False
        penalised.append((bias_row, " (the first row, the bias, is not penalised)"))
    for mask, note in penalised:
        if np.any(np.abs(difference[~mask]) > tolerance):
            continue
        fitted = _fit_penalty(difference[mask], weight[mask], tolerance)
        if fitted is not None:
            (a, b), diagnosis = fitted
            w = weight[mask]
            return Diagnosis(diagnosis.mistake, diagnosis.detail + note,
                             loss_difference=a * float(np.sum(w * w)) + b * float(np.sum(w)))  # fmt: skip
    return None


def _fit_penalty(
    difference: np.ndarray, weight: np.ndarray, tolerance: float
) -> tuple[tuple[float, float], Diagnosis] | None:
    """The coefficients (of sum(w**2), of sum(w)) of a penalty explaining ``difference``, and its diagnosis."""
    if weight.size < 2 or np.ptp(weight) == 0:
        return None
    of_squares = _gradient_of(lambda w: (w * w).sum(), weight)
    of_sum = _gradient_of(lambda w: w.sum(), weight)
    for single, penalty in ((of_squares, "sum(w**2)"), (of_sum, "sum(w)")):
        coefficient = float(np.sum(difference * single) / np.sum(single * single))
        fits = np.all(np.abs(difference - coefficient * single) <= tolerance)
        if fits and abs(coefficient) * float(np.max(np.abs(single))) > tolerance:
            coefficients = (coefficient, 0.0) if penalty == "sum(w**2)" else (0.0, coefficient)
            return coefficients, _decay_difference(coefficient, penalty)
    if weight.size < 4:  # two coefficients fitted to fewer than 4 numbers would explain noise
        return None
    basis = np.stack([of_squares.ravel(), of_sum.ravel()], axis=1)
    (a, b), *_ = np.linalg.lstsq(basis, difference.ravel(), rcond=None)
    if not np.all(np.abs(difference.ravel() - basis @ (a, b)) <= tolerance):
        return None
    if min(abs(a) * float(np.max(np.abs(of_squares))), abs(b)) <= tolerance:
        return None
    if a < 0 < b:
        return (a, b), _penalties_differ(f"{-a:.4g} * sum(w**2)", f"{b:.4g} * sum(w)", on_sum="your gradient")
    if b < 0 < a:
        return (a, b), _penalties_differ(f"{-b:.4g} * sum(w)", f"{a:.4g} * sum(w**2)", on_sum="the loss")
    return None


def _decay_difference(coefficient: float, penalty: str) -> Diagnosis:
    if coefficient < 0:
        return Diagnosis(
            "weight-decay term missing",
            f"your gradient lacks exactly the derivative of {-coefficient:.4g} * {penalty}: the loss has this "
            f"penalty, your gradient does not. Add its derivative to the weight's gradient.",
        )
    return Diagnosis(
        "extra weight-decay term",
        f"your gradient has the derivative of {coefficient:.4g} * {penalty} more than the loss: the term is "
        f"counted twice in your gradient, or is missing from the loss you passed.",
    )


def _penalties_differ(loss: str, yours: str, on_sum: str) -> Diagnosis:
    mistake = (
        "weight decay on sum(w) instead of sum(w**2)" if on_sum == "your gradient"
        else "weight decay on sum(w) in the loss, on sum(w**2) in your gradient"
    )  # fmt: skip
    return Diagnosis(
        mistake,
        f"the loss adds {loss}; your gradient adds the derivative of {yours}. Weight decay penalises the "
        f"squares: (lam / 2) * sum(w**2) in the loss, lam * w in the gradient (a penalty on sum(w) only "
        f"pushes every weight down). Write the same term on both sides, divided by m in both or in neither.",
    )


def _gradient_of(expression: Callable[[Tensor], Tensor], at: np.ndarray) -> np.ndarray:
    w = Tensor(at, dtype=np.float64, requires_grad=True)
    expression(w).backward()
    assert w.grad is not None
    return w.grad
