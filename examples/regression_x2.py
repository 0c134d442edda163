"""Fit y = x**2 on [0, 1] with a small MLP, then look at what it does outside [0, 1].

The network is 1-64-1: a hidden layer of 64 leaky-ReLU units and a linear
output, trained full-batch on 201 points with Adam and the mean squared error.

    python examples/regression_x2.py                  # train, print the loss, the fit and a plot
    python examples/regression_x2.py --relu-output    # also train the classic mistake: ReLU on the output
    python examples/regression_x2.py --help

``train(...)`` can be imported and called with smaller settings (the tests do).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

import nn
from tinygrad_edu import Tensor, manual_seed, no_grad

OUTSIDE = np.array([-1.0, -0.5, 1.5, 2.0])  # inputs outside the training interval [0, 1]


@dataclass
class Result:
    """A trained model and how it got there."""

    model: nn.MLP
    losses: list[float] = field(default_factory=list)  # training MSE after each epoch
    seconds: float = 0.0

    @property
    def final_mse(self) -> float:
        return self.losses[-1]

    def predict(self, x: np.ndarray) -> np.ndarray:
        with no_grad():
            return self.model(Tensor(x.reshape(-1, 1))).data.ravel()


def make_data(n_points: int = 201) -> tuple[np.ndarray, np.ndarray]:
    """``n_points`` evenly spaced x in [0, 1] and y = x**2, as (n, 1) columns."""
    x = np.linspace(0.0, 1.0, n_points).reshape(-1, 1)
    return x, x**2


def train(
    epochs: int = 3000,
    hidden: int = 64,
    lr: float = 1e-2,
    output_activation: str | None = None,
    seed: int = 0,
    n_points: int = 201,
    log_every: int = 0,
    log: Callable[[str], None] = print,
) -> Result:
    """Train a 1-``hidden``-1 leaky-ReLU MLP on y = x**2 with full-batch Adam and a cosine learning rate.

    Parameters
    ----------
    epochs : int
        Full passes over the data (one optimizer step each).
    hidden : int
        Width of the hidden layer.
    lr : float
        Adam's initial learning rate; it decays to 0 along a cosine.
    output_activation : str or None
        None for a linear output (right for regression); "relu" for the classic mistake.
    seed : int
        Seed for the initial weights.
    n_points : int
        Number of training points in [0, 1].
    log_every : int
        Print the loss every this many epochs (0: never).
    log : callable
        Where the progress lines go.
    """
    manual_seed(seed)
    x, y = make_data(n_points)
    inputs = Tensor(x)
    model = nn.MLP([1, hidden, 1], activation="leaky_relu", output_activation=output_activation)
    optimizer = nn.optim.Adam(model.parameters(), lr=lr)
    schedule = nn.optim.CosineAnnealingLR(optimizer, T_max=epochs)
    result = Result(model)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        optimizer.zero_grad()
        loss = nn.mse_loss(model(inputs), y)
        loss.backward()
        optimizer.step()
        schedule.step()
        result.losses.append(loss.item())
        if log_every and (epoch % log_every == 0 or epoch == 1):
            log(f"  epoch {epoch:5d}   MSE {loss.item():.3e}")
    result.seconds = time.perf_counter() - start
    return result


def show_extrapolation(result: Result) -> None:
    print("\nOutside the training interval [0, 1]:")
    print("      x    x**2   network")
    for x, prediction in zip(OUTSIDE, result.predict(OUTSIDE)):
        print(f"  {x:5.1f}  {x * x:6.2f}  {prediction + 0.0:8.3f}")  # + 0.0 turns -0.0 into 0.0
    print(
        "Each hidden unit is linear on both sides of its kink, so the network is piecewise linear. Outside\n"
        "[0, 1] no data says where units should switch: the fit roughly continues the slopes it had at the\n"
        "edges of the data, and past the last kink it is exactly a straight line. It cannot curve up\n"
        "like x**2: a network interpolates its data, it does not discover the formula."
    )


def compare_relu_output(first: Result, epochs: int, hidden: int, lr: float, seeds: list[int]) -> Result:
    """Train ReLU-output networks (and linear-output ones, except ``first``) from the same seeds.

    Prints one row per seed and returns the ReLU-output result of the first seed.
    """
    print(f"\nThe classic mistake, ReLU on the output layer ({len(seeds)} seeds, {epochs} epochs each):")
    print("  seed   linear output   ReLU output")
    relu_results = []
    for seed in seeds:
        linear = first if seed == seeds[0] else train(epochs, hidden, lr, seed=seed)
        relu_results.append(train(epochs, hidden, lr, "relu", seed=seed))
        print(f"  {seed:4d}   {linear.final_mse:13.2e}   {relu_results[-1].final_mse:11.2e}")
    print(
        "A ReLU output is exactly 0 wherever its input is negative, and passes no gradient back there.\n"
        "If that happens for every training point (at initialisation or after one large step) the\n"
        "network is dead: the loss stays at mean(y**2) ~ 0.2 and nothing can revive it. Even when it\n"
        "survives, it can never predict a negative value. Regression outputs should be linear."
    )
    return relu_results[0]


def save_plot(results: dict[str, Result], path: str) -> bool:
    """Plot the data and the fits on [-1, 2]; return False if matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    x, y = make_data()
    grid = np.linspace(-1.0, 2.0, 301)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    axis.axvspan(0, 1, color="0.92", label="training interval")
    axis.plot(grid, grid**2, "k--", linewidth=1, label="y = x**2")
    axis.plot(x[::10], y[::10], "k.", label="training points (every 10th)")
    for label, result in results.items():
        axis.plot(grid, result.predict(grid), linewidth=2, label=f"{label} (MSE {result.final_mse:.1e})")
    axis.set_xlabel("x")
    axis.set_ylabel("y")
    axis.set_title("A 1-64-1 leaky-ReLU MLP fitted to x**2 on [0, 1]")
    axis.legend(loc="upper left")
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3000, help="training epochs (default 3000)")
    parser.add_argument("--hidden", type=int, default=64, help="hidden units (default 64)")
    parser.add_argument("--lr", type=float, default=1e-2, help="initial Adam learning rate (default 0.01)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the initial weights (default 0)")
    parser.add_argument(
        "--relu-output", action="store_true", help="also train with ReLU on the output layer and compare"
    )
    parser.add_argument("--seeds", type=int, default=5, help="seeds compared with --relu-output (default 5)")
    parser.add_argument("--plot", default="runs/regression_x2.png", help="where to save the plot")
    parser.add_argument("--no-plot", action="store_true", help="do not save a plot")
    args = parser.parse_args(argv)

    print(f"Fitting y = x**2 on [0, 1] with a 1-{args.hidden}-1 leaky-ReLU MLP, Adam, {args.epochs} epochs:")
    result = train(args.epochs, args.hidden, args.lr, seed=args.seed, log_every=max(args.epochs // 10, 1))
    verdict = "reached" if result.final_mse < 1e-5 else "did NOT reach"
    print(f"Final MSE {result.final_mse:.2e} ({verdict} the 1e-5 target) in {result.seconds:.1f} s.")
    show_extrapolation(result)

    results = {"linear output": result}
    if args.relu_output:
        seeds = list(range(args.seed, args.seed + args.seeds))
        results["ReLU output"] = compare_relu_output(result, args.epochs, args.hidden, args.lr, seeds)

    if not args.no_plot:
        if save_plot(results, args.plot):
            print(f"\nPlot saved to {args.plot}")
        else:
            print("\n(matplotlib is not installed, so no plot: pip install 'tinygrad-edu[plot]')")


if __name__ == "__main__":
    main()
