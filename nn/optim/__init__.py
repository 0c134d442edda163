"""Optimizers (`SGD`, `Adam`, `AdamW`); learning-rate schedules live in `nn.optim.lr_scheduler`.

The update rules are PyTorch's, term for term, so results can be compared with
it. Updates work on the parameters' NumPy arrays in place, so no graph is
recorded, and float32 parameters stay float32 (the hyperparameters are Python
floats, which NumPy never lets promote a float32 array).

As in PyTorch, the parameters are held in ``param_groups``: a list of dicts,
each with its ``"params"`` and its own hyperparameters (``"lr"``, ...), so one
part of a model can train with another learning rate. ``state_dict()`` and
``load_state_dict()`` save and restore the hyperparameters and the running
state (momentum, Adam's averages and step count), so a stopped run resumes
exactly where it left off.

Typical loop::

    optimizer = nn.optim.AdamW(model.parameters(), lr=1e-3)
    for x, y in batches:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
"""

from __future__ import annotations

import copy
import math
import numbers
import operator
from collections.abc import Iterable, Mapping
from typing import Any, Union

import numpy as np

from tinygrad_edu import Tensor
from tinygrad_edu.locks import writable_data

from . import lr_scheduler  # the submodule, as torch.optim.lr_scheduler
from .flat import FlatGroup, flat_groups
from .lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR

__all__ = ["SGD", "Adam", "AdamW", "CosineAnnealingLR", "LRScheduler", "Optimizer", "StepLR", "lr_scheduler"]

_SCHEDULER_KEYS = ("initial_lr",)  # what a learning-rate schedule keeps in each group, as in PyTorch

ParamsArg = Union[Iterable[Tensor], Iterable[tuple[str, Tensor]], Iterable[Mapping[str, Any]]]


class Optimizer:
    """Base class: holds the parameter groups and the per-parameter state, checks gradients, clears them.

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor), or of dicts
        ``model.parameters()``; ``model.named_parameters()`` so that error
        messages use the dotted names; or groups such as
        ``[{"params": a.parameters()}, {"params": b.parameters(), "lr": 1e-4}]``,
        where a key missing from a group takes the constructor's value.
    defaults : dict
        The hyperparameters of the subclass (``lr`` and the others).
    """

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Tensor, dict[str, Any]] = {}  # param -> its running state (tensors hash by identity)
        self._names: dict[Tensor, str] = {}
        items: list[Any] = list(params)
        groups: list[dict[str, Any]]
        if items and all(isinstance(item, Mapping) for item in items):
            groups = [dict(item) for item in items]
        else:
            groups = [{"params": items}]
        for group in groups:
            self._add_group(group)
        if not any(group["params"] for group in self.param_groups):
            raise ValueError(
                f"{type(self).__name__} got no parameters. Pass model.parameters() (a fresh call: a "
                f"generator that was already consumed is empty), and check that the model registers its "
                f"layers and parameters as attributes (a plain list of layers needs nn.ModuleList)."
            )

    def _add_group(self, group: dict[str, Any]) -> None:
        owner = type(self).__name__
        if "params" not in group:
            raise ValueError(f"{owner}: a parameter group must have a 'params' entry, got keys {list(group)}")
        unknown = [key for key in group if key not in ("params", *self.defaults, *_SCHEDULER_KEYS)]
        if unknown:
            raise ValueError(f"{owner}: unknown setting(s) {unknown}; {owner} takes {list(self.defaults)}")
        params: list[Tensor] = []
        given = group["params"]
        for item in [given] if isinstance(given, Tensor) else list(given):
            index = sum(len(g["params"]) for g in self.param_groups) + len(params)
            name, param = item if isinstance(item, tuple) else (_describe(index, item), item)
            if not isinstance(param, Tensor) or not param.requires_grad or not param.is_leaf:
                raise TypeError(
                    f"{owner}: {name} is not a parameter (a leaf Tensor with requires_grad=True); "
                    f"pass model.parameters()."
                )
            if param in self._names or any(param is seen for seen in params):
                raise ValueError(f"{owner}: {name} is given twice; pass each parameter once.")
            self._names[param] = name
            params.append(param)
        settings = {**self.defaults, **{key: value for key, value in group.items() if key != "params"}}
        self._check_settings(settings)
        self.param_groups.append({"params": params, **settings})

    def _check_settings(self, settings: dict[str, Any]) -> None:
        """Validate one group's hyperparameters (subclasses add their own)."""
        _check_number(type(self).__name__, "lr", settings["lr"])

    # ------------------------------------------------------------ the learning rate, the simple way

    @property
    def params(self) -> list[Tensor]:
        """Every parameter, over all groups, in order."""
        return [param for group in self.param_groups for param in group["params"]]

    @property
    def lr(self) -> float:
        """The learning rate (of the first group; ``param_groups`` has every group's)."""
        return float(self.param_groups[0]["lr"])

    @lr.setter
    def lr(self, value: float) -> None:
        """Set the learning rate of every group."""
        _check_number(type(self).__name__, "lr", value)
        for group in self.param_groups:
            group["lr"] = float(value)

    # ------------------------------------------------------------ stepping

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient: ``.grad = None`` (PyTorch's default), or zeros in place."""
        for param in self.params:
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                param.grad[...] = 0

    def step(self) -> None:
        """Update every parameter once from its ``.grad``."""
        raise NotImplementedError

    def _gradients(self) -> None:
        """Check every parameter's gradient before any is used: all present, arrays of the parameter's shape."""
        owner = type(self).__name__
        missing = [self._names[param] for param in self.params if param.grad is None]
        if missing:
            raise RuntimeError(
                f"{owner}.step(): no gradient for {', '.join(missing)}. Call loss.backward() "
                f"before step() (and zero_grad() only before backward). If backward ran, these parameters "
                f"were not used to compute the loss: leave them out of the optimizer or use them in forward."
            )
        for param in self.params:
            grad = param.grad
            if not isinstance(grad, np.ndarray) or grad.shape != param.shape or grad.dtype.kind != "f":
                got = (
                    f"an array of shape {grad.shape} and dtype {grad.dtype}"
                    if isinstance(grad, np.ndarray)
                    else f"a {type(grad).__name__}"
                )
                raise ValueError(
                    f"{owner}.step(): the .grad of {self._names[param]} is {got}, but it must be a "
                    f"floating numpy array of the parameter's shape {param.shape}. backward() makes such "
                    f"gradients; a .grad set by hand must have that shape too."
                )

    # ------------------------------------------------------------ saving and resuming

    def state_dict(self) -> dict[str, Any]:
        """A copy of the hyperparameters and running state, in PyTorch's layout.

        ``{"state": {index: {...}}, "param_groups": [{"lr": ..., "params": [indices]}, ...]}``,
        where parameters are numbered in order over all groups. Arrays are copies.
        """
        index = {param: i for i, param in enumerate(self.params)}
        groups = [
            {**{key: value for key, value in group.items() if key != "params"},
             "params": [index[param] for param in group["params"]]}
            for group in self.param_groups
        ]  # fmt: skip
        state = {
            index[key]: {name: value.copy() if isinstance(value, np.ndarray) else value for name, value in s.items()}
            for key, s in self.state.items()
        }
        return {"state": state, "param_groups": copy.deepcopy(groups)}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what ``state_dict()`` returned, for an optimizer built over the same parameters.

        Raises
        ------
        ValueError
            If the groups or parameter counts differ, or a state array does not
            fit its parameter. Nothing is changed when it is raised.
        """
        owner = type(self).__name__
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(
                f"{owner}.load_state_dict: expected the dict from optimizer.state_dict() with the keys "
                f"'state' and 'param_groups', got {type(state_dict).__name__}"
                + (f" with keys {sorted(map(str, state_dict))}" if isinstance(state_dict, Mapping) else "")
            )
        groups = list(state_dict["param_groups"])
        own_sizes = [len(group["params"]) for group in self.param_groups]
        sizes = [len(group.get("params", ())) for group in groups]
        if own_sizes != sizes:
            raise ValueError(
                f"{owner}.load_state_dict: the saved optimizer has groups of {sizes} parameters, this one "
                f"{own_sizes}; build the optimizer over the same model and groups as the saved one."
            )
        params = self.params
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, saved in dict(state_dict["state"]).items():
            number = int(key)
            if not 0 <= number < len(params):
                raise ValueError(f"{owner}.load_state_dict: state for parameter {key}, but there are {len(params)}")
            param = params[number]
            entry: dict[str, Any] = {}
            for name, value in saved.items():
                if name == "step":  # a count, also when it comes back from a file as a 0-d array
                    entry[name] = int(value)
                    continue
                array = np.array(value, dtype=param.dtype)
                if array.shape != param.shape:
                    raise ValueError(
                        f"{owner}.load_state_dict: {name} of {self._names[param]} has shape "
                        f"{array.shape}, the parameter {param.shape}"
                    )
                entry[name] = array
            new_state[param] = entry
        settings = []
        for group in groups:
            merged = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
            unknown = [k for k in merged if k not in (*self.defaults, *_SCHEDULER_KEYS)]
            if unknown:
                raise ValueError(f"{owner}.load_state_dict: unknown setting(s) {unknown}")
            self._check_settings(merged)
            settings.append(merged)
        for group, merged in zip(self.param_groups, settings):
            group.update(copy.deepcopy(merged))
        self.state = new_state

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={value}" for key, value in self.param_groups[0].items() if key != "params")
        groups = f", {len(self.param_groups)} groups" if len(self.param_groups) > 1 else ""
        return f"{type(self).__name__}({len(self.params)} parameters{groups}, {settings})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    PyTorch's rule (with ``dampening=0``), for gradient g of parameter p::

        g = g + weight_decay * p
        b = g                    on the first step
        b = momentum * b + g     afterwards          (only if momentum != 0)
        g = g + momentum * b     if nesterov, else g = b
        p = p - lr * g

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor), or of group dicts
        The parameters to train (see ``Optimizer``).
    lr : float
        Learning rate.
    momentum : float
        Momentum factor (default 0: plain gradient descent).
    weight_decay : float
        L2 penalty added to the gradient (default 0).
    nesterov : bool
        Use Nesterov momentum (needs ``momentum > 0``).
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        defaults = {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "nesterov": nesterov}
        super().__init__(params, defaults)

    def _check_settings(self, settings: dict[str, Any]) -> None:
        super()._check_settings(settings)
        _check_number("SGD", "momentum", settings["momentum"])
        _check_number("SGD", "weight_decay", settings["weight_decay"])
        if settings["nesterov"] and settings["momentum"] == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0, e.g. momentum=0.9")
        for key in ("lr", "momentum", "weight_decay"):
            settings[key] = float(settings[key])
        settings["nesterov"] = bool(settings["nesterov"])

    def step(self) -> None:
        """Update every parameter once from its ``.grad``."""
        self._gradients()
        for group in self.param_groups:
            lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
            for param in group["params"]:
                grad = param.grad
                if weight_decay != 0:
                    grad = grad + weight_decay * param.data
                if momentum != 0:
                    state = self.state.setdefault(param, {})
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        buffer = state["momentum_buffer"] = grad.copy()
                    else:
                        buffer *= momentum
                        buffer += grad
                    grad = grad + momentum * buffer if group["nesterov"] else buffer
                data = writable_data(param)  # a fresh copy if a live graph saved it (tinygrad_edu/locks.py)
                data -= lr * grad


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with PyTorch's rule and defaults.

    For gradient g of parameter p at step t = 1, 2, ...::

        g = g + weight_decay * p                    (L2 penalty, as torch.optim.Adam)
        m = beta1 * m + (1 - beta1) * g             (m, v start at 0)
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    Parameters
    ----------
    params : iterable of Tensor, of (name, Tensor), or of group dicts
        The parameters to train (see ``Optimizer``).
    lr : float
        Learning rate (default 1e-3).
    betas : (float, float)
        Decay rates of the running mean of the gradient and of its square.
    eps : float
        Added to the denominator so that it is never 0.
    weight_decay : float
        L2 penalty added to the gradient (default 0). ``AdamW`` decays the
        weights directly instead, which is usually what one wants with Adam.
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)
        self._flat: dict[int, tuple[tuple[Tensor, ...], list[FlatGroup]]] = {}  # group index -> its flat state

    def _check_settings(self, settings: dict[str, Any]) -> None:
        owner = type(self).__name__
        super()._check_settings(settings)
        betas = settings["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(
                f"{owner}: betas must be a pair (beta1, beta2), e.g. (0.9, 0.999); got {betas!r}"
            )
        for name, beta in zip(("betas[0]", "betas[1]"), betas):
            _check_number(owner, name, beta)
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"{owner}: betas must each be in [0, 1), got {tuple(betas)}")
        _check_number(owner, "eps", settings["eps"])
        _check_number(owner, "weight_decay", settings["weight_decay"])
        settings["betas"] = (float(betas[0]), float(betas[1]))
        settings["lr"], settings["eps"] = float(settings["lr"]), float(settings["eps"])
        settings["weight_decay"] = float(settings["weight_decay"])

    def step(self) -> None:
        """Update every parameter once from its ``.grad``."""
        self._gradients()
        for index, group in enumerate(self.param_groups):
            for flat in self._flat_groups(index, group["params"]):
                self._update(flat, group)

    def _flat_groups(self, index: int, params: list[Tensor]) -> list[FlatGroup]:
        """The state of group ``index`` as flat arrays (nn/optim/flat.py), built again if it changed."""
        cached = self._flat.get(index)
        if (
            cached is not None
            and len(cached[0]) == len(params)
            and all(map(operator.is_, cached[0], params))
            and all(flat.matches(self.state) for flat in cached[1])
        ):
            return cached[1]
        for param in params:
            if param not in self.state:  # the first step: the averages start at 0
                zeros = np.zeros_like(param.data)
                self.state[param] = {"step": 0, "exp_avg": zeros, "exp_avg_sq": zeros.copy()}
        flats = [FlatGroup(same, self.state) for same in flat_groups(params, self.state)]
        self._flat[index] = (tuple(params), flats)
        return flats

    def _update(self, flat: FlatGroup, group: dict[str, Any]) -> None:
        """One Adam step of the parameters of ``flat``: the same dozen NumPy calls whatever their number."""
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        flat.step += 1
        t = flat.step
        for param in flat.params:
            self.state[param]["step"] = t
        grad, tmp, m, v = flat.gradients(), flat.scratch, flat.exp_avg, flat.exp_avg_sq
        if weight_decay != 0:
            if self.decoupled_weight_decay:
                for param in flat.params:  # AdamW: decay the weight, not the gradient
                    data = writable_data(param)
                    data *= 1 - lr * weight_decay
            else:
                grad = grad + weight_decay * flat.parameters()
        # p -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / c1 and v_hat = v / c2, is exactly
        # p -= (lr * sqrt(c2) / c1) * m / (sqrt(v) + eps * sqrt(c2)): the corrections become scalars.
        sqrt_c2 = math.sqrt(1 - beta2**t)
        step_size = lr * sqrt_c2 / (1 - beta1**t)
        np.multiply(grad, 1 - beta1, out=tmp)  # m = beta1 * m + (1 - beta1) * g
        m *= beta1
        m += tmp
        np.multiply(grad, grad, out=tmp)  # v = beta2 * v + (1 - beta2) * g**2
        tmp *= 1 - beta2
        v *= beta2
        v += tmp
        np.sqrt(v, out=tmp)  # p -= step_size * m / (sqrt(v) + eps)
        tmp += group["eps"] * sqrt_c2
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        for param, update in zip(flat.params, flat.update_views):
            data = writable_data(param)  # a fresh copy if a live graph saved it (tinygrad_edu/locks.py)
            data -= update


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    Before each Adam update the weights shrink by ``p = p - lr * weight_decay * p``;
    the gradient itself is not changed, so the decay does not pass through Adam's
    per-parameter scaling (with ``Adam(weight_decay=...)`` it does, and parameters
    with large gradients are hardly decayed at all).

    Parameters
    ----------
    params, lr, betas, eps
        As for ``Adam``.
    weight_decay : float
        Decay per step, relative to ``lr`` (default 0.01, as PyTorch).
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


# ---------------------------------------------------------------- helpers


def _describe(index: int, param: object) -> str:
    """How error messages refer to a parameter given without a name."""
    if isinstance(param, Tensor):
        label = f" {param.name!r}" if param.name else ""
        return f"parameter {index}{label} (shape {param.shape})"
    return f"parameter {index} (a {type(param).__name__})"


def _check_number(owner: str, name: str, value: Any) -> None:
    """A hyperparameter must be a finite real number >= 0 (not a string, not inf or NaN)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r} (a {type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value}")
    if value < 0:
        raise ValueError(f"{owner}: {name} must be >= 0, got {value}")

