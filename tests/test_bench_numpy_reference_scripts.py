"""Smoke tests for the timing/profiling scripts of the NumPy reference, on small synthetic data."""

from __future__ import annotations

import gzip

import numpy as np

from bench.profile_numpy_reference import profile_config
from bench.time_numpy_reference import load_mnist_train, time_config


def _write_idx_gz(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def test_mnist_loader_round_trips_and_scales(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=5, dtype=np.uint8)
    _write_idx_gz(tmp_path / "train-images-idx3-ubyte.gz", images)
    _write_idx_gz(tmp_path / "train-labels-idx1-ubyte.gz", labels)

    x, y = load_mnist_train(tmp_path)
    assert x.shape == (5, 784) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_allclose(x * 255, images.reshape(5, -1), atol=1e-4)
    np.testing.assert_array_equal(y, labels)


def test_scripts_run_on_small_synthetic_data(capsys):
    rng = np.random.default_rng(0)
    x = rng.random((300, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=300)
    for name in ("a", "b"):
        walls = time_config(name, x, y, epochs=1, seed=0)
        assert len(walls) == 1 and walls[0] > 0
        profile_config(name, x, y, repeats=1, seed=0)
    out = capsys.readouterr().out
    assert "seconds/epoch" in out and "matmuls (BLAS floor)" in out
