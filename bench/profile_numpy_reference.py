"""Where an epoch of the NumPy reference spends its time: the floor the framework is up against.

Usage::

    python -m bench.profile_numpy_reference --data-dir DIR --config a b

Per configuration it measures, in microseconds per training step (min over ``--repeats``):

* ``epoch``: a real ``train_epoch`` on MNIST, divided by the number of steps;
* ``gather``: only the ``x[idx], y[idx]`` batch gathers of that epoch;
* ``loss_and_grads``: forward + backward alone, on one already-gathered batch;
* ``optimizer``: ``opt.step`` alone;
* ``BLAS``: the exact matrix products of one step (same shapes, same transposes, same
  ``out=`` buffers) issued back to back: the matmul floor;
* ``issue``: forward + backward, and the step, on a net of the same depth whose arrays
  are all tiny, i.e. what Python and NumPy's per-call dispatch cost when there is no data.

It then prints an additive split: elementwise = loss_and_grads - BLAS - issue, and the
"in-context extra" is what the full epoch costs beyond its parts run separately.
Nothing here needs tools beyond NumPy; BLAS threads come from the environment.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.numpy_reference import NumpyMLP, init_params
from bench.time_numpy_reference import CONFIGS, load_mnist_train


def _best_times(fns: dict[str, Callable[[], None]], repeats: int) -> dict[str, float]:
    """Minimum wall time of each function over ``repeats`` round-robin rounds.

    Round-robin, so a burst of load from another process hits one round of everything
    rather than all rounds of one measurement; the minimum is the least disturbed run.
    """
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeats):
        for label, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[label] = min(best[label], time.perf_counter() - t0)
    return best


def _blas_replay(widths: list[int], batch: int, dtype: np.dtype) -> Callable[[], None]:
    """One step's matrix products, in the order and layout NumpyMLP.loss_and_grads issues them."""
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((n_out, n_in)).astype(dtype) for n_in, n_out in zip(widths[:-1], widths[1:])]
    dws = [np.empty_like(w) for w in ws]
    dbs = [np.empty(w.shape[0], dtype) for w in ws]
    acts = [rng.random((batch, n)).astype(dtype) for n in widths]  # acts[0] is the input batch
    dzs = [rng.standard_normal((batch, n)).astype(dtype) for n in widths]  # finite: no NaN slow paths
    ones = np.ones(batch, dtype)

    def step() -> None:
        for i, w in enumerate(ws):
            np.matmul(acts[i], w.T, out=acts[i + 1])
        for i in range(len(ws) - 1, -1, -1):
            np.matmul(dzs[i + 1].T, acts[i], out=dws[i])
            np.matmul(ones, dzs[i + 1], out=dbs[i])
            if i > 0:
                np.matmul(dzs[i + 1], ws[i], out=dzs[i])

    return step


def profile_config(name: str, x: np.ndarray, y: np.ndarray, repeats: int, seed: int) -> None:
    """Print the per-step breakdown of one configuration."""
    cfg = CONFIGS[name]
    sizes, activation, batch = cfg.sizes, cfg.activation, cfg.batch
    model = NumpyMLP(init_params(sizes, activation, seed), activation)
    opt = cfg.make_opt()
    order = np.random.default_rng(seed + 1).permutation(len(x))
    starts = range(0, len(order), batch)
    n_steps = len(starts)
    params, grads = model.flat_params, model.flat_grads

    def epoch() -> None:
        for s in starts:
            idx = order[s : s + batch]
            model.loss_and_grads(x[idx], y[idx])
            opt.step(params, grads)

    def gather() -> None:
        for s in starts:
            idx = order[s : s + batch]
            x[idx], y[idx]  # noqa: B018 - the gather is the point

    xb, yb = x[order[:batch]], y[order[:batch]]

    def forward_backward() -> None:
        for _ in starts:
            model.loss_and_grads(xb, yb)

    def optimizer() -> None:
        for _ in starts:
            opt.step(params, grads)

    blas_step = _blas_replay(sizes, batch, model.dtype)

    def blas() -> None:
        for _ in starts:
            blas_step()

    tiny_sizes = [2] * len(sizes)
    tiny = NumpyMLP(init_params(tiny_sizes, activation, seed), activation)
    tiny_opt = cfg.make_opt()
    tx, ty = np.zeros((2, 2), model.dtype), np.zeros(2, np.int64)

    def issue_fwd_bwd() -> None:
        for _ in starts:
            tiny.loss_and_grads(tx, ty)

    def issue_opt() -> None:
        for _ in starts:
            tiny_opt.step(tiny.flat_params, tiny.flat_grads)

    epoch()  # warm up: buffers, optimizer state, caches
    fns = {
        "epoch": epoch,
        "gather": gather,
        "loss_and_grads": forward_backward,
        "optimizer": optimizer,
        "BLAS": blas,
        "issue fwd/bwd": issue_fwd_bwd,
        "issue optimizer": issue_opt,
    }
    us = {label: t / n_steps * 1e6 for label, t in _best_times(fns, repeats).items()}
    # An additive split of the epoch; the last two rows are derived by subtraction.
    parts = {
        "matmuls (BLAS floor)": us["BLAS"],
        "elementwise + softmax + reductions": us["loss_and_grads"] - us["BLAS"] - us["issue fwd/bwd"],
        "Python + NumPy dispatch (fwd/bwd)": us["issue fwd/bwd"],
        "optimizer step": us["optimizer"],
        "batch gather x[idx], y[idx]": us["gather"],
        "in-context extra (cache effects)": (
            us["epoch"] - us["gather"] - us["loss_and_grads"] - us["optimizer"]
        ),
    }
    print(f"[{name}] {sizes} {activation}, batch {batch}, {n_steps} steps/epoch")
    print(f"  epoch {us['epoch'] * n_steps / 1e6:.3f} s = {us['epoch']:.0f} us/step:")
    for label, value in parts.items():
        print(f"  {label:36s} {value:7.1f} us/step {value / us['epoch']:6.1%}")
    print(f"  (of the optimizer step, {us['issue optimizer']:.1f} us is Python + dispatch)")


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, required=True, help="directory with the MNIST .gz files")
    parser.add_argument("--config", nargs="+", choices=sorted(CONFIGS), default=sorted(CONFIGS))
    parser.add_argument("--repeats", type=int, default=5, help="rounds of measurements; the fastest counts")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    x, y = load_mnist_train(args.data_dir)
    for name in args.config:
        profile_config(name, x, y, args.repeats, args.seed)


if __name__ == "__main__":
    main()
