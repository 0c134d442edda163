"""The library's random number generator, so that one ``manual_seed`` makes every draw reproducible."""

from __future__ import annotations

import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the generator behind ``Tensor.randn``, ``Tensor.uniform``, initialisation and dropout."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def get_rng() -> np.random.Generator:
    """The current generator (re-created by each ``manual_seed``)."""
    return _generator
