"""One MNIST training epoch: tinygrad-edu against hand-written NumPy, in the same run.

Two networks, each trained for one epoch over the 60,000 training images by
both implementations, from identical initial weights and in the same batch
order:

    (a) 784-100-10, sigmoid hidden layer, plain SGD (lr 0.1), batch 100
    (b) 784-256-128-10, ReLU hidden layers, Adam (lr 1e-3), batch 128

The NumPy side (bench/numpy_reference.py) derives every gradient by hand and
is written as tightly as we could; the framework side is the ordinary training
loop a user writes. The machines are shared and noisy, so the two alternate
and each keeps its best epoch; the ratio is what to read.

    python bench/mnist_epoch.py                     # both configurations
    python bench/mnist_epoch.py --config b --repeat 3
    python bench/mnist_epoch.py --blas-threads 1    # take BLAS threading out of the comparison
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", choices=["a", "b"], nargs="+", default=["a", "b"])
    parser.add_argument("--repeat", type=int, default=2, help="epochs per implementation (the best is kept)")
    parser.add_argument("--data-dir", default=None, help="MNIST directory (default: nn.datasets lookup)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--blas-threads", type=int, default=None, help="BLAS threads for both sides")
    return parser.parse_args()


ARGS = parse_args()
if ARGS.blas_threads is not None:  # must be set before NumPy loads its BLAS
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(ARGS.blas_threads)

import numpy as np  # noqa: E402

import nn  # noqa: E402
from bench import numpy_reference as reference  # noqa: E402
from nn.data import scale_pixels  # noqa: E402
from nn.datasets import mnist  # noqa: E402
from tinygrad_edu import as_tensor  # noqa: E402

CONFIGS = {
    "a": {"sizes": [784, 100, 10], "activation": "sigmoid", "batch": 100, "optimizer": "sgd", "lr": 0.1},
    "b": {"sizes": [784, 256, 128, 10], "activation": "relu", "batch": 128, "optimizer": "adam", "lr": 1e-3},
}


def numpy_epoch(config: dict, params: list, x: np.ndarray, y: np.ndarray, order: np.ndarray) -> tuple[float, float]:
    """Seconds and mean loss of one epoch of the hand-written implementation."""
    model = reference.NumpyMLP([(w.copy(), b.copy()) for w, b in params], config["activation"])
    optimizer = reference.SGD(config["lr"]) if config["optimizer"] == "sgd" else reference.Adam(config["lr"])
    start = time.perf_counter()
    loss = reference.train_epoch(model, optimizer, x, y, config["batch"], order)
    return time.perf_counter() - start, loss


def framework_epoch(
    config: dict, params: list, x: np.ndarray, y: np.ndarray, order: np.ndarray
) -> tuple[float, float]:
    """Seconds and mean loss of one epoch written the ordinary way with tinygrad-edu."""
    model = nn.MLP(config["sizes"], activation=config["activation"])
    for parameter, value in zip(model.parameters(), [array for pair in params for array in pair]):
        parameter.data[...] = value
    if config["optimizer"] == "sgd":
        optimizer: nn.optim.Optimizer = nn.optim.SGD(model.parameters(), lr=config["lr"])
    else:
        optimizer = nn.optim.Adam(model.parameters(), lr=config["lr"])
    batch = config["batch"]
    total, count = 0.0, 0
    start = time.perf_counter()
    for first in range(0, len(order), batch):
        rows = order[first : first + batch]
        loss = nn.cross_entropy(model(as_tensor(x[rows])), y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
        count += 1
    return time.perf_counter() - start, total / count


def main() -> None:
    x_train, y_train, _, _ = mnist(ARGS.data_dir, download=False)
    if ARGS.limit:
        x_train, y_train = x_train[: ARGS.limit], y_train[: ARGS.limit]
    x = scale_pixels(x_train).reshape(len(x_train), -1)
    y = y_train.astype(np.int64)
    order = np.random.default_rng(1).permutation(len(x))
    threads = ARGS.blas_threads if ARGS.blas_threads is not None else "default"
    print(f"one epoch over {len(x):,} MNIST images, float32, BLAS threads: {threads}")
    for name in ARGS.config:
        config = CONFIGS[name]
        params = reference.init_params(config["sizes"], config["activation"], seed=0)
        best = {"numpy": (float("inf"), 0.0), "tinygrad-edu": (float("inf"), 0.0)}
        for _ in range(ARGS.repeat):  # alternate, so both see the same machine load
            for label, run in (("numpy", numpy_epoch), ("tinygrad-edu", framework_epoch)):
                seconds, loss = run(config, params, x, y, order)
                best[label] = min(best[label], (seconds, loss))
        sizes = "-".join(map(str, config["sizes"]))
        print(f"\n({name}) {sizes} {config['activation']}, {config['optimizer']}, batch {config['batch']}")
        for label, (seconds, loss) in best.items():
            print(f"  {label:13s} {seconds:7.2f} s/epoch  {len(x) / seconds:9,.0f} images/s  mean loss {loss:.4f}")
        ratio = best["tinygrad-edu"][0] / best["numpy"][0]
        target = 1.6 if name == "a" else 1.3
        print(f"  ratio         {ratio:7.2f}x  (target within {target}x)")


if __name__ == "__main__":
    main()
