"""``group(name)``: cluster any expression in a drawing, as if it were an nn.Module's forward.

Losses and hand-written composites are plain functions, so their operations
belong to no module. Wrapping them in ``with group("loss"):`` tags the tensors
created inside with a named scope: drawings put them in a cluster, and
``collapse=True`` draws the whole expression as one node.
"""

from __future__ import annotations

from ..function import module_scope


class Group:
    """The scope object that ``group`` pushes: only its name matters."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Group({self.name!r})"


def group(name: str) -> module_scope:
    """Tag the tensors created inside the block as one named cluster (see module docstring).

    Examples
    --------
    >>> from tinygrad_edu import Tensor, to_dot
    >>> w = Tensor([1.0, 2.0], requires_grad=True)
    >>> with group("squared norm"):
    ...     loss = (w * w).sum()
    >>> "squared norm" in to_dot(loss)
    True
    """
    return module_scope(Group(name))
