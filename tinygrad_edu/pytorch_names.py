"""PyTorch attribute names that Tensor does not have, each answered with what to use here.

A PyTorch habit such as ``t.cuda()`` or ``t.to(device)`` should not end in a bare
``AttributeError``: reading one of these names raises one that says what to
write instead (``t.cuda``: "tinygrad-edu runs on the CPU only ...").
"""

from __future__ import annotations

from typing import Any

PYTORCH_NAMES = {
    "to": "not needed here: tensors live in NumPy on the CPU; for a dtype use .astype(numpy.float64).",
    "cpu": "not needed here: tensors always live in NumPy on the CPU.",
    "cuda": "tinygrad-edu runs on the CPU only (NumPy); leave the call out.",
    "device": "there is no device: tensors always live in NumPy on the CPU.",
    "clamp": "use .clip(lo, hi).",
    "masked_fill": "use where(mask, value, x) from tinygrad_edu.",
    "mm": "use a @ b.",
    "matmul": "use a @ b.",
    "contiguous": "not needed here: NumPy arrays need no contiguity for any operation.",
    "expand": "not needed: operations broadcast as in NumPy; to materialise use x * Tensor.ones(shape).",
    "type": "use .dtype to read it and .astype(dtype) to convert.",
}


class _PyTorchName:
    """A PyTorch attribute Tensor does not have: reading it raises AttributeError with what to use instead.

    A descriptor per name rather than ``Tensor.__getattr__``: merely defining ``__getattr__``
    sends every attribute read of every tensor through a slower lookup in CPython (W4: 7 % of
    the engine's instructions, bench/README.md).
    """

    def __init__(self, name: str, advice: str) -> None:
        self.name, self.advice = name, advice

    def __get__(self, tensor: object, owner: type | None = None) -> Any:
        if tensor is None:  # Tensor.cuda itself: the descriptor (help(), inspect)
            return self
        raise AttributeError(f"Tensor has no .{self.name} (a PyTorch name): {self.advice}")


def install(tensor_class: type) -> None:
    """Put one ``_PyTorchName`` descriptor on ``tensor_class`` for every name in ``PYTORCH_NAMES``."""
    for name, advice in PYTORCH_NAMES.items():
        setattr(tensor_class, name, _PyTorchName(name, advice))
