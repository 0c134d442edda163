"""Optimizers (`SGD`, `Adam`) and learning-rate schedules (`StepLR`, `CosineAnnealingLR`).

The update rules are PyTorch's, term for term, so results can be compared with
it. Updates work on the parameters' NumPy arrays in place, so no graph is
recorded, and float32 parameters stay float32 (the hyperparameters are Python
floats, which NumPy never lets promote a float32 array).

Typical loop::

    optimizer = nn.optim.Adam(model.parameters(), lr=1e-3)
    for x, y in batches:
        optimizer.zero_grad()
        loss = nn.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Union

import numpy as np

from tinygrad_edu import Tensor
from tinygrad_edu.locks import writable_data

ParamsArg = Union[Iterable[Tensor], Iterable[tuple[str, Tensor]]]


class Optimizer:
    """Base class: holds the parameters and ``lr``, checks gradients, and clears them.

    Parameters
    ----------
    params : iterable of Tensor, or of (name, Tensor)
        ``model.parameters()``, or ``model.named_parameters()`` so that error
        messages use the dotted names.
    lr : float
        Learning rate; may be changed between steps (``optimizer.lr = ...``),
        which is what the schedules below do.
    """

    def __init__(self, params: ParamsArg, lr: float) -> None:
        self.params: list[Tensor] = []
        self.names: list[str] = []
        for index, item in enumerate(params):
            name, param = item if isinstance(item, tuple) else (_describe(index, item), item)
            if not isinstance(param, Tensor) or not param.requires_grad or not param.is_leaf:
                raise TypeError(
                    f"{type(self).__name__}: {name} is not a parameter (a leaf Tensor with "
                    f"requires_grad=True); pass model.parameters()."
                )
            if any(param is seen for seen in self.params):
                raise ValueError(f"{type(self).__name__}: {name} is given twice; pass each parameter once.")
            self.params.append(param)
            self.names.append(name)
        if not self.params:
            raise ValueError(
                f"{type(self).__name__} got no parameters. Pass model.parameters() (a fresh call: a "
                f"generator that was already consumed is empty), and check that the model registers its "
                f"layers and parameters as attributes."
            )
        _check_nonnegative(type(self).__name__, lr=lr)
        self.lr = float(lr)

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (``.grad = None``, PyTorch's default)."""
        for param in self.params:
            param.grad = None

    def step(self) -> None:
        """Update every parameter once from its ``.grad``."""
        raise NotImplementedError

    def _gradients(self) -> list[np.ndarray]:
        """Every parameter's gradient; an error naming all parameters that have none."""
        missing = [name for name, param in zip(self.names, self.params) if param.grad is None]
        if missing:
            raise RuntimeError(
                f"{type(self).__name__}.step(): no gradient for {', '.join(missing)}. Call loss.backward() "
                f"before step() (and zero_grad() only before backward). If backward ran, these parameters "
                f"were not used to compute the loss: leave them out of the optimizer or use them in forward."
            )
        return [param.grad for param in self.params]  # type: ignore[misc]

    def __repr__(self) -> str:
        settings = ", ".join(f"{key}={value}" for key, value in self._settings().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"

    def _settings(self) -> dict[str, object]:
        return {"lr": self.lr}


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
    params : iterable of Tensor, or of (name, Tensor)
        The parameters to train.
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
        super().__init__(params, lr)
        _check_nonnegative("SGD", momentum=momentum, weight_decay=weight_decay)
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0, e.g. momentum=0.9")
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.nesterov = nesterov
        self.momentum_buffers: list[np.ndarray | None] = [None] * len(self.params)

    def step(self) -> None:
        """Update every parameter once from its ``.grad``."""
        for index, (param, grad) in enumerate(zip(self.params, self._gradients())):
            if self.weight_decay != 0:
                grad = grad + self.weight_decay * param.data
            if self.momentum != 0:
                buffer = self.momentum_buffers[index]
                if buffer is None:
                    buffer = self.momentum_buffers[index] = grad.copy()
                else:
                    buffer *= self.momentum
                    buffer += grad
                grad = grad + self.momentum * buffer if self.nesterov else buffer
            data = writable_data(param)  # a fresh copy if a live graph saved it (tinygrad_edu/locks.py)
            data -= self.lr * grad

    def _settings(self) -> dict[str, object]:
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "nesterov": self.nesterov,
        }


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
    params : iterable of Tensor, or of (name, Tensor)
        The parameters to train.
    lr : float
        Learning rate (default 1e-3).
    betas : (float, float)
        Decay rates of the running mean of the gradient and of its square.
    eps : float
        Added to the denominator so that it is never 0.
    weight_decay : float
        L2 penalty added to the gradient (default 0).
    """

    def __init__(
        self,
        params: ParamsArg,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        beta1, beta2 = betas
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"Adam: betas must each be in [0, 1), got {betas}")
        _check_nonnegative("Adam", eps=eps, weight_decay=weight_decay)
        self.betas = (float(beta1), float(beta2))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self._scratch = [np.empty_like(p.data) for p in self.params]  # reused each step: no temporaries

    def step(self) -> None:
        """Update every parameter once from its ``.grad``."""
        grads = self._gradients()
        self.t += 1
        beta1, beta2 = self.betas
        # p -= lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / c1 and v_hat = v / c2, is exactly
        # p -= (lr * sqrt(c2) / c1) * m / (sqrt(v) + eps * sqrt(c2)): the corrections become scalars.
        sqrt_c2 = math.sqrt(1 - beta2**self.t)
        step_size = self.lr * sqrt_c2 / (1 - beta1**self.t)
        eps = self.eps * sqrt_c2
        for param, grad, m, v, tmp in zip(self.params, grads, self.m, self.v, self._scratch):
            if self.weight_decay != 0:
                grad = grad + self.weight_decay * param.data
            # m = beta1 * m + (1 - beta1) * g
            np.multiply(grad, 1 - beta1, out=tmp)
            m *= beta1
            m += tmp
            # v = beta2 * v + (1 - beta2) * g**2
            np.multiply(grad, grad, out=tmp)
            tmp *= 1 - beta2
            v *= beta2
            v += tmp
            # p -= step_size * m / (sqrt(v) + eps)
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            data = writable_data(param)  # a fresh copy if a live graph saved it (tinygrad_edu/locks.py)
            data -= tmp

    def _settings(self) -> dict[str, object]:
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay}


# ---------------------------------------------------------------- learning-rate schedules


class LRScheduler:
    """Base class: sets ``optimizer.lr`` from the number of ``step()`` calls (usually epochs).

    The initial ``optimizer.lr`` is the base rate; subclasses give the rate
    after ``epoch`` steps in closed form (``lr_at``).
    """

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate for the next one."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> float:
        """The learning rate the optimizer uses now."""
        return self.optimizer.lr


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr = base * gamma ** (epoch // step_size)``.

    Parameters
    ----------
    optimizer : Optimizer
    step_size : int
        Epochs between decays.
    gamma : float
        Decay factor (default 0.1).
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive number of epochs, got {step_size}")
        super().__init__(optimizer)
        self.step_size = step_size
        self.gamma = gamma

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """Lower the learning rate along half a cosine from the base rate to ``eta_min`` over ``T_max`` epochs.

    ``lr = eta_min + (base - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``
    (PyTorch's schedule, without restarts).

    Parameters
    ----------
    optimizer : Optimizer
    T_max : int
        Epochs until the rate reaches ``eta_min``.
    eta_min : float
        Final learning rate (default 0).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive number of epochs, got {T_max}")
        super().__init__(optimizer)
        self.T_max = T_max
        self.eta_min = eta_min

    def lr_at(self, epoch: int) -> float:
        cosine = (1 + math.cos(math.pi * epoch / self.T_max)) / 2
        return self.eta_min + (self.base_lr - self.eta_min) * cosine


# ---------------------------------------------------------------- helpers


def _describe(index: int, param: object) -> str:
    """How error messages refer to a parameter given without a name."""
    if isinstance(param, Tensor):
        label = f" {param.name!r}" if param.name else ""
        return f"parameter {index}{label} (shape {param.shape})"
    return f"parameter {index} (a {type(param).__name__})"


def _check_nonnegative(owner: str, **values: float) -> None:
    for name, value in values.items():
        if not value >= 0:
            raise ValueError(f"{owner}: {name} must be >= 0, got {value}")
