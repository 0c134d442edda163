"""Finite-difference gradient check and a float64 fixture, shared by the nn tests (not a test module).

Unlike ``tests/gradients.py`` (the engine's, which builds fresh input tensors for
each evaluation), this check nudges existing tensors in place, so it reaches
parameters that live inside modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pytest

from tinygrad_edu import Tensor, get_default_dtype, no_grad, set_default_dtype


def assert_param_gradients_match(
    fn: Callable[[], Tensor], tensors: Sequence[Tensor], seed: int = 0, eps: float = 1e-6, rtol: float = 1e-5
) -> None:
    """Check backward() of ``fn()`` against central differences for every tensor in ``tensors``.

    The output is contracted with a seeded random upstream gradient ``u``, so the
    scalar being differentiated is ``sum(fn() * u)``: a plain ``.sum()`` would
    hide errors that only show up with unequal upstream gradients. Tensors must
    be float64 leaves; ``fn`` is re-run with each of their elements nudged.
    """
    for t in tensors:
        assert t.dtype == np.float64, f"gradient checks need float64 tensors, got {t.dtype}"
        t.grad = None
    out = fn()
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(upstream)
    for position, t in enumerate(tensors):
        numeric = np.zeros_like(t.data)
        for index in np.ndindex(t.shape):
            original = t.data[index]
            values = []
            for delta in (eps, -eps):
                t.data[index] = original + delta
                with no_grad():
                    values.append(float((fn().data * upstream).sum()))
            t.data[index] = original
            numeric[index] = (values[0] - values[1]) / (2 * eps)
        analytic = np.zeros_like(t.data) if t.grad is None else t.grad
        np.testing.assert_allclose(
            analytic, numeric, rtol=rtol, atol=1e-7, err_msg=f"gradient of tensor {position} ({t.name})"
        )


@pytest.fixture
def float64() -> Iterator[None]:
    """Create parameters and tensors in float64 for the duration of a test (for finite differences)."""
    previous = get_default_dtype()
    set_default_dtype(np.float64)
    try:
        yield
    finally:
        set_default_dtype(previous)
