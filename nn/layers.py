"""Layers: `Linear`, `Dropout`, activation modules (including per-unit mixtures) and `MLP`.

Every forward here is an expression of Tensor operations: gradients come from
the engine's primitives, no layer has a ``backward``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Union

import numpy as np

from tinygrad_edu import Tensor, as_tensor, cat, linear

from .functional import check_dropout_probability, dropout
from .init import kaiming_uniform_, uniform_, xavier_uniform_
from .module import Module, Parameter, Sequential

ActivationFn = Callable[[Tensor], Tensor]
ActivationSpec = Union[str, ActivationFn]


class Linear(Module):
    """Affine map ``y = x @ weight.T + bias``, as ``torch.nn.Linear``.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of each input and output sample; ``x`` has shape ``(..., in_features)``.
    bias : bool
        Add a learnable bias (default True).
    init : {"xavier", "he"}
        Weight initialisation (see ``nn.init``): Glorot/Xavier uniform
        (default; for identity, tanh, sigmoid, sin, ... after the layer) or
        He/Kaiming uniform (for ReLU and leaky ReLU after the layer). ``MLP``
        picks the one that suits its activation.

    Attributes
    ----------
    weight : Tensor, shape (out_features, in_features)
    bias : Tensor, shape (out_features,), or None
        Initialised from U(-1/sqrt(in_features), 1/sqrt(in_features)) as in
        PyTorch: random biases spread the kinks of ReLU units over the input
        range (with zero biases every kink of a 1-input network sits at x = 0).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, init: str = "xavier") -> None:
        super().__init__()
        for name, size in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
                raise ValueError(f"Linear: {name} must be a positive integer, got {size!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.init = init
        self.weight = Parameter(np.zeros((self.out_features, self.in_features)))
        self.bias = Parameter(np.zeros(self.out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw new initial values from the seeded generator."""
        if self.init == "xavier":
            xavier_uniform_(self.weight)
        elif self.init == "he":
            kaiming_uniform_(self.weight)
        else:
            raise ValueError(f'Linear: init must be "xavier" or "he", got {self.init!r}')
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features)
            uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor | np.ndarray) -> Tensor:
        if not isinstance(x, (Tensor, np.ndarray)):  # a nested list, as Tensor() accepts
            x = Tensor(x, dtype=self.weight.dtype)
        if x.shape[-1:] != (self.in_features,):
            hint = ""
            if x.ndim > 2:
                hint = " (flatten the images first: x.reshape(len(x), -1))"
            elif x.ndim == 1 and self.in_features == 1:
                hint = " (a batch of single numbers must be a column: x.reshape(-1, 1))"
            raise ValueError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}) got an input "
                f"of shape {x.shape}; its last dimension must be {self.in_features}{hint}."
            )
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
        )


class Dropout(Module):
    """Randomly zero a fraction ``p`` of the values while training, and scale the others by 1/(1-p).

    The scaling keeps the expected value of every unit the same in training
    and evaluation, so in ``eval()`` mode the layer is simply the identity.
    The mask comes from the seeded generator (``tinygrad_edu.manual_seed``).

    Parameters
    ----------
    p : float
        Probability of zeroing each value, in [0, 1] (default 0.5).
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        check_dropout_probability("Dropout", p)
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


# ---------------------------------------------------------------- activations


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope * x`` otherwise: negative inputs keep a small gradient."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise, in (0, 1)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()


class Tanh(Module):
    """tanh(x), elementwise, in (-1, 1)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class Identity(Module):
    """Returns its input unchanged (a placeholder where a layer is optional)."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Flatten(Module):
    """Merge the axes from ``start_dim`` on into one: images (N, 28, 28) -> (N, 784), as ``torch.nn.Flatten``."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x).flatten(self.start_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}"


class Activation(Module):
    """Any elementwise ``Tensor -> Tensor`` function as a layer, e.g. ``Activation(lambda x: x.sin())``.

    Write the function forward only; its gradient comes from the operations it uses.

    Parameters
    ----------
    fn : callable or str
        Applied to the whole input; must return a tensor of the same shape.
        A name such as ``"sin"`` works too (see ``MLP``).
    name : str, optional
        Shown in the repr (default: the function's ``__name__``).
    """

    def __init__(self, fn: ActivationSpec, name: str | None = None) -> None:
        super().__init__()
        self.fn, default_name = _activation_function(fn)
        self.fn_name = name if name is not None else default_name

    def forward(self, x: Tensor) -> Tensor:
        return _apply_elementwise(self.fn, x, self.fn_name)

    def extra_repr(self) -> str:
        return self.fn_name


class PerUnitActivation(Module):
    """A different activation for each unit (the last axis) of a layer.

    Units that share a function are gathered and transformed together, then
    put back in place, so a 64-unit layer with two kinds of units runs two
    activations, not 64.

    Parameters
    ----------
    activations : sequence of str or callable
        One entry per unit: a name (``"relu"``, ``"sin"``, ... see ``MLP``) or
        a ``Tensor -> Tensor`` function. Units whose entries are the same name
        or the same function object form one group.

    Examples
    --------
    >>> import nn
    >>> half_and_half = nn.PerUnitActivation(["relu"] * 4 + [lambda x: x.sin()] * 4)
    >>> net = nn.Sequential(nn.Linear(1, 8), half_and_half, nn.Linear(8, 1))
    """

    def __init__(self, activations: Sequence[ActivationSpec]) -> None:
        super().__init__()
        if isinstance(activations, str) or len(activations) == 0:
            raise ValueError(
                "PerUnitActivation: give a list with one activation per unit, e.g. ['relu', 'sin', 'relu']"
            )
        groups: dict[int, tuple[ActivationFn, str, list[int]]] = {}
        for unit, spec in enumerate(activations):
            fn, name = _activation_function(spec)
            groups.setdefault(id(fn), (fn, name, []))[2].append(unit)
        self.num_units = len(activations)
        self.groups = [(fn, name, np.array(units)) for fn, name, units in groups.values()]
        order = np.concatenate([units for _, _, units in self.groups])
        self.inverse_order = np.argsort(order)  # where each unit landed after concatenating the groups

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1:] != (self.num_units,):
            raise ValueError(
                f"PerUnitActivation has {self.num_units} activations (one per unit) but got an input of "
                f"shape {x.shape}; its last dimension must be {self.num_units}."
            )
        if len(self.groups) == 1:
            fn, name, _ = self.groups[0]
            return _apply_elementwise(fn, x, name)
        pieces = [_apply_elementwise(fn, x[..., units], name) for fn, name, units in self.groups]
        return cat(pieces, axis=-1)[..., self.inverse_order]

    def extra_repr(self) -> str:
        counts = ", ".join(f"{name}: {len(units)}" for _, name, units in self.groups)
        return f"units={self.num_units}, {counts}"


def _identity(x: Tensor) -> Tensor:
    return x


_FUNCTIONS: dict[str, ActivationFn] = {
    "relu": Tensor.relu,
    "leaky_relu": Tensor.leaky_relu,
    "sigmoid": Tensor.sigmoid,
    "tanh": Tensor.tanh,
    "abs": Tensor.abs,
    "sin": Tensor.sin,
    "identity": _identity,
}
_MODULES: dict[str, type[Module]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "identity": Identity,
}


def _unknown_name(name: str) -> ValueError:
    return ValueError(
        f"unknown activation {name!r}; use one of {', '.join(_FUNCTIONS)}, or pass a function "
        f"Tensor -> Tensor such as lambda x: (x - 0.5).relu()."
    )


def _activation_function(spec: ActivationSpec) -> tuple[ActivationFn, str]:
    """A name or function -> (function, display name)."""
    if isinstance(spec, str):
        if spec not in _FUNCTIONS:
            raise _unknown_name(spec)
        return _FUNCTIONS[spec], spec
    if not callable(spec):
        raise TypeError(
            f"an activation must be a name or a function Tensor -> Tensor, got {type(spec).__name__}"
        )
    name: str = getattr(spec, "__name__", type(spec).__name__)
    return spec, name


def _activation_module(spec: ActivationSpec | Module) -> Module:
    """A name, function or module -> a module: "relu" -> ReLU(), a function -> Activation(fn)."""
    if isinstance(spec, Module):
        return spec
    if isinstance(spec, str) and spec in _MODULES:
        return _MODULES[spec]()
    fn, name = _activation_function(spec)
    return Activation(fn, name)


def _apply_elementwise(fn: ActivationFn, x: Tensor, name: str) -> Tensor:
    out = fn(x)
    if not isinstance(out, Tensor) or out.shape != x.shape:
        got = f"shape {out.shape}" if isinstance(out, Tensor) else f"a {type(out).__name__}"
        raise ValueError(
            f"activation {name}: must return a Tensor of its input's shape {x.shape}, but returned {got}. "
            f"Write it with Tensor operations applied elementwise, e.g. lambda x: x.sin() (not np.sin(x))."
        )
    return out


def _init_for(activation: Module | None) -> str:
    """He initialisation before ReLU-like activations, Xavier before anything else."""
    return "he" if isinstance(activation, (ReLU, LeakyReLU)) else "xavier"


class MLP(Module):
    """A multi-layer perceptron: Linear layers with an activation (and optional dropout) between them.

    ``MLP([784, 100, 10])`` is ``Linear(784, 100) -> ReLU -> Linear(100, 10)``,
    stored as the ``Sequential`` attribute ``layers``, so the parameters are
    named ``layers.0.weight``, ``layers.0.bias``, ``layers.2.weight``, ...

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, at least two.
    activation : str, callable or Module
        After every hidden layer: ``"relu"`` (default), ``"leaky_relu"``,
        ``"sigmoid"``, ``"tanh"``, ``"abs"``, ``"sin"``, ``"identity"``, any
        ``Tensor -> Tensor`` function (``lambda x: (x - 1).relu()``), or a
        module such as ``LeakyReLU(0.2)`` or ``PerUnitActivation([...])``.
    output_activation : str, callable, Module or None
        After the last layer; None (default) leaves the output linear, which
        is what regression and the losses (they take logits) expect.
    dropout : float
        If > 0, a ``Dropout(dropout)`` follows each hidden activation.
    init : {"he", "xavier"} or None
        Weight initialisation of every Linear. None (default) picks for each
        layer from the activation after it: He for ReLU and leaky ReLU,
        Xavier for everything else (including functions).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: ActivationSpec | Module = "relu",
        output_activation: ActivationSpec | Module | None = None,
        dropout: float = 0.0,
        init: str | None = None,
    ) -> None:
        super().__init__()
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(
                f"MLP: sizes lists the widths from input to output, so it needs at least two; got {sizes}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(
                f"MLP: dropout is the probability of dropping a hidden unit, in [0, 1); got {dropout}"
            )
        layers: list[Module] = []
        for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            is_output = index == len(sizes) - 2
            if is_output:
                after = None if output_activation is None else _activation_module(output_activation)
            else:
                after = _activation_module(activation)  # a fresh module per layer, unless a module was given
            layers.append(Linear(n_in, n_out, init=init or _init_for(after)))
            if after is not None:
                layers.append(after)
            if not is_output and dropout > 0:
                layers.append(Dropout(dropout))
        self.sizes = sizes
        self.layers = Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)
