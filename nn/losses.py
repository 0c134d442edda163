"""Loss functions, written as forward expressions of Tensor operations (no hand-written gradients).

Each takes the model's raw output first and the target second, as in PyTorch,
and reduces with ``reduction="mean"`` (default), ``"sum"`` or ``"none"``.
Prediction and target must have exactly the shapes the loss expects: NumPy
broadcasting would silently turn a (N, 1) prediction and a (N,) target into an
(N, N) matrix of differences, a loss that trains and means nothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_edu import Tensor, composite

from .module import Module

REDUCTIONS = ("mean", "sum", "none")


@composite
def mse_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(pred - target) ** 2``, averaged over all elements by default.

    Parameters
    ----------
    pred : Tensor
        Predictions, any shape.
    target : Tensor or array-like
        Same shape as ``pred``.
    reduction : {"mean", "sum", "none"}
        Average over all elements, sum them, or return the elementwise losses.

    Raises
    ------
    ValueError
        If the shapes differ (the message shows both and the reshape that fixes it).
    """
    _check_reduction("mse_loss", reduction)
    target = _same_shape_target("mse_loss", pred, target)
    diff = pred - target
    return _reduce(diff * diff, reduction)


@composite
def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Cross-entropy between softmax(logits) and the target classes, averaged over the batch by default.

    Per sample: ``-log_softmax(logits)[label]`` for integer labels (picked by
    integer indexing), ``-sum(target * log_softmax(logits))`` for probability
    rows. ``log_softmax`` subtracts each row's maximum before exponentiating,
    so huge or saturated logits give finite losses and gradients (no inf or NaN).

    Parameters
    ----------
    logits : Tensor, shape (N, C)
        Raw scores (no softmax applied) for N samples and C classes.
    target : integer array of shape (N,), or float array of shape (N, C)
        Class labels in ``[0, C)``, or one probability row (e.g. one-hot) per sample.
    reduction : {"mean", "sum", "none"}
        Average over the N samples, sum, or return the N per-sample losses.

    Raises
    ------
    ValueError
        If logits are not 2-D, labels are not 1-D of length N or lie outside
        ``[0, C)``, or probability targets do not have the logits' shape.
    TypeError
        If labels are neither integer nor floating (e.g. boolean).
    """
    _check_reduction("cross_entropy", reduction)
    if not isinstance(logits, Tensor):
        raise TypeError(
            f"cross_entropy: logits must be a Tensor (the model's output), got {type(logits).__name__}"
        )
    if logits.ndim != 2:
        hint = " (for one sample use logits.reshape(1, -1))" if logits.ndim == 1 else ""
        raise ValueError(f"cross_entropy: logits must have shape (N, C), got {logits.shape}{hint}.")
    if logits.shape[0] == 0 and reduction == "mean":
        raise ValueError("cross_entropy: the batch is empty (0 rows), so there is no mean to take")
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    if labels.dtype.kind in "iu":
        _check_labels(labels, logits.shape)
    elif labels.dtype.kind == "f":
        if labels.shape != logits.shape:
            hint = (
                " Class labels must be integers: convert them with target.astype(numpy.int64)."
                if labels.shape == logits.shape[:1]
                else ""
            )
            raise ValueError(
                f"cross_entropy: floating targets are probability rows and must have the logits' shape "
                f"{logits.shape}, got {labels.shape}.{hint}"
            )
        _check_probability_rows(labels)
    else:
        raise TypeError(
            f"cross_entropy: target must hold integer class labels or floating probabilities, "
            f"got dtype {labels.dtype}."
        )
    log_probs = logits.log_softmax(axis=1)
    if labels.dtype.kind == "f":
        # 0 log 0 = 0, also where log_softmax is -inf (a probability that underflowed)
        return _reduce_negated((log_probs.where(labels > 0, 0.0) * target).sum(axis=1), reduction)
    return _pick_classes(log_probs, labels, reduction)


@composite
def nll_loss(log_probs: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of the target classes: ``-log_probs[i, target[i]]``, averaged by default.

    The second half of ``cross_entropy``, for a model whose last step is
    ``log_softmax`` (``cross_entropy(z, y) == nll_loss(z.log_softmax(axis=1), y)``).

    Parameters
    ----------
    log_probs : Tensor, shape (N, C)
        Log-probabilities, e.g. ``logits.log_softmax(axis=1)``.
    target : integer array of shape (N,)
        Class labels in ``[0, C)``.
    reduction : {"mean", "sum", "none"}
    """
    _check_reduction("nll_loss", reduction)
    if not isinstance(log_probs, Tensor) or log_probs.ndim != 2:
        got = f"shape {log_probs.shape}" if isinstance(log_probs, Tensor) else type(log_probs).__name__
        raise ValueError(f"nll_loss: log_probs must be a Tensor of shape (N, C), got {got}")
    labels = target.data if isinstance(target, Tensor) else np.asarray(target)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"nll_loss: target must be integer class labels, got dtype {labels.dtype}; "
            f"convert them with target.astype(numpy.int64)."
        )
    _check_labels(labels, log_probs.shape)
    if log_probs.shape[0] == 0 and reduction == "mean":
        raise ValueError("nll_loss: the batch is empty (0 rows), so there is no mean to take")
    return _pick_classes(log_probs, labels, reduction)


@composite
def l1_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``|pred - target|``, averaged over all elements by default (shapes must match)."""
    _check_reduction("l1_loss", reduction)
    target = _same_shape_target("l1_loss", pred, target)
    return _reduce((pred - target).abs(), reduction)


@composite
def binary_cross_entropy_with_logits(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of ``sigmoid(logits)`` against targets in [0, 1], averaged over all elements.

    Per element, ``log(1 + exp(z)) - z * y``. ``log(1 + exp(z))`` is computed as
    ``m + log(exp(-m) + exp(z - m))`` with the constant ``m = max(z, 0)``: both
    exponents are <= 0, so it never overflows, and its gradient is exactly
    ``sigmoid(z)`` everywhere (the constant shift has no gradient).

    Parameters
    ----------
    logits : Tensor
        Raw scores (no sigmoid applied), any shape.
    target : Tensor or array-like
        Same shape as ``logits``; 0/1 labels or probabilities.
    reduction : {"mean", "sum", "none"}
        Average over all elements, sum them, or return the elementwise losses.

    Raises
    ------
    ValueError
        If the shapes differ or a target lies outside [0, 1].
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    target = _same_shape_target("binary_cross_entropy_with_logits", logits, target)
    values = target.data if isinstance(target, Tensor) else target
    if values.size and (values.min() < 0 or values.max() > 1):
        raise ValueError(
            f"binary_cross_entropy_with_logits: targets must be probabilities in [0, 1], got values from "
            f"{values.min()} to {values.max()}. For more than two classes use cross_entropy."
        )
    shift = np.maximum(logits.data, 0)
    softplus = ((logits - shift).exp() + np.exp(-shift)).log() + shift
    return _reduce(softplus - logits * target, reduction)


@composite
def binary_cross_entropy(probs: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities: ``-(y * log(p) + (1 - y) * log(1 - p))``, averaged by default.

    For a model that ends in ``sigmoid``. Each log is floored at -100 as in
    PyTorch (the probabilities are clipped to at least ``exp(-100)``), so a
    saturated 0 or 1 gives a large finite loss, not inf. ``binary_cross_entropy_with_logits``
    on the scores before the sigmoid is more accurate: prefer it.

    Raises
    ------
    ValueError
        If the shapes differ, or a probability or a target lies outside [0, 1].
    """
    _check_reduction("binary_cross_entropy", reduction)
    target = _same_shape_target("binary_cross_entropy", probs, target)
    targets = target.data if isinstance(target, Tensor) else target
    for what, values in (("probabilities", probs.data), ("targets", targets)):
        if values.size and not (values.min() >= 0 and values.max() <= 1):
            raise ValueError(
                f"binary_cross_entropy: {what} must lie in [0, 1], got values from {values.min()} to "
                f"{values.max()}. For raw scores use binary_cross_entropy_with_logits."
            )
    floor = math.exp(-100)
    log_p = probs.clip(lo=floor).log()
    log_not_p = (1 - probs).clip(lo=floor).log()
    return _reduce(-(log_p * target + log_not_p * (1 - target)), reduction)


# ---------------------------------------------------------------- helpers


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f'{name}: reduction must be "mean", "sum" or "none", got {reduction!r}')


def _pick_classes(log_probs: Tensor, labels: np.ndarray, reduction: str) -> Tensor:
    """Minus the log-probability of each sample's class (picked by integer indexing), reduced."""
    picked = log_probs[np.arange(log_probs.shape[0]), labels]
    return _reduce_negated(picked, reduction)


def _reduce_negated(per_sample: Tensor, reduction: str) -> Tensor:
    """``-per_sample``, reduced over the batch; the minus sign joins the 1/N factor (one node fewer)."""
    if reduction == "none":
        return -per_sample
    return per_sample.sum() * (-1.0 / per_sample.shape[0] if reduction == "mean" else -1.0)


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    return losses.sum() if reduction == "sum" else losses


def _same_shape_target(name: str, pred: Tensor, target: Any) -> Any:
    """The target as a Tensor or as an array of pred's dtype, after checking the shapes are equal."""
    if not isinstance(pred, Tensor):
        raise TypeError(
            f"{name}: the prediction must be a Tensor (the model's output), got {type(pred).__name__}"
        )
    if not isinstance(target, Tensor):
        target = np.asarray(target)
        if target.dtype.kind not in "biuf":
            raise TypeError(f"{name}: target must be numbers, got dtype {target.dtype}")
        target = target.astype(pred.dtype, copy=False)
    if target.shape != pred.shape:
        if target.size == pred.size:
            fix = f"reshape one to the other's shape, e.g. target = target.reshape({pred.shape})"
        else:
            fix = "they hold different numbers of values: check that both come from the same batch"
        raise ValueError(
            f"{name}: prediction has shape {pred.shape} but target has shape {target.shape}. They must be "
            f"equal: broadcasting them would compare every prediction with every target. Fix: {fix}."
        )
    return target


def _check_labels(labels: np.ndarray, shape: tuple[int, ...]) -> None:
    """Integer class labels for logits of ``shape`` (N, C) must be N indices in [0, C)."""
    n, n_classes = shape
    if labels.shape != (n,):
        raise ValueError(
            f"cross_entropy: integer labels must have shape ({n},), one class index per row of the logits "
            f"{shape}, got {labels.shape}"
            + (" (flatten them with target.reshape(-1))." if labels.size == n else ".")
        )
    if n and (labels.min() < 0 or labels.max() >= n_classes):
        bad = labels[(labels < 0) | (labels >= n_classes)]
        raise ValueError(
            f"cross_entropy: labels must be class indices in [0, {n_classes}) for logits with {n_classes} "
            f"classes, got {bad[:5].tolist()}{'...' if bad.size > 5 else ''}. Check the number of outputs "
            f"of the last layer and the labels' encoding (e.g. 1-based classes)."
        )


def _check_probability_rows(target: np.ndarray) -> None:
    """Probability targets: every entry in [0, 1] and every row summing to 1 (else the loss means nothing)."""
    if target.size == 0:
        return
    bad_entries = ~((target >= 0) & (target <= 1))  # also catches NaN
    sums = target.sum(axis=1, dtype=np.float64)
    bad_rows = np.flatnonzero(bad_entries.any(axis=1) | (np.abs(sums - 1) > 1e-3))
    if bad_rows.size:
        row = int(bad_rows[0])
        raise ValueError(
            f"cross_entropy: probability targets must be rows of numbers in [0, 1] that sum to 1, but row "
            f"{row} is {np.array2string(target[row], threshold=8, precision=4)} (sum {sums[row]:.6g}); "
            f"{bad_rows.size} row(s) are wrong. For class labels pass integers; otherwise normalise each row."
        )


# ---------------------------------------------------------------- the same losses as modules


class _Loss(Module):
    """A loss function as a module (PyTorch's ``nn.CrossEntropyLoss()`` style): ``loss(pred, target)``."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class CrossEntropyLoss(_Loss):
    """``cross_entropy(logits, target, reduction)`` as a module."""

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return cross_entropy(logits, target, self.reduction)


class NLLLoss(_Loss):
    """``nll_loss(log_probs, target, reduction)`` as a module."""

    def forward(self, log_probs: Tensor, target: Any) -> Tensor:
        return nll_loss(log_probs, target, self.reduction)


class MSELoss(_Loss):
    """``mse_loss(pred, target, reduction)`` as a module."""

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        return mse_loss(pred, target, self.reduction)


class L1Loss(_Loss):
    """``l1_loss(pred, target, reduction)`` as a module."""

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        return l1_loss(pred, target, self.reduction)


class BCELoss(_Loss):
    """``binary_cross_entropy(probs, target, reduction)`` as a module."""

    def forward(self, probs: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy(probs, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``binary_cross_entropy_with_logits(logits, target, reduction)`` as a module."""

    def forward(self, logits: Tensor, target: Any) -> Tensor:
        return binary_cross_entropy_with_logits(logits, target, self.reduction)
