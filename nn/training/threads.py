"""How many threads NumPy's BLAS may use during a run, chosen for the machine it runs on.

The matrix products of a small MLP gain little from a second thread, and lose
a lot when the cores are already busy: on a shared 2-core machine with a load
average of about 2, two OpenBLAS threads made an epoch 7 to 20 times slower than
one (threads spin while waiting for a core; docs/training_mnist.md has the
numbers). So the default is ``min(available cores, 2)`` only when that many
cores are idle, else 1. The limit is set with threadpoolctl for the run only:
the environment and the rest of the process are left as they were.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_info, threadpool_limits

__all__ = ["MAX_DEFAULT_THREADS", "available_cores", "blas_threads", "default_threads"]

MAX_DEFAULT_THREADS = 2


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_threads() -> tuple[int, str]:
    """The thread count to use when none is given, and why, in words for the log."""
    cores = available_cores()
    wanted = min(cores, MAX_DEFAULT_THREADS)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    idle = cores - load
    if wanted > 1 and idle < wanted - 0.5:
        return 1, f"the machine is busy: load average {load:.1f} on {cores} cores"
    return wanted, f"{cores} cores available, load average {load:.1f}"


@contextmanager
def blas_threads(threads: int) -> Iterator[str]:
    """Limit NumPy's BLAS to ``threads`` threads inside the block; yields the libraries limited, for the log."""
    with threadpool_limits(limits=threads, user_api="blas"):
        libraries = sorted({info["internal_api"] for info in threadpool_info() if info["user_api"] == "blas"})
        yield ", ".join(libraries) or "no BLAS library found"
