"""The median split from score histograms: who scores above the whole sample's median.

LL144's "scoring rate" (6 RCNY § 5-300) is the share of a category scoring above the median
score of the full sample. From a histogram with one bin per distinct score the split is exact
(the median as ``np.median`` gives it); with equal-width bins the rows in the median's bin(s)
cannot be placed, and are counted apart as ``uncertain``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics.score_histogram import ScoreHistogram

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class MedianSplit:
    """Rows above the median score, per group of the histogram."""

    median: float
    """The median score (exact), or the middle of the bin it falls in."""
    above: Floats
    """Per group: rows scoring above the median (for sure)."""
    uncertain: Floats
    """Per group: rows in the median's bin(s), above or not (0 when exact)."""
    exact: bool
    """True when every row is placed (distinct-value bins)."""


def median_split(histogram: ScoreHistogram) -> MedianSplit:
    """Split every group of ``histogram`` at the median of all its rows."""
    per_bin = histogram.fine.sum(axis=2)  # (groups, bins)
    counts = per_bin.sum(axis=0)
    total = float(counts.sum())
    if total == 0:
        raise InputError("no individuals to audit: the score column is empty")
    cumulative = np.cumsum(counts)
    # The bins of the middle order statistics (0-based ranks (n - 1) // 2 and n // 2).
    low = int(np.searchsorted(cumulative, math.floor((total - 1) / 2), side="right"))
    high = int(np.searchsorted(cumulative, math.floor(total / 2), side="right"))
    if histogram.binning.distinct:
        values = histogram.values
        median = float(np.mean([values[low], values[high]]))
        above_bins = values > median
        above = per_bin[:, above_bins].sum(axis=1)
        return MedianSplit(median, above, np.zeros(len(above)), exact=True)
    binning = histogram.binning
    width = math.ldexp(1.0, binning.exponent)
    start = math.ldexp(float(binning.first + low), binning.exponent)
    end = math.ldexp(float(binning.first + high), binning.exponent) + width
    above = per_bin[:, high + 1 :].sum(axis=1)
    uncertain = per_bin[:, low : high + 1].sum(axis=1)
    return MedianSplit((start + end) / 2, above, uncertain, exact=False)
