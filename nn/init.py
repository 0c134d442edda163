"""Weight initialisation, drawn from the library's seeded generator (``tinygrad_edu.manual_seed``).

The scale of the initial weights decides whether signals and gradients keep a
useful size through many layers. The two classic recipes keep the variance of
each layer's output near that of its input:

- Xavier/Glorot (2010): Var(w) = 2 / (fan_in + fan_out), for activations that are
  roughly linear around 0 (identity, tanh, sigmoid, sin, ...).
- He/Kaiming (2015): Var(w) = 2 / fan_in, for ReLU-like activations, which zero
  about half of their inputs and so halve the variance.

Both are used here in their uniform form: U(-a, a) has variance a**2 / 3.
Functions ending in ``_`` fill an existing tensor in place, as in PyTorch.
"""

from __future__ import annotations

import math

from tinygrad_edu import Tensor, get_rng


def uniform_(tensor: Tensor, low: float, high: float) -> Tensor:
    """Fill ``tensor`` in place with samples of U(low, high). Returns it."""
    tensor.data[...] = get_rng().uniform(low, high, tensor.shape)
    return tensor


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot/Xavier uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    For a weight of shape ``(fan_out, fan_in)``, as in ``Linear``.
    """
    fan_out, fan_in = _fans("xavier_uniform_", tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def kaiming_uniform_(tensor: Tensor) -> Tensor:
    """He/Kaiming uniform for ReLU: U(-a, a) with a = sqrt(6 / fan_in), i.e. Var(w) = 2 / fan_in.

    For a weight of shape ``(fan_out, fan_in)``, as in ``Linear``.
    """
    _, fan_in = _fans("kaiming_uniform_", tensor)
    bound = math.sqrt(6.0 / fan_in)
    return uniform_(tensor, -bound, bound)


def _fans(name: str, tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim != 2 or tensor.size == 0:
        raise ValueError(
            f"{name}: expected a non-empty 2-D weight of shape (fan_out, fan_in), got shape {tensor.shape}"
        )
    fan_out, fan_in = tensor.shape
    return fan_out, fan_in
