"""The training loop: epochs of minibatch steps, evaluation in large batches, and a history of both.

Nothing here knows about MNIST: it takes arrays of inputs and class labels, a
model, an optimizer and a learning-rate schedule, minimises the cross-entropy,
and reports through a ``log`` function (``print`` by default).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

import nn
from nn.data import BatchLoader, batch_size_ramp
from tinygrad_edu import Tensor, as_tensor, no_grad

from .health import DivergenceGuard, stalled_loss_warning

__all__ = [
    "EVAL_BATCH_SIZE",
    "DataSplits",
    "EpochRecord",
    "Evaluation",
    "History",
    "evaluate",
    "fit",
    "predict_logits",
]

EVAL_BATCH_SIZE = 5000
"""Evaluation needs no graph, so big batches are cheap and much faster than small ones."""

Log = Callable[[str], None]


@dataclass
class Evaluation:
    """Loss, accuracy and predictions of a model on one labelled set."""

    loss: float
    accuracy: float
    predictions: np.ndarray


@dataclass
class EpochRecord:
    """What one epoch did; one row of the history CSV."""

    epoch: int
    batch_size: int
    lr: float
    train_loss: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
    images_per_second: float

    def summary(self, epochs: int) -> str:
        val = ""
        if self.val_loss is not None and self.val_accuracy is not None:
            val = f"  val loss {self.val_loss:.4f}  val acc {self.val_accuracy:7.2%}"
        return (
            f"epoch {self.epoch:>2}/{epochs}  batch {self.batch_size:>4}  lr {self.lr:.2e}  "
            f"train loss {self.train_loss:.4f}{val}  "
            f"({self.seconds:.1f} s, {self.images_per_second:,.0f} img/s)"
        )


@dataclass
class History:
    """Everything a run measured: per-epoch records and the loss of every single step."""

    epochs: list[EpochRecord] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    steps_per_epoch: list[int] = field(default_factory=list)

    def finished_epochs(self) -> History:
        """The history without an epoch that was cut short (by Ctrl-C or a divergence stop)."""
        count = len(self.epochs)
        steps = sum(self.steps_per_epoch[:count])
        return History(list(self.epochs), self.step_losses[:steps], self.steps_per_epoch[:count])


@dataclass
class DataSplits:
    """Inputs (N, features) as float32 and integer labels (N,) for each part; the validation part may be absent."""

    num_classes: int
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray


def predict_logits(model: nn.Module, x: np.ndarray, batch_size: int = EVAL_BATCH_SIZE) -> np.ndarray:
    """The model's outputs for ``x`` in evaluation mode (no dropout), without recording a graph."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            parts = [model(as_tensor(x[start : start + batch_size])).numpy() for start in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return np.concatenate(parts)


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = EVAL_BATCH_SIZE) -> Evaluation:
    """Mean cross-entropy, accuracy and predicted classes on ``(x, y)``."""
    logits = predict_logits(model, x, batch_size)
    with no_grad():
        loss = nn.cross_entropy(Tensor(logits), y).item()
    predictions = logits.argmax(axis=1)
    return Evaluation(loss, float(np.mean(predictions == y)), predictions)


def fit(
    model: nn.Module,
    optimizer: nn.optim.Optimizer,
    data: DataSplits,
    *,
    epochs: int,
    batch_start: int,
    batch_size: int,
    seed: int,
    scheduler: nn.optim.LRScheduler | None = None,
    progress: bool = True,
    log: Log = print,
    history: History | None = None,
    on_epoch_end: Callable[[EpochRecord], None] | None = None,
) -> History:
    """Train for ``epochs`` epochs, evaluating on the validation set after each; return the history.

    The test set is not looked at: measure it once, at the end, on the model
    chosen on validation (``on_epoch_end`` sees each epoch's record while the
    model is as that epoch left it, e.g. to keep the best one).
    The batch size doubles each epoch from ``batch_start`` up to ``batch_size``
    (`nn.data.batch_size_ramp`); the scheduler, if any, steps once per epoch.
    Raises `TrainingDiverged` when the loss turns NaN/inf or keeps climbing:
    pass your own ``history`` to keep what was measured up to that point
    (also on KeyboardInterrupt: `History.finished_epochs` drops the unfinished one).
    """
    history = History() if history is None else history
    loader = BatchLoader(data.x_train, data.y_train, batch_size=batch_start, seed=seed)
    guard = DivergenceGuard()
    for epoch in range(1, epochs + 1):
        loader.batch_size = batch_size_ramp(batch_start, batch_size, epoch - 1)
        lr = optimizer.lr
        started = time.perf_counter()
        first_step = len(history.step_losses)
        history.steps_per_epoch.append(0)
        with _progress_bar(len(data.x_train), f"epoch {epoch}/{epochs}", progress) as bar:
            for x_batch, y_batch in loader:
                loss = _train_step(model, optimizer, x_batch, y_batch, guard)
                history.step_losses.append(loss)
                history.steps_per_epoch[-1] += 1
                bar.update(len(x_batch))
                bar.set_postfix(loss=f"{guard.smoothed:.4f}", refresh=False)
        seconds = time.perf_counter() - started
        epoch_losses = history.step_losses[first_step:]
        record = _epoch_record(model, data, epoch, loader.batch_size, lr, epoch_losses, seconds)
        history.epochs.append(record)
        if on_epoch_end is not None:
            on_epoch_end(record)
        log(record.summary(epochs))
        if epoch == 1 and (warning := stalled_loss_warning(_late_loss(epoch_losses), data.num_classes)):
            log(f"WARNING: {warning}")
        if scheduler is not None:
            scheduler.step()
    return history


def _late_loss(losses: list[float]) -> float:
    """Mean loss over the last tenth of an epoch: where training got to, unlike the epoch's mean."""
    return float(np.mean(losses[-max(1, len(losses) // 10) :]))


def _progress_bar(images: int, description: str, enabled: bool) -> tqdm:
    """A bar counting images, so tqdm's rate is the throughput in images per second."""
    return tqdm(total=images, desc=description, unit="img", unit_scale=True, disable=not enabled, leave=False)


def _train_step(
    model: nn.Module, optimizer: nn.optim.Optimizer, x_batch: np.ndarray, y_batch: np.ndarray, guard: DivergenceGuard
) -> float:
    """One minibatch update; returns the loss before the update."""
    optimizer.zero_grad()
    loss = nn.cross_entropy(model(as_tensor(x_batch)), y_batch)
    value = loss.item()
    guard.update(value, optimizer.lr)  # before the update: a NaN loss must not reach the weights
    loss.backward()
    optimizer.step()
    return value


def _epoch_record(
    model: nn.Module,
    data: DataSplits,
    epoch: int,
    batch_size: int,
    lr: float,
    losses: list[float],
    seconds: float,
) -> EpochRecord:
    """Evaluate on the validation data after an epoch and summarise it."""
    val = None
    if data.x_val is not None and data.y_val is not None:
        val = evaluate(model, data.x_val, data.y_val)
    return EpochRecord(
        epoch=epoch,
        batch_size=batch_size,
        lr=lr,
        train_loss=float(np.mean(losses)),
        val_loss=None if val is None else val.loss,
        val_accuracy=None if val is None else val.accuracy,
        seconds=seconds,
        images_per_second=len(data.x_train) / seconds,
    )
