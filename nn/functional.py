"""``nn.functional`` (usually ``import nn.functional as F``): PyTorch's function names for what exists here.

Each is the library's own computation under the name a PyTorch user types
first: ``F.relu(x)`` is ``x.relu()``, ``F.cross_entropy`` is ``nn.cross_entropy``,
``F.linear`` is ``tinygrad_edu.linear``. There is no second implementation, so
the debugging tools (``check_backprop``, ``diagnose``) see these calls too.
"""

from __future__ import annotations

import numbers

from tinygrad_edu import Tensor, get_rng, linear

from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "l1_loss",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "nll_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]


def relu(x: Tensor) -> Tensor:
    """``x.relu()``: max(x, 0), elementwise."""
    return x.relu()


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x.leaky_relu(negative_slope)``: x for x > 0, ``negative_slope * x`` otherwise."""
    return x.leaky_relu(negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    """``x.sigmoid()``: 1 / (1 + exp(-x)), elementwise."""
    return x.sigmoid()


def tanh(x: Tensor) -> Tensor:
    """``x.tanh()``, elementwise."""
    return x.tanh()


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``x.softmax(axis=dim)``: probabilities along ``dim`` (PyTorch's name for the axis)."""
    return x.softmax(axis=dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """``x.log_softmax(axis=dim)``: log-probabilities along ``dim``."""
    return x.log_softmax(axis=dim)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each value with probability ``p`` and scale the others by 1/(1-p), if ``training``; else ``x``.

    The computation of ``nn.Dropout`` (which calls this with its own ``p`` and
    ``training``). Note PyTorch's ``F.dropout`` defaults to ``training=True``
    as here: inside ``forward`` pass ``training=self.training``.
    """
    check_dropout_probability("dropout", p)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = get_rng().random(x.shape) >= p
    return x * (keep * x.dtype.type(1.0 / (1.0 - p)))


def check_dropout_probability(owner: str, p: object) -> None:
    """``p`` must be a real number in [0, 1]: a clear error for "0.5" or 50."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(
            f"{owner}: p is the probability of dropping a unit, a number in [0, 1]; got {p!r} "
            f"(a {type(p).__name__})"
        )
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"{owner}: p is the probability of dropping a unit, so it must be in [0, 1]; got {p}")

