"""The classic mistakes in an activation's (or a loss's) derivative, each as a *variant* of the forward.

A variant has the activation's values and the mistaken derivative, built
without writing a derivative: ``_straight_through(value, surrogate)`` keeps
the value and takes the surrogate's autodiff gradient. ``check_backprop``
replays the user's graph with the activation computed by each variant of its
kind (``replay.py``) and names the variant that reproduces the user's gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .composites import constant
from .function import no_grad
from .recognize import Activation
from .tensor import Tensor

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
