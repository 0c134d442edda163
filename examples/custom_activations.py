"""Train the same small network with different activations, each written as one line of forward code.

An activation is any function from Tensor to Tensor built from Tensor
operations: its derivative comes from the operations it uses, so trying a new
one is a one-line change. Each network is 1-32-1 with He initialisation for
every activation (so only the activation differs), trained full-batch with Adam
on 201 points in [0, 1]. The table shows how well it fits and what it does
outside the data (x = -1, 2 and 5), where the activation's shape shows.

    python examples/custom_activations.py
    python examples/custom_activations.py --target sin --epochs 3000
    python examples/custom_activations.py --help
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import nn
from tinygrad_edu import Tensor, manual_seed, no_grad, where

# name -> (the formula, for the table; the forward code, one line each)
ACTIVATIONS: dict[str, tuple[str, Callable[[Tensor], Tensor]]] = {
    "relu": ("max(x, 0)", lambda x: x.relu()),
    "leaky_relu": ("max(x, 0.01x)", lambda x: x.leaky_relu(0.01)),
    "abs": ("|x|", lambda x: x.abs()),
    "shifted_relu": ("max(x, -1)", lambda x: (x + 1).relu() - 1),
    "hard_tanh": ("clip(x, -1, 1)", lambda x: (x + 1).relu() - (x - 1).relu() - 1),
    "tanh": ("tanh(x)", lambda x: x.tanh()),
    "sin": ("sin(x)", lambda x: x.sin()),
    "square": ("x**2", lambda x: x * x),
    # Units that are not all alike: even units ReLU, odd units sin (nn.PerUnitActivation takes a list).
    "relu|sin": ("relu / sin by unit", lambda x: where(np.arange(x.shape[-1]) % 2 == 0, x.relu(), x.sin())),
}

OUTSIDE = [-1.0, 2.0, 5.0]

TARGETS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x2": lambda x: x**2,
    "sin": lambda x: np.sin(2 * np.pi * x),
    "abs": lambda x: np.abs(x - 0.5),
}


@dataclass
class Row:
    name: str
    formula: str
    mse: float
    outside: list[float]  # predictions at OUTSIDE
    seconds: float


def train_one(
    activation: Callable[[Tensor], Tensor],
    target: str = "x2",
    epochs: int = 1000,
    hidden: int = 32,
    lr: float = 1e-2,
    seed: int = 0,
) -> tuple[float, list[float], float]:
    """Fit the target on [0, 1]; return (final MSE, predictions at OUTSIDE, seconds)."""
    manual_seed(seed)
    x = np.linspace(0.0, 1.0, 201).reshape(-1, 1)
    inputs, y = Tensor(x), TARGETS[target](x)
    model = nn.MLP([1, hidden, 1], activation=activation, init="he")
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    schedule = nn.optim.CosineAnnealingLR(optimizer, T_max=epochs)
    start = time.perf_counter()
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = nn.mse_loss(model(inputs), y)
        loss.backward()
        optimizer.step()
        schedule.step()
    seconds = time.perf_counter() - start
    with no_grad():
        outside = model(Tensor(np.array(OUTSIDE).reshape(-1, 1))).data.ravel()
    return loss.item(), [float(value) for value in outside], seconds


def compare(
    target: str = "x2", epochs: int = 1000, hidden: int = 32, seed: int = 0, names: list[str] | None = None
) -> list[Row]:
    """Train one network per activation in ``names`` (default: all) and return the table's rows."""
    rows = []
    for name in names or list(ACTIVATIONS):
        formula, activation = ACTIVATIONS[name]
        mse, outside, seconds = train_one(activation, target, epochs, hidden, seed=seed)
        rows.append(Row(name, formula, mse, outside, seconds))
    return rows


def print_table(rows: list[Row], target: str) -> None:
    points = "".join(f"{f'f({x:g})':>8}" for x in OUTSIDE)
    truth = "".join(f"{value:8.2f}" for value in TARGETS[target](np.array(OUTSIDE)))
    print(f"{'activation':<13} {'formula':<20} {'train MSE':>10}{points} {'time':>6}")
    print(f"{'(true target)':<13} {'':<20} {'':>10}{truth}")
    for row in rows:
        values = "".join(f"{value + 0.0:8.2f}" for value in row.outside)  # + 0.0: no "-0.00"
        print(f"{row.name:<13} {row.formula:<20} {row.mse:10.2e}{values} {row.seconds:5.1f}s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=sorted(TARGETS), default="x2", help="function to fit on [0, 1]")
    parser.add_argument("--epochs", type=int, default=1000, help="training epochs per network (default 1000)")
    parser.add_argument("--hidden", type=int, default=32, help="hidden units (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the initial weights (default 0)")
    args = parser.parse_args(argv)
    print(f"Fitting {args.target} on [0, 1] with a 1-{args.hidden}-1 MLP, {args.epochs} epochs each:\n")
    rows = compare(args.target, args.epochs, args.hidden, args.seed)
    print_table(rows, args.target)
    best = min(rows, key=lambda row: row.mse)
    print(f"\nBest fit: {best.name} (MSE {best.mse:.2e}).")
    print(
        "Outside [0, 1] each network keeps the shape of its activation: the ReLU family and abs continue\n"
        "in straight lines, tanh and hard_tanh level off, sin keeps waving, and a network of x**2 units\n"
        "is itself a quadratic polynomial of x, so on x**2 it extrapolates exactly."
    )


if __name__ == "__main__":
    main()
