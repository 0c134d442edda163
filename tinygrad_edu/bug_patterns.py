"""The classic mistakes of hand-derived backprop, each as a test the numbers must pass before it is named.

Two kinds of evidence, neither of them a derivative written by hand:

- *Array patterns*: the user's gradient is an exact transform of the true
  (autodiff) one: a constant factor, the transpose, per-example rows not
  summed, or the true gradient plus the autodiff gradient of a wrong
  weight-decay term.
- *Variants*: the user's forward is run again with one activation swapped
  for a function with the same values whose autodiff gradient is the
  mistaken one (``_straight_through``). If the user's gradient equals the
  variant's, and differs from the true one, that mistake explains it.

A pattern is named only when it reproduces the user's array to the checking
tolerance; otherwise the verdict is "mismatch, no known pattern".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activation_calls import Variant
from .composites import constant
from .function import no_grad
from .tensor import Tensor


@dataclass
class Diagnosis:
    """A named mistake and what to do about it."""

    mistake: str
    detail: str
    location: str = ""  # for a variant: the activation call it reproduces the mistake at


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
    yours: np.ndarray, true: np.ndarray, atol: float, rtol: float, batch_size: int | None
) -> Diagnosis | None:
    """The user's gradient is c times the true one, everywhere: a sign flip, a batch size, a missing 2."""
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
    magnitude = _name_magnitude(abs(c), batch_size)
    if magnitude is None:
        integer = round(c)
        is_integer = c > 2 and abs(c - integer) < 1e-6
        hint = f" If your batch size is {integer}: sum vs mean." if is_integer else ""
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


def weight_decay_pattern(
    yours: np.ndarray, true: np.ndarray, weight: np.ndarray, atol: float, rtol: float
) -> Diagnosis | None:
    """yours - true = lam * (d sum(w) - d sum(w**2)): decay on sum(w); = -lam * d sum(w**2): decay missing."""
    if weight.size < 2 or np.ptp(weight) == 0:
        return None
    of_sum = _gradient_of(lambda w: w.sum(), weight)
    of_squares = _gradient_of(lambda w: (w * w).sum(), weight)
    difference = yours - true
    tolerance = atol + rtol * float(np.max(np.abs(true), initial=0.0))
    for basis, explain in (
        (of_sum - of_squares, _sum_instead_of_squares),
        (-of_squares, _missing_decay),
    ):
        lam = float(np.sum(difference * basis) / np.sum(basis * basis))
        fits = np.all(np.abs(difference - lam * basis) <= tolerance)
        if fits and abs(lam) * float(np.max(np.abs(basis))) > tolerance:
            return explain(lam)
    return None


def _sum_instead_of_squares(lam: float) -> Diagnosis:
    return Diagnosis(
        "weight decay on sum(w) instead of sum(w**2)",
        f"your gradient is the true one minus the derivative of {lam:.4g} * sum(w**2) plus the derivative "
        f"of {lam:.4g} * sum(w): weight decay penalises the squares, {lam:.4g} * sum(w**2), whose "
        f"derivative is 2 * {lam:.4g} * w (a penalty on sum(w) only pushes every weight down).",
    )


def _missing_decay(lam: float) -> Diagnosis:
    return Diagnosis(
        "weight-decay term missing" if lam > 0 else "weight-decay term added twice",
        f"your gradient differs from the true one by exactly the derivative of {-lam:.4g} * sum(w**2): "
        f"the weight-decay term of the loss is {'missing from' if lam > 0 else 'counted twice in'} your "
        f"gradient.",
    )


def _gradient_of(expression: Callable[[Tensor], Tensor], at: np.ndarray) -> np.ndarray:
    w = Tensor(at, dtype=np.float64, requires_grad=True)
    expression(w).backward()
    assert w.grad is not None
    return w.grad


# ---------------------------------------------------------------- variants of the forward


def _straight_through(value: Tensor, surrogate: Tensor) -> Tensor:
    """``value``'s numbers with ``surrogate``'s gradient: value + (surrogate - surrogate), one detached."""
    return value.detach() + (surrogate - surrogate.detach())


def _derivative_dropped(original: Variant, x: Tensor, *args: object) -> Tensor:
    return _straight_through(original(x, *args), x)


def _relu_ge(original: Variant, x: Tensor) -> Tensor:
    return _straight_through(original(x), x * constant(x, x.data >= 0))


def _at_own_output(original: Variant, x: Tensor) -> Tensor:
    """f with gradient f'(f(x)): f evaluated at x + (f(x) - x), the shift held constant."""
    value = original(x)
    return _straight_through(value, original(x + constant(x, value.data - x.data)))


def _sigmoid_of_one_minus(original: Variant, x: Tensor) -> Tensor:
    with no_grad():
        slope = (original(x) * original(1 - x)).data  # the mistaken expression, as a number per element
    return _straight_through(original(x), x * constant(x, slope))


def _log_of_softmax(original: Variant, x: Tensor, axis: int = -1) -> Tensor:
    return x.softmax(axis=axis).log()


def _log_softmax_batch_max(original: Variant, x: Tensor, axis: int = -1) -> Tensor:
    shifted = x - constant(x, np.max(x.data))
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()


def _softmax_with_batch_max(original: Variant, x: Tensor, axis: int = -1) -> Tensor:
    e = (x - constant(x, np.max(x.data))).exp()
    return e / e.sum(axis=axis, keepdims=True)


@dataclass
class KnownVariant:
    """A mistake reproduced by swapping one activation for ``variant``."""

    activation: str
    variant: Variant
    mistake: str
    detail: str
    location: str = ""  # for a variant: the activation call it reproduces the mistake at


RELU_ONES = "ReLU derivative is 1 everywhere (mask all ones)"
VARIANTS: tuple[KnownVariant, ...] = (
    KnownVariant(
        "relu", _derivative_dropped, RELU_ONES,
        "the ReLU derivative was computed from the activation a = relu(z) as (a >= 0), which is always "
        "true (or it was left out). Use the pre-activation: dz = da * (z > 0).",
    ),
    KnownVariant(
        "relu", _relu_ge, "ReLU derivative at z = 0 taken as 1 (>= instead of >)",
        "where the pre-activation is exactly 0 (zero inputs with zero biases) your derivative is 1; autodiff "
        "and PyTorch use 0 (z > 0). Both are subgradients, but training code and gradient checks expect "
        "(z > 0).",
    ),
    KnownVariant(
        "sigmoid", _at_own_output, "sigmoid derivative evaluated at the activation",
        "your derivative is s'(s(z)) = s(s(z)) * (1 - s(s(z))): the formula was applied to the stored "
        "activation a = s(z) instead of z. With a stored, the derivative is a * (1 - a).",
    ),
    KnownVariant(
        "sigmoid", _sigmoid_of_one_minus, "sigmoid(z) * sigmoid(1 - z)",
        "your derivative is sigmoid(z) * sigmoid(1 - z); it is sigmoid(z) * (1 - sigmoid(z)).",
    ),
    KnownVariant(
        "sigmoid", _derivative_dropped, "sigmoid derivative missing",
        "the sigmoid's derivative a * (1 - a) is not applied. At the output, the shortcut dz = a - y holds "
        "only for sigmoid with binary cross-entropy; with another loss (e.g. MSE) multiply by a * (1 - a).",
    ),
    KnownVariant(
        "tanh", _at_own_output, "tanh derivative evaluated at the activation",
        "your derivative is 1 - tanh(tanh(z))**2: applied to the stored activation a = tanh(z) instead "
        "of z. With a stored, the derivative is 1 - a**2.",
    ),
    KnownVariant(
        "tanh", _derivative_dropped, "tanh derivative missing",
        "the tanh's derivative 1 - a**2 is not applied (at the output: the shortcut dz = a - y does not "
        "hold for tanh).",
    ),
    KnownVariant(
        "softmax", _softmax_with_batch_max, "softmax shifted by the whole batch's max",
        "exp(z - z.max()) uses one max for the whole batch: rows far below it underflow to 0 (0/0 = NaN, "
        "log(0) = -inf). "
        "Shift each row by its own max: z - z.max(axis=1, keepdims=True).",
    ),
    KnownVariant(
        "log_softmax", _log_softmax_batch_max, "softmax shifted by the whole batch's max",
        "exp(z - z.max()) uses one max for the whole batch: rows far below it underflow to 0 (0/0 = NaN, "
        "log(0) = -inf). "
        "Shift each row by its own max: z - z.max(axis=1, keepdims=True).",
    ),
    KnownVariant(
        "log_softmax", _log_of_softmax, "log(0) in the loss",
        "the loss takes log of softmax probabilities, and a probability that underflowed to 0 gives "
        "log(0) = -inf. Compute log-probabilities directly: z - logsumexp(z) (log_softmax), or clip p.",
    ),
)  # fmt: skip
