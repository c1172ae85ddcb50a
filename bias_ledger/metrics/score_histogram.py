"""Per-group score histograms: the additive sufficient statistic of every score metric.

Per group (the intersection of the sensitive features; marginals are sums of it) and label:

- a *fine* histogram of the scores, for ROC AUC and the median split. Its bins are the distinct
  score values themselves while there are at most ``max_distinct`` of them (then everything is
  exact); beyond that, ``2**16`` equal bins of width ``2**e`` aligned at multiples of ``2**e``,
  ``e`` the smallest that spans the observed [min, max]. Aligned power-of-two bins merge exactly
  when the range grows, so the final bins depend on the data only, not on the batching;
- a *coarse* table by calibration bin and by how many thresholds a score reaches, with the
  exact sum of the scores per calibration bin: reliability diagrams and the threshold sweep are
  exact whatever the fine bins are.

Counts are held as float64 (exact integers below 2**53; weighted sums with ``weights``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bias_ledger.metrics.exact_sum import ExactSums

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

MAX_BINS = 1 << 16
"""Fine bins when the scores take more distinct values than that."""
CALIBRATION_BINS = 10


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


class ScoreHistogram:
    """Fine and coarse per-group score histograms, built batch by batch (:meth:`add`)."""

    def __init__(
        self,
        thresholds: Floats,
        *,
        calibration_bins: int = CALIBRATION_BINS,
        max_bins: int = MAX_BINS,
        max_distinct: int | None = None,
    ) -> None:
        self.thresholds: Floats = np.unique(np.asarray(thresholds, dtype=np.float64))
        self.calibration_bins = calibration_bins
        self.max_bins = max_bins
        self.max_distinct = max_bins if max_distinct is None else max_distinct
        self.low = math.inf
        self.high = -math.inf
        self.binning = Binning(distinct=True)
        self.values: Floats = np.empty(0)
        """Distinct mode: the sorted distinct scores (the fine bins)."""
        self.fine: Floats = np.zeros((0, 0, 2))
        """Shape ``(groups, fine bins, 2)``: negatives, positives."""
        self.coarse: Floats = np.zeros((0, calibration_bins, len(self.thresholds) + 1, 2))
        """Shape ``(groups, calibration bins, thresholds reached + 1, 2)``."""
        self.score_sums = ExactSums()
        """Exact sum of the scores per ``group * calibration_bins + bin``."""

    @property
    def groups(self) -> int:
        return int(self.fine.shape[0])

    def _grow(self, groups: int) -> None:
        if groups > self.groups:
            pad = groups - self.groups
            self.fine = np.concatenate([self.fine, np.zeros((pad, *self.fine.shape[1:]))])
            self.coarse = np.concatenate([self.coarse, np.zeros((pad, *self.coarse.shape[1:]))])

    def coarse_keys(self, scores: Floats) -> tuple[Ints, Ints]:
        """Each score's calibration bin (an inner edge falls in the lower bin, as sklearn's)
        and how many thresholds it reaches (``score >= t``)."""
        calibration = np.searchsorted(calibration_edges(self.calibration_bins), scores)
        reached = np.searchsorted(self.thresholds, scores, side="right")
        return calibration.astype(np.int64), reached.astype(np.int64)

    def add(
        self, codes: Ints, y_true: Bools, scores: Floats, weights: Floats | None = None
    ) -> None:
        """Add a batch of rows: group code, label, (finite) score, optional weight."""
        if len(scores) == 0:
            return
        scores = np.asarray(scores, dtype=np.float64) + 0.0  # -0.0 is 0.0
        codes = np.asarray(codes, dtype=np.int64)
        label = np.asarray(y_true, dtype=np.int64)
        self._grow(int(codes.max()) + 1)
        calibration, reached = self.coarse_keys(scores)
        shape = self.coarse.shape
        index = ((codes * shape[1] + calibration) * shape[2] + reached) * 2 + label
        self.coarse += np.bincount(index, weights=weights, minlength=self.coarse.size).reshape(
            shape
        )
        cells = codes * self.calibration_bins + calibration
        self.score_sums.add(cells, scores if weights is None else scores * weights)
        self._add_fine(codes, label, scores, weights)

    def _add_fine(self, codes: Ints, label: Ints, scores: Floats, weights: Floats | None) -> None:
        self.low = min(self.low, float(scores.min()))
        self.high = max(self.high, float(scores.max()))
        if self.binning.distinct:
            merged = self._distinct_values(scores)
            if merged is not None:
                self._reindex(np.searchsorted(merged, self.values), len(merged))
                self.values = merged
                self._bincount(codes, np.searchsorted(merged, scores), label, weights)
                return
            self._to_bins()
        self._rebin()
        k = np.floor(np.ldexp(scores, -self.binning.exponent)).astype(np.int64)
        self._bincount(codes, k - self.binning.first, label, weights)

    def _distinct_values(self, scores: Floats) -> Floats | None:
        """The distinct values with this batch's, or None when they would be too many."""
        values = self.values
        if len(values):
            position = np.minimum(np.searchsorted(values, scores), len(values) - 1)
            unseen = scores[values[position] != scores]
        else:
            unseen = scores
        if len(unseen) == 0:
            return values
        room = self.max_distinct - len(values)
        # A prefix with too many new values settles it without sorting the whole batch.
        head = np.unique(unseen[: room + 1])
        if len(head) > room:
            return None
        new = head if len(unseen) <= room + 1 else np.unique(unseen)
        return None if len(new) > room else np.union1d(values, new)

    def _bincount(self, codes: Ints, bins: Ints, label: Ints, weights: Floats | None) -> None:
        width = self.fine.shape[1]
        index = (codes * width + bins) * 2 + label
        counts = np.bincount(index, weights=weights, minlength=self.fine.size)
        self.fine += counts.reshape(self.fine.shape)

    def _reindex(self, targets: Ints, width: int) -> None:
        """Move the fine bins to positions ``targets`` of ``width`` bins (merging equal ones)."""
        groups = np.arange(self.groups, dtype=np.int64)[:, None, None]
        index = (groups * width + targets[None, :, None]) * 2 + np.arange(2)[None, None, :]
        size = self.groups * width * 2
        out = np.bincount(index.ravel(), weights=self.fine.ravel(), minlength=size)
        self.fine = out.reshape(self.groups, width, 2)

    def _to_bins(self) -> None:
        exponent = bin_exponent(self.low, self.high, self.max_bins)
        first = math.floor(math.ldexp(self.low, -exponent))
        absolute = np.floor(np.ldexp(self.values, -exponent)).astype(np.int64)
        last = math.floor(math.ldexp(self.high, -exponent))
        self._reindex(absolute - first, last - first + 1)
        self.values = np.empty(0)
        self.binning = Binning(distinct=False, exponent=exponent, first=first)

    def _rebin(self) -> None:
        """Coarsen and extend the bins to cover [low, high] (exact for aligned bins)."""
        old = self.binning
        exponent = max(old.exponent, bin_exponent(self.low, self.high, self.max_bins))
        first = math.floor(math.ldexp(self.low, -exponent))
        last = math.floor(math.ldexp(self.high, -exponent))
        if (
            exponent == old.exponent
            and first == old.first
            and last - first + 1 == self.fine.shape[1]
        ):
            return
        absolute = old.first + np.arange(self.fine.shape[1], dtype=np.int64)
        self._reindex((absolute >> (exponent - old.exponent)) - first, last - first + 1)
        self.binning = Binning(distinct=False, exponent=exponent, first=first)

    def merge(self, other: ScoreHistogram) -> None:
        """Add another histogram built with the same thresholds and calibration bins."""
        if not np.array_equal(self.thresholds, other.thresholds) or (
            self.calibration_bins != other.calibration_bins
        ):
            raise ValueError("histograms with different thresholds or bins do not add up")
        self._grow(other.groups)
        self.coarse[: other.groups] += other.coarse
        self.score_sums.merge(other.score_sums)
        if not math.isfinite(other.low):
            return
        groups, bins, labels = np.nonzero(other.fine)
        counts = other.fine[groups, bins, labels]
        if other.binning.distinct:
            self._add_fine(groups, labels, other.values[bins], counts)
            return
        self.low, self.high = min(self.low, other.low), max(self.high, other.high)
        if self.binning.distinct:
            self._to_bins()
        self._rebin()
        shift = self.binning.exponent - other.binning.exponent
        absolute = (other.binning.first + bins) >> shift
        np.add.at(self.fine, (groups, absolute - self.binning.first, labels), counts)

    def add_cells(
        self,
        codes: Ints,
        y_true: Bools,
        fine_keys: npt.NDArray[np.float64],
        calibration: Ints,
        reached: Ints,
        counts: Floats,
    ) -> None:
        """Add an SQL engine's aggregated cells (fine key: the score in distinct mode, else
        the absolute bin ``k``; binning set beforehand with :meth:`set_binning`)."""
        codes = np.asarray(codes, dtype=np.int64)
        label = np.asarray(y_true, dtype=np.int64)
        self._grow(int(codes.max()) + 1 if len(codes) else 0)
        shape = self.coarse.shape
        index = ((codes * shape[1] + calibration) * shape[2] + reached) * 2 + label
        self.coarse += np.bincount(index, weights=counts, minlength=self.coarse.size).reshape(shape)
        if self.binning.distinct:
            bins = np.searchsorted(self.values, fine_keys)
        else:
            bins = fine_keys.astype(np.int64) - self.binning.first
        self._bincount(codes, bins, label, counts)

    def set_binning(self, low: float, high: float, values: Floats | None) -> None:
        """Fix the fine bins from the whole data's range and distinct values (SQL engines):
        ``values`` when there are at most ``max_distinct``, else None."""
        self.low, self.high = low, high
        if values is not None:
            self.values = np.unique(np.asarray(values, dtype=np.float64) + 0.0)
            self.fine = np.zeros((self.groups, len(self.values), 2))
            return
        exponent = bin_exponent(low, high, self.max_bins)
        first = math.floor(math.ldexp(low, -exponent))
        last = math.floor(math.ldexp(high, -exponent))
        self.binning = Binning(distinct=False, exponent=exponent, first=first)
        self.fine = np.zeros((self.groups, last - first + 1, 2))
