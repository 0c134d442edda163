"""The design rule: only the primitives have hand-written derivatives.

1. The primitive set is closed and lives in one module.
2. No other module of the library defines a backward pass.
3. Every composite (activations, softmax, losses, ...) builds graphs of primitives only.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Function, Tensor
from tinygrad_edu import primitives as P
from tinygrad_edu.autograd import topological_order

ROOT = Path(__file__).resolve().parents[1]
LIBRARY_FILES = sorted((ROOT / "tinygrad_edu").rglob("*.py")) + sorted((ROOT / "nn").rglob("*.py"))
PRIMITIVES_FILE = ROOT / "tinygrad_edu" / "primitives.py"
FUNCTION_FILE = ROOT / "tinygrad_edu" / "function.py"


def test_primitive_set_is_closed_and_lives_in_primitives_module():
    defined = {obj for _, obj in inspect.getmembers(P, inspect.isclass) if issubclass(obj, Function)} - {Function}
    assert set(tg.PRIMITIVES) == defined
    for primitive in tg.PRIMITIVES:
        assert "forward" in vars(primitive) and "backward" in vars(primitive), primitive
    assert len(tg.PRIMITIVES) <= 20, "the primitive set should stay small enough to hold in one's head"


@pytest.mark.parametrize("path", LIBRARY_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_backward_outside_the_primitives_module(path):
    if path in (PRIMITIVES_FILE, FUNCTION_FILE):  # function.py only declares the abstract interface
        return
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = {getattr(b, "id", getattr(b, "attr", None)) for b in node.bases}
        assert "Function" not in bases, f"{path.name}: class {node.name} subclasses Function"
        if node.name == "Tensor":  # Tensor.backward starts the reverse pass; it holds no derivative
            continue
        methods = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
        assert "backward" not in methods, f"{path.name}: class {node.name} defines a backward"


def ops_in_graph(out: Tensor) -> set[type]:
    return {type(t.op) for t in topological_order(out) if t.op is not None}


COMPOSITES = {
    "neg": lambda x: -x,
    "sqrt": lambda x: x.abs().sqrt(),
    "abs": lambda x: x.abs(),
    "clip": lambda x: x.clip(-0.5, 0.5),
    "minimum": lambda x: x.minimum(0.0),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x: x.leaky_relu(),
    "sigmoid": lambda x: x.sigmoid(),
    "softmax": lambda x: x.softmax(),
    "log_softmax": lambda x: x.log_softmax(axis=0),
    "mean": lambda x: x.mean(axis=1),
    "min": lambda x: x.min(),
    "logsumexp": lambda x: x.logsumexp(axis=1),
    "flatten": lambda x: x.flatten(),
    "T": lambda x: x.T,
    "stack": lambda x: tg.stack([x, x]),
    "where": lambda x: tg.where(x > 0, x, 1.0),
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
def test_composites_build_graphs_of_primitives_only(name):
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    out = COMPOSITES[name](x)
    ops = ops_in_graph(out)
    assert ops, f"{name} recorded no operation"
    assert ops <= set(tg.PRIMITIVES), f"{name} uses non-primitive nodes {ops - set(tg.PRIMITIVES)}"
