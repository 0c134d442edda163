"""Pictures of a run, drawn only when matplotlib is installed (``pip install matplotlib``).

Figures are made with ``matplotlib.figure.Figure`` directly rather than
``pyplot``: no GUI backend is needed and no global state is left behind.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np

from nn.atomic_files import write_atomically

from .loop import History

__all__ = ["matplotlib_available", "plot_misclassified", "plot_training"]

MOVING_AVERAGE_STEPS = 50


def matplotlib_available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def plot_training(path: str | os.PathLike[str], history: History, chosen_epoch: int | None = None) -> None:
    """Training loss of every step beside the validation loss; validation accuracy after each epoch.

    The x axis counts epochs, each step placed at its fraction of its epoch: with
    the batch size doubling each epoch, later epochs have fewer steps, and an axis
    of steps would squeeze them. Each epoch is labelled with its batch size.
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    _plot_losses(loss_axes, history)
    _plot_accuracy(accuracy_axes, history, chosen_epoch)
    write_atomically(path, lambda file: figure.savefig(file, format="png", dpi=100))


def _plot_losses(axes: Any, history: History) -> None:
    positions = _step_positions(history.steps_per_epoch)
    axes.plot(positions, history.step_losses, linewidth=0.5, color="tab:blue", alpha=0.6, label="training, each step")
    if len(history.step_losses) >= MOVING_AVERAGE_STEPS:
        smoothed = _moving_average(history.step_losses, MOVING_AVERAGE_STEPS)
        axes.plot(positions, smoothed, color="tab:blue", label=f"training, mean of {MOVING_AVERAGE_STEPS} steps")
    val = [(record.epoch, record.val_loss) for record in history.epochs if record.val_loss is not None]
    if val:
        axes.plot(*zip(*val), "o-", color="tab:orange", label="validation, after each epoch")
    for record in history.epochs:
        axes.axvline(record.epoch, color="grey", linewidth=0.5, linestyle=":")
        axes.text(record.epoch - 0.5, 1.0, f"batch {record.batch_size}", transform=axes.get_xaxis_transform(),
                  ha="center", va="bottom", fontsize=7, color="grey")  # fmt: skip
    axes.set(yscale="log", xlabel="epoch (dotted lines: epoch ends; batch size above)", ylabel="cross-entropy loss")
    axes.legend()


def _step_positions(steps_per_epoch: list[int]) -> np.ndarray:
    """Step ``i`` of epoch ``e`` (1-based) at ``e - 1 + (i + 1) / steps``: each epoch spans one unit."""
    parts = [epoch + np.arange(1, steps + 1) / steps for epoch, steps in enumerate(steps_per_epoch) if steps]
    return np.concatenate(parts) if parts else np.array([])


def _plot_accuracy(axes: Any, history: History, chosen_epoch: int | None) -> None:
    val = [(record.epoch, 100 * record.val_accuracy) for record in history.epochs if record.val_accuracy is not None]
    if not val:
        axes.axis("off")
        reason = "stopped before the first epoch ended" if not history.epochs else "no validation set (--val-size 0)"
        axes.text(0.5, 0.5, reason, ha="center", transform=axes.transAxes)
        return
    epochs, accuracies = zip(*val)
    axes.plot(epochs, accuracies, "o-", color="tab:orange", label="validation")
    if chosen_epoch is not None and chosen_epoch in epochs:
        best = accuracies[epochs.index(chosen_epoch)]
        axes.plot([chosen_epoch], [best], "*", markersize=14, color="tab:red", label="model kept (best validation)")
    axes.set(xlabel="epoch", ylabel="validation accuracy (%)", xticks=list(epochs))
    axes.grid(alpha=0.3)
    axes.legend()


def plot_misclassified(
    path: str | os.PathLike[str], images: np.ndarray, labels: np.ndarray, predictions: np.ndarray, count: int = 36
) -> None:
    """A grid of the first ``count`` misclassified images, each titled "true -> predicted"."""
    from matplotlib.figure import Figure

    wrong = np.flatnonzero(predictions != labels)[:count]
    columns = 6
    rows = max(1, -(-len(wrong) // columns))
    figure = Figure(figsize=(columns * 1.4, rows * 1.6), layout="constrained")
    figure.suptitle(f"misclassified test images (first {len(wrong)}): true -> predicted")
    for slot, axes in enumerate(figure.subplots(rows, columns, squeeze=False).ravel()):
        axes.axis("off")
        if slot < len(wrong):
            index = wrong[slot]
            axes.imshow(images[index], cmap="gray_r")
            axes.set_title(f"{labels[index]} -> {predictions[index]}", fontsize=9)
    write_atomically(path, lambda file: figure.savefig(file, format="png", dpi=100))


def _moving_average(values: list[float], window: int) -> np.ndarray:
    """Mean of each window of ``window`` (<= len(values)) consecutive values, at the window's end."""
    cumulative = np.cumsum(np.concatenate([[0.0], values]))
    averages = (cumulative[window:] - cumulative[:-window]) / window
    return np.concatenate([np.full(window - 1, np.nan), averages])
