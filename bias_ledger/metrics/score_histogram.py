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

Counts are held as float64 (exact integers below 2**53). With weights, the float64 sums of the
weights per bin are kept (the float method of records made by earlier versions, which
recompute by it)
beside their exact sums (:class:`~bias_ledger.metrics.exact_cells.ExactCells`), which
:mod:`bias_ledger.metrics.scores` rounds once per bin: every engine gives the same bits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.metrics.exact_cells import ExactCells
from bias_ledger.metrics.exact_sum import ExactSums
from bias_ledger.metrics.score_bins import (
    MAX_BINS,
    Binning,
    bin_exponent,
    calibration_edges,
    lookup_table,
)

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

CALIBRATION_BINS = 10


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
        self.row_coarse: Floats | None = None
        """With weights: :attr:`coarse` counting rows, not weights (counts count rows)."""
        self.fine_weights: ExactCells | None = None
        """With weights: the exact weight sums of :attr:`fine`, by its flat index."""
        self.coarse_weights: ExactCells | None = None
        """With weights: the exact weight sums of :attr:`coarse`, by its flat index."""
        self._cache: dict[str, Any] = {}
        """Lookup tables of the current bins (cleared whenever the bins change)."""

    @property
    def groups(self) -> int:
        return int(self.fine.shape[0])

    def _grow(self, groups: int) -> None:
        if groups > self.groups:
            pad = groups - self.groups
            self.fine = np.concatenate([self.fine, np.zeros((pad, *self.fine.shape[1:]))])
            self.coarse = np.concatenate([self.coarse, np.zeros((pad, *self.coarse.shape[1:]))])
            if self.row_coarse is not None:
                shape = (pad, *self.row_coarse.shape[1:])
                self.row_coarse = np.concatenate([self.row_coarse, np.zeros(shape)])

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
        positions = self._add_fine(codes, label, scores, weights)
        keys = self._coarse_at(positions, scores)
        width = self.coarse.shape[2]
        index = (codes * (self.calibration_bins * width) + keys) * 2 + label
        counts = np.bincount(index, weights=weights, minlength=self.coarse.size)
        self.coarse += counts.reshape(self.coarse.shape)
        if weights is not None:
            if self.row_coarse is None:
                self.row_coarse = np.zeros(self.coarse.shape)
            rows = np.bincount(index, minlength=self.coarse.size)
            self.row_coarse += rows.reshape(self.coarse.shape)
            fine = (codes * self.fine.shape[1] + positions) * 2 + label
            self._exact_weights(fine, index).add_values(weights)
        cells = codes * self.calibration_bins + keys // width
        self.score_sums.add(cells, scores if weights is None else scores * weights)

    def _add_fine(self, codes: Ints, label: Ints, scores: Floats, weights: Floats | None) -> Ints:
        """Add rows to the fine histogram; returns their fine bins."""
        self.low = min(self.low, float(scores.min()))
        self.high = max(self.high, float(scores.max()))
        if self.binning.distinct:
            positions = self._lookup(scores)
            if positions is None:
                merged = self._distinct_values(scores)
                if merged is not None:
                    self._reindex(np.searchsorted(merged, self.values), len(merged))
                    self.values = merged
                    positions = self._lookup(scores)
            if positions is not None:
                self._bincount(codes, positions, label, weights)
                return positions
            self._to_bins()
        self._rebin()
        k = np.floor(np.ldexp(scores, -self.binning.exponent)).astype(np.int64)
        positions = k - self.binning.first
        self._bincount(codes, positions, label, weights)
        return positions

    def _lookup(self, scores: Floats) -> Ints | None:
        """Each score's position among the distinct values, or None if one is not there."""
        values = self.values
        if len(values) == 0:
            return None
        if "lookup" not in self._cache:
            self._cache["lookup"] = lookup_table(values)
        table = self._cache["lookup"]
        if table is None:
            positions = np.minimum(np.searchsorted(values, scores), len(values) - 1)
        else:
            exponent, first, lut = table
            k = np.floor(np.ldexp(scores, -exponent)) - (first - 1)
            positions = lut[np.clip(k, 0, len(lut) - 1).astype(np.int64)]
        found = (positions >= 0) & (values[np.maximum(positions, 0)] == scores)
        return positions.astype(np.int64) if found.all() else None

    def _coarse_at(self, positions: Ints, scores: Floats) -> Ints:
        """``calibration bin * (thresholds + 1) + thresholds reached`` of each row, from
        per-bin tables; rows in a bin that an edge or threshold cuts are placed one by one."""
        width = len(self.thresholds) + 1
        if "coarse" not in self._cache:
            if self.binning.distinct:
                calibration, reached = self.coarse_keys(self.values)
                self._cache["coarse"] = (calibration * width + reached, None)
            else:
                self._cache["coarse"] = self._bin_tables(width)
        keys, cut = self._cache["coarse"]
        out: Ints = keys[positions]
        if cut is not None:
            rows = np.flatnonzero(cut[positions])
            if len(rows):
                calibration, reached = self.coarse_keys(scores[rows])
                out[rows] = calibration * width + reached
        return out

    def _bin_tables(self, width: int) -> tuple[Ints, npt.NDArray[np.bool_]]:
        binning = self.binning
        k = binning.first + np.arange(self.fine.shape[1] + 1, dtype=np.float64)
        starts = np.ldexp(k, binning.exponent)
        calibration, reached = self.coarse_keys(starts[:-1])
        cut = np.zeros(len(starts) - 1, dtype=bool)
        for marks in (calibration_edges(self.calibration_bins), self.thresholds):
            if len(marks):
                # A bin [start, end) holding a mark has rows on both sides of it.
                after = np.searchsorted(marks, starts[:-1], side="left")
                inside = np.minimum(after, len(marks) - 1)
                cut |= (after < len(marks)) & (marks[inside] < starts[1:])
        return calibration * width + reached, cut

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

    def _exact_weights(self, fine: Ints, coarse: Ints) -> _Exact:
        if self.fine_weights is None or self.coarse_weights is None:
            self.fine_weights, self.coarse_weights = ExactCells(), ExactCells()
        return _Exact(self.fine_weights, self.coarse_weights, fine, coarse)

    def _reindex(self, targets: Ints, width: int) -> None:
        """Move the fine bins to positions ``targets`` of ``width`` bins (merging equal ones)."""
        if self.fine_weights is not None:
            old = 2 * self.fine.shape[1]

            def to(cells: Ints) -> Ints:
                group, rest = np.divmod(cells, old)
                moved: Ints = (group * width + targets[rest // 2]) * 2 + rest % 2
                return moved

            self.fine_weights = self.fine_weights.moved(to)
        groups = np.arange(self.groups, dtype=np.int64)[:, None, None]
        index = (groups * width + targets[None, :, None]) * 2 + np.arange(2)[None, None, :]
        size = self.groups * width * 2
        self._cache = {}
        out = np.bincount(index.ravel(), weights=self.fine.ravel(), minlength=size)
        self.fine = out.reshape(self.groups, width, 2).astype(np.float64)

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
        if self.fine_weights is not None or other.fine_weights is not None:
            raise ValueError("weighted histograms are built whole, not merged")
        self._grow(other.groups)
        self.coarse[: other.groups] += other.coarse
        if other.row_coarse is not None:
            if self.row_coarse is None:
                self.row_coarse = np.zeros(self.coarse.shape)
            self.row_coarse[: other.groups] += other.row_coarse
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
        fine_keys: npt.NDArray[np.float64] | npt.NDArray[np.int64],
        calibration: Ints,
        reached: Ints,
        counts: Floats,
        weights: tuple[Ints, list[int]] | None = None,
    ) -> None:
        """Add an SQL engine's aggregated cells (fine key: the score in distinct mode, else
        the absolute bin ``k``; binning set beforehand with :meth:`set_binning`) of ``counts``
        rows each; with ``weights``, (scales, integers): each cell's exact weight sum is
        ``integer * 2**scale``."""
        codes = np.asarray(codes, dtype=np.int64)
        label = np.asarray(y_true, dtype=np.int64)
        self._grow(int(codes.max()) + 1 if len(codes) else 0)
        shape = self.coarse.shape
        index = ((codes * shape[1] + calibration) * shape[2] + reached) * 2 + label
        if self.binning.distinct:
            bins = np.searchsorted(self.values, fine_keys)
        else:
            bins = fine_keys.astype(np.int64) - self.binning.first
        if weights is not None:
            if self.row_coarse is None:
                self.row_coarse = np.zeros(shape)
            self.row_coarse += np.bincount(
                index, weights=counts, minlength=self.coarse.size
            ).reshape(shape)
            scales, integers = weights
            fine = (codes * self.fine.shape[1] + bins) * 2 + label
            self._exact_weights(fine, index).add_integers(scales, integers)
            # The float sums only the float method reads (which SQL engines never ran).
            counts = np.ldexp(np.asarray(integers, dtype=np.float64), scales)
        self.coarse += np.bincount(index, weights=counts, minlength=self.coarse.size).reshape(shape)
        self._bincount(codes, bins, label, counts)

    def set_binning(self, low: float, high: float, values: Floats | None) -> None:
        """Fix the fine bins from the whole data's range and distinct values (SQL engines):
        ``values`` when there are at most ``max_distinct``, else None."""
        self.low, self.high = low, high
        self._cache = {}
        if values is not None:
            self.values = np.unique(np.asarray(values, dtype=np.float64) + 0.0)
            self.fine = np.zeros((self.groups, len(self.values), 2))
            return
        exponent = bin_exponent(low, high, self.max_bins)
        first = math.floor(math.ldexp(low, -exponent))
        last = math.floor(math.ldexp(high, -exponent))
        self.binning = Binning(distinct=False, exponent=exponent, first=first)
        self.fine = np.zeros((self.groups, last - first + 1, 2))


class _Exact:
    """Rows' fine and coarse cells, to add their weights to both exact accumulators."""

    def __init__(self, fine: ExactCells, coarse: ExactCells, fine_cells: Ints, cells: Ints) -> None:
        self.fine, self.coarse, self.fine_cells, self.cells = fine, coarse, fine_cells, cells

    def add_values(self, weights: Floats) -> None:
        self.fine.add(self.fine_cells, weights)
        self.coarse.add(self.cells, weights)

    def add_integers(self, scales: Ints, integers: list[int]) -> None:
        self.fine.add_integers(self.fine_cells, scales, integers)
        self.coarse.add_integers(self.cells, scales, integers)
