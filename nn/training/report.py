"""What a run leaves behind: the history as JSON and CSV (each written atomically), and a readable confusion matrix."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict, fields
from typing import Any

import numpy as np

from nn.atomic_files import write_bytes_atomically

from .loop import EpochRecord, History

__all__ = ["confusion_matrix", "format_confusion_matrix", "write_history_csv", "write_history_json"]


def write_history_json(path: str | os.PathLike[str], history: History, **extra: Any) -> None:
    """Write the per-epoch records, every step's loss and ``extra`` items (config, final results) as JSON."""
    document = {
        **extra,
        "epochs": [asdict(record) for record in history.epochs],
        "steps_per_epoch": history.steps_per_epoch,
        "step_losses": history.step_losses,
    }
    write_bytes_atomically(path, (json.dumps(document, indent=2, allow_nan=True) + "\n").encode())


def write_history_csv(path: str | os.PathLike[str], history: History) -> None:
    """One row per epoch, the columns of `EpochRecord`; empty cells where there was no validation set."""
    columns = [column.name for column in fields(EpochRecord)]
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writeheader()
    for record in history.epochs:
        writer.writerow({key: "" if value is None else value for key, value in asdict(record).items()})
    write_bytes_atomically(path, text.getvalue().encode())


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """``matrix[true, predicted]`` = how many examples of class ``true`` were predicted as ``predicted``."""
    counts = np.bincount(labels * num_classes + predictions, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def format_confusion_matrix(matrix: np.ndarray) -> str:
    """The matrix as a text table: rows are true classes, columns predicted ones, plus per-class accuracy.

    Correct predictions are on the diagonal; the largest numbers off the
    diagonal are the confusions worth looking at (4 read as 9, 7 as 2, ...).
    """
    num_classes = len(matrix)
    width = max(5, len(str(matrix.max())) + 1)
    header = "true\\pred" + "".join(f"{c:>{width}}" for c in range(num_classes)) + "   accuracy"
    lines = [header]
    for true_class, row in enumerate(matrix):
        cells = "".join(f"{count:>{width}}" for count in row)
        correct = row[true_class] / max(row.sum(), 1)
        lines.append(f"{true_class:>9}{cells}   {correct:8.2%}")
    return "\n".join(lines)
