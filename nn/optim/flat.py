"""Adam's running averages of many parameters held in one flat array each.

Adam's update is a dozen elementwise NumPy calls per parameter. With many
small parameters (a 1-64-1 network has four, of 64, 64, 64 and 1 numbers)
the cost of those calls, not the arithmetic, is the step: W3's Adam step took
103 us for 193 numbers. A ``FlatGroup`` keeps the averages of every parameter
of one dtype and step count side by side in one array (PyTorch's ``foreach``
implementation applies each operation to a whole list of tensors for the same
reason), so the dozen calls run once for the group, on exactly the same numbers
in the same order: the results are bit for bit those of the per-parameter loop.
The gradients are copied into one array first, which costs more than it saves
for large parameters: those keep arrays of their own (``SMALL``).

``optimizer.state[param]["exp_avg"]`` stays an array of the parameter's shape:
it is a view into the flat array. If it is replaced (``load_state_dict``, or by
hand), or a parameter changes shape or dtype, ``matches`` says so and the
optimizer builds new flat arrays from the current state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_edu import Tensor

SMALL = 16_384
"""Parameters of at most this many numbers share flat arrays. Gathering a gradient is one more pass
over it, cheaper than a dozen calls for a small one: W3's Adam step 103 -> 60 us; but W2's
(256, 784) weight among them made its step 950 -> 1,100 us."""


class FlatGroup:
    """The Adam state of some parameters of one dtype and step count, and a view of it per parameter.

    Several (small) parameters: flat arrays, their gradients gathered into one each step. One
    parameter: arrays of its own shape, and its gradient used as it is.
    """

    def __init__(self, params: Sequence[Tensor], state: dict[Tensor, dict[str, Any]]) -> None:
        self.params = tuple(params)
        self.dtype = self.params[0].data.dtype
        self.step = state[self.params[0]]["step"]
        self.shapes = tuple(p.data.shape for p in self.params)
        self.sizes = tuple(p.data.size for p in self.params)
        shape = self.shapes[0] if len(self.params) == 1 else (sum(self.sizes),)
        self.exp_avg, self.exp_avg_sq = (self._joined(state, name, shape) for name in ("exp_avg", "exp_avg_sq"))
        self.scratch = np.empty(shape, self.dtype)
        self.grad = np.empty(shape, self.dtype) if len(self.params) > 1 else None  # where gradients are gathered
        self.update_views = self._views(self.scratch)  # each parameter's share of the update
        self._state_views = tuple(zip(self._views(self.exp_avg), self._views(self.exp_avg_sq)))
        for param, (exp_avg, exp_avg_sq) in zip(self.params, self._state_views):
            state[param]["exp_avg"], state[param]["exp_avg_sq"] = exp_avg, exp_avg_sq

    def _joined(self, state: dict[Tensor, dict[str, Any]], name: str, shape: tuple[int, ...]) -> np.ndarray:
        """One state array (``exp_avg`` or ``exp_avg_sq``) of every parameter, one after the other (a copy)."""
        parts = [np.asarray(state[p][name], dtype=self.dtype).reshape(-1) for p in self.params]
        return np.concatenate(parts).reshape(shape)

    def _views(self, flat: np.ndarray) -> list[np.ndarray]:
        """Each parameter's part of ``flat``, in the parameter's shape."""
        if len(self.params) == 1:
            return [flat]
        views, start = [], 0
        for shape, size in zip(self.shapes, self.sizes):
            views.append(flat[start : start + size].reshape(shape))
            start += size
        return views

    def matches(self, state: dict[Tensor, dict[str, Any]]) -> bool:
        """Whether these arrays still are the parameters' state (same arrays, shapes, dtype and step)."""
        for param, shape, (exp_avg, exp_avg_sq) in zip(self.params, self.shapes, self._state_views):
            entry = state.get(param)
            if (
                entry is None
                or entry.get("exp_avg") is not exp_avg
                or entry.get("exp_avg_sq") is not exp_avg_sq
                or entry.get("step") != self.step
                or param.data.shape != shape
                or param.data.dtype != self.dtype
            ):
                return False
        return True

    def gradients(self) -> np.ndarray:
        """The gradient(s), in the layout of the state arrays (read only: never written to)."""
        grads: list[np.ndarray] = [p.grad for p in self.params]  # type: ignore[misc]  # present: checked by step()
        if self.grad is None:
            return grads[0]
        return np.concatenate([grad.reshape(-1) for grad in grads], out=self.grad)

    def parameters(self) -> np.ndarray:
        """The parameters' values, in the layout of the state arrays (a copy)."""
        return np.concatenate([p.data.reshape(-1) for p in self.params]).reshape(self.exp_avg.shape)


def flat_groups(params: Sequence[Tensor], state: dict[Tensor, dict[str, Any]]) -> list[list[Tensor]]:
    """``params`` as the lists that can share flat arrays: the small ones by dtype and step, each large one alone."""
    groups: dict[tuple[np.dtype, int], list[Tensor]] = {}
    alone = []
    for param in params:
        if param.data.size > SMALL:
            alone.append([param])
        else:
            groups.setdefault((param.data.dtype, state[param]["step"]), []).append(param)
    return [*groups.values(), *alone]
