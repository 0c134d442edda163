"""Seconds per MNIST epoch of the hand-written NumPy reference (bench/numpy_reference.py).

Usage (the data directory holds the standard ``train-images-idx3-ubyte.gz`` and
``train-labels-idx1-ubyte.gz`` files)::

    python -m bench.time_numpy_reference --data-dir DIR --config a b --epochs 3

Configurations:
  a: 784-100-10, sigmoid, softmax cross-entropy, SGD(lr=0.1), batch 100
  b: 784-256-128-10, ReLU, softmax cross-entropy, Adam(lr=1e-3), batch 128

Each configuration runs one untimed warm-up epoch, then ``--epochs`` timed epochs, and
prints every epoch's wall time, their minimum and median, and the process CPU time
(CPU well above wall means BLAS used several threads; wall far above CPU means the
machine was busy with something else).  BLAS threads are whatever the environment says
(``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS``), never forced here.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.numpy_reference import SGD, Adam, NumpyMLP, accuracy, init_params, train_epoch
from nn.data import scale_pixels
from nn.datasets import load_idx


@dataclass(frozen=True)
class Config:
    """One benchmarked setup: layer widths, hidden activation, batch size, optimizer factory."""

    sizes: list[int]
    activation: str
    batch: int
    make_opt: Callable[[], SGD | Adam]


CONFIGS = {
    "a": Config([784, 100, 10], "sigmoid", 100, lambda: SGD(0.1)),
    "b": Config([784, 256, 128, 10], "relu", 128, lambda: Adam(1e-3)),
}


def load_mnist_train(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """60,000 training images as float32 rows in [0, 1], and int64 labels (read with nn.datasets)."""
    images = load_idx(data_dir / "train-images-idx3-ubyte.gz")
    labels = load_idx(data_dir / "train-labels-idx1-ubyte.gz")
    return scale_pixels(images).reshape(len(images), -1), labels.astype(np.int64)


def time_config(name: str, x: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> list[float]:
    """Run warm-up + timed epochs of one configuration; returns the timed wall seconds."""
    cfg = CONFIGS[name]
    model = NumpyMLP(init_params(cfg.sizes, cfg.activation, seed), cfg.activation)
    opt = cfg.make_opt()
    rng = np.random.default_rng(seed + 1)
    walls = []
    for epoch in range(epochs + 1):
        order = rng.permutation(len(x))
        wall0, cpu0 = time.perf_counter(), time.process_time()
        loss = train_epoch(model, opt, x, y, cfg.batch, order)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        tag = "warm-up" if epoch == 0 else f"epoch {epoch}"
        print(f"  [{name}] {tag:8s} wall {wall:6.3f} s  cpu {cpu:6.3f} s  mean loss {loss:.4f}", flush=True)
        if epoch > 0:
            walls.append(wall)
    print(
        f"  [{name}] train accuracy {accuracy(model, x, y):.4f};"
        f" seconds/epoch min {min(walls):.3f} median {statistics.median(walls):.3f}",
        flush=True,
    )
    return walls


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="directory with the MNIST .gz files")
    parser.add_argument("--config", nargs="+", choices=sorted(CONFIGS), default=sorted(CONFIGS))
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per configuration")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    x, y = load_mnist_train(args.data_dir)
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ}
    print(f"numpy {np.__version__}, x {x.shape} {x.dtype}, cpus {os.cpu_count()}, blas env {env or 'unset'}")
    for name in args.config:
        time_config(name, x, y, args.epochs, args.seed)


if __name__ == "__main__":
    main()
