"""Weight initialisation, drawn from the library's seeded generator (``tinygrad_edu.manual_seed``).

The scale of the initial weights decides whether signals and gradients keep a
useful size through many layers. The two classic recipes keep the variance of
each layer's output near that of its input:

- Xavier/Glorot (2010): Var(w) = 2 / (fan_in + fan_out), for activations that are
  roughly linear around 0 (identity, tanh, sigmoid, sin, ...).
- He/Kaiming (2015): Var(w) = 2 / fan_in, for ReLU-like activations, which zero
  about half of their inputs and so halve the variance.

``Linear`` uses them in their uniform form: U(-a, a) has variance a**2 / 3; the
``_normal_`` variants draw from a normal distribution with the same variance.
Functions ending in ``_`` fill an existing tensor in place and return it, with
PyTorch's names and defaults.
"""

from __future__ import annotations

import math

from tinygrad_edu import Tensor, get_rng

_LINEAR_LIKE = ("linear", "identity", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps the variance through ``nonlinearity`` (PyTorch's table).

    1 for linear/identity/sigmoid, 5/3 for tanh, sqrt(2) for relu and
    sqrt(2 / (1 + a**2)) for leaky_relu with negative slope ``param`` (default 0.01).
    """
    return math.sqrt(_squared_gain(nonlinearity, param))


def _squared_gain(nonlinearity: str, param: float | None) -> float:
    """gain**2, kept exact (2.0 for ReLU) so that the variances below round as few times as possible."""
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 25.0 / 9.0
    if nonlinearity == "relu":
        return 2.0
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return 2.0 / (1 + slope**2)
    raise ValueError(
        f"calculate_gain: unknown nonlinearity {nonlinearity!r}; use one of "
        f"{', '.join((*_LINEAR_LIKE, 'tanh', 'relu', 'leaky_relu'))}"
    )


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill ``tensor`` in place with samples of U(a, b). Returns it."""
    if not a <= b:
        raise ValueError(f"uniform_: the interval [a, b) needs a <= b, got a={a}, b={b}")
    tensor.data[...] = get_rng().uniform(a, b, tensor.shape)
    return tensor


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill ``tensor`` in place with samples of N(mean, std**2). Returns it."""
    if not std >= 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    tensor.data[...] = get_rng().normal(mean, std, tensor.shape)
    return tensor


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` in place with ``val``. Returns it."""
    tensor.data[...] = val
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` in place with 0 (e.g. biases). Returns it."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` in place with 1. Returns it."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot/Xavier uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    For a weight of shape ``(fan_out, fan_in)``, as in ``Linear``.
    """
    fan_out, fan_in = _fans("xavier_uniform_", tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot/Xavier normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_out, fan_in = _fans("xavier_normal_", tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He/Kaiming uniform: U(-b, b) with b = gain * sqrt(3 / fan), i.e. Var(w) = gain**2 / fan.

    With the defaults (PyTorch's: ``a=0``, ``nonlinearity="leaky_relu"``, so gain
    sqrt(2), as for ReLU) that is Var(w) = 2 / fan_in. ``a`` is the negative slope
    of a leaky ReLU; ``mode="fan_out"`` keeps the variance of the gradients instead.
    For a weight of shape ``(fan_out, fan_in)``, as in ``Linear``.
    """
    bound = math.sqrt(3.0 * _kaiming_variance("kaiming_uniform_", tensor, a, mode, nonlinearity))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(
    tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"
) -> Tensor:
    """He/Kaiming normal: N(0, std**2) with std = gain / sqrt(fan); arguments as ``kaiming_uniform_``."""
    return normal_(tensor, 0.0, math.sqrt(_kaiming_variance("kaiming_normal_", tensor, a, mode, nonlinearity)))


def _kaiming_variance(name: str, tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float:
    fan_out, fan_in = _fans(name, tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f'{name}: mode must be "fan_in" or "fan_out", got {mode!r}')
    fan = fan_in if mode == "fan_in" else fan_out
    return _squared_gain(nonlinearity, a) / fan


def _fans(name: str, tensor: Tensor) -> tuple[int, int]:
    if tensor.ndim != 2 or tensor.size == 0:
        raise ValueError(
            f"{name}: expected a non-empty 2-D weight of shape (fan_out, fan_in), got shape {tensor.shape}"
        )
    fan_out, fan_in = tensor.shape
    return fan_out, fan_in
