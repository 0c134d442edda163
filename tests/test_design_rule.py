"""The design rule: only the primitives have hand-written derivatives; everything else is a forward expression.

Checked on the imported code, not on its text, so it cannot be dodged by
spelling: after importing every module of both packages,

1. the Function subclasses the project defines are exactly PRIMITIVES, each
   with its own forward and backward, written in primitives.py;
2. every public composite (found through its ``@composite`` record, not listed
   here) builds graphs of primitives only and passes gradcheck over several shapes;
3. a public Tensor method that is not a composite is a single primitive, with at
   most Python numbers as constants;
4. only the composites named in ``composites.DATA_CONSTANTS`` bring constants
   computed from their inputs' values into the graph (where a wrong derivative
   could hide: ``x * x.detach()`` has the value x² and the derivative x).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nn
import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor, gradcheck
from tinygrad_edu.autograd import topological_order
from tinygrad_edu.composites import DATA_CONSTANTS
from tinygrad_edu.records import composite_name

PACKAGES = (tg, nn)
MODULES = [
    importlib.import_module(info.name)
    for package in PACKAGES
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
]
OURS = tuple(f"{package.__name__}." for package in PACKAGES)


def project_function_classes() -> set[type]:
    found, todo = set(), [Function]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith(OURS):
                found.add(sub)
    return found


def test_the_function_subclasses_of_the_project_are_exactly_the_primitives():
    assert project_function_classes() == set(tg.PRIMITIVES)
    assert len(tg.PRIMITIVES) <= 20, "the primitive set should stay small enough to hold in one's head"


@pytest.mark.parametrize("primitive", tg.PRIMITIVES, ids=lambda p: p.__name__)
def test_each_primitive_writes_its_own_forward_and_backward_in_primitives_py(primitive):
    for method in ("forward", "backward"):
        function = inspect.unwrap(getattr(primitive, method))
        assert function.__module__ == "tinygrad_edu.primitives", f"{primitive.__name__}.{method} is not ours"
        assert function.__qualname__ == f"{primitive.__name__}.{method}", f"{primitive.__name__}.{method} reassigned"


# ---------------------------------------------------------------- composites, discovered from their records


def every_tensor(out: Tensor) -> list[Tensor]:
    """``out`` and every tensor it was computed from, constants included."""
    seen, todo = {id(out): out}, [out]
    while todo:
        tensor = todo.pop()
        for parent in tensor.op.parents if tensor.op is not None else ():
            if id(parent) not in seen:
                seen[id(parent)] = parent
                todo.append(parent)
    return list(seen.values())


def public_composites() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    places = [*MODULES, Tensor]
    for place in places:
        for attribute, value in vars(place).items():
            name = composite_name(value) if callable(value) else None
            if name is not None and not attribute.startswith("_"):
                found.setdefault(name, value)
    return found


COMPOSITES = public_composites()
rng = np.random.default_rng(0)

# Arguments beyond the first tensor, for composites that need them (a missing entry fails the test below).
EXTRA_ARGUMENTS: dict[str, Callable[[tuple[int, ...]], tuple[Any, ...]]] = {
    "minimum": lambda shape: (Tensor(rng.standard_normal(shape), requires_grad=True),),
    "logaddexp": lambda shape: (Tensor(rng.standard_normal(shape), requires_grad=True),),
    "clip": lambda shape: (-0.5, 0.5),
    "mse_loss": lambda shape: (rng.standard_normal(shape),),
    "binary_cross_entropy_with_logits": lambda shape: (rng.random(shape),),
    "cross_entropy": lambda shape: (rng.integers(0, shape[1], size=shape[0]),),
    "nll_loss": lambda shape: (rng.integers(0, shape[1], size=shape[0]),),
    "l1_loss": lambda shape: (rng.standard_normal(shape),),
    "binary_cross_entropy": lambda shape: (rng.random(shape),),
}
CLASS_SHAPES = [(1, 3), (4, 2), (5, 7)]  # (N, C): logits or log-probabilities of N samples
SHAPES: dict[str, list[tuple[int, ...]]] = {"cross_entropy": CLASS_SHAPES, "nll_loss": CLASS_SHAPES}
DEFAULT_SHAPES = [(5,), (3, 4), (2, 3, 2)]
POSITIVE_INPUTS = {"sqrt", "log1p"}  # defined (and differentiable) for x > 0 (log1p: x > -1) only
PROBABILITY_INPUTS = {"binary_cross_entropy"}  # defined for 0 < p < 1 only


def needs_more_than_a_tensor(fn: Callable[..., Any]) -> bool:
    parameters = list(inspect.signature(fn).parameters.values())[1:]
    return any(p.default is inspect.Parameter.empty and p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)


def call_composite(name: str, shape: tuple[int, ...]) -> tuple[Tensor, list[Any], Tensor]:
    values = rng.standard_normal(shape)
    values[np.abs(values) < 1e-3] = 0.5  # keep clear of kinks (relu, abs at 0)
    if name in POSITIVE_INPUTS:
        values = np.abs(values) + 0.1
    if name in PROBABILITY_INPUTS:
        values = 0.1 + 0.8 * rng.random(shape)
    x = Tensor(values, requires_grad=True, dtype=np.float64)
    extra = list(EXTRA_ARGUMENTS.get(name, lambda s: ())(shape))
    return COMPOSITES[name](x, *extra), [x, *extra], x


def test_composites_are_found_from_their_records():
    assert {"relu", "sigmoid", "softmax", "mean", "clip", "cross_entropy", "mse_loss"} <= set(COMPOSITES)
    for name, fn in COMPOSITES.items():
        assert name in EXTRA_ARGUMENTS or not needs_more_than_a_tensor(fn), (
            f"composite {name} needs more than one tensor: add its arguments to EXTRA_ARGUMENTS"
        )


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_every_composite_builds_primitives_only_and_passes_gradcheck(name):
    for shape in SHAPES.get(name, DEFAULT_SHAPES):
        out, arguments, x = call_composite(name, shape)
        ops = {type(t.op) for t in topological_order(out) if t.op is not None}
        assert ops and ops <= set(tg.PRIMITIVES), f"{name} uses non-primitive nodes {ops - set(tg.PRIMITIVES)}"
        report = gradcheck(COMPOSITES[name], *arguments)
        assert report, f"{name} on shape {shape}:\n{report}"


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_only_the_named_composites_build_constants_from_their_inputs(name):
    out, arguments, x = call_composite(name, SHAPES.get(name, DEFAULT_SHAPES)[1])
    nudged = Tensor(x.data * (1 + 0.05 * rng.random(x.shape)), requires_grad=True, dtype=np.float64)  # same signs
    again = COMPOSITES[name](nudged, *arguments[1:])
    first, second = constants_made_inside(out), constants_made_inside(again)
    assert len(first) == len(second)
    for constant, moved in zip(first, second):  # one that follows the input was computed from its values
        if not np.array_equal(constant.data, moved.data):
            maker = constant.composite.name  # the innermost composite that made it
            assert maker in DATA_CONSTANTS, f"{maker} builds constants from its input's values; derivative right?"


def constants_made_inside(out: Tensor) -> list[Tensor]:
    """Floating array constants created during a composite call (numbers and boolean conditions aside)."""
    return [
        t for t in every_tensor(out)
        if t.op is None and not t.requires_grad and t.ndim > 0 and t.dtype.kind == "f" and t.composite is not None
    ]  # fmt: skip


# ---------------------------------------------------------------- Tensor methods that are not composites


def tensor_methods() -> list[str]:
    """Public Tensor methods that are not composites and can be called with no argument (plus ``.T``)."""

    def no_arguments(value: Any) -> bool:
        parameters = list(inspect.signature(value).parameters.values())
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        required = [p for p in parameters if p.default is p.empty and p.kind in positional]
        return len(required) == 1  # only the tensor itself

    return sorted(
        attribute
        for attribute, value in vars(Tensor).items()
        if not attribute.startswith("_") and inspect.isfunction(value) and composite_name(value) is None
        and no_arguments(value)
    ) + ["T"]  # fmt: skip


@pytest.mark.parametrize("method", tensor_methods())
def test_a_tensor_method_that_is_not_a_composite_is_one_primitive(method):
    x = Tensor(np.abs(rng.standard_normal((3, 4))) + 0.5, requires_grad=True)  # positive: log, sqrt
    if method in ("backward", "item"):  # not operations: they need a one-element tensor
        x = x.sum()
    try:
        out = getattr(x, method) if method == "T" else getattr(x, method)()
    except (ValueError, RuntimeError):  # refused with a clear error (reshape(), double() of a graph tensor)
        return
    if not isinstance(out, Tensor) or out.op is None:
        return  # not an operation (item, numpy, requires_grad_, ...)
    assert type(out.op) in tg.PRIMITIVES and all(p is x or p.op is None for p in out.op.parents), (
        f"Tensor.{method} builds several operations: mark it @composite so it is gradchecked and drawn as one"
    )
    constants = [p for p in out.op.parents if p is not x]
    assert all(p.ndim == 0 for p in constants), f"Tensor.{method} multiplies by a constant made from the data"
