"""Parameters in the user's own structure: ``W1=...``, ``weights=[W1, W2]``, ``theta={"W": ..., "b": ...}``.

``check_backprop`` calls ``forward(**params)`` with every array replaced by a
float64 Tensor in the same place, and reads the user's gradients in the same
structure (or by the display names of the report). Each array gets a display
name: the keyword (``W1``), or the keyword with its index or key
(``weights[0]``, ``theta['W']``), unless ``names`` gives the list's own names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .tensor import Tensor


@dataclass(frozen=True)
class Slot:
    """Where one array sits: the keyword, and the index or key inside it (None for a bare array)."""

    name: str  # the display name used in the report
    keyword: str
    inner: int | str | None = None


def slots(params: Any, names: Mapping[str, Sequence[str]] | None) -> list[tuple[Slot, np.ndarray]]:
    """Every array of ``params`` with its place and display name, as float64 copies."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"check_backprop: params must be a dict of keyword -> array (forward is called as "
            f"forward(**params)), got {type(params).__name__}. For a list of weights pass "
            f"{{'weights': weights}} and write forward(weights)."
        )
    names = names or {}
    found: list[tuple[Slot, np.ndarray]] = []
    for keyword, value in params.items():
        if isinstance(value, Mapping):
            found += [(Slot(f"{keyword}[{k!r}]", keyword, k), _array(f"params[{keyword!r}][{k!r}]", v))
                      for k, v in value.items()]  # fmt: skip
        elif isinstance(value, (list, tuple)):
            labels = _labels(keyword, len(value), names.get(keyword))
            found += [(Slot(label, keyword, i), _array(f"params[{keyword!r}][{i}]", v))
                      for i, (label, v) in enumerate(zip(labels, value))]  # fmt: skip
        else:
            found.append((Slot(keyword, keyword), _array(f"params[{keyword!r}]", value)))
    return found


def _labels(keyword: str, count: int, given: Sequence[str] | None) -> list[str]:
    if given is None:
        return [f"{keyword}[{i}]" for i in range(count)]
    if isinstance(given, str) or len(given) != count:
        raise ValueError(
            f"check_backprop: names[{keyword!r}] must list one name per array of params[{keyword!r}] "
            f"({count}), got {given!r}"
        )
    return [str(label) for label in given]


def _array(where: str, value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        value = value.data
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"check_backprop: {where} must be an array of numbers, got {value!r}")
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"check_backprop: {where} must be an array of numbers, got dtype {array.dtype} "
            f"({type(value).__name__}); pass a NumPy array (or a list of numbers)."
        )
    return np.array(array, dtype=np.float64)


def build(params: Mapping[str, Any], make: Callable[[Slot], Any]) -> dict[str, Any]:
    """``params``'s structure with ``make(slot)`` in place of each array (lists stay lists, tuples tuples)."""
    built: dict[str, Any] = {}
    for keyword, value in params.items():
        if isinstance(value, Mapping):
            built[keyword] = {k: make(Slot("", keyword, k)) for k in value}
        elif isinstance(value, (list, tuple)):
            built[keyword] = type(value)(make(Slot("", keyword, i)) for i in range(len(value)))
        else:
            built[keyword] = make(Slot("", keyword))
    return built


def gradients(grads: Any, layout: list[Slot], params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The user's gradients by display name, read in the params' structure (or by display name), and the
    names that match no parameter."""
    if not isinstance(grads, Mapping):
        raise TypeError(
            f"check_backprop: the gradients must be a dict with the same keys as params "
            f"({', '.join(map(repr, params))}), got {type(grads).__name__}"
            + (". A list of gradients goes under its keyword: {'weights': [dW1, dW2]}." if isinstance(
                grads, (list, tuple)) else "")
        )  # fmt: skip
    by_name: dict[str, Any] = {}
    used: set[str] = set()
    for slot in layout:
        if slot.name in grads:
            by_name[slot.name] = _gradient(f"grads[{slot.name!r}]", grads[slot.name])
            used.add(slot.name)
        elif slot.keyword in grads:
            used.add(slot.keyword)
            value = grads[slot.keyword]
            if slot.inner is None:
                by_name[slot.name] = _gradient(f"grads[{slot.keyword!r}]", value)
                continue
            expected = type(params[slot.keyword]).__name__
            if isinstance(params[slot.keyword], Mapping) != isinstance(value, Mapping) or isinstance(value, str):
                raise TypeError(
                    f"check_backprop: grads[{slot.keyword!r}] must be a {expected} like params[{slot.keyword!r}] "
                    f"(one gradient per array), got {type(value).__name__}"
                )
            try:
                by_name[slot.name] = _gradient(f"grads[{slot.keyword!r}]", value[slot.inner])
            except (IndexError, KeyError):
                continue  # reported as missing
    extra = [str(key) for key in grads if key not in used]
    return by_name, extra


def _gradient(where: str, value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"check_backprop: {where} must be an array of numbers, got {value!r}")
    if isinstance(value, (Mapping, list, tuple)) and any(isinstance(v, (np.ndarray, Tensor)) for v in (
            value.values() if isinstance(value, Mapping) else value)):
        raise TypeError(
            f"check_backprop: {where} is a {type(value).__name__} of arrays, but the parameter is one array; "
            f"give one gradient array per parameter"
        )  # fmt: skip
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"check_backprop: {where} must be an array of numbers, got dtype {array.dtype}")
    return array
