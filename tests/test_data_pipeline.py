"""Tests for nn.data: splitting, scaling, cropping, batching and the batch-size ramp.

Examples are numbered ``x = arange(n)`` (with ``y`` derived from ``x``) so that
every check can see exactly which examples went where.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nn.data import BatchLoader, batch_size_ramp, crop_border, scale_pixels, train_val_split


def numbered(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(n)
    return x, x * 10  # y stays recognisably paired with x


def epoch_of(loader: BatchLoader) -> tuple[list[np.ndarray], list[np.ndarray]]:
    batches = list(loader)
    return [xb for xb, _ in batches], [yb for _, yb in batches]


# --- train_val_split -------------------------------------------------------


def test_split_is_disjoint_complete_and_keeps_pairs() -> None:
    x, y = numbered(100)
    x_train, y_train, x_val, y_val = train_val_split(x, y, val_size=30, seed=0)

    assert len(x_val) == len(y_val) == 30 and len(x_train) == len(y_train) == 70
    np.testing.assert_array_equal(np.sort(np.concatenate([x_train, x_val])), x)
    np.testing.assert_array_equal(y_train, x_train * 10)
    np.testing.assert_array_equal(y_val, x_val * 10)


def test_split_is_deterministic_under_a_seed() -> None:
    x, y = numbered(100)
    first, again, other = (train_val_split(x, y, 30, seed) for seed in (1, 1, 2))

    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], other[2])


def test_split_works_on_image_arrays() -> None:
    x = np.arange(10 * 2 * 2).reshape(10, 2, 2)
    x_train, y_train, x_val, y_val = train_val_split(x, np.arange(10), val_size=3)

    assert x_train.shape == (7, 2, 2) and x_val.shape == (3, 2, 2)
    np.testing.assert_array_equal(x_val, x[y_val])


@pytest.mark.parametrize("val_size", [0, -1, 10, 11])
def test_split_rejects_sizes_that_empty_a_part(val_size: int) -> None:
    with pytest.raises(ValueError, match="val_size"):
        train_val_split(*numbered(10), val_size=val_size)


def test_split_rejects_non_integer_size() -> None:
    with pytest.raises(TypeError):
        train_val_split(*numbered(10), val_size=2.5)  # type: ignore[arg-type]


def test_split_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        train_val_split(np.arange(10), np.arange(9), val_size=2)


# --- scale_pixels ------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scale_maps_0_255_to_0_1(dtype: type) -> None:
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    scaled = scale_pixels(pixels, dtype=dtype)

    assert scaled.dtype == dtype and scaled.shape == pixels.shape
    assert scaled.min() == 0.0 and scaled.max() == 1.0
    np.testing.assert_allclose(scaled, pixels / 255.0, rtol=1e-6)


def test_scale_standardizes_with_mean_and_std() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
    mean, std = 0.25, 0.5
    np.testing.assert_allclose(
        scale_pixels(pixels, mean=mean, std=std), (pixels / 255 - mean) / std, atol=1e-6
    )

    scaled = scale_pixels(pixels)
    standardized = scale_pixels(pixels, mean=float(scaled.mean()), std=float(scaled.std()))
    assert abs(standardized.mean()) < 1e-4 and abs(standardized.std() - 1) < 1e-4


def test_scale_rejects_already_scaled_input() -> None:
    with pytest.raises(TypeError, match="uint8"):
        scale_pixels(np.zeros((2, 2), np.float32))


def test_scale_rejects_integer_result_dtype() -> None:
    with pytest.raises(TypeError, match="floating"):
        scale_pixels(np.zeros((2, 2), np.uint8), dtype=np.int32)


def test_scale_needs_both_mean_and_std() -> None:
    with pytest.raises(ValueError, match="both"):
        scale_pixels(np.zeros((2, 2), np.uint8), mean=0.5)


# --- crop_border --------------------------------------------------------------


@pytest.mark.parametrize("pixels", [0, 1, 2, 4, 13])
def test_crop_shape_and_content(pixels: int) -> None:
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    cropped = crop_border(images, pixels)

    size = 28 - 2 * pixels
    assert cropped.shape == (5, size, size)
    np.testing.assert_array_equal(cropped, images[:, pixels : pixels + size, pixels : pixels + size])
    assert np.shares_memory(cropped, images)  # a view, no copy


def test_crop_handles_non_square_images() -> None:
    assert crop_border(np.zeros((2, 10, 6)), 2).shape == (2, 6, 2)


@pytest.mark.parametrize("pixels", [14, 20, -1])
def test_crop_rejects_impossible_borders(pixels: int) -> None:
    with pytest.raises(ValueError, match="cannot crop"):
        crop_border(np.zeros((2, 28, 28)), pixels)


def test_crop_rejects_flattened_images() -> None:
    with pytest.raises(ValueError, match="crop before flattening"):
        crop_border(np.zeros((2, 784)), 2)


# --- BatchLoader ----------------------------------------------------------------


@given(
    n=st.integers(0, 60),
    batch_size=st.integers(1, 70),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
)
def test_each_epoch_visits_every_example_once(
    n: int, batch_size: int, shuffle: bool, drop_last: bool
) -> None:
    x, y = numbered(n)
    loader = BatchLoader(x, y, batch_size, shuffle=shuffle, seed=3, drop_last=drop_last)

    for _ in range(2):
        xs, ys = epoch_of(loader)
        assert len(xs) == len(loader)
        sizes = [len(xb) for xb in xs]
        if drop_last:
            assert all(size == batch_size for size in sizes)
            assert n - sum(sizes) < batch_size  # only an incomplete batch was dropped
        else:
            assert all(size == batch_size for size in sizes[:-1]) and sum(sizes) == n
        seen = np.concatenate(xs) if xs else np.array([], dtype=int)
        assert len(np.unique(seen)) == len(seen)  # nothing twice
        if not drop_last:
            np.testing.assert_array_equal(np.sort(seen), x)  # everything once
        for xb, yb in zip(xs, ys):
            np.testing.assert_array_equal(yb, xb * 10)


def test_epochs_differ_but_runs_reproduce() -> None:
    x, y = numbered(50)
    run = BatchLoader(x, y, batch_size=8, seed=7)
    same_seed = BatchLoader(x, y, batch_size=8, seed=7)
    other_seed = BatchLoader(x, y, batch_size=8, seed=8)

    epochs = [np.concatenate(epoch_of(run)[0]) for _ in range(3)]
    replayed = [np.concatenate(epoch_of(same_seed)[0]) for _ in range(3)]

    for a, b in zip(epochs, replayed):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    assert not np.array_equal(epochs[0], np.concatenate(epoch_of(other_seed)[0]))


def test_setting_epoch_resumes_the_same_order() -> None:
    x, y = numbered(50)
    uninterrupted = BatchLoader(x, y, batch_size=8, seed=7)
    for _ in range(2):
        epoch_of(uninterrupted)
    resumed = BatchLoader(x, y, batch_size=8, seed=7)
    resumed.epoch = 2

    np.testing.assert_array_equal(
        np.concatenate(epoch_of(resumed)[0]), np.concatenate(epoch_of(uninterrupted)[0])
    )


def test_epoch_advances_when_iteration_starts() -> None:
    loader = BatchLoader(*numbered(10), batch_size=4)
    iter(loader)
    assert loader.epoch == 1


def test_without_shuffle_batches_are_in_order_and_are_views() -> None:
    x, y = numbered(10)
    xs, _ = epoch_of(BatchLoader(x, y, batch_size=4, shuffle=False))

    assert [list(xb) for xb in xs] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert all(np.shares_memory(xb, x) for xb in xs)


def test_batches_keep_the_example_shape() -> None:
    images = np.zeros((10, 28, 28), np.float32)
    xb, yb = next(iter(BatchLoader(images, np.zeros(10, np.int64), batch_size=4)))
    assert xb.shape == (4, 28, 28) and xb.dtype == np.float32 and yb.shape == (4,)


def test_batch_size_can_change_between_epochs() -> None:
    loader = BatchLoader(*numbered(100), batch_size=32)
    assert len(loader) == 4
    loader.batch_size = 64
    assert len(loader) == 2 and [len(xb) for xb in epoch_of(loader)[0]] == [64, 36]


@pytest.mark.parametrize("batch_size", [0, -4])
def test_loader_rejects_bad_batch_size(batch_size: int) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        BatchLoader(*numbered(10), batch_size=batch_size)


def test_loader_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        BatchLoader(np.arange(10), np.arange(11), batch_size=4)


# --- batch_size_ramp ------------------------------------------------------------


def test_ramp_doubles_then_stays_at_final() -> None:
    assert [batch_size_ramp(32, 128, epoch) for epoch in range(5)] == [32, 64, 128, 128, 128]


@given(start=st.integers(1, 512), extra=st.integers(0, 4096), epoch=st.integers(0, 30))
def test_ramp_properties(start: int, extra: int, epoch: int) -> None:
    final = start + extra
    size, next_size = batch_size_ramp(start, final, epoch), batch_size_ramp(start, final, epoch + 1)

    assert start <= size <= final
    assert next_size == min(2 * size, final)


@pytest.mark.parametrize(("start", "final", "epoch"), [(0, 8, 0), (16, 8, 0), (8, 16, -1)])
def test_ramp_rejects_bad_arguments(start: int, final: int, epoch: int) -> None:
    with pytest.raises(ValueError):
        batch_size_ramp(start, final, epoch)
