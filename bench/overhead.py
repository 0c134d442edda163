"""Per-operation overhead: forward + backward of a small expression on tiny arrays.

On tiny arrays NumPy's own work is negligible, so the difference between the
framework and the same computation written by hand in NumPy is the price of
recording the graph and walking it back. Both are timed in the same run (the
machines are shared and noisy; only the ratio is meaningful).

    python bench/overhead.py
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

from tinygrad_edu import Tensor

rng = np.random.default_rng(0)
X = rng.standard_normal((4, 3)).astype(np.float32)
Y = rng.standard_normal((4, 2)).astype(np.float32)
W0 = rng.standard_normal((3, 2)).astype(np.float32)
B0 = rng.standard_normal(2).astype(np.float32)
N_OPS = 7  # matmul, add, tanh, sub, pow, sum, mul (mean) in the framework's graph


def framework_step(w: Tensor, b: Tensor, x: Tensor, y: Tensor) -> None:
    """loss = mean((tanh(x @ w + b) - y) ** 2), then backward."""
    w.grad = b.grad = None
    loss = (((x @ w + b).tanh() - y) ** 2).mean()
    loss.backward()


def numpy_step(w: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same loss and its gradients, derived by hand."""
    h = np.tanh(x @ w + b)
    diff = h - y
    _loss = np.mean(diff**2)
    d_h = (2.0 / diff.size) * diff
    d_pre = d_h * (1 - h * h)
    return x.T @ d_pre, d_pre.sum(axis=0)


def best_time(fn, number: int, repeat: int) -> float:
    """Seconds per call: the best of several repeats (the least disturbed by other load)."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per repeat")
    parser.add_argument("--repeat", type=int, default=7, help="repeats (the best is kept)")
    args = parser.parse_args()

    w, b = Tensor(W0, requires_grad=True), Tensor(B0, requires_grad=True)
    x, y = Tensor(X), Tensor(Y)
    framework = best_time(lambda: framework_step(w, b, x, y), args.number, args.repeat)
    by_hand = best_time(lambda: numpy_step(W0, B0, X, Y), args.number, args.repeat)

    print("forward + backward of mean((tanh(x @ w + b) - y) ** 2), x (4, 3), float32")
    print(f"  tinygrad-edu      {framework * 1e6:8.1f} us  ({framework * 1e6 / N_OPS:.1f} us per op)")
    print(f"  NumPy by hand     {by_hand * 1e6:8.1f} us")
    print(f"  ratio             {framework / by_hand:8.2f}x")


if __name__ == "__main__":
    main()
