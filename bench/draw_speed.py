"""How long drawing takes: DOT generation for an MNIST MLP, next to one forward + backward of it.

Drawing reads every tensor of the graph once (gradient norms, ReLU masks) and
writes a few kilobytes of text: milliseconds, a few training steps' worth at
most (about half of it is the graphviz package quoting attributes). Both are
timed in the same run (the machines are shared and noisy; compare the two).
Graphviz's layout (``dot``) is not included: it is a separate program, run
only when an image is rendered.

    python bench/draw_speed.py
    python bench/draw_speed.py --batch 256 --sizes 784 256 128 10
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

import nn
from tinygrad_edu import Tensor, manual_seed, to_dot


def best_time(fn, number: int, repeat: int) -> float:
    """Seconds per call: the best of several repeats (the least disturbed by other load)."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[784, 128, 64, 10], help="MLP layer widths")
    parser.add_argument("--batch", type=int, default=64, help="examples per batch")
    parser.add_argument("--number", type=int, default=20, help="calls per repeat")
    parser.add_argument("--repeat", type=int, default=5, help="repeats (the best is kept)")
    args = parser.parse_args()

    manual_seed(0)
    rng = np.random.default_rng(0)
    model = nn.MLP(args.sizes)
    images = Tensor(rng.random((args.batch, args.sizes[0]), dtype=np.float32))
    labels = rng.integers(0, args.sizes[-1], size=args.batch)

    def step() -> Tensor:
        model.zero_grad()
        loss = nn.cross_entropy(model(images), labels)
        loss.backward()
        return loss

    loss = step()
    training = best_time(step, args.number, args.repeat)
    full = best_time(lambda: to_dot(loss), args.number, args.repeat)
    collapsed = best_time(lambda: to_dot(loss, collapse=True), args.number, args.repeat)

    print(f"MLP {'-'.join(map(str, args.sizes))}, batch {args.batch}, cross-entropy, float32")
    print(f"  forward + backward        {training * 1e3:8.2f} ms")
    print(f"  to_dot(loss)              {full * 1e3:8.2f} ms  ({full / training:.2f}x a training step)")
    print(f"  to_dot(loss, collapse)    {collapsed * 1e3:8.2f} ms  ({collapsed / training:.2f}x a training step)")


if __name__ == "__main__":
    main()
