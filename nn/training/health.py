"""Health checks that catch the classic from-scratch failures in the first seconds of a run.

Each check returns plain data (a list of warnings, or a verdict) instead of
printing, so it can be tested and reused; the training loop decides what to
print and when to stop.

- ``input_warnings``: inputs that look like unscaled 0-255 pixels saturate
  every unit from the first step.
- ``initial_loss_warning``: before any update, a classifier with small random
  weights predicts roughly uniform probabilities, so its cross-entropy is
  about ln(number of classes); far from that, something is off.
- ``DivergenceGuard``: a loss that turns NaN/inf, or climbs and stays up,
  stops the run with advice instead of printing nan for an hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DivergenceGuard",
    "InputStats",
    "TrainingDiverged",
    "initial_loss_warning",
    "input_warnings",
    "stalled_loss_warning",
]

LARGE_INPUT = 10.0
"""Inputs beyond this (in absolute value) are too large for default initialisations."""

INITIAL_LOSS_BAND = (0.5, 1.5)
"""The first loss should be within these factors of ln(number of classes)."""


@dataclass(frozen=True)
class InputStats:
    """Summary of the training inputs, printed once before training."""

    minimum: float
    maximum: float
    mean: float
    std: float

    @classmethod
    def of(cls, x: np.ndarray) -> InputStats:
        return cls(float(x.min()), float(x.max()), float(x.mean()), float(x.std()))

    def __str__(self) -> str:
        return f"min {self.minimum:.3f}  max {self.maximum:.3f}  mean {self.mean:.3f}  std {self.std:.3f}"


def input_warnings(stats: InputStats) -> list[str]:
    """Warnings about the input scale; empty when it looks sane (e.g. pixels in [0, 1])."""
    largest = max(abs(stats.minimum), abs(stats.maximum))
    if largest <= LARGE_INPUT:
        return []
    if stats.minimum >= 0 and 100 <= stats.maximum <= 255:
        return [
            f"the inputs look like UNSCALED 0-255 PIXELS (max {stats.maximum:g}). With weights initialised "
            f"for inputs of size ~1, every unit saturates and the loss explodes or stalls. Divide by 255 "
            f"first: nn.data.scale_pixels(x)."
        ]
    return [
        f"the inputs are LARGE (largest magnitude {largest:g}, std {stats.std:g}). Default initialisations "
        f"assume inputs of size ~1: scale or standardise them first, e.g. (x - mean) / std."
    ]


def initial_loss_warning(loss: float, num_classes: int) -> str | None:
    """A warning when the loss before any update is far from ln(num_classes), else None."""
    expected = math.log(num_classes)
    low, high = INITIAL_LOSS_BAND
    if not math.isfinite(loss):
        return (
            f"the initial loss is {loss}, before any update: the forward pass already overflows. "
            f"Check the input scale and the weight initialisation."
        )
    if loss > high * expected:
        return (
            f"the initial loss {loss:.3f} is more than {high}x the expected {expected:.3f}: the untrained model "
            f"is confidently wrong. Likely causes: inputs not scaled to ~[0, 1], initial weights too large "
            f"(use He/Xavier initialisation), or a softmax already applied before a loss that expects logits."
        )
    if loss < low * expected:
        return (
            f"the initial loss {loss:.3f} is less than {low}x the expected {expected:.3f}: an untrained model "
            f"should not do this well. Likely causes: the loss is averaged twice or mis-scaled, the labels do "
            f"not match the inputs (e.g. all one class), or the model was already trained."
        )
    return None


def stalled_loss_warning(late_loss: float, num_classes: int) -> str | None:
    """A warning when the loss at the end of the first epoch is still near chance level, else None.

    ``late_loss`` should be the mean over the epoch's last steps: the mean over the
    whole epoch is dominated by its first steps when those were huge.
    """
    chance = math.log(num_classes)
    if late_loss < 0.9 * chance:
        return None
    return (
        f"at the end of the first epoch the loss {late_loss:.3f} is not clearly below chance level "
        f"({chance:.3f}): the model is barely learning. The learning rate is either far too low, or so high that the "
        f"units died (ReLUs stuck at 0) or saturated."
    )


class TrainingDiverged(RuntimeError):
    """Raised by `DivergenceGuard` when the loss turns non-finite or keeps climbing."""


class DivergenceGuard:
    """Stop training when the loss is NaN/inf, or climbs and stays up.

    The rule, applied after every step:

    - a NaN or infinite loss stops the run at once;
    - otherwise the loss is smoothed with an exponential moving average
      (``ema = (1 - smoothing) * ema + smoothing * loss``) and the run stops
      when the smoothed loss stays above ``factor`` times its best value for
      ``patience`` consecutive steps.

    Bests below ``floor`` count as ``floor``, so the run only stops once the
    smoothed loss exceeds ``factor * floor`` = 1.0 as well. Below that, the
    loss of a batch is small and noisy, and a drift from 0.1 to 0.3 is noise
    or mild overfitting, not divergence: with a floor of 0.1 this rule stopped
    healthy MNIST runs (dropout, batches of 32) in their first epoch.

    Parameters
    ----------
    factor, patience, smoothing, floor : see the rule above.
    """

    def __init__(self, factor: float = 2.0, patience: int = 20, smoothing: float = 0.1, floor: float = 0.5) -> None:
        self.factor = factor
        self.patience = patience
        self.smoothing = smoothing
        self.floor = floor
        self.smoothed: float | None = None
        self.best = math.inf
        self.steps_above = 0

    def update(self, loss: float, lr: float) -> None:
        """Record one step's loss; raise `TrainingDiverged` (with advice naming ``lr``) if the rule fires."""
        if not math.isfinite(loss):
            raise TrainingDiverged(f"the loss became {loss}. {_advice(lr)}")
        self.smoothed = loss if self.smoothed is None else (1 - self.smoothing) * self.smoothed + self.smoothing * loss
        self.best = min(self.best, self.smoothed)
        limit = self.factor * max(self.best, self.floor)
        self.steps_above = self.steps_above + 1 if self.smoothed > limit else 0
        if self.steps_above >= self.patience:
            raise TrainingDiverged(
                f"the smoothed loss ({self.smoothed:.4g}) has stayed above {self.factor:g}x its best "
                f"({self.best:.4g}) for {self.patience} steps. {_advice(lr)}"
            )


def _advice(lr: float) -> str:
    return (
        f"Training diverged: lower the learning rate (now {lr:g}; try {lr / 10:g}). "
        f"If it still diverges, check the input scale and the initial loss above."
    )
