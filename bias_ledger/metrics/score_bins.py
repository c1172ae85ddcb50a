"""How score histograms bin: calibration edges, aligned power-of-two bins, and the lookup
table that finds a score among few distinct values without a binary search per row."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
MAX_BINS = 1 << 16
"""Fine bins when the scores take more distinct values than that."""


def calibration_edges(bins: int) -> Floats:
    """Inner edges of equal-width bins over [0, 1], as ``sklearn.calibration_curve`` has them."""
    inner: Floats = np.linspace(0.0, 1.0, bins + 1)[1:-1]
    return inner


def bin_exponent(low: float, high: float, bins: int = MAX_BINS) -> int:
    """The smallest ``e`` such that aligned bins of width ``2**e`` cover [low, high] in ``bins``."""

    def span(e: int) -> int:
        return math.floor(math.ldexp(high, -e)) - math.floor(math.ldexp(low, -e)) + 1

    width = high - low
    e = math.frexp(width / bins)[1] - 2 if width > 0 else -1074
    e = max(e, -1074)
    while span(e) > bins:
        e += 1
    while e > -1074 and span(e - 1) <= bins:
        e -= 1
    return e


@dataclass(frozen=True)
class Binning:
    """How the fine histogram is binned: distinct values, or aligned bins of width ``2**e``."""

    distinct: bool
    """True: one bin per distinct score (exact)."""
    exponent: int = 0
    """Bins ``[k 2**e, (k + 1) 2**e)`` (``distinct`` False)."""
    first: int = 0
    """The ``k`` of the first bin."""


def lookup_table(values: Floats) -> tuple[int, int, Ints] | None:
    """Aligned cells of width ``2**e`` holding one distinct value each, as (e, first cell,
    position of the value in each cell or -1, padded by -1 cells on both sides); None when
    the values are too close together for a table of at most 2**22 cells."""
    if len(values) < 2:
        exponent = 0
    else:
        gap = float(np.diff(values).min())
        exponent = math.frexp(gap)[1] - 1  # 2**e <= gap: no two values share a cell
    try:
        first = math.floor(math.ldexp(float(values[0]), -exponent))
        last = math.floor(math.ldexp(float(values[-1]), -exponent))
    except OverflowError:
        return None
    if last - first + 3 > 1 << 22:
        return None
    lut = np.full(last - first + 3, -1, dtype=np.int64)
    cells = np.floor(np.ldexp(values, -exponent)).astype(np.int64) - (first - 1)
    lut[cells] = np.arange(len(values), dtype=np.int64)
    return exponent, first, lut
