"""Train and evaluate an MLP on MNIST: data, model, health checks, training, and the files it writes."""

from __future__ import annotations

import math
import time

import numpy as np

import nn
from nn.data import crop_border, scale_pixels, train_val_split
from nn.datasets import IDXFormatError, MNISTNotFoundError, mnist
from tinygrad_edu import manual_seed

from . import plots
from .config import TrainConfig
from .health import InputStats, TrainingDiverged, initial_loss_warning, input_warnings
from .loop import DataSplits, EpochRecord, History, Log, evaluate, fit
from .outputs import OutputDirError, RunDirectory
from .report import confusion_matrix, format_confusion_matrix, write_history_csv, write_history_json
from .threads import blas_threads, default_threads

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_DONE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "INITIAL_LOSS_SAMPLE",
    "NUM_CLASSES",
    "BadInput",
    "BestOnValidation",
    "build_model",
    "build_optimizer",
    "load_mnist",
    "run",
]

NUM_CLASSES = 10
INITIAL_LOSS_SAMPLE = 1000
"""Training images the initial loss is measured on: enough for a steady estimate, still instant."""


def load_mnist(config: TrainConfig) -> tuple[DataSplits, np.ndarray]:
    """The splits as flat float32 inputs, and the raw 28x28 test images (for pictures of mistakes).

    Pixels are cropped, flattened and scaled to float32 once, here, so the
    training loop never converts a dtype.

    Raises
    ------
    BadInput
        If the data cannot be found or read, or the settings do not fit it.
    """
    try:
        x_train, y_train, x_test, y_test = mnist(root=config.data_dir, verify=config.verify)
    except (MNISTNotFoundError, IDXFormatError, OSError) as error:
        raise BadInput(str(error)) from error
    if config.val_size >= len(x_train):
        raise BadInput(
            f"--val-size {config.val_size} leaves no training images: the training set holds {len(x_train):,}"
        )
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


class BadInput(ValueError):
    """The settings, the data or the output directory cannot be used; found before training starts."""


EXIT_DONE, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
"""The command's exit codes: 1 when training diverged or a file could not be written; 130 is 128 + SIGINT."""


class BestOnValidation:
    """Keeps a copy of the parameters after the epoch with the best validation accuracy (the last epoch without
    a validation set): the model the test set is measured on, once, at the end."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.epoch: int | None = None
        self.val_accuracy: float | None = None
        self.state: dict[str, np.ndarray] | None = None

    def __call__(self, record: EpochRecord) -> None:
        if record.val_accuracy is None or self.val_accuracy is None or record.val_accuracy > self.val_accuracy:
            self.epoch, self.val_accuracy, self.state = record.epoch, record.val_accuracy, self.model.state_dict()


def run(config: TrainConfig, log: Log = print) -> int:
    """Train and evaluate as ``config`` says and write the outputs; returns the exit code (see EXIT_*).

    The output directory is checked and the data loaded before anything else, so
    every mistake in the input is a `BadInput` before any training. Ctrl-C while
    training stops cleanly: the finished epochs' history and the model as it is
    (``model-interrupted.npz``) are written, and the code is 130.
    """
    started = time.perf_counter()
    try:
        outputs = RunDirectory(config.out_dir)
    except OutputDirError as error:
        raise BadInput(str(error)) from None
    data, test_images = load_mnist(config)
    threads, why = (config.threads, "--threads") if config.threads is not None else default_threads()
    with blas_threads(threads) as libraries:
        log(f"threads: {threads} BLAS thread{'s' if threads > 1 else ''} ({libraries}; {why}); --threads N to change")
        return _train_and_save(config, data, test_images, outputs, started, log)


def _train_and_save(
    config: TrainConfig, data: DataSplits, test_images: np.ndarray, outputs: RunDirectory, started: float, log: Log
) -> int:
    manual_seed(config.seed)
    model = build_model(config, data.x_train.shape[1])
    optimizer = build_optimizer(config, model)
    scheduler = None
    if config.schedule == "cosine":
        scheduler = nn.optim.CosineAnnealingLR(optimizer, T_max=config.epochs)
    _describe_run(config, data, model, log)
    _check_health_before_training(model, data, log)

    history = History()
    best = BestOnValidation(model)
    try:
        fit(
            model, optimizer, data,
            epochs=config.epochs, batch_start=config.batch_start, batch_size=config.batch_size,
            seed=config.seed, scheduler=scheduler, progress=config.progress, log=log, history=history,
            on_epoch_end=best,
        )  # fmt: skip
    except TrainingDiverged as error:
        log(f"STOPPED: {error}")
        _write_history(outputs, history, config, status=f"diverged: {error}")
        if config.plots:
            _draw_plots(outputs, history, log)
        _log_outputs(outputs, log, "(the history up to the stop; no model: its weights had diverged)")
        return EXIT_FAILED
    except KeyboardInterrupt:
        finished = history.finished_epochs()
        log(f"INTERRUPTED after {_epochs(len(finished.epochs))}: saving the history and the model as it is")
        _write_history(outputs, finished, config, status=f"interrupted after {_epochs(len(finished.epochs))}")
        outputs.save("model-interrupted.npz", model.save)
        if config.plots:
            _draw_plots(outputs, finished, log)
        _log_outputs(outputs, log, "(model-interrupted.npz: the weights when Ctrl-C arrived, not tested)")
        return EXIT_INTERRUPTED

    assert best.state is not None, "fit ran at least one epoch"
    model.load_state_dict(best.state)
    final = evaluate(model, data.x_test, data.y_test)
    matrix = confusion_matrix(data.y_test, final.predictions, NUM_CLASSES)
    seconds = time.perf_counter() - started
    _report_results(final.accuracy, matrix, history, best, seconds, log)
    _write_history(outputs, history, config, status="finished", chosen_epoch=best.epoch, test_accuracy=final.accuracy,
                   confusion_matrix=matrix.tolist(), total_seconds=seconds)  # fmt: skip
    outputs.save("model.npz", model.save)
    if config.plots:
        _draw_plots(outputs, history, log, best.epoch, (test_images, data.y_test, final.predictions))
    _log_outputs(outputs, log, f"(model.npz: the model of epoch {best.epoch}, chosen on validation)")
    return EXIT_FAILED if outputs.lost else EXIT_DONE


def _log_outputs(outputs: RunDirectory, log: Log, note: str) -> None:
    outputs.publish()
    lines = outputs.summary()
    if outputs.written:
        lines[0] += f" {note}"
    for line in lines:
        log(line)


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


def _report_results(
    accuracy: float, matrix: np.ndarray, history: History, best: BestOnValidation, seconds: float, log: Log
) -> None:
    training_seconds = sum(record.seconds for record in history.epochs)
    correct, total = int(np.trace(matrix)), int(matrix.sum())
    chosen = (
        f"the model of epoch {best.epoch}, best validation accuracy {best.val_accuracy:.2%}"
        if best.val_accuracy is not None
        else f"the model after epoch {best.epoch} (no validation set to choose on)"
    )
    log(
        f"test accuracy {accuracy:.2%} ({correct:,}/{total:,}), measured once on {chosen}; "
        f"{training_seconds:.1f} s training, {seconds:.1f} s in total"
    )
    log("confusion matrix on the test set (rows: true digit, columns: predicted digit):")
    log(format_confusion_matrix(matrix))


def _write_history(outputs: RunDirectory, history: History, config: TrainConfig, **results: object) -> None:
    outputs.save("history.json", lambda path: write_history_json(path, history, config=config.to_dict(), **results))
    outputs.save("history.csv", lambda path: write_history_csv(path, history))


def _draw_plots(
    outputs: RunDirectory,
    history: History,
    log: Log,
    chosen_epoch: int | None = None,
    mistakes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> None:
    """training.png, and misclassified.png when ``mistakes`` = (images, labels, predictions) is given."""
    if not plots.matplotlib_available():
        log("no plots: matplotlib is not installed (pip install matplotlib, or the package's [plot] extra)")
        return
    outputs.save("training.png", lambda path: plots.plot_training(path, history, chosen_epoch))
    if mistakes is not None:
        outputs.save("misclassified.png", lambda path: plots.plot_misclassified(path, *mistakes))


def _epochs(count: int) -> str:
    return f"{count} epoch" if count == 1 else f"{count} epochs"
