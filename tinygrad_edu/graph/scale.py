"""How big is a gradient, and which colour says so.

A gradient is summarised by one number (its L2 norm, or its mean absolute
value) and placed on a logarithmic scale: one colour per decade from 1e-8 to
1e2, on the viridis palette, which is ordered by lightness, readable by
colour-blind people and survives greyscale printing. The colour says how big a
gradient is, not whether that is good: a weight gradient of norm 1 is normal,
and only comparing layers (one 1e-7, the next 1e-1) shows vanishing gradients.
Three situations are not magnitudes and get colours outside the palette:
a gradient that is exactly zero everywhere, one containing NaN or inf, and
no gradient at all (not computed yet, or never reached).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

LOWEST_DECADE = -8  # 1e-8 and below share the darkest colour
HIGHEST_DECADE = 1  # 1e1 and above share the lightest one

# viridis sampled at ten evenly spaced points: one colour per decade, dark = small.
PALETTE = (
    "#440154", "#482878", "#3e4989", "#31688e", "#26828e",
    "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725",
)  # fmt: skip
DARK_COLOURS = 5  # the first five need white text

ZERO_COLOUR = "#a6a6a6"  # grey: the gradient is exactly 0 everywhere
NONFINITE_COLOUR = "#e31a1c"  # red: NaN or inf somewhere in the gradient
NO_GRADIENT_COLOUR = "#ffffff"  # white, dashed border: no gradient (yet)
CONSTANT_COLOUR = "#f2f2f2"  # light grey: a constant never has a gradient
DEAD_UNITS_COLOUR = "#ff7f00"  # orange border: a ReLU layer with many units off for the whole batch
DEAD_ALERT = 0.5  # ... this many: a few dead units are normal, half a layer is a problem
CURRENT_STEP_COLOUR = "#e7298a"  # magenta border: the node backward is processing (frames)

STATISTICS = {"norm": "‖g‖", "mean_abs": "mean|g|"}


@dataclass(frozen=True)
class GradientSummary:
    """One gradient reduced to what a drawing shows."""

    value: float  # the statistic over the finite entries
    all_zero: bool
    nonfinite: int  # how many entries are NaN or inf
    size: int

    @property
    def colour(self) -> str:
        if self.nonfinite:
            return NONFINITE_COLOUR
        if self.all_zero:
            return ZERO_COLOUR
        return PALETTE[decade_index(self.value)]

    @property
    def text_colour(self) -> str:
        if self.nonfinite:
            return "white"
        return "black" if self.all_zero else text_colour_on(decade_index(self.value))


def summarize(grad: np.ndarray, statistic: str = "norm") -> GradientSummary:
    """Reduce ``grad`` to ``statistic`` ("norm" or "mean_abs"), noting zeros and NaN/inf."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {sorted(STATISTICS)}, got {statistic!r}")
    flat = np.ravel(grad)
    with np.errstate(over="ignore", invalid="ignore"):
        squares = float(np.dot(flat, flat)) if flat.size else 0.0  # one fast pass in the gradient's own dtype
    nonfinite = 0
    if not (0.0 < squares < math.inf):  # zero, NaN/inf, or a float32 sum that over- or underflowed
        finite = np.isfinite(flat)
        nonfinite = int(flat.size - np.count_nonzero(finite))
        flat = flat[finite].astype(np.float64)
        squares = float(np.dot(flat, flat))
    if statistic == "norm":
        value = math.sqrt(squares)
    else:
        value = float(np.mean(np.abs(flat), dtype=np.float64)) if flat.size else 0.0
    return GradientSummary(value, nonfinite == 0 and squares == 0.0, nonfinite, int(grad.size))


def decade_index(value: float) -> int:
    """Index into PALETTE of the decade holding ``value`` (clipped to the ends of the scale)."""
    if value <= 0:
        return 0
    if not math.isfinite(value):
        return len(PALETTE) - 1
    decade = math.floor(math.log10(value))
    return min(max(decade, LOWEST_DECADE), HIGHEST_DECADE) - LOWEST_DECADE


def text_colour_on(index: int) -> str:
    """Black or white, whichever reads better on PALETTE[index]."""
    return "white" if index < DARK_COLOURS else "black"


def decade_label(index: int) -> str:
    """The lower bound of a palette colour's decade, e.g. ``1e-3``."""
    return f"1e{LOWEST_DECADE + index}"
