"""The data pipeline: split, scale, crop and batch NumPy arrays.

Everything is plain NumPy and deterministic given a seed, so two runs with
the same seeds see exactly the same examples in exactly the same order.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from tinygrad_edu import Tensor, as_tensor

__all__ = [
    "BatchLoader",
    "DataLoader",
    "TensorDataset",
    "batch_size_ramp",
    "crop_border",
    "scale_pixels",
    "train_val_split",
]


def train_val_split(
    x: np.ndarray, y: np.ndarray, val_size: int = 5000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split examples at random into a training and a validation part.

    Tune hyperparameters on the validation part and keep the test set for
    the final measurement; otherwise the test score is optimistic.

    Parameters
    ----------
    x, y : numpy.ndarray
        Inputs and targets, with the same length along the first axis.
    val_size : int, default 5000
        Number of validation examples, ``0 < val_size < len(x)``.
    seed : int, default 0
        Seed of the permutation: the same seed gives the same split.

    Returns
    -------
    x_train, y_train, x_val, y_val : numpy.ndarray
        New arrays (copies); every example lands in exactly one part.
    """
    _check_same_length(x, y)
    val_size = operator.index(val_size)
    if not 0 < val_size < len(x):
        raise ValueError(
            f"val_size must leave both parts non-empty (0 < val_size < {len(x)}), got {val_size}"
        )
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:val_size], order[val_size:]
    return x[train], y[train], x[val], y[val]


def scale_pixels(
    x: np.ndarray,
    dtype: DTypeLike = np.float32,
    mean: float | None = None,
    std: float | None = None,
) -> np.ndarray:
    """Turn uint8 pixels (0 to 255) into floats in [0, 1], optionally standardized.

    Small, similar input ranges keep early activations and gradients in a
    sensible range. With ``mean`` and ``std`` the result is
    ``(x / 255 - mean) / std``; compute them on the *training* pixels after
    scaling (e.g. ``s = scale_pixels(x_train); s.mean(), s.std()``) and reuse
    them for validation and test data.

    Parameters
    ----------
    x : numpy.ndarray
        uint8 array of any shape.
    dtype : numpy dtype, default numpy.float32
        Floating-point type of the result.
    mean, std : float, optional
        Give both to standardize, or neither.

    Returns
    -------
    numpy.ndarray
        A new array of ``dtype`` with the shape of ``x``.
    """
    if x.dtype != np.uint8:
        raise TypeError(f"expected uint8 pixels (0 to 255), got {x.dtype}; are they already scaled?")
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"dtype must be a floating-point type, got {np.dtype(dtype)}")
    if (mean is None) != (std is None):
        raise ValueError("give both mean and std to standardize, or neither")
    scaled = x.astype(dtype)
    scaled /= 255  # in place: one array allocated in total
    if mean is not None and std is not None:
        scaled -= mean
        scaled /= std
    return scaled


def crop_border(x: np.ndarray, pixels: int) -> np.ndarray:
    """Remove ``pixels`` rows and columns from every side of each image.

    MNIST digits sit in the middle of a mostly blank 28x28 frame, so cropping
    2 to 4 pixels shrinks the input (and the model) at little cost.

    Parameters
    ----------
    x : numpy.ndarray
        Images of shape (N, H, W); crop before flattening.
    pixels : int
        Border width, ``0 <= 2 * pixels < min(H, W)``; 0 returns ``x`` unchanged.

    Returns
    -------
    numpy.ndarray
        A view (no copy) of shape (N, H - 2*pixels, W - 2*pixels).
    """
    if x.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), got shape {x.shape}; crop before flattening")
    height, width = x.shape[1:]
    if not 0 <= 2 * pixels < min(height, width):
        raise ValueError(
            f"cannot crop {pixels} pixels from each side of {height}x{width} images: "
            f"need 0 <= pixels <= {(min(height, width) - 1) // 2}"
        )
    return x[:, pixels : height - pixels, pixels : width - pixels]


class BatchLoader:
    """Iterate over ``(x_batch, y_batch)`` pairs, one full pass per ``for`` loop.

    Each pass (epoch) draws a new order from a generator seeded with
    ``(seed, epoch)``: epochs differ from each other, yet a run is
    reproducible, and resuming at epoch ``e`` (set ``loader.epoch = e``)
    replays exactly the order an uninterrupted run would have used.

    Parameters
    ----------
    x, y : numpy.ndarray
        Inputs and targets, with the same length along the first axis.
    batch_size : int
        Examples per batch; may be changed between epochs (see `batch_size_ramp`).
    shuffle : bool, default True
        Visit examples in a new random order each epoch; if False, in order.
    seed : int, default 0
        Seed of the shuffling.
    drop_last : bool, default False
        Skip the last batch when it is smaller than ``batch_size``.

    Examples
    --------
    >>> loader = BatchLoader(x_train, y_train, batch_size=32, seed=0)
    >>> for epoch in range(3):
    ...     loader.batch_size = batch_size_ramp(32, 128, epoch)
    ...     for xb, yb in loader:
    ...         ...
    """

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        _check_same_length(x, y)
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0  # the epoch the next ``for`` loop will run

    @property
    def batch_size(self) -> int:
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        if operator.index(value) < 1:
            raise ValueError(f"batch_size must be at least 1, got {value}")
        self._batch_size = operator.index(value)

    def __len__(self) -> int:
        """Number of batches in one epoch."""
        if self.drop_last:
            return len(self.x) // self.batch_size
        return -(-len(self.x) // self.batch_size)  # ceiling division

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order = None
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order: np.ndarray | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            stop = start + self.batch_size
            # A slice gives views (no copy); an index array copies each batch once.
            rows = slice(start, stop) if order is None else order[start:stop]
            yield self.x[rows], self.y[rows]


class TensorDataset:
    """Arrays of examples indexed together, as ``torch.utils.data.TensorDataset``: ``dataset[i]`` is a tuple.

    Parameters
    ----------
    *arrays : numpy.ndarray or Tensor
        One or more arrays with the same length along the first axis, e.g. the
        inputs and the labels. Tensors are used through their arrays (not copied).
    """

    def __init__(self, *arrays: np.ndarray | Tensor) -> None:
        if not arrays:
            raise ValueError("TensorDataset: give at least one array, e.g. TensorDataset(x_train, y_train)")
        self.arrays = tuple(a.data if isinstance(a, Tensor) else np.asarray(a) for a in arrays)
        lengths = [len(a) if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(
                f"TensorDataset: every array must have the same length along the first axis (one row per "
                f"example), got shapes {shapes}"
            )

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """Batches of a ``TensorDataset`` as tuples of Tensors, shaped like ``torch.utils.data.DataLoader``.

    A thin layer over `BatchLoader`: the same seeded, per-epoch order, so a run
    is reproducible and resuming at epoch ``e`` (``loader.epoch = e``) replays
    the order an uninterrupted run would have used.

    Parameters
    ----------
    dataset : TensorDataset
    batch_size : int, default 1
    shuffle : bool, default False
        A new random order each epoch (PyTorch's default is False too).
    seed : int, default 0
        Seed of the shuffling (PyTorch takes a ``generator`` instead).
    drop_last : bool, default False
        Skip the last batch when it is smaller than ``batch_size``.

    Examples
    --------
    >>> loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=True, seed=0)
    >>> for xb, yb in loader:
    ...     loss = F.cross_entropy(model(xb), yb)
    """

    def __init__(
        self, dataset: TensorDataset, batch_size: int = 1, shuffle: bool = False, seed: int = 0, drop_last: bool = False
    ) -> None:
        if not isinstance(dataset, TensorDataset):
            raise TypeError(
                f"DataLoader: dataset must be a TensorDataset, got {type(dataset).__name__}; "
                f"wrap arrays with TensorDataset(x, y)."
            )
        self.dataset = dataset
        rows = np.arange(len(dataset))
        self._rows = BatchLoader(rows, rows, batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)

    @property
    def batch_size(self) -> int:
        return self._rows.batch_size

    @property
    def epoch(self) -> int:
        """The epoch the next ``for`` loop runs (set it to resume)."""
        return self._rows.epoch

    @epoch.setter
    def epoch(self, value: int) -> None:
        self._rows.epoch = operator.index(value)

    def __len__(self) -> int:
        """Number of batches in one epoch."""
        return len(self._rows)

    def __iter__(self) -> Iterator[tuple[Tensor, ...]]:
        for rows, _ in self._rows:
            yield tuple(as_tensor(array) for array in self.dataset[rows])


def batch_size_ramp(start: int, final: int, epoch: int) -> int:
    """Batch size for ``epoch`` (counted from 0): ``start``, doubled each epoch, capped at ``final``.

    Small early batches give many cheap, noisy updates while the model is far
    from good; larger later batches give steadier gradients and faster epochs.
    For example ``start=32, final=128`` gives 32, 64, 128, 128, ...

    Parameters
    ----------
    start : int
        Batch size of epoch 0, at least 1.
    final : int
        Largest batch size, at least ``start``.
    epoch : int
        Epoch number, at least 0.

    Returns
    -------
    int
        ``min(start * 2**epoch, final)``.
    """
    if not 1 <= start <= final:
        raise ValueError(f"need 1 <= start <= final, got start={start}, final={final}")
    if epoch < 0:
        raise ValueError(f"epoch must be at least 0, got {epoch}")
    return min(start * 2**epoch, final)


def _check_same_length(x: np.ndarray, y: np.ndarray) -> None:
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
