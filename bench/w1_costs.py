"""What each part of a W1 training step costs: the step again with that part taken out, in one process.

W1 (784-100-10 sigmoid MLP, softmax cross-entropy, SGD, batches of 100) is the
workload furthest from its target. This prints the step's µs as written, and
with one part replaced by almost nothing (a variant that trains a different
model, so only its time means something):

- ``identity``: the sigmoid replaced by the identity (what the 5-primitive sigmoid costs)
- ``naive_sigmoid``: 1 / (1 + exp(-x)) written out, 4 primitives: the expression ``sigmoid`` takes above its
  floor, without the composite's record and the floor check (what those cost)
- ``tail_form_sigmoid``: ``sigmoid`` made to take its exp(-|x|) form (5 primitives, a mask and a sign), which
  it uses only when some input lies below its floor (what the textbook form buys)
- ``trivial_loss``: mean(out * out) instead of cross-entropy (what the 7-node loss costs)
- ``no_locks``: saved arrays not made read-only (what the in-place protection costs)
- ``no_input_copy``: ``as_tensor(x)`` instead of ``Tensor(x)``, which copies the batch

Variants take turns batch block by batch block (the same machine load for all) and the
median is kept; the hand-derived NumPy step (bench/numpy_reference.py) is the yardstick.

    python bench/w1_costs.py                      # about a minute; needs MNIST ($TINYGRAD_EDU_DATA)
    python bench/w1_costs.py --rounds 3 --batches 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import nn  # noqa: E402
import tinygrad_edu.composites as composites  # noqa: E402
import tinygrad_edu.function as function  # noqa: E402
from bench import numpy_reference as reference  # noqa: E402
from bench import workloads  # noqa: E402
from tinygrad_edu import Tensor, as_tensor  # noqa: E402

VARIANTS = ("as written", "identity", "naive_sigmoid", "tail_form_sigmoid", "trivial_loss", "no_locks", "no_input_copy")


class _Activation(nn.Module):
    def __init__(self, function: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.function = function

    def forward(self, x: Tensor) -> Tensor:
        return self.function(x)


def _sigmoid_replaced(model: nn.Module, activation: Callable[[Tensor], Tensor]) -> nn.Module:
    layers = [_Activation(activation) if isinstance(layer, nn.Sigmoid) else layer for layer in model.children()]
    return nn.Sequential(*layers)


def framework_step(variant: str, init: list[np.ndarray]) -> Callable[[np.ndarray, np.ndarray], None]:
    """One W1 step of tinygrad-edu as a user writes it, with ``variant``'s part taken out."""
    model = workloads.framework_mlp(init, "sigmoid")
    if variant == "identity":
        model = _sigmoid_replaced(model, lambda x: x)
    elif variant == "naive_sigmoid":
        model = _sigmoid_replaced(model, lambda x: 1.0 / ((-x).exp() + 1.0))
    loss_of = (lambda out, y: (out * out).mean()) if variant == "trivial_loss" else nn.cross_entropy
    make_input = as_tensor if variant == "no_input_copy" else Tensor
    opt = nn.optim.SGD(model.parameters(), lr=workloads.WORKLOADS["W1"]["lr"])
    lock, textbook_decision = function.lock, composites._textbook_sigmoid_is_accurate

    def step(x: np.ndarray, y: np.ndarray) -> None:
        if variant == "no_locks":
            function.lock = lambda arrays: None  # type: ignore[assignment,misc]
        if variant == "tail_form_sigmoid":
            composites._textbook_sigmoid_is_accurate = lambda values: False
        try:
            loss = loss_of(model(make_input(x)), Tensor(y))
            opt.zero_grad()
            loss.backward()
            opt.step()
        finally:
            function.lock, composites._textbook_sigmoid_is_accurate = lock, textbook_decision

    return step


def numpy_step(init: list[np.ndarray]) -> Callable[[np.ndarray, np.ndarray], None]:
    model = reference.NumpyMLP([(init[i].copy(), init[i + 1].copy()) for i in range(0, len(init), 2)], "sigmoid")
    opt = reference.SGD(workloads.WORKLOADS["W1"]["lr"])

    def step(x: np.ndarray, y: np.ndarray) -> None:
        model.loss_and_grads(x, y)
        opt.step(model.flat_params, model.flat_grads)

    return step


def measure(rounds: int, batches: int) -> dict[str, float]:
    """Median µs per step of each variant (and of NumPy), the variants alternating block by block."""
    x, y, _, _ = workloads.load_mnist()
    order = np.random.default_rng(workloads.ORDER_SEED).permutation(len(x))
    init = workloads.init_mlp(workloads.WORKLOADS["W1"]["sizes"])
    steps = {"numpy": numpy_step(init), **{v: framework_step(v, init) for v in VARIANTS}}
    times: dict[str, list[float]] = {name: [] for name in steps}
    with threadpool_limits(1):
        for r in range(rounds + 1):  # round 0 warms up
            block = [order[(r * batches + i) * 100 : (r * batches + i + 1) * 100] for i in range(batches)]
            for name, step in steps.items():
                start = workloads.clock()
                for rows in block:
                    step(x[rows], y[rows])
                if r:
                    times[name].append((workloads.clock() - start) / batches * 1e6)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="blocks per variant (median over them)")
    parser.add_argument("--batches", type=int, default=50, help="batches of 100 per block")
    args = parser.parse_args()
    if args.rounds < 1 or args.batches < 1:
        parser.error("--rounds and --batches must be at least 1")
    us = measure(args.rounds, args.batches)
    print(f"W1 step, BLAS threads 1, median of {args.rounds} blocks of {args.batches} batches")
    print("| variant | µs per step | × NumPy | vs as written |")
    print("|---|---:|---:|---:|")
    for name, value in us.items():
        print(f"| {name} | {value:.0f} | {value / us['numpy']:.2f}x | {value - us['as written']:+.0f} |")


if __name__ == "__main__":
    main()
