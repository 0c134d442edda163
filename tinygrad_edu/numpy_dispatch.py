"""NumPy functions on Tensors: ``np.exp(t)``, ``np.dot(W, a) + b``, ``np.sum(t, axis=1)`` build the graph.

NumPy hands every call that involves a Tensor to the Tensor: ufuncs (``np.exp``,
``np.maximum``, ``array * tensor``) through ``Tensor.__array_ufunc__`` (NEP 13),
other functions (``np.sum``, ``np.dot``, ``np.insert``) through
``Tensor.__array_function__`` (NEP 18). Both land here and look the NumPy name up
in ``UFUNCS`` or ``FUNCTIONS``: one entry per name, each an existing Tensor
method, primitive or composite, so no derivative is written here and
``np.exp(t)`` is exactly ``t.exp()``.

What NumPy cannot hand over: Tensors inside a Python list (``np.sum([...])``,
``np.array([...])``) and methods of plain arrays (``array.dot(t)``). Those reach
a Tensor only through ``__array__`` (``to_array`` below), which gives the
values of a tensor without a graph and refuses for one that requires grad,
except in the one list form that can be made right (see ``_summed_in_a_list``).
Anything not in the tables is a TypeError naming the function: never a
silent conversion that drops the graph. docs/numpy.md lists what is supported.
"""

from __future__ import annotations

import importlib
import inspect
import linecache
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import composites, shape_ops
from .tensor import Tensor, as_tensor, where

_NO = getattr(np, "_NoValue", object())  # NumPy's "argument not given" marker


# ---------------------------------------------------------------- entry points (called by the Tensor hooks)


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``np.<ufunc>(...)`` with a Tensor among the inputs or in ``out=``."""
    handler = UFUNCS.get(ufunc)
    if handler is not None and not kwargs and method == "__call__":  # the common case, quickly
        return handler(*inputs)
    name = f"np.{ufunc.__name__}"
    if method != "__call__":
        raise TypeError(
            f"{name}.{method} is not supported on Tensors; use the function form instead "
            f"(np.sum / np.max / np.min for reduce, np.outer for outer)."
        )
    _check_out(name, kwargs.pop("out", None))
    for key, value in kwargs.items():
        default = _UFUNC_DEFAULTS.get(key, _NO)
        if not (value is default or (isinstance(value, str) and value == default)):
            raise TypeError(f"{name}(..., {key}={value!r}) is not supported on Tensors; leave {key} out.")
    if handler is None:
        raise TypeError(_unsupported_message(name))
    return handler(*inputs)


def array_function(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``np.<function>(...)`` with a Tensor among the arguments (NumPy found it there)."""
    handler = FUNCTIONS.get(func)
    if handler is None:
        raise TypeError(_unsupported_message(_numpy_name(func)))
    try:
        return handler(*args, **kwargs)
    except TypeError as error:  # NumPy arguments we do not take: name the NumPy function, not ours
        try:
            inspect.signature(handler).bind(*args, **kwargs)
        except TypeError:
            reason = str(error).split("() ", 1)[-1]  # without our function's name
            raise TypeError(
                f"{_numpy_name(func)}: {reason}; on Tensors it takes {inspect.signature(handler)}"
            ) from None
        raise


def to_array(tensor: Tensor, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
    """``np.asarray(tensor)``: the values of a tensor that does not require grad; an error for one that does."""
    in_a_summed_list = _summed_in_a_list()
    if in_a_summed_list and tensor.size == 1:
        return _as_object_scalar(tensor)
    if tensor.requires_grad and in_a_summed_list:
        raise TypeError(
            f"np.sum of a list holding a Tensor of shape {tensor.shape}: NumPy would convert it to a plain "
            f"array, dropping the graph. Only one-element Tensors can be summed in a list "
            f"(np.sum([np.sum(w) for w in weights])); for whole arrays write sum(np.sum(w) for w in weights) "
            f"or np.sum(np.stack(the_list))."
        )
    if tensor.requires_grad:
        raise TypeError(
            f"NumPy is converting a Tensor that requires grad (shape {tensor.shape}) to a plain array, which "
            f"would drop its graph{_at_user_line()}. NumPy does this for Tensors inside a list "
            f"(np.array([...]), np.mean([...])), for methods of plain arrays (array.dot(t)), for np.random "
            f"and for other functions that cannot dispatch. Write np.dot(array, t) or array @ t, "
            f"np.stack([...]) for a list of Tensors, sum(...) over a list; or t.detach().numpy() for "
            f"the values without the gradient. docs/numpy.md lists what works."
        )
    return np.array(tensor.data, dtype=dtype, copy=copy)


def set_item(tensor: Tensor, index: Any, value: Any) -> None:
    """``tensor[index] = value``: refused, so that no write can change values a backward pass relies on."""
    if tensor.requires_grad:
        raise RuntimeError(
            f"cannot write into a Tensor that requires grad (tensor[...] = value, shape {tensor.shape}): "
            f"backward needs the values it had when it was used. Build a new tensor instead, e.g. "
            f"a = np.where(a < 0, 0, a) or a = a * (a > 0) instead of a[a < 0] = 0."
        )
    raise RuntimeError(
        f"cannot write into a Tensor (tensor[...] = value, shape {tensor.shape}): an operation may have "
        f"saved its values for backward. Build a new tensor (np.where, np.insert, np.concatenate), or "
        f"write into a copy of its values: values = t.numpy().copy(); values[...] = ...; Tensor(values)."
    )


# ---------------------------------------------------------------- ufuncs


def _binary(method: str, reflected: str) -> Callable[[Any, Any], Tensor]:
    """A binary ufunc as the Tensor operator: ``np.add(a, t)`` is ``t.__radd__(a)``, exactly ``a + t``."""
    forward, backward = getattr(Tensor, method), getattr(Tensor, reflected)
    return lambda a, b: forward(a, b) if isinstance(a, Tensor) else backward(b, a)


def _symmetric(function: Callable[[Tensor, Any], Tensor]) -> Callable[[Any, Any], Tensor]:
    """A binary ufunc whose operands can be swapped (maximum, logaddexp): called on the Tensor one."""
    return lambda a, b: function(a, b) if isinstance(a, Tensor) else function(b, a)


def _no_gradient(numpy_function: Callable[..., Any]) -> Callable[..., Tensor]:
    """Logical ufuncs and tests (masks): a boolean tensor outside the graph, as comparisons give."""
    return lambda *inputs: Tensor._make(np.asarray(numpy_function(*[_data(x) for x in inputs])), None)


UFUNCS: dict[np.ufunc, Callable[..., Tensor]] = {
    np.add: _binary("__add__", "__radd__"),
    np.subtract: _binary("__sub__", "__rsub__"),
    np.multiply: _binary("__mul__", "__rmul__"),
    np.true_divide: _binary("__truediv__", "__rtruediv__"),  # np.divide is np.true_divide
    np.power: _binary("__pow__", "__rpow__"),
    np.matmul: _binary("__matmul__", "__rmatmul__"),
    np.greater: _binary("__gt__", "__lt__"),
    np.greater_equal: _binary("__ge__", "__le__"),
    np.less: _binary("__lt__", "__gt__"),
    np.less_equal: _binary("__le__", "__ge__"),
    np.equal: _binary("__eq__", "__eq__"),
    np.not_equal: _binary("__ne__", "__ne__"),
    np.maximum: _symmetric(Tensor.maximum),
    np.minimum: _symmetric(composites.minimum),
    np.logaddexp: _symmetric(composites.logaddexp),
    np.negative: composites.neg,
    np.square: lambda x: x * x,
    np.sqrt: composites.sqrt,
    np.exp: Tensor.exp,
    np.log: Tensor.log,
    np.log1p: composites.log1p,
    np.expm1: composites.expm1,
    np.absolute: composites.abs,  # np.abs is np.absolute
    np.tanh: Tensor.tanh,
    np.sin: Tensor.sin,
    np.cos: Tensor.cos,
    np.logical_and: _no_gradient(np.logical_and),
    np.logical_or: _no_gradient(np.logical_or),
    np.logical_xor: _no_gradient(np.logical_xor),
    np.logical_not: _no_gradient(np.logical_not),
    np.isnan: _no_gradient(np.isnan),
    np.isinf: _no_gradient(np.isinf),
    np.isfinite: _no_gradient(np.isfinite),
}

_UFUNC_DEFAULTS = {"where": True, "casting": "same_kind", "order": "K", "dtype": None, "subok": True}


# ---------------------------------------------------------------- functions: products and reductions


def dot(a: Any, b: Any, out: Any = None) -> Tensor:
    """``np.dot``: a product with a scalar, the inner product of vectors, else ``a @ b`` (b at most 2-D)."""
    _check_out("np.dot", out)
    a_t, b_t = _pair(a, b)
    if a_t.ndim == 0 or b_t.ndim == 0:
        return a_t * b_t
    if b_t.ndim > 2:
        raise TypeError(
            f"np.dot of shapes {a_t.shape} and {b_t.shape}: dot with a right operand of more than 2 "
            f"dimensions is not supported on Tensors; use np.matmul (or @) for stacks of matrices."
        )
    return a_t @ b_t


def _outer(a: Any, b: Any, out: Any = None) -> Tensor:
    _check_out("np.outer", out)
    a_t, b_t = _pair(a, b)
    return a_t.reshape(-1, 1) * b_t.reshape(1, -1)


def _sum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
         initial: Any = _NO, where: Any = _NO) -> Tensor:
    _check_out("np.sum", out)
    _defaults_only("np.sum", dtype=dtype, initial=initial, where=where)
    return as_tensor(a).sum(axis=axis, keepdims=keepdims)


def _mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False, *,
          where: Any = _NO) -> Tensor:
    _check_out("np.mean", out)
    _defaults_only("np.mean", dtype=dtype, where=where)
    return as_tensor(a).mean(axis=axis, keepdims=keepdims)


def _max(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = _NO,
         where: Any = _NO) -> Tensor:
    _check_out("np.max", out)
    _defaults_only("np.max", initial=initial, where=where)
    return as_tensor(a).max(axis=axis, keepdims=keepdims)


def _min(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = _NO,
         where: Any = _NO) -> Tensor:
    _check_out("np.min", out)
    _defaults_only("np.min", initial=initial, where=where)
    return as_tensor(a).min(axis=axis, keepdims=keepdims)


def _var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False,
         *, where: Any = _NO, mean: Any = _NO, correction: Any = _NO) -> Tensor:
    _check_out("np.var", out)
    _defaults_only("np.var", dtype=dtype, where=where, mean=mean, correction=correction)
    return as_tensor(a).var(axis=axis, keepdims=keepdims, ddof=ddof)


def _std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: int = 0, keepdims: bool = False,
         *, where: Any = _NO, mean: Any = _NO, correction: Any = _NO) -> Tensor:
    _check_out("np.std", out)
    _defaults_only("np.std", dtype=dtype, where=where, mean=mean, correction=correction)
    return as_tensor(a).std(axis=axis, keepdims=keepdims, ddof=ddof)


def _arg(numpy_function: Callable[..., Any]) -> Callable[..., Tensor]:
    """argmax / argmin: integer indices, outside the graph (an index has no gradient)."""
    name = f"np.{numpy_function.__name__}"

    def indices(a: Any, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Tensor:
        _check_out(name, out)
        return Tensor._make(np.asarray(numpy_function(_data(a), axis=axis, keepdims=keepdims)), None)

    return indices


def _norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Tensor:
    return composites.norm(as_tensor(x), ord=ord, axis=axis, keepdims=keepdims)


# ---------------------------------------------------------------- functions: elementwise with options


def _where(condition: Any, x: Any = _NO, y: Any = _NO) -> Any:
    """``np.where(c, x, y)``; the one-argument form gives the indices (no gradient), as np.nonzero."""
    mask = np.asarray(_data(condition)).astype(bool, copy=False)
    if x is _NO and y is _NO:
        return tuple(Tensor._make(i, None) for i in np.nonzero(mask))
    if x is _NO or y is _NO:
        raise ValueError("np.where: give either only the condition or all three of condition, x and y")
    return where(Tensor._make(mask, None), x, y)


def _clip(a: Any, a_min: Any = _NO, a_max: Any = _NO, out: Any = None, *, min: Any = _NO, max: Any = _NO) -> Tensor:
    """``np.clip``: number bounds use the ``clip`` composite; array or Tensor bounds maximum then minimum."""
    _check_out("np.clip", out)
    low = None if a_min is _NO and min is _NO else (min if a_min is _NO else a_min)
    high = None if a_max is _NO and max is _NO else (max if a_max is _NO else a_max)
    if all(b is None or isinstance(b, (int, float, np.number)) for b in (low, high)):
        return as_tensor(a).clip(low, high)  # a is the Tensor: NumPy dispatched on it
    out = as_tensor(a, low if isinstance(low, Tensor) else high if isinstance(high, Tensor) else None)
    if low is not None:
        out = UFUNCS[np.maximum](out, low)
    if high is not None:
        out = UFUNCS[np.minimum](out, high)
    return out


def _nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Tensor:
    return composites.nan_to_num(as_tensor(x), nan=nan, posinf=posinf, neginf=neginf)


def _filled_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True,
                 shape: Any = None, *, device: Any = None) -> Tensor:
    """zeros_like / ones_like / full_like / empty_like: a constant tensor (no gradient) shaped like ``a``."""
    shape = _data(a).shape if shape is None else shape
    values = np.full(shape, _data(fill_value), dtype=_data(a).dtype if dtype is None else dtype)
    return Tensor._make(values, None)


# ---------------------------------------------------------------- functions: shape


def _reshape(a: Any, shape: Any = None, order: str = "C", *, newshape: Any = None, copy: Any = None) -> Tensor:
    _defaults_only("np.reshape", copy=copy, order=None if order == "C" else order)
    return as_tensor(a).reshape(newshape if shape is None else shape)


def _transpose(a: Any, axes: Any = None) -> Tensor:
    return as_tensor(a).transpose() if axes is None else as_tensor(a).transpose(*axes)


def _expand_dims(a: Any, axis: Any) -> Tensor:
    """A reshape to the shape NumPy's own expand_dims gives (on a stand-in array of no memory)."""
    x = as_tensor(a)
    return x.reshape(_layout("np.expand_dims", x, lambda: np.expand_dims(np.broadcast_to(False, x.shape), axis)).shape)


def _squeeze(a: Any, axis: Any = None) -> Tensor:
    """A reshape to the shape NumPy's own squeeze gives (NumPy also checks that the axis has size 1)."""
    x = as_tensor(a)
    return x.reshape(_layout("np.squeeze", x, lambda: np.squeeze(np.broadcast_to(False, x.shape), axis)).shape)


def _concatenate(arrays: Sequence[Any], axis: Any = 0, out: Any = None, dtype: Any = None,
                 casting: str = "same_kind") -> Tensor:
    _check_out("np.concatenate", out)
    _defaults_only("np.concatenate", dtype=dtype)
    items = _tensors(arrays)
    if axis is None:
        return shape_ops.cat([t.reshape(-1) for t in items], axis=0)
    return shape_ops.cat(items, axis=axis)


def _stack(arrays: Sequence[Any], axis: int = 0, out: Any = None, *, dtype: Any = None,
           casting: str = "same_kind") -> Tensor:
    _check_out("np.stack", out)
    _defaults_only("np.stack", dtype=dtype)
    return shape_ops.stack(_tensors(arrays), axis=axis)


def _hstack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Tensor:
    items = [t.reshape(1) if t.ndim == 0 else t for t in _tensors(tup)]
    return _concatenate(items, axis=0 if items and items[0].ndim == 1 else 1, dtype=dtype)


def _vstack(tup: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Tensor:
    items = [t.reshape(1, -1) if t.ndim < 2 else t for t in _tensors(tup)]
    return _concatenate(items, axis=0, dtype=dtype)


def _insert(arr: Any, obj: Any, values: Any, axis: Any = None) -> Tensor:
    """``np.insert`` (a bias column: ``np.insert(X, 0, 1, axis=1)``) as one gather from arr and values.

    NumPy itself lays out the result, on arrays of element numbers: numbering
    arr's elements 0..n-1 and values' n..n+m-1, ``np.insert`` of the numbers says
    where each output element comes from, with all of NumPy's broadcasting rules.
    """
    arr_t, values_t = _pair(arr, values)
    numbers = np.arange(arr_t.size).reshape(arr_t.shape)
    value_numbers = np.arange(arr_t.size, arr_t.size + values_t.size).reshape(values_t.shape)
    layout = _layout("np.insert", arr_t, lambda: np.insert(numbers, _data(obj), value_numbers, axis=axis))
    return shape_ops.cat([arr_t.reshape(-1), values_t.reshape(-1)], axis=0)[layout]


def _append(arr: Any, values: Any, axis: Any = None) -> Tensor:
    """``np.append``: both flattened and joined (axis=None), else joined along ``axis``."""
    items = _tensors([arr, values])
    return _concatenate([t.reshape(-1) for t in items] if axis is None else items, axis=0 if axis is None else axis)


def _delete(arr: Any, obj: Any, axis: Any = None) -> Tensor:
    """``np.delete`` as a gather of the kept elements (NumPy computes which, on element numbers)."""
    x = as_tensor(arr)
    layout = _layout("np.delete", x, lambda: np.delete(np.arange(x.size).reshape(x.shape), _data(obj), axis=axis))
    return x.reshape(-1)[layout]


def _copy(a: Tensor) -> Tensor:
    """``np.copy``: a tensor in the graph stays in it (a view: writes into it are refused); a constant is copied."""
    return a.reshape(a.shape) if a.requires_grad else Tensor._make(a.data.copy(), None)


FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.dot: dot,
    np.outer: _outer,
    np.sum: _sum,
    np.mean: _mean,
    np.max: _max,
    np.amax: _max,
    np.min: _min,
    np.amin: _min,
    np.var: _var,
    np.std: _std,
    np.argmax: _arg(np.argmax),
    np.argmin: _arg(np.argmin),
    np.linalg.norm: _norm,
    np.where: _where,
    np.clip: _clip,
    np.nan_to_num: _nan_to_num,
    np.zeros_like: lambda a, *args, **kwargs: _filled_like(a, 0, *args, **kwargs),
    np.ones_like: lambda a, *args, **kwargs: _filled_like(a, 1, *args, **kwargs),
    np.empty_like: lambda a, *args, **kwargs: _filled_like(a, 0, *args, **kwargs),
    np.full_like: _filled_like,
    np.reshape: _reshape,
    np.transpose: _transpose,
    np.expand_dims: _expand_dims,
    np.squeeze: _squeeze,
    np.concatenate: _concatenate,
    np.stack: _stack,
    np.hstack: _hstack,
    np.vstack: _vstack,
    np.insert: _insert,
    np.delete: _delete,
    np.append: _append,
    np.ravel: lambda a, order="C": _reshape(a, -1, order),
    np.copy: lambda a, order="K", subok=False: _copy(a),
    np.shape: lambda a: _data(a).shape,
    np.ndim: lambda a: _data(a).ndim,
    np.size: lambda a, axis=None: _data(a).size if axis is None else _data(a).shape[axis],
}


# ---------------------------------------------------------------- Tensors inside a list: np.sum([...])


def _summed_in_a_list() -> bool:
    """True while ``np.sum(a_list)`` converts the list: the one place a Tensor may become an object scalar.

    NumPy cannot dispatch on the Tensors inside ``np.sum([np.sum(w) for w in
    weights])`` (the weight-decay line): it converts the list to an array,
    calling ``__array__`` from its ``_wrapreduction`` helper. If each element
    comes back as an object holding the Tensor itself, NumPy's reduction adds
    the elements with ``+``, which is Tensor addition, and the result is the
    right Tensor. Only a plain full sum qualifies (no axis, dtype, out or
    other option), so the object array never reaches the user.
    """
    try:
        frame = sys._getframe(3)  # _summed_in_a_list <- to_array <- Tensor.__array__ <- (NumPy's C code) <- caller
    except ValueError:  # called with no Python caller at all
        return False
    if frame.f_code is not _WRAPREDUCTION_CODE:
        return False
    options = frame.f_locals
    return (
        options.get("ufunc") is np.add
        and isinstance(options.get("obj"), (list, tuple))
        and options.get("axis") is None
        and options.get("dtype") is None
        and options.get("out") is None
        and not options.get("passkwargs")
    )


def _as_object_scalar(tensor: Tensor) -> np.ndarray:
    """A 0-d object array holding the (0-d) tensor: NumPy's reduction then adds it with ``+``."""
    holder = np.empty((), dtype=object)
    holder[()] = tensor if tensor.ndim == 0 else tensor.reshape(())
    return holder


def _wrapreduction_code() -> Any:
    for module_name in ("numpy._core.fromnumeric", "numpy.core.fromnumeric"):
        try:
            return importlib.import_module(module_name)._wrapreduction.__code__
        except (ImportError, AttributeError):
            continue
    return None  # a NumPy without the helper: np.sum([...]) of Tensors is then the clear error


_WRAPREDUCTION_CODE = _wrapreduction_code()


# ---------------------------------------------------------------- helpers


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as tensors; a non-Tensor takes the dtype of the Tensor one (as the operators do)."""
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    return as_tensor(a, like), as_tensor(b, like)


def _tensors(items: Sequence[Any]) -> list[Tensor]:
    like = next((x for x in items if isinstance(x, Tensor)), None)
    return [as_tensor(x, like) for x in items]


def _layout(name: str, x: Tensor, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """NumPy's own shape logic on stand-in arrays; its errors get the function's name and the tensor's shape."""
    try:
        return compute()
    except (ValueError, IndexError) as error:
        raise type(error)(f"{name} on a Tensor of shape {x.shape}: {error}") from None


def _check_out(name: str, out: Any) -> None:
    """``out=None`` is fine; writing a result into a Tensor or into a plain array is refused."""
    targets = out if isinstance(out, tuple) else (out,)
    for target in targets:
        if target is None:
            continue
        if isinstance(target, Tensor):
            raise TypeError(
                f"{name}(..., out=tensor) writes into a Tensor in place, which would corrupt the gradient of "
                f"the graph it belongs to; assign the result instead, e.g. a = {name}(a, 0)."
            )
        raise TypeError(
            f"{name}(..., out=array) would write a Tensor result into a plain {type(target).__name__}, dropping "
            f"the graph (this is also what `array += tensor` does); assign the result instead, "
            f"e.g. result = {name}(...) or array = array + tensor."
        )


def _defaults_only(name: str, **given: Any) -> None:
    """Options we do not support must be left out (None, NumPy's "not given", or where=True)."""
    for key, value in given.items():
        if value is not _NO and value is not None and not (key == "where" and value is True):
            hint = " (for another dtype convert the values: t.detach().numpy().astype(...))" if key == "dtype" else ""
            raise TypeError(f"{name}(..., {key}={value!r}) is not supported on Tensors; leave {key} out{hint}.")


_ALTERNATIVES = {  # what to write instead, for the functions people reach for most
    "np.prod": "a product of the factors with *, or np.exp(np.sum(np.log(x))) for positive x",
    "np.einsum": "np.matmul / @, np.dot or np.sum(a * b, axis=...)",
    "np.tensordot": "np.matmul / @ after np.reshape / np.transpose",
    "np.cumsum": "a loop of +, or a matmul with a triangular matrix of ones",
    "np.average": "np.sum(w * x) / np.sum(w), or np.mean",
    "np.sign": "a mask such as (x > 0) (no gradient), or x / np.abs(x)",
    "np.round": "t.detach().numpy().round() (rounding has no useful gradient)",
    "np.reciprocal": "1 / x",
    "np.log2": "np.log(x) / np.log(2)",
    "np.log10": "np.log(x) / np.log(10)",
    "np.exp2": "2.0 ** x",
    "np.tan": "np.sin(x) / np.cos(x)",
    "np.sinh": "(np.exp(x) - np.exp(-x)) / 2",
    "np.cosh": "(np.exp(x) + np.exp(-x)) / 2",
    "np.fmax": "np.maximum",
    "np.fmin": "np.minimum",
    "np.float_power": "np.power or **",
    "np.heaviside": "a mask such as (x > 0) (no gradient)",
}


def _unsupported_message(name: str) -> str:
    alternative = _ALTERNATIVES.get(name, "the functions listed in docs/numpy.md or the Tensor methods")
    return (
        f"{name} is not supported on Tensors (it would need a new derivative, or would drop the graph); "
        f"use {alternative}. For the values without a gradient use t.detach().numpy()."
    )


def _numpy_name(func: Callable[..., Any]) -> str:
    module = getattr(func, "__module__", "numpy") or "numpy"
    prefix = "np." + module.split(".", 1)[1] + "." if module.startswith("numpy.") and "._" not in module else "np."
    return prefix + getattr(func, "__name__", repr(func))


_PACKAGE_DIRS = (os.path.dirname(np.__file__) + os.sep, os.path.dirname(os.path.abspath(__file__)) + os.sep)


def _at_user_line() -> str:
    """`` (at file:line: code)`` of the innermost frame outside NumPy and this library."""
    frame: Any = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIRS):
        frame = frame.f_back
    if frame is None:
        return ""
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f" (at {frame.f_code.co_filename}:{frame.f_lineno}: {code})"


