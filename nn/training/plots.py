"""Pictures of a run, drawn only when matplotlib is installed (``pip install -e ".[plot]"``).

Figures are made with ``matplotlib.figure.Figure`` directly rather than
``pyplot``: no GUI backend is needed and no global state is left behind.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import numpy as np

from .loop import History

__all__ = ["matplotlib_available", "plot_misclassified", "plot_training"]


def matplotlib_available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def plot_training(path: str | os.PathLike[str], history: History) -> None:
    """Loss of every step (spiky: each batch is a different sample) and accuracy after each epoch."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)

    loss_axes.plot(history.step_losses, linewidth=0.5, color="tab:blue", label="loss of each step")
    loss_axes.plot(_moving_average(history.step_losses, 50), color="tab:orange", label="moving average (50)")
    for boundary in np.cumsum(history.steps_per_epoch)[:-1]:
        loss_axes.axvline(boundary, color="grey", linewidth=0.5, linestyle=":")
    loss_axes.set(yscale="log", xlabel="step (dotted lines: epoch boundaries)", ylabel="training loss")
    loss_axes.legend()

    _plot_accuracy(accuracy_axes, history)
    figure.savefig(path, dpi=100)


def _plot_accuracy(axes: Any, history: History) -> None:
    if not history.epochs:
        axes.axis("off")
        axes.text(0.5, 0.5, "stopped before the first epoch ended", ha="center", transform=axes.transAxes)
        return
    epochs = [record.epoch for record in history.epochs]
    val = [record.val_accuracy for record in history.epochs]
    if all(value is not None for value in val):
        axes.plot(epochs, [100 * v for v in val], "o-", label="validation")  # type: ignore[operator]
    axes.plot(epochs, [100 * record.test_accuracy for record in history.epochs], "s-", label="test")
    axes.set(xlabel="epoch", ylabel="accuracy (%)", xticks=epochs)
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
    figure.savefig(path, dpi=100)


def _moving_average(values: list[float], window: int) -> np.ndarray:
    """Mean of each window of ``window`` consecutive values, plotted at the window's end."""
    if len(values) < window:
        return np.array([])
    cumulative = np.cumsum(np.concatenate([[0.0], values]))
    averages = (cumulative[window:] - cumulative[:-window]) / window
    return np.concatenate([np.full(window - 1, np.nan), averages])
