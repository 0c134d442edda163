"""Train and evaluate an MLP on MNIST: data, model, health checks, training, and the files it writes."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

import nn
from nn.data import crop_border, scale_pixels, train_val_split
from nn.datasets import mnist
from tinygrad_edu import manual_seed

from . import plots
from .config import TrainConfig
from .health import InputStats, TrainingDiverged, initial_loss_warning, input_warnings
from .loop import DataSplits, History, Log, evaluate, fit
from .report import confusion_matrix, format_confusion_matrix, write_history_csv, write_history_json

__all__ = ["INITIAL_LOSS_SAMPLE", "NUM_CLASSES", "build_model", "build_optimizer", "load_mnist", "run"]

NUM_CLASSES = 10
INITIAL_LOSS_SAMPLE = 1000
"""Training images the initial loss is measured on: enough for a steady estimate, still instant."""


def load_mnist(config: TrainConfig) -> tuple[DataSplits, np.ndarray]:
    """The splits as flat float32 inputs, and the raw 28x28 test images (for pictures of mistakes).

    Pixels are cropped, flattened and scaled to float32 once, here, so the
    training loop never converts a dtype.
    """
    x_train, y_train, x_test, y_test = mnist(root=config.data_dir)
    x_val = y_val = None
    if config.val_size > 0:
        x_train, y_train, x_val, y_val = train_val_split(x_train, y_train, config.val_size, seed=config.seed)
    if config.limit is not None:
        x_train, y_train = x_train[: config.limit], y_train[: config.limit]
    splits = DataSplits(
        num_classes=NUM_CLASSES,
        x_train=_to_inputs(x_train, config),
        y_train=y_train,
        x_val=None if x_val is None else _to_inputs(x_val, config),
        y_val=y_val,
        x_test=_to_inputs(x_test, config),
        y_test=y_test,
    )
    return splits, x_test


def _to_inputs(images: np.ndarray, config: TrainConfig) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 rows (N, features): cropped, flattened, scaled to [0, 1]."""
    cropped = crop_border(images, config.crop)
    flat = cropped.reshape(len(cropped), -1)
    return flat.astype(np.float32) if config.raw_pixels else scale_pixels(flat)


def build_model(config: TrainConfig, num_inputs: int) -> nn.MLP:
    """The MLP of ``config`` (He initialisation before ReLUs, Xavier before the others: nn.MLP's rule)."""
    return nn.MLP([num_inputs, *config.hidden, NUM_CLASSES], activation=config.activation, dropout=config.dropout)


def build_optimizer(config: TrainConfig, model: nn.Module) -> nn.optim.Optimizer:
    """Adam or SGD over all of the model's parameters, with the settings of ``config``."""
    if config.optimizer == "adam":
        return nn.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    return nn.optim.SGD(
        model.parameters(), lr=config.learning_rate, momentum=config.momentum, weight_decay=config.weight_decay
    )


def run(config: TrainConfig, log: Log = print) -> int:
    """Train and evaluate as ``config`` says and write the outputs; the exit code (0 ok, 1 diverged)."""
    started = time.perf_counter()
    data, test_images = load_mnist(config)
    manual_seed(config.seed)
    model = build_model(config, data.x_train.shape[1])
    optimizer = build_optimizer(config, model)
    scheduler = None
    if config.schedule == "cosine":
        scheduler = nn.optim.CosineAnnealingLR(optimizer, T_max=config.epochs)
    _describe_run(config, data, model, log)
    _check_health_before_training(model, data, log)

    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    history = History()
    try:
        fit(
            model, optimizer, data,
            epochs=config.epochs, batch_start=config.batch_start, batch_size=config.batch_size,
            seed=config.seed, scheduler=scheduler, progress=config.progress, log=log, history=history,
        )  # fmt: skip
    except TrainingDiverged as error:
        log(f"STOPPED: {error}")
        _write_history(out_dir, history, config, status=f"diverged: {error}")
        if config.plots:
            _draw_plots(out_dir, history, log)
        log(f"wrote the history up to this point to {out_dir}/")
        return 1

    final = evaluate(model, data.x_test, data.y_test)
    matrix = confusion_matrix(data.y_test, final.predictions, NUM_CLASSES)
    seconds = time.perf_counter() - started
    _report_results(final.accuracy, matrix, history, seconds, log)
    model.save(out_dir / "model.npz")
    _write_history(out_dir, history, config, status="finished", test_accuracy=final.accuracy,
                   confusion_matrix=matrix.tolist(), total_seconds=seconds)  # fmt: skip
    if config.plots:
        _draw_plots(out_dir, history, log, (test_images, data.y_test, final.predictions))
    log(f"wrote {', '.join(sorted(path.name for path in out_dir.iterdir()))} to {out_dir}/")
    return 0


def _describe_run(config: TrainConfig, data: DataSplits, model: nn.MLP, log: Log) -> None:
    """The data, model and optimisation settings, so a log says what was run."""
    val = 0 if data.x_val is None else len(data.x_val)
    side = 28 - 2 * config.crop
    parameters = sum(p.size for p in model.parameters())
    ramp = f"{config.batch_start} doubling to {config.batch_size}" if config.batch_start < config.batch_size else ""
    log(
        f"data: {len(data.x_train):,} training, {val:,} validation, {len(data.x_test):,} test images; "
        f"{side}x{side} = {data.x_train.shape[1]} inputs"
    )
    log(f"model: MLP {'-'.join(map(str, model.sizes))}, {config.activation}, dropout {config.dropout:g} "
        f"({parameters:,} parameters)")  # fmt: skip
    log(
        f"training: {config.optimizer} lr {config.learning_rate:g} ({config.schedule} schedule), "
        f"momentum {config.momentum:g}, weight decay {config.weight_decay:g}, "
        f"batch size {ramp or config.batch_size}, {_epochs(config.epochs)}, seed {config.seed}"
    )


def _check_health_before_training(model: nn.Module, data: DataSplits, log: Log) -> None:
    """Input statistics and the loss before any update, with warnings when they look wrong."""
    stats = InputStats.of(data.x_train)
    log(f"inputs: {stats}")
    warnings = input_warnings(stats)
    sample = slice(0, INITIAL_LOSS_SAMPLE)
    loss = evaluate(model, data.x_train[sample], data.y_train[sample]).loss
    log(f"initial loss: {loss:.3f} (expected about ln({NUM_CLASSES}) = {math.log(NUM_CLASSES):.3f})")
    loss_warning = initial_loss_warning(loss, NUM_CLASSES)
    for warning in warnings + ([loss_warning] if loss_warning else []):
        log(f"WARNING: {warning}")


def _report_results(accuracy: float, matrix: np.ndarray, history: History, seconds: float, log: Log) -> None:
    training_seconds = sum(record.seconds for record in history.epochs)
    correct, total = int(np.trace(matrix)), int(matrix.sum())
    log(
        f"test accuracy {accuracy:.2%} ({correct:,}/{total:,}) after {_epochs(len(history.epochs))}; "
        f"{training_seconds:.1f} s training, {seconds:.1f} s in total"
    )
    log("confusion matrix on the test set (rows: true digit, columns: predicted digit):")
    log(format_confusion_matrix(matrix))


def _write_history(out_dir: Path, history: History, config: TrainConfig, **results: object) -> None:
    write_history_json(out_dir / "history.json", history, config=config.to_dict(), **results)
    write_history_csv(out_dir / "history.csv", history)


def _draw_plots(
    out_dir: Path,
    history: History,
    log: Log,
    mistakes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> None:
    """training.png, and misclassified.png when ``mistakes`` = (images, labels, predictions) is given."""
    if not plots.matplotlib_available():
        log('no plots: matplotlib is not installed (pip install -e ".[plot]")')
        return
    plots.plot_training(out_dir / "training.png", history)
    if mistakes is not None:
        plots.plot_misclassified(out_dir / "misclassified.png", *mistakes)


def _epochs(count: int) -> str:
    return f"{count} epoch" if count == 1 else f"{count} epochs"
