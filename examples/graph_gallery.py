"""The example graphs of docs/graphs.md, drawn by examples/draw_graphs.py.

    python examples/graph_gallery.py        # list the models (draw one: python examples/draw_graphs.py NAME)

Each example builds a model, runs its forward pass and returns the tensor(s)
to draw, before backward (so the caller decides whether to backpropagate or to
step through backward frame by frame), with the ``draw`` options that suit it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import nn
from tinygrad_edu import Tensor, manual_seed
from tinygrad_edu.graph import group


@dataclass
class Example:
    description: str
    build: Callable[[], list[Tensor]]
    options: dict[str, Any] = field(default_factory=dict)


def neuron() -> list[Tensor]:
    """One neuron, tanh(w·x + b), with numbers small enough to check by hand."""
    x = Tensor([2.0, 0.0, -1.0], name="x")
    w = Tensor([-3.0, 1.0, 0.5], requires_grad=True, name="w")
    b = Tensor(6.88, requires_grad=True, name="b")
    return [(x @ w + b).tanh()]


def regression() -> list[Tensor]:
    """examples/regression_x2.py's network: 1-64-1 with leaky ReLU, mean squared error against x**2."""
    manual_seed(0)
    x = np.linspace(0.0, 1.0, 201, dtype=np.float32).reshape(-1, 1)
    model = nn.MLP([1, 64, 1], activation="leaky_relu")
    prediction = model(Tensor(x, name="x"))
    return [nn.mse_loss(prediction, Tensor(x**2, name="target"))]


def mnist() -> list[Tensor]:
    """A 784-128-64-10 ReLU MLP and its cross-entropy on a batch of 64 images (random pixels, real shapes)."""
    manual_seed(0)
    rng = np.random.default_rng(0)
    images = Tensor(rng.random((64, 784), dtype=np.float32), name="images")
    labels = rng.integers(0, 10, size=64)
    model = nn.MLP([784, 128, 64, 10])
    return [nn.cross_entropy(model(images), labels)]


def vanishing(layers: int = 6, width: int = 32) -> list[Tensor]:
    """The same deep MLP twice, sigmoid and ReLU (each with its usual initialisation), on the same data."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((64, width)), name="x")
    labels = rng.integers(0, 10, size=64)
    losses = []
    for activation, name in (("sigmoid", "sigmoid network"), ("relu", "ReLU network")):
        manual_seed(0)
        model = nn.MLP([width] * (layers + 1) + [10], activation=activation)
        with group(name):  # one cluster per network, side by side
            losses.append(nn.cross_entropy(model(x), labels))
    return losses


EXAMPLES: dict[str, Example] = {
    "neuron": Example(
        neuron.__doc__ or "",
        neuron,
        {"rankdir": "LR", "numbered": True, "title": "one neuron: tanh(w·x + b)"},
    ),
    "regression": Example(
        regression.__doc__ or "",
        regression,
        {"title": "fitting x²: a 1-64-1 MLP with leaky ReLU, mean squared error (expanded)", "expand": "mse_loss"},
    ),
    "mnist": Example(
        mnist.__doc__ or "",
        mnist,
        {"collapse": True, "title": "MNIST MLP 784-128-64-10, each module drawn as one node"},
    ),
    "vanishing": Example(
        vanishing.__doc__ or "",
        vanishing,
        {"collapse": True, "title": "6 hidden layers: sigmoid (left) vs ReLU (right)"},
    ),
}


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description="List the example models of docs/graphs.md.").parse_args(argv)
    for name, example in EXAMPLES.items():
        print(f"{name:12} {example.description}")


if __name__ == "__main__":
    main()
