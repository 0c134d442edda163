"""`Tensor`: a NumPy array that remembers how it was computed.

A tensor made by an operation keeps a reference to that operation (``.op``, a
primitive from ``primitives.py``), which keeps references to its inputs. That
chain is the computation graph; ``backward()`` walks it in reverse. Nothing in
the graph points from an input to its outputs, so there are no reference
cycles and a graph is freed by reference counting as soon as the last tensor
of it goes away.

Composite operations (activations, softmax, mean, ...) are ordinary Python
functions of primitives, kept in their own modules and attached here as methods.
"""

from __future__ import annotations

import builtins
import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, Union

import numpy as np

from . import composites, inplace, pytorch_names, reductions, shape_ops, state
from . import primitives as P
from .autograd import run_backward
from .function import Function
from .records import CompositeCall
from .rng import get_rng

_next_sequence = itertools.count().__next__  # creation order of tensors: inputs before outputs

Scalar = Union[int, float, bool]
ArrayLike = Union["Tensor", np.ndarray, Scalar, Sequence[Any]]
Result = TypeVar("Result")


def _dim_aliases(function: Callable[..., Result]) -> Callable[..., Result]:
    """Accept PyTorch's ``dim=`` and ``keepdim=`` as aliases of NumPy's ``axis=`` and ``keepdims=``."""

    def with_aliases(*args: Any, **kwargs: Any) -> Result:
        if "dim" in kwargs or "keepdim" in kwargs:  # only a PyTorch spelling needs renaming (kept off the hot path)
            for alias, name in (("dim", "axis"), ("keepdim", "keepdims")):
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{function.__name__}: give {name}= or {alias}= (its PyTorch name), not both")
                    kwargs[name] = kwargs.pop(alias)
        return function(*args, **kwargs)

    # The NumPy signature stays what help() shows; type checkers see (*args, **kwargs) so dim= passes.
    functools.update_wrapper(with_aliases, function)
    return with_aliases


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Parameters
    ----------
    data : scalar, nested list, numpy array or Tensor
        The values; always copied. Floating data becomes the default dtype
        (float32, see ``set_default_dtype``); integer and boolean data keep
        their dtype (labels, indices, masks).
    requires_grad : bool
        Record operations on this tensor so ``backward()`` can fill ``.grad``.
        Only floating tensors can require a gradient.
    dtype : numpy dtype, optional
        Overrides the default.
    name : str, optional
        Shown in ``repr`` and in rendered graphs.

    Examples
    --------
    >>> w = Tensor([1.0, -2.0], requires_grad=True)
    >>> loss = (w * w).sum()
    >>> loss.backward()
    >>> w.grad
    array([ 2., -4.], dtype=float32)
    """

    __slots__ = ("data", "grad", "_requires_grad", "op", "name", "scope", "composite", "_sequence")
    __hash__ = object.__hash__  # == builds a tensor, so hashing stays by identity

    data: np.ndarray
    grad: np.ndarray | None
    op: Function | None
    name: str | None
    scope: tuple[object, ...]
    composite: CompositeCall | None

    def __init__(
        self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None, name: str | None = None
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        array = _to_array(data, dtype, "Tensor")
        if isinstance(data, np.ndarray) and np.may_share_memory(array, data):  # views, memmaps, np.matrix
            array = array.copy()
        self.data = array
        self.grad = None
        self.op = None
        self.name = name
        self.scope = state.scope
        self.composite = state.composite
        self._sequence = _next_sequence()  # backward visits tensors newest first (see autograd.py)
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _make(cls, data: np.ndarray, op: Function | None) -> Tensor:
        """Wrap the result of an operation without copying (the engine's fast path)."""
        out = object.__new__(cls)
        out.data = data
        out.grad = None
        out.op = op
        out.name = None
        out.scope = state.scope
        out.composite = state.composite
        out._sequence = _next_sequence()
        out._requires_grad = op is not None
        return out

    # ------------------------------------------------------------ attributes

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag and self.data.dtype.kind != "f":
            raise TypeError(
                f"requires_grad=True needs a floating tensor, but this one is {self.data.dtype}. "
                f"Integer and boolean tensors hold labels, indices and masks, which have no gradient; "
                f"if these are numbers to differentiate, create them with dtype=numpy.float32."
            )
        if not flag and self.op is not None:
            raise RuntimeError(
                "requires_grad can only be turned off on a leaf tensor; use .detach() to get a "
                "tensor outside the graph."
            )
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return self (PyTorch's spelling)."""
        self.requires_grad = flag
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> ElementCount:
        """The number of elements (NumPy's ``.size``); ``x.size(0)`` and ``x.size()`` work as in PyTorch."""
        return ElementCount(self.data.size, self.data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user created (no ``op``): their ``.grad`` accumulates."""
        return self.op is None

    # ------------------------------------------------------------ conversion

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied; read-only while a graph saved it for backward)."""
        return self.data

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item() needs a tensor with exactly one element, but this one has shape {self.shape} "
                f"({self.size} elements); reduce it first (e.g. .sum() or .mean()) or index one element."
            )
        return self.data.item()

    def tolist(self) -> Any:
        return self.data.tolist()

    # NumPy's override protocols: np.exp(t), np.sum(t, axis=1), array * t build the graph (numpy_dispatch.py).

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _numpy_dispatch().array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _numpy_dispatch().array_function(func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)``: the values if ``t`` does not require grad, else a TypeError (it would drop the graph)."""
        return _numpy_dispatch().to_array(self, dtype, copy)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``t[index] = value`` is refused with a clear error: backward may need the old values."""
        _numpy_dispatch().set_item(self, index, value)

    def detach(self) -> Tensor:
        """The same values, outside the graph: no gradient flows through the result."""
        return Tensor._make(self.data, None)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets ``.grad`` to None, as PyTorch's default does)."""
        self.grad = None

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(", threshold=20, edgeitems=3)
        extras = [f"dtype={self.dtype}"]
        if self.name:
            extras.append(f"name={self.name!r}")
        if self.op is not None:
            extras.append(f"op={self.op.name}")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return f"Tensor({body}, {', '.join(extras)})"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.size} elements (shape {self.shape}) is ambiguous; "
                f"use .any() / .all() on the comparison, e.g. bool((a == b).numpy().all())"
            )
        return bool(self.data)

    # ------------------------------------------------------------ backward

    def backward(self, grad: ArrayLike | None = None, retain_graph: bool = False) -> None:
        """Compute d(self)/d(t) for every tensor t in the graph that requires grad, into ``t.grad``.

        ``grad`` is the gradient of some final loss with respect to this tensor;
        it defaults to 1 for a one-element tensor (the usual ``loss.backward()``).
        Leaf gradients accumulate: call ``zero_grad()`` between steps.
        """
        if not self._requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: none of the tensors it was computed "
                "from has requires_grad=True (or it was computed under no_grad()). Create the parameters "
                "with requires_grad=True, e.g. Tensor(values, requires_grad=True)."
            )
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() without a gradient needs a one-element output, but this tensor has shape "
                    f"{self.shape}. Reduce it to the scalar loss you want to minimise first (e.g. "
                    f"out.mean() or a loss function), or pass grad= an array of shape {self.shape} "
                    f"holding d(loss)/d(this tensor)."
                )
            upstream = np.empty(self.data.shape, self.data.dtype)
            upstream.fill(1)  # not np.ones, whose Python wrapper costs more than the rest of this seed
        else:
            upstream = _gradient_argument(grad, self)
            if upstream.shape != self.shape:
                raise ValueError(
                    f"backward(grad=...): grad has shape {upstream.shape} but the tensor has shape "
                    f"{self.shape}; they must match."
                )
        run_backward(self, upstream, retain_graph=retain_graph)

    # ------------------------------------------------------------ operators

    def _operand(self, other: Any, op_name: str) -> Tensor:
        """Turn a Python number or array into a constant tensor of *our* dtype (float32 stays float32)."""
        if isinstance(other, Tensor):
            return other
        if type(other) in (float, int) and self.data.dtype.kind == "f":  # the common case: x * 0.5
            return Tensor._make(_scalar(other, self.data.dtype), None)
        try:
            array = np.asarray(other)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{op_name}: cannot combine a Tensor with this {type(other).__name__}: {error}. A nested "
                f"list must be rectangular (every row the same length)."
            ) from None
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"{op_name}: cannot combine a Tensor with {type(other).__name__} "
                f"(dtype {array.dtype}); expected a Tensor, a numpy array or a Python number."
            )
        if self.data.dtype.kind == "f":
            array = array.astype(self.data.dtype, copy=False)
        elif array.dtype.kind == "f":
            array = array.astype(state.default_dtype, copy=False)
        return Tensor._make(array, None)

    def __add__(self, other: ArrayLike) -> Tensor:
        return P.Add.apply(self, self._operand(other, "add"))

    def __radd__(self, other: ArrayLike) -> Tensor:
        return P.Add.apply(self._operand(other, "add"), self)

    def __sub__(self, other: ArrayLike) -> Tensor:
        return P.Sub.apply(self, self._operand(other, "sub"))

    def __rsub__(self, other: ArrayLike) -> Tensor:
        return P.Sub.apply(self._operand(other, "sub"), self)

    def __mul__(self, other: ArrayLike) -> Tensor:
        return P.Mul.apply(self, self._operand(other, "mul"))

    def __rmul__(self, other: ArrayLike) -> Tensor:
        return P.Mul.apply(self._operand(other, "mul"), self)

    def __truediv__(self, other: ArrayLike) -> Tensor:
        return P.Div.apply(self, self._operand(other, "div"))

    def __rtruediv__(self, other: ArrayLike) -> Tensor:
        return P.Div.apply(self._operand(other, "div"), self)

    def __pow__(self, other: ArrayLike) -> Tensor:
        return P.Pow.apply(self, self._operand(other, "pow"))

    def __rpow__(self, other: ArrayLike) -> Tensor:
        return P.Pow.apply(self._operand(other, "pow"), self)

    def __matmul__(self, other: ArrayLike) -> Tensor:
        return _matmul(self, self._operand(other, "matmul"))

    def __rmatmul__(self, other: ArrayLike) -> Tensor:
        return _matmul(self._operand(other, "matmul"), self)

    def dot(self, other: ArrayLike) -> Tensor:
        """``numpy.dot``: scalar product, inner product of vectors, else ``self @ other`` (other at most 2-D)."""
        return _numpy_dispatch().dot(self, other)

    def __neg__(self) -> Tensor:
        return composites.neg(self)

    # In place: under no_grad the values change and the object stays; in a recorded graph ``+=`` etc.
    # rebind the name to a new tensor, and a parameter refuses them (see inplace.py).

    def __iadd__(self, other: ArrayLike) -> Tensor:
        return inplace.augmented(self, other, "+=")

    def __isub__(self, other: ArrayLike) -> Tensor:
        return inplace.augmented(self, other, "-=")

    def __imul__(self, other: ArrayLike) -> Tensor:
        return inplace.augmented(self, other, "*=")

    def __itruediv__(self, other: ArrayLike) -> Tensor:
        return inplace.augmented(self, other, "/=")

    def zero_(self) -> Tensor:
        """Set every element to 0 in place and return self (under ``no_grad`` for a parameter)."""
        return inplace.fill(self, 0, "zero_()")

    def fill_(self, value: Scalar) -> Tensor:
        """Set every element to ``value`` in place and return self (under ``no_grad`` for a parameter)."""
        return inplace.fill(self, value, "fill_(value)")

    def _compare(self, other: Any, compare: Any, op_name: str) -> Tensor:
        """Comparisons give boolean tensors outside the graph (they have no gradient)."""
        other_data = self._operand(other, op_name).data
        _check_broadcast(op_name, self.shape, other_data.shape)
        return Tensor._make(compare(self.data, other_data), None)

    def __lt__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.less, "<")

    def __le__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.less_equal, "<=")

    def __gt__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.greater, ">")

    def __ge__(self, other: ArrayLike) -> Tensor:
        return self._compare(other, np.greater_equal, ">=")

    def __eq__(self, other: ArrayLike) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal, "==")

    def __ne__(self, other: ArrayLike) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal, "!=")

    def __getitem__(self, index: Any) -> Tensor:
        return shape_ops.getitem(self, index)

    # ------------------------------------------------------------ primitives as methods

    def exp(self) -> Tensor:
        return P.Exp.apply(self)

    def log(self) -> Tensor:
        return P.Log.apply(self)

    def sin(self) -> Tensor:
        return P.Sin.apply(self)

    def cos(self) -> Tensor:
        return P.Cos.apply(self)

    def tanh(self) -> Tensor:
        return P.Tanh.apply(self)

    def maximum(self, other: ArrayLike) -> Tensor:
        """Elementwise maximum; at ties each side gets half the gradient (as torch.maximum)."""
        other_tensor = self._operand(other, "maximum")
        return P.Maximum.apply(self, other_tensor)

    # ------------------------------------------------------------ composites (forward expressions)

    def where(self, condition: ArrayLike, other: ArrayLike) -> Tensor:
        """``self`` where ``condition`` holds, else ``other`` (``torch.Tensor.where``); see ``where``."""
        return where(condition, self, other)

    sqrt = composites.sqrt
    abs = composites.abs
    minimum = composites.minimum
    clip = composites.clip

    relu = composites.relu
    leaky_relu = composites.leaky_relu
    sigmoid = composites.sigmoid
    logsigmoid = composites.logsigmoid
    softplus = composites.softplus
    softmax = _dim_aliases(composites.softmax)
    log_softmax = _dim_aliases(composites.log_softmax)

    sum = _dim_aliases(reductions.sum)
    mean = _dim_aliases(composites.mean)
    var = _dim_aliases(composites.var)
    std = _dim_aliases(composites.std)
    max = _dim_aliases(reductions.max)
    min = _dim_aliases(composites.min)
    logsumexp = _dim_aliases(composites.logsumexp)

    reshape = shape_ops.reshape
    transpose = shape_ops.transpose
    permute = shape_ops.permute
    swapaxes = shape_ops.swapaxes
    flatten = composites.flatten

    @property
    def T(self) -> Tensor:
        """All axes reversed (numpy's ``.T``)."""
        return shape_ops.transpose(self)

    # ------------------------------------------------------------ factories

    @staticmethod
    def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return Tensor(np.zeros(_shape_arg(shape), _float_dtype(dtype)), requires_grad=requires_grad)

    @staticmethod
    def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return Tensor(np.ones(_shape_arg(shape), _float_dtype(dtype)), requires_grad=requires_grad)

    @staticmethod
    def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Standard normal samples from the seeded generator (see ``manual_seed``)."""
        values = get_rng().standard_normal(_shape_arg(shape))
        return Tensor(values, dtype=_float_dtype(dtype), requires_grad=requires_grad)

    @staticmethod
    def uniform(
        *shape: Any, low: float = 0.0, high: float = 1.0, dtype: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """Uniform samples in [low, high) from the seeded generator (see ``manual_seed``)."""
        values = get_rng().uniform(low, high, _shape_arg(shape))
        return Tensor(values, dtype=_float_dtype(dtype), requires_grad=requires_grad)

    # ---- PyTorch-style conveniences
    # What a PyTorch or micrograd user types first, where it has an obvious meaning here. Each is an
    # expression of the methods above (no new derivatives). NumPy's names and semantics stay the
    # documented ones: ``axis=``/``keepdims=``, ``transpose`` as a permutation, ``max`` giving values only.
    # (The reductions, var/std and softmaxes above take dim=/keepdim= through ``_dim_aliases`` too.)

    @_dim_aliases
    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the largest value (of the flattened tensor when ``axis`` is None); int64, no gradient."""
        return Tensor._make(np.argmax(self.data, axis=_one_axis("argmax", axis, self.ndim), keepdims=keepdims), None)

    @_dim_aliases
    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Index of the smallest value; int64, no gradient."""
        return Tensor._make(np.argmin(self.data, axis=_one_axis("argmin", axis, self.ndim), keepdims=keepdims), None)

    @_dim_aliases
    def any(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Whether any element is nonzero (True), as a boolean tensor outside the graph."""
        axes = reductions.normalize_axis("any", axis, self.ndim)
        return Tensor._make(np.any(self.data, axis=axes, keepdims=keepdims), None)

    @_dim_aliases
    def all(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Whether every element is nonzero (True), as a boolean tensor outside the graph."""
        axes = reductions.normalize_axis("all", axis, self.ndim)
        return Tensor._make(np.all(self.data, axis=axes, keepdims=keepdims), None)

    def clone(self) -> Tensor:
        """A copy of the values; in the graph (gradients flow back to ``self``) when ``self`` is."""
        if self.requires_grad and state.grad_enabled:
            return self * 1.0
        return Tensor._make(self.data.copy(), None)

    def astype(self, dtype: Any) -> Tensor:
        """The values converted to ``dtype`` (``y.astype(np.float32)``); the same tensor if it has it already.

        A conversion is not differentiated here: converting a tensor that is part of a graph is an
        error instead of a silent cut. Create floating tensors in the dtype you need (``dtype=``,
        ``set_default_dtype``), or ``.detach()`` first when no gradient is wanted.
        """
        try:
            target = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"astype: {dtype!r} is not a dtype; use e.g. numpy.float32 or numpy.int64") from None
        if target == self.dtype:
            return self
        if self.requires_grad and state.grad_enabled:
            raise RuntimeError(
                f"astype({target}): this tensor is part of a graph (requires_grad=True) and a dtype "
                f"conversion has no gradient here. Create it in {target} (Tensor(..., dtype=...) or "
                f"set_default_dtype), or call .detach() first if no gradient should flow."
            )
        _to_array(np.zeros(0, target), None, "astype")  # a clear error for non-numeric dtypes
        return Tensor._make(self.data.astype(target), None)

    def float(self) -> Tensor:
        """``astype(float32)`` (PyTorch's ``.float()``): e.g. labels or masks as numbers."""
        return self.astype(np.float32)

    def double(self) -> Tensor:
        """``astype(float64)`` (PyTorch's ``.double()``)."""
        return self.astype(np.float64)

    def view(self, *shape: Any) -> Tensor:
        """``reshape`` under PyTorch's name (arrays here have no contiguity rules)."""
        return self.reshape(*shape)

    @_dim_aliases
    def unsqueeze(self, axis: int) -> Tensor:
        """Insert a size-1 axis at position ``axis`` (numpy.expand_dims): (3,) -> (1, 3) for axis 0."""
        if not isinstance(axis, (int, np.integer)) or not -self.ndim - 1 <= axis <= self.ndim:
            raise ValueError(
                f"unsqueeze: axis {axis} is out of range for a tensor of shape {self.shape}; "
                f"valid positions are {-self.ndim - 1}..{self.ndim}."
            )
        position = int(axis) % (self.ndim + 1)
        return self.reshape(*self.shape[:position], 1, *self.shape[position:])

    @_dim_aliases
    def squeeze(self, axis: Any = None) -> Tensor:
        """Remove size-1 axes: all of them, or those named by ``axis`` (which must have size 1)."""
        axes = reductions.normalize_axis("squeeze", axis, self.ndim)
        if axes is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        wrong = [a for a in axes if self.shape[a] != 1]
        if wrong:
            raise ValueError(
                f"squeeze: axis {wrong[0]} of shape {self.shape} has size {self.shape[wrong[0]]}, not 1; "
                f"only size-1 axes can be removed (use reshape to change the shape otherwise)."
            )
        return self.reshape(*(n for i, n in enumerate(self.shape) if i not in axes))

    def numel(self) -> int:
        """The number of elements (``.size``), under PyTorch's name."""
        return int(self.data.size)

    def __float__(self) -> builtins.float:
        return builtins.float(self._one_value("float"))

    def __int__(self) -> int:
        return int(self._one_value("int"))

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"`` formats a one-element tensor as its number; an empty spec is ``str``."""
        if not spec:
            return str(self)
        return format(self._one_value(f"format(tensor, {spec!r})"), spec)

    def _one_value(self, what: str) -> Any:
        if self.data.size != 1:
            raise ValueError(
                f"{what} needs a tensor with exactly one element, but this one has shape {self.shape}; "
                f"reduce it first (e.g. .sum() or .mean()) or index one element."
            )
        return self.data.item()

    @staticmethod
    def arange(
        start: builtins.float, stop: builtins.float | None = None, step: builtins.float = 1, dtype: Any = None
    ) -> Tensor:
        """Evenly spaced values in [start, stop) (numpy.arange): integers stay int64, floats the default dtype."""
        values = np.arange(start, step=step) if stop is None else np.arange(start, stop, step)
        return Tensor._make(_to_array(values, dtype, "arange"), None)

    @staticmethod
    def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """The identity matrix, ``n`` x ``m`` (``m`` defaults to ``n``)."""
        return Tensor(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad=requires_grad)

    @staticmethod
    def full(shape: Any, fill_value: Scalar, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A tensor of ``shape`` filled with ``fill_value`` (a float gives the default dtype)."""
        values = np.full(_shape_arg(shape if isinstance(shape, tuple) else (shape,)), fill_value)
        return Tensor(values, dtype=dtype, requires_grad=requires_grad)

    @staticmethod
    def zeros_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Zeros with ``other``'s shape and dtype."""
        return Tensor(np.zeros(other.shape, dtype or other.dtype), requires_grad=requires_grad)

    @staticmethod
    def ones_like(other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Ones with ``other``'s shape and dtype."""
        return Tensor(np.ones(other.shape, dtype or other.dtype), requires_grad=requires_grad)

    @staticmethod
    def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Uniform samples in [0, 1) from the seeded generator (``uniform`` with its defaults)."""
        return Tensor.uniform(*shape, dtype=dtype, requires_grad=requires_grad)


class ElementCount(int):
    """``Tensor.size``: the number of elements, an int as in NumPy, that can also be called as in PyTorch.

    ``x.size == 6`` and ``range(x.size)`` use the count; ``x.size()`` is the shape (a tuple) and
    ``x.size(0)`` one dimension, as ``torch.Tensor.size``.
    """

    shape: tuple[int, ...]

    def __new__(cls, count: int, shape: tuple[int, ...]) -> ElementCount:
        value = super().__new__(cls, count)
        value.shape = shape
        return value

    def __call__(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        if not isinstance(dim, (int, np.integer)) or not -len(self.shape) <= dim < len(self.shape):
            raise IndexError(
                f"size({dim!r}): dimension out of range for a tensor of shape {self.shape}; "
                f"valid dimensions are {-len(self.shape)}..{len(self.shape) - 1}."
            )
        return self.shape[dim]


pytorch_names.install(Tensor)  # t.cuda, t.to, ...: an AttributeError that says what to use instead


def _one_axis(op_name: str, axis: Any, ndim: int) -> int | None:
    """One axis (or None) for argmax/argmin, with the reductions' error for a bad one."""
    if axis is not None and not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op_name}: axis must be one int or None, got {axis!r}")
    axes = reductions.normalize_axis(op_name, None if axis is None else int(axis), ndim)
    return None if axes is None else axes[0]


# ---------------------------------------------------------------- functions on several tensors


def as_tensor(value: ArrayLike, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor without copying when it can (like ``torch.as_tensor``).

    A numpy array that already has the right dtype is shared, not copied: use
    it for input batches, which nothing else modifies. Constants take
    ``like``'s dtype when given.
    """
    if isinstance(value, Tensor):
        return value
    if like is not None:
        return like._operand(value, "as_tensor")
    return Tensor._make(_to_array(value, None, "as_tensor"), None)


def where(condition: ArrayLike, a: ArrayLike, b: ArrayLike) -> Tensor:
    """Elementwise ``a if condition else b``; the gradient flows only into the chosen branch."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(
            f"where: the condition must be boolean (e.g. x > 0), got dtype {cond.dtype}; "
            f"compare it to something first, e.g. where(mask != 0, a, b)."
        )
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    a_t, b_t = as_tensor(a, like), as_tensor(b, like)
    _check_broadcast("where", cond.shape, a_t.shape, b_t.shape)
    return P.Where.apply(Tensor._make(cond, None), a_t, b_t)


def linear(x: ArrayLike, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias`` (``torch.nn.functional.linear``): the affine map of a layer.

    ``x`` has shape ``(..., in_features)``, ``weight`` ``(out_features, in_features)``
    and ``bias`` ``(out_features,)``. With a bias it is one primitive node
    (``Linear``); without, the expression ``x @ weight.T``.
    """
    x_t = as_tensor(x, weight)
    if weight.ndim != 2 or x_t.ndim == 0 or x_t.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {x_t.shape} and weight of shape {weight.shape} do not fit: the weight "
            f"must be (out_features, in_features) and the input's last axis in_features "
            f"({weight.shape[1] if weight.ndim == 2 else '?'}). Check the layer sizes."
        )
    if bias is None:
        return _matmul(x_t, weight.T)
    bias_t = as_tensor(bias, weight)
    if bias_t.shape != weight.shape[:1]:
        raise ValueError(
            f"linear: bias of shape {bias_t.shape} for weight of shape {weight.shape}; "
            f"the bias must have shape ({weight.shape[0]},), one value per output feature."
        )
    return P.Linear.apply(x_t, weight, bias_t)


@_dim_aliases
def cat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (numpy.concatenate)."""
    return shape_ops.cat([as_tensor(t) for t in tensors], axis)


@_dim_aliases
def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new axis (numpy.stack)."""
    return shape_ops.stack([as_tensor(t) for t in tensors], axis)


# ---------------------------------------------------------------- helpers


def _to_array(data: Any, dtype: Any, op_name: str) -> np.ndarray:
    """numpy array with the library's dtype rules: floats -> default dtype, ints and bools kept.

    Values that the dtype cannot hold are an error, not a silent inf or wrap-around.
    """
    try:
        array = np.asarray(data)
        target = None if dtype is None else np.dtype(dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{op_name}: cannot make a tensor from {type(data).__name__}: {error}. "
            f"Expected a number, a (rectangular) nested list or a numpy array."
        ) from None
    if array.dtype == object and any(type(v) is int for v in array.flat):
        raise ValueError(
            f"{op_name}: an integer in {type(data).__name__} is too large for int64 (beyond +-9.2e18); "
            f"give it as a float (e.g. float(n)) or use dtype=numpy.float64."
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{op_name}: unsupported dtype {array.dtype} (from {type(data).__name__}); "
            f"tensors hold floating, integer or boolean numbers."
        )
    if target is None and array.dtype.kind == "f":
        target = state.default_dtype
    if target is None or target == array.dtype:
        return array
    with np.errstate(over="ignore", invalid="ignore"):
        converted = array.astype(target)
    if target.kind == "f" and not np.isfinite(converted).all():
        overflowed = np.isfinite(array) & ~np.isfinite(converted)
        if overflowed.any():
            raise ValueError(
                f"{op_name}: the value {array[overflowed].flat[0]!r} does not fit in {target} (largest "
                f"{np.finfo(target).max:.3g}) and would become inf. Use dtype=numpy.float64, or rescale it."
            )
    if target.kind in "iu" and array.dtype.kind in "iu" and not np.array_equal(converted, array):
        raise ValueError(
            f"{op_name}: some values do not fit in {target} (its range is "
            f"{np.iinfo(target).min}..{np.iinfo(target).max}); choose a wider integer dtype."
        )
    return converted


def _gradient_argument(grad: Any, tensor: Tensor) -> np.ndarray:
    """``backward(grad)``'s argument as an array of the tensor's dtype, or a clear error."""
    values = grad.data if isinstance(grad, Tensor) else grad
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):  # a ragged list
        array = np.asarray(None)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"backward(grad=...): grad must be numbers (an array, a Tensor or a number) of shape "
            f"{tensor.shape}, d(loss)/d(this tensor); got {type(grad).__name__} {str(grad)[:40]!r}."
        )
    return array.astype(tensor.dtype)


_SCALARS: dict[tuple[float, np.dtype], np.ndarray] = {}  # read-only 0-d constants, shared by all nodes


def _scalar(value: float, dtype: np.dtype) -> np.ndarray:
    """A Python number as a read-only 0-d array of ``dtype``, made once per value (there is nothing to lock)."""
    key = (value, dtype)
    array = _SCALARS.get(key)
    if array is None:
        array = np.array(value, dtype=dtype)
        array.setflags(False)  # type: ignore[call-arg]  # positional: faster (see locks.py)
        if value != 0 and len(_SCALARS) < 1024:  # -0.0 == 0.0 would share one entry: zeros are not kept
            _SCALARS[key] = array
    return array


def _matmul(a: Tensor, b: Tensor) -> Tensor:
    """a @ b after checking that the inner dimensions meet (numpy's own message is cryptic)."""
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape}: @ needs at least 1-D operands; "
            f"use * to scale by a number."
        )
    inner_b = b.shape[-2] if b.ndim >= 2 else b.shape[0]
    if a.shape[-1] != inner_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} do not fit: the last axis of the left operand "
            f"({a.shape[-1]}) must equal the {'second-to-last' if b.ndim >= 2 else 'only'} axis of the right "
            f"one ({inner_b}). Check the order of the operands or whether one needs .T."
        )
    return P.MatMul.apply(a, b)


@functools.cache
def _numpy_dispatch() -> Any:
    """The module behind the NumPy hooks (imported late: it imports this module)."""
    from . import numpy_dispatch  # here, not above: numpy_dispatch builds its tables from Tensor's methods

    return numpy_dispatch


def _check_broadcast(op_name: str, *shapes: tuple[int, ...]) -> None:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = " and ".join(str(s) for s in shapes)
        raise ValueError(
            f"{op_name}: shapes {listed} cannot be broadcast together: aligned from the right, each "
            f"pair of dimensions must be equal or one of them 1. Reshape one operand (e.g. "
            f"x.reshape(-1, 1)) or check which axis you meant."
        ) from None


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept both ``zeros(2, 3)`` and ``zeros((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in shape):
        raise ValueError(f"a shape must be non-negative integers, got {shape}")
    return tuple(int(n) for n in shape)


def _float_dtype(dtype: Any) -> np.dtype:
    return state.default_dtype if dtype is None else np.dtype(dtype)
