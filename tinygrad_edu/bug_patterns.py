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

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .composites import constant
from .function import no_grad
from .recognize import Activation
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


# ---------------------------------------------------------------- variants of the forward

Variant = Callable[[Activation, Tensor], Tensor]  # (the activation found, its new input) -> replacement


def reference(activation: Activation, z: Tensor) -> Tensor:
    """Our composite of the activation's function, applied to ``z`` (with the call's options)."""
    name, options = activation.name, activation.options
    if name == "leaky_relu":
        return z.leaky_relu(options.get("slope", 0.01))
    if name in ("softmax", "log_softmax"):
        return getattr(z, name)(axis=options.get("axis", -1))
    if name == "clip":
        return z.relu()
    return getattr(z, name)()


def _straight_through(value: Tensor, surrogate: Tensor) -> Tensor:
    """``value``'s numbers with ``surrogate``'s gradient: value + (surrogate - surrogate), one detached."""
    return value.detach() + (surrogate - surrogate.detach())


def _value(activation: Activation, z: Tensor) -> Tensor:
    return constant(z, activation.output.data)


def _derivative_dropped(activation: Activation, z: Tensor) -> Tensor:
    return _straight_through(_value(activation, z), z)


def _relu_ge(activation: Activation, z: Tensor) -> Tensor:
    return _straight_through(_value(activation, z), z * constant(z, z.data >= 0))


def _at_own_output(activation: Activation, z: Tensor) -> Tensor:
    """f with gradient f'(f(z)): f evaluated at z + (f(z) - z), the shift held constant."""
    value = _value(activation, z)
    return _straight_through(value, reference(activation, z + constant(z, value.data - z.data)))


def _sigmoid_of_one_minus(activation: Activation, z: Tensor) -> Tensor:
    with no_grad():
        slope = (z.sigmoid() * (1 - z).sigmoid()).data  # the mistaken expression, as a number per element
    return _straight_through(_value(activation, z), z * constant(z, slope))


def _other_derivative(other: str) -> Variant:
    """The derivative of activation ``other`` at z, under the values of the forward's activation."""

    def variant(activation: Activation, z: Tensor) -> Tensor:
        return _straight_through(_value(activation, z), getattr(z, other)())

    return variant


def _other_derivative_at_output(other: str) -> Variant:
    """The derivative of ``other`` written from its output (a * (1 - a), 1 - a**2), fed this activation's a."""

    def variant(activation: Activation, z: Tensor) -> Tensor:
        a = activation.output.data
        slope = a * (1 - a) if other == "sigmoid" else 1 - a * a
        return _straight_through(_value(activation, z), z * constant(z, slope))

    return variant


def _log_of_softmax(activation: Activation, z: Tensor) -> Tensor:
    return z.softmax(axis=activation.options.get("axis", -1)).log()


def _log_softmax_batch_max(activation: Activation, z: Tensor) -> Tensor:
    shifted = z - constant(z, np.max(z.data))
    return shifted - shifted.exp().sum(axis=activation.options.get("axis", -1), keepdims=True).log()


def _softmax_with_batch_max(activation: Activation, z: Tensor) -> Tensor:
    e = (z - constant(z, np.max(z.data))).exp()
    return e / e.sum(axis=activation.options.get("axis", -1), keepdims=True)


def _cross_entropy_swapped(other: str) -> Variant:
    """The loss's value, with the gradient of the other cross-entropy of the same p and target."""

    def variant(loss: Activation, p: Tensor) -> Tensor:
        y, scale = loss.options["target"], loss.options["scale"]
        terms = y * p.log() if other == "categorical" else y * p.log() + (1 - y) * (1 - p).log()
        return _straight_through(_value(loss, p), terms.sum() * -scale)

    return variant


def overwritten_by_derivative(activation: Activation) -> np.ndarray | None:
    """What ``reluGrad(a)``-style code leaves in ``a`` when it writes the derivative into it in place."""
    a = activation.output.data
    if activation.name in ("relu", "clip"):
        return (a > 0).astype(a.dtype)
    if activation.name == "leaky_relu":
        return np.where(a > 0, 1.0, activation.options.get("slope", 0.01)).astype(a.dtype)
    if activation.name == "sigmoid":
        return a * (1 - a)
    if activation.name == "tanh":
        return 1 - a * a
    return None


def saved_activation_overwritten(activation: Activation, product: Tensor, new: Callable[[Tensor], Tensor]) -> Tensor:
    """``product`` = a @ W (or W @ a) with W's gradient computed from the overwritten ``a``; a's is unchanged."""
    assert product.op is not None
    left, right = (new(t) for t in product.op.parents)
    stored = constant(left, overwritten_by_derivative(activation))
    if product.op.parents[0] is activation.output:
        surrogate = stored @ right + left @ right.detach()
    else:
        surrogate = left @ stored + left.detach() @ right
    return _straight_through(constant(left, product.data), surrogate)


OVERWRITTEN = (
    "saved activation overwritten by its derivative",
    "your weight gradient uses the layer's activation after it was overwritten in place by its derivative "
    "(e.g. reluGrad(a) writing ones and zeros into a, or a *= 1 - a, before a.T @ delta): compute the "
    "derivative into a new array (d = (a > 0) * 1.0), or take the weight gradients before it.",
)


@dataclass
class KnownVariant:
    """A mistake reproduced by computing one kind of activation with ``variant``."""

    activation: str
    variant: Variant
    mistake: str
    detail: str


RELU_ONES = "ReLU derivative is 1 everywhere (mask all ones)"
BATCH_MAX = (
    "exp(z - z.max()) uses one max for the whole batch: rows far below it underflow to 0 (0/0 = NaN, "
    "log(0) = -inf). Shift each row by its own max: z - z.max(axis=1, keepdims=True)."
)
_DERIVATIVES = {"relu": "(z > 0)", "sigmoid": "a * (1 - a)", "tanh": "1 - a**2", "leaky_relu": "1 or slope"}


def _mixed_up(forward: str, backward: str) -> tuple[KnownVariant, ...]:
    """The backward differentiates ``backward`` where the forward runs ``forward`` (at z, or from a)."""
    detail = (
        f"the forward applies {forward}, but your backward multiplies by the derivative of {backward}. "
        f"Use the derivative of the activation the forward really calls: {forward}' is "
        f"{_DERIVATIVES[forward]} (check which function each layer's forward and backward use)."
    )
    mistake = f"{backward} derivative used for a {forward} activation"
    variants = [KnownVariant(forward, _other_derivative(backward), mistake, detail)]
    if backward in ("sigmoid", "tanh"):
        variants.append(KnownVariant(forward, _other_derivative_at_output(backward), mistake, detail))
    return tuple(variants)


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
        "leaky_relu", _other_derivative("relu"), "leaky ReLU derivative without the slope",
        "your derivative is 0 where z < 0, the ReLU's: a leaky ReLU's derivative is 1 for z > 0 and the "
        "slope (e.g. 0.01) below: dz = da * np.where(z > 0, 1, slope).",
    ),
    KnownVariant(
        "leaky_relu", _derivative_dropped, "leaky ReLU derivative is 1 everywhere",
        "your derivative is 1 where z < 0 too (the mask was computed from the activation, or left out): "
        "it is the slope there: dz = da * np.where(z > 0, 1, slope).",
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
    *_mixed_up("relu", "sigmoid"),
    *_mixed_up("relu", "tanh"),
    *_mixed_up("sigmoid", "relu"),
    *_mixed_up("sigmoid", "tanh"),
    *_mixed_up("tanh", "sigmoid"),
    *_mixed_up("tanh", "relu"),
    *_mixed_up("leaky_relu", "sigmoid"),
    KnownVariant(
        "binary_cross_entropy", _cross_entropy_swapped("categorical"),
        "categorical cross-entropy gradient for a binary cross-entropy cost",
        "the cost is the binary cross-entropy -sum(y * log(a) + (1 - y) * log(1 - a)), but your gradient is "
        "that of the categorical one, -sum(y * log(a)) (the a - y shortcut at a softmax). a - y is the "
        "gradient at the logits only for softmax with categorical cross-entropy, or for sigmoid outputs "
        "with the binary one: make the cost match the output activation.",
    ),
    KnownVariant(
        "categorical_cross_entropy", _cross_entropy_swapped("binary"),
        "binary cross-entropy gradient for a categorical cross-entropy cost",
        "the cost is the categorical cross-entropy -sum(y * log(a)), but your gradient is that of the binary "
        "one, -sum(y * log(a) + (1 - y) * log(1 - a)): the (1 - y) * log(1 - a) term is not in the cost.",
    ),
    KnownVariant("softmax", _softmax_with_batch_max, "softmax shifted by the whole batch's max", BATCH_MAX),
    KnownVariant("log_softmax", _log_softmax_batch_max, "softmax shifted by the whole batch's max", BATCH_MAX),
    KnownVariant(
        "log_softmax", _log_of_softmax, "log(0) in the loss",
        "the loss takes log of softmax probabilities, and a probability that underflowed to 0 gives "
        "log(0) = -inf. Compute log-probabilities directly: z - logsumexp(z) (log_softmax), or clip p.",
    ),
)  # fmt: skip
