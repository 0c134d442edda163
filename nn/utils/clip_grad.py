"""Gradient clipping: keep one bad batch from throwing the weights far away.

Both work on the ``.grad`` arrays in place, between ``loss.backward()`` and
``optimizer.step()``. Parameters without a gradient are skipped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Union

import numpy as np

from tinygrad_edu import Tensor

Parameters = Union[Tensor, Iterable[Tensor]]


def clip_grad_norm_(parameters: Parameters, max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients together so that their joint norm is at most ``max_norm``; return the norm before.

    The norm is taken over every gradient as if they were one long vector (as
    ``torch.nn.utils.clip_grad_norm_``), so the direction of the update is kept.
    ``norm_type`` may be any p >= 1 or ``math.inf`` (the largest magnitude).
    A non-finite total norm is returned unchanged and nothing is scaled, so a
    NaN shows up in the returned value rather than spreading into every gradient.
    """
    _check_limit("clip_grad_norm_", "max_norm", max_norm)
    if not (norm_type == math.inf or norm_type >= 1):
        raise ValueError(f"clip_grad_norm_: norm_type must be >= 1 or math.inf, got {norm_type}")
    grads = _gradients(parameters)
    if not grads:
        return 0.0
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g, dtype=np.float64) ** norm_type)) for g in grads) ** (1.0 / norm_type)
    scale = max_norm / (total + 1e-6)  # PyTorch's small constant: a zero norm divides by 1e-6, not 0
    if math.isfinite(total) and scale < 1:
        for grad in grads:
            grad *= grad.dtype.type(scale)
    return total


def clip_grad_value_(parameters: Parameters, clip_value: float) -> None:
    """Clamp every gradient element into ``[-clip_value, clip_value]``, in place."""
    _check_limit("clip_grad_value_", "clip_value", clip_value)
    for grad in _gradients(parameters):
        np.clip(grad, -clip_value, clip_value, out=grad)


def _gradients(parameters: Parameters) -> list[np.ndarray]:
    items = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for index, item in enumerate(items):
        if not isinstance(item, Tensor):
            raise TypeError(
                f"gradient clipping: item {index} is a {type(item).__name__}, not a Tensor; "
                f"pass model.parameters()."
            )
    return [item.grad for item in items if item.grad is not None]


def _check_limit(owner: str, name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    if not value > 0:
        raise ValueError(f"{owner}: {name} must be > 0, got {value}")
