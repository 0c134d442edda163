"""CPU instructions per iteration, counted by valgrind's callgrind: deterministic where seconds are not.

On the shared machines two identical timing runs differ by 5-10 %, more than a
single engine change buys. The number of instructions executed inside the timed
loop does not drift: each workload runs in a child process under
``valgrind --tool=callgrind``, which counts only inside ``functools.reduce``
(the loop of 100 iterations, after 200 warm-up ones). W4 is also counted as the
peer harness's hand-written NumPy, so its ratio is printed too.

    python bench/instructions.py                 # every case (about a minute)
    python bench/instructions.py w4 numpy_w4     # some of them

Needs valgrind (``apt-get install valgrind``); PYTHONHASHSEED is fixed for the children.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ITERATIONS, WARM_UP = 100, 200
ROOT = Path(__file__).resolve().parents[1]


def _w4() -> Callable[[], None]:
    """W4 (bench/workloads.py): leaf gradients reset, then ((a * b + c).tanh() * d).sum() and its backward."""
    from bench import workloads
    from tinygrad_edu import Tensor

    inputs = workloads.w4_inputs(16)
    return workloads.w4_framework(*(Tensor(v, requires_grad=True) for v in inputs))


def _numpy_w4() -> Callable[[], None]:
    """W4 by hand, as the peer harness's NumPy: ten ufunc calls into preallocated arrays."""
    from bench import workloads

    return workloads.w4_by_hand(*workloads.w4_inputs(16))


def _chain() -> Callable[[], None]:
    """bench/workloads.py's chain of 100 nodes y = y * 1.0001, forward and backward (divide by 100 for one node)."""
    import numpy as np

    from bench import workloads

    def step() -> None:
        out, _ = workloads.chain(100)
        out.backward(np.ones(out.shape, np.float32))

    return step


def _overhead() -> Callable[[], None]:
    """bench/overhead.py's framework_step: mean((tanh(x @ w + b) - y) ** 2) and its backward."""
    from bench import overhead
    from tinygrad_edu import Tensor

    w, b = Tensor(overhead.W0, requires_grad=True), Tensor(overhead.B0, requires_grad=True)
    x, y = Tensor(overhead.X), Tensor(overhead.Y)
    return lambda: overhead.framework_step(w, b, x, y)


def _w3() -> Callable[[], None]:
    """One W3 training step (bench/workloads.py): 1-64-1 leaky ReLU on 201 points, MSE, backward, Adam."""
    from bench import workloads

    cfg = workloads.WORKLOADS["W3"]
    x, y = workloads.regression_data(cfg["n"])
    return workloads.regression_framework(workloads.init_mlp(cfg["sizes"]), cfg, x, y)[1]


def _w1() -> Callable[[], None]:
    """One W1 training step as bench/w1_costs.py writes it (784-100-10 sigmoid, cross-entropy, SGD), on a
    fixed MNIST-shaped batch of 100: pixels uniform in [0, 1], random labels (no data files needed)."""
    import numpy as np

    from bench import w1_costs, workloads

    step = w1_costs.framework_step("as written", workloads.init_mlp(workloads.WORKLOADS["W1"]["sizes"]))
    rng = np.random.default_rng(0)
    x, y = rng.random((100, 784), dtype=np.float32), rng.integers(0, 10, 100)
    return lambda: step(x, y)


CASES: dict[str, Callable[[], Callable[[], None]]] = {
    "w4": _w4,
    "numpy_w4": _numpy_w4,
    "chain": _chain,
    "overhead": _overhead,
    "w3": _w3,
    "w1": _w1,
}


def run_child(name: str) -> None:
    """Warm up, then run the counted loop (callgrind counts only inside functools.reduce)."""
    sys.path.insert(0, str(ROOT))
    step = CASES[name]()
    for _ in range(WARM_UP):
        step()
    functools.reduce(lambda _, __: step(), range(ITERATIONS), None)


def count(name: str) -> int:
    """Instructions per iteration of one case, from a callgrind run of this file as a child."""
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(
            [
                "valgrind", "--tool=callgrind", "--toggle-collect=functools_reduce",
                f"--callgrind-out-file={os.path.join(scratch, 'out')}",
                sys.executable, __file__, "--child", name,
            ],
            capture_output=True, text=True, timeout=600, check=False,
            env={**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"},
        )  # fmt: skip
    match = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"callgrind run of {name!r} failed:\n{result.stderr[-2000:]}")
    return int(match.group(1)) // ITERATIONS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help=f"some of {', '.join(CASES)} (default: all)")
    parser.add_argument("--child", choices=list(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child)
        return
    unknown = [name for name in args.cases if name not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    if shutil.which("valgrind") is None:
        sys.exit("bench/instructions.py needs valgrind (apt-get install valgrind)")
    counts = {name: count(name) for name in args.cases or CASES}
    print("| case | instructions per iteration |")
    print("|---|---:|")
    for name, n in counts.items():
        print(f"| {name} | {n:,} |")
    if "w4" in counts and "numpy_w4" in counts:
        print(f"\nW4: {counts['w4'] / counts['numpy_w4']:.2f}x the hand-written NumPy's instructions")


if __name__ == "__main__":
    main()
