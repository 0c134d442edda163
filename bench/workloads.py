"""Issue 15's four workloads, tinygrad-edu against hand-derived NumPy in one run, and graph-size scaling.

Each workload runs both ways in the same process, alternating, from the same
weights and batches; the median of ``--reps`` runs is kept and the ratio
(tinygrad-edu / NumPy) is printed. The machines are shared and noisy: read the
ratios, not the seconds. BLAS is held to ``--threads`` (default 1) with
threadpoolctl, as in the peer harness (W1-W4 are its workloads, same seeds).

    python bench/workloads.py                          # W1-W4, 5 reps each
    python bench/workloads.py --workloads W4 W3 --reps 3
    python bench/workloads.py --scaling                # µs per node, graphs of 10 to 100,000 nodes
    python bench/workloads.py --smoke                  # seconds: checks the plumbing only

W1/W2 need MNIST (found like ``nn.datasets.mnist``: $TINYGRAD_EDU_DATA or the cache).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import nn  # noqa: E402
from bench import numpy_reference as reference  # noqa: E402
from tinygrad_edu import Tensor, no_grad, pause_gc, stack  # noqa: E402

F32 = np.float32
INIT_SEED, ORDER_SEED, W4_SEED = 1234, 5678, 42  # the peer harness's seeds
WORKLOADS: dict[str, dict[str, Any]] = {
    "W1": dict(sizes=(784, 100, 10), act="sigmoid", opt="sgd", lr=0.5, batch=100, target=1.30),
    "W2": dict(sizes=(784, 256, 128, 10), act="relu", opt="adam", lr=1e-3, batch=128, target=1.15),
    "W3": dict(sizes=(1, 64, 1), slope=0.01, lr=1e-2, steps=2000, n=201, target=1.50),
    "W4": dict(n=16, iters=10_000, target=5.0),
}
clock = time.perf_counter  # wall-clock, as the harness; --cpu-time switches to process time
Timed = Callable[[], tuple[float, str]]  # runs once: (seconds, what it reached, e.g. "acc 0.9198")


def init_mlp(sizes: Sequence[int]) -> list[np.ndarray]:
    """[W1, b1, W2, ...] from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default), as the harness."""
    rng = np.random.default_rng(INIT_SEED)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(F32))
        params.append(rng.uniform(-bound, bound, size=(fan_out,)).astype(F32))
    return params


def framework_mlp(init: list[np.ndarray], act: str, slope: float = 0.01) -> nn.Module:
    """Linear -> act -> ... -> Linear, written the way a user would, starting from ``init``."""
    layers: list[nn.Module] = []
    for i in range(0, len(init), 2):
        linear = nn.Linear(init[i].shape[1], init[i].shape[0])
        linear.weight.data[...] = init[i]
        linear.bias.data[...] = init[i + 1]
        layers.append(linear)
        if i + 2 < len(init):
            layers.append(nn.Sigmoid() if act == "sigmoid" else nn.ReLU() if act == "relu" else nn.LeakyReLU(slope))
    return nn.Sequential(*layers)


# ---------------------------------------------------------------- W1, W2: MNIST, one epoch


def mnist_pair(cfg: dict[str, Any], data: tuple[np.ndarray, ...], max_batches: int | None) -> tuple[Timed, Timed]:
    """One epoch of W1/W2 both ways; each reports its test accuracy."""
    x, y, x_test, y_test = data
    order = np.random.default_rng(ORDER_SEED).permutation(len(x))  # the harness's first epoch
    batches = [order[i : i + cfg["batch"]] for i in range(0, len(order), cfg["batch"])][:max_batches]
    init = init_mlp(cfg["sizes"])

    def by_hand() -> tuple[float, str]:
        model = reference.NumpyMLP([(init[i].copy(), init[i + 1].copy()) for i in range(0, len(init), 2)], cfg["act"])
        opt = reference.SGD(cfg["lr"]) if cfg["opt"] == "sgd" else reference.Adam(cfg["lr"])
        start = clock()
        for rows in batches:
            model.loss_and_grads(x[rows], y[rows])
            opt.step(model.flat_params, model.flat_grads)
        seconds = clock() - start
        return seconds, f"acc {reference.accuracy(model, x_test, y_test):.4f}"

    def framework() -> tuple[float, str]:
        model = framework_mlp(init, cfg["act"])
        params = list(model.parameters())
        opt = nn.optim.SGD(params, lr=cfg["lr"]) if cfg["opt"] == "sgd" else nn.optim.Adam(params, lr=cfg["lr"])
        start = clock()
        for rows in batches:
            loss = nn.cross_entropy(model(Tensor(x[rows])), Tensor(y[rows]))
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds = clock() - start
        with no_grad():
            predicted = model(Tensor(x_test)).data.argmax(axis=1)
        return seconds, f"acc {np.mean(predicted == y_test):.4f}"

    return by_hand, framework


def load_mnist() -> tuple[np.ndarray, ...]:
    """Training and test images as float32 rows in [0, 1] (as the harness: uint8 / 255), labels int64."""
    from nn.datasets import mnist

    x, y, x_test, y_test = mnist(download=False)
    scale = lambda images: images.reshape(len(images), -1).astype(F32) / F32(255.0)  # noqa: E731
    return scale(x), y.astype(np.int64), scale(x_test), y_test.astype(np.int64)


# ---------------------------------------------------------------- W3: 1-64-1 leaky ReLU regression


class RegressionByHand:
    """W3's yardstick: MLP 1-64-1 with leaky ReLU and MSE, every gradient derived by hand, flat Adam."""

    def __init__(self, init: list[np.ndarray], slope: float, lr: float) -> None:
        self.flat = np.concatenate([p.ravel() for p in init])
        self.grads = np.zeros_like(self.flat)
        self.params, self.grad_views = self._views(self.flat, init), self._views(self.grads, init)
        self.slope, self.opt = slope, reference.Adam(lr)

    @staticmethod
    def _views(flat: np.ndarray, like: list[np.ndarray]) -> list[np.ndarray]:
        views, start = [], 0
        for p in like:
            views.append(flat[start : start + p.size].reshape(p.shape))
            start += p.size
        return views

    def step(self, x: np.ndarray, y: np.ndarray) -> None:
        w1, b1, w2, b2 = self.params
        gw1, gb1, gw2, gb2 = self.grad_views
        z = x @ w1.T + b1
        local_slope = np.where(z > 0, F32(1.0), F32(self.slope))  # leaky_relu'(z)
        h = z * local_slope
        diff = h @ w2.T + b2 - y
        d_pred = diff * F32(2.0 / diff.size)  # d mean(diff**2) / d pred
        np.matmul(d_pred.T, h, out=gw2)
        np.sum(d_pred, axis=0, out=gb2)
        d_z = (d_pred @ w2) * local_slope
        np.matmul(d_z.T, x, out=gw1)
        np.sum(d_z, axis=0, out=gb1)
        self.opt.step(self.flat, self.grads)


def regression_mse(params: Sequence[np.ndarray], x: np.ndarray, y: np.ndarray, slope: float) -> float:
    """The final MSE in float64, evaluated as the harness does (W3 must reach 9.97e-07)."""
    w1, b1, w2, b2 = params
    z = x @ w1.T + b1
    pred = np.where(z > 0, z, z * F32(slope)) @ w2.T + b2
    return float(np.mean((pred.astype(np.float64) - y) ** 2))


def regression_data(n: int) -> tuple[np.ndarray, np.ndarray]:
    """W3's n points x in [0, 1] (a column) and their targets x**2."""
    x = np.linspace(0.0, 1.0, n, dtype=F32).reshape(-1, 1)
    return x, x * x


def regression_framework(
    init: list[np.ndarray], cfg: dict[str, Any], x: np.ndarray, y: np.ndarray
) -> tuple[nn.Module, Callable[[], None]]:
    """W3's model with tinygrad-edu, from ``init``, and one full-batch training step of it."""
    model = framework_mlp(init, "leaky_relu", cfg["slope"])
    opt = nn.optim.Adam(model.parameters(), lr=cfg["lr"])

    def step() -> None:
        loss = nn.mse_loss(model(Tensor(x)), Tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()

    return model, step


def regression_pair(cfg: dict[str, Any], steps: int) -> tuple[Timed, Timed]:
    x, y = regression_data(cfg["n"])
    init = init_mlp(cfg["sizes"])

    def by_hand() -> tuple[float, str]:
        model = RegressionByHand([p.copy() for p in init], cfg["slope"], cfg["lr"])
        start = clock()
        for _ in range(steps):
            model.step(x, y)
        seconds = clock() - start
        return seconds, f"mse {regression_mse(model.params, x, y, cfg['slope']):.3g}"

    def framework() -> tuple[float, str]:
        model, step = regression_framework(init, cfg, x, y)
        start = clock()
        for _ in range(steps):
            step()
        seconds = clock() - start
        params = [p.data for p in model.parameters()]
        return seconds, f"mse {regression_mse(params, x, y, cfg['slope']):.3g}"

    return by_hand, framework


# ---------------------------------------------------------------- W4: a tiny expression, many times


def w4_inputs(n: int) -> tuple[np.ndarray, ...]:
    """a, b, c, d: W4's four vectors of n float32, from the harness's seed."""
    rng = np.random.default_rng(W4_SEED)
    return tuple(rng.standard_normal(n).astype(F32) for _ in range(4))


def w4_by_hand(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> Callable[[], None]:
    """One W4 iteration derived by hand, the harness's version: every result written into a buffer."""
    pre, t = np.empty_like(a), np.empty_like(a)
    grad_a, grad_b, grad_c, grad_d = (np.empty_like(a) for _ in range(4))

    def step() -> None:
        np.multiply(a, b, out=pre)
        np.add(pre, c, out=pre)
        np.tanh(pre, out=t)
        np.dot(t, d)  # the loss
        np.multiply(t, t, out=grad_c)  # grad_c = d (1 - t^2), grad_a = grad_c b, grad_b = grad_c a
        np.subtract(1.0, grad_c, out=grad_c)
        np.multiply(grad_c, d, out=grad_c)
        np.multiply(grad_c, b, out=grad_a)
        np.multiply(grad_c, a, out=grad_b)
        np.copyto(grad_d, t)

    return step


def w4_framework(a: Tensor, b: Tensor, c: Tensor, d: Tensor) -> Callable[[], None]:
    """One W4 iteration with tinygrad-edu: the leaves' gradients reset, forward, backward."""

    def step() -> None:
        for t in (a, b, c, d):
            t.zero_grad()
        ((a * b + c).tanh() * d).sum().backward()

    return step


def expression_pair(cfg: dict[str, Any], iters: int) -> tuple[Timed, Timed]:
    """``((a*b + c).tanh() * d).sum()`` forward and backward on 16 floats; µs per iteration."""
    a, b, c, d = w4_inputs(cfg["n"])

    def by_hand() -> tuple[float, str]:
        step = w4_by_hand(a, b, c, d)
        start = clock()
        for _ in range(iters):
            step()
        return (clock() - start) / iters * 1e6, "µs/iter"

    def framework() -> tuple[float, str]:
        ta, tb, tc, td = (Tensor(v, requires_grad=True) for v in (a, b, c, d))
        step = w4_framework(ta, tb, tc, td)
        start = clock()
        for _ in range(iters):
            step()
        seconds = (clock() - start) / iters * 1e6
        expected_grad_a = td.data * (1 - np.tanh(a * b + c) ** 2) * b
        error = float(np.max(np.abs(ta.grad - expected_grad_a))) if ta.grad is not None else float("nan")
        return seconds, f"µs/iter, grad err {error:.1e}"

    return by_hand, framework


# ---------------------------------------------------------------- running and reporting


def compare(name: str, pair: tuple[Timed, Timed], reps: int) -> dict[str, Any]:
    """Alternate the two implementations (both see the same machine load); medians and their ratio."""
    by_hand_runs, framework_runs = [], []
    for _ in range(reps):
        by_hand_runs.append(pair[0]())
        framework_runs.append(pair[1]())
    numpy_s = statistics.median(r[0] for r in by_hand_runs)
    ours_s = statistics.median(r[0] for r in framework_runs)
    return dict(
        workload=name,
        numpy=numpy_s,
        ours=ours_s,
        ratio=ours_s / numpy_s,
        numpy_note=by_hand_runs[-1][1],
        ours_note=framework_runs[-1][1],
    )


def run_workloads(
    names: Sequence[str],
    reps: int,
    max_batches: int | None = None,
    steps: int | None = None,
    iters: int | None = None,
    mnist_data: tuple[np.ndarray, ...] | None = None,
) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        cfg = WORKLOADS[name]
        if name in ("W1", "W2"):
            mnist_data = mnist_data if mnist_data is not None else load_mnist()
            pair = mnist_pair(cfg, mnist_data, max_batches)
        elif name == "W3":
            pair = regression_pair(cfg, steps or cfg["steps"])
        else:
            pair = expression_pair(cfg, iters or cfg["iters"])
        rows.append(dict(compare(name, pair, reps), target=cfg["target"]))
    return rows


def print_workloads(rows: list[dict[str, Any]], threads: int, reps: int) -> None:
    print(f"tinygrad-edu / hand-derived NumPy, same run, BLAS threads {threads}, median of {reps}")
    print("| workload | NumPy | tinygrad-edu | ratio | target | reached (NumPy; ours) |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        unit = "µs" if r["workload"] == "W4" else "s"
        print(
            f"| {r['workload']} | {r['numpy']:.4g} {unit} | {r['ours']:.4g} {unit} | {r['ratio']:.2f}x "
            f"| {r['target']:.2f}x | {r['numpy_note']}; {r['ours_note']} |"
        )


def chain(n: int) -> tuple[Tensor, int]:
    """n nodes ``y = y * 1.0001`` one after another on 16 floats; the output and its number of nodes."""
    x = Tensor(np.ones(16, F32), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return y, n


def fan_in(n: int) -> tuple[Tensor, int]:
    """n branches ``x * 1.0001`` of one input gathered by one stack: n multiplies, n reshapes, one cat.

    In backward, the cat hands out n gradients and x receives (and adds up) n of them.
    """
    x = Tensor(np.ones(16, F32), requires_grad=True)
    return stack([x * 1.0001 for _ in range(n)]), 2 * n + 1


def per_node_us(build: Callable[[int], tuple[Tensor, int]], n: int, budget: int) -> tuple[float, float]:
    """Median µs per node of building the graph (forward) and of its backward, over graphs of n units."""
    forward, backward = [], []
    for _ in range(max(3, budget // n)):
        start = clock()
        out, nodes = build(n)
        middle = clock()
        out.backward(np.ones(out.shape, F32))
        end = clock()
        forward.append((middle - start) / nodes * 1e6)
        backward.append((end - middle) / nodes * 1e6)
        del out
    return statistics.median(forward), statistics.median(backward)


def run_scaling(sizes: Sequence[int], budget: int) -> list[dict[str, Any]]:
    """µs per node for chains and fan-ins, with Python's cyclic GC as the user has it and in ``pause_gc()``."""
    rows = []
    for shape, build in (("chain", chain), ("fan-in", fan_in)):
        for n in sizes:
            row: dict[str, Any] = dict(shape=shape, nodes=n)
            gc.collect()  # both modes start from the same heap
            row["forward_gc"], row["backward_gc"] = per_node_us(build, n, budget)
            with pause_gc():
                row["forward_no_gc"], row["backward_no_gc"] = per_node_us(build, n, budget)
            rows.append(row)
    return rows


def print_scaling(rows: list[dict[str, Any]]) -> None:
    print("µs per node (median), 16 float32 per tensor; chain: y = y * 1.0001 n times; fan-in: stack of n x * 1.0001")
    print("| graph | n | forward | backward | forward, pause_gc() | backward, pause_gc() |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['shape']} | {r['nodes']:,} | {r['forward_gc']:.2f} | {r['backward_gc']:.2f} "
            f"| {r['forward_no_gc']:.2f} | {r['backward_no_gc']:.2f} |"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", nargs="*", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--reps", type=int, default=5, help="runs per implementation (the median is kept)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both sides")
    parser.add_argument("--batches", type=int, default=None, help="W1/W2: cap the batches of the epoch")
    parser.add_argument("--steps", type=int, default=None, help="W3: steps instead of 2000")
    parser.add_argument("--iters", type=int, default=None, help="W4: iterations instead of 10,000")
    parser.add_argument("--scaling", action="store_true", help="also: µs per node as graphs grow")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10_000, 100_000])
    parser.add_argument("--budget", type=int, default=200_000, help="scaling: about this many nodes per size")
    parser.add_argument(
        "--cpu-time", action="store_true", help="time with process CPU time (on an oversubscribed machine)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: plumbing only, numbers mean nothing")
    args = parser.parse_args(argv)
    global clock
    clock = time.process_time if args.cpu_time else time.perf_counter
    print(f"clock: {'process CPU time' if args.cpu_time else 'wall'}")
    if args.smoke:
        args.reps, args.batches, args.steps, args.iters = 1, 3, 5, 20
        args.sizes, args.budget = [10, 100], 100
    with threadpool_limits(limits=args.threads):
        if args.workloads:
            rows = run_workloads(args.workloads, args.reps, args.batches, args.steps, args.iters)
            print_workloads(rows, args.threads, args.reps)
        if args.scaling:
            print()
            print_scaling(run_scaling(args.sizes, args.budget))


if __name__ == "__main__":
    main()
