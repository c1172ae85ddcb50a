"""Score, regression and weighted audits on the streaming engine, batch by batch.

Each batch's rows are keyed by their combination of the grouped columns (label, prediction
and sensitive features; the sensitive features alone for regression) and added to the
accumulators of that combination: a score histogram (:class:`ScoreHistogram`), regression
sums (:class:`RegressionSums`), exact sums of the weights. Memory is bounded by the batch
size and the number of combinations, not by the rows. At the end the combinations are
validated and encoded as every engine's aggregated rows are
(:func:`bias_ledger.engines.aggregated.audit_data`) and the accumulators regrouped from
combinations to intersection groups: the same numbers as reading the columns whole.

Missing values without ``--drop-missing`` are counted over the whole input and named with
their rows as the row reader names them (the column is read again to find them). A value only
the row reader describes (a column of the wrong type, an infinite score or regression value,
a bad weight) raises :class:`Reread`: the engine then reads the columns whole, whose checks
name the file, column and rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.engines.aggregated import ROWS_COLUMN, audit_data, encode_groups
from bias_ledger.engines.arrow_batches import limits, without_nan
from bias_ledger.io.arrays import bool_values, float_values
from bias_ledger.io.columns import Located
from bias_ledger.io.kernels import cast
from bias_ledger.io.model import AuditData, ColumnMapping, InputFile
from bias_ledger.io.stream_index import CombinationIndex
from bias_ledger.metrics._cells import Precomputed, intersection
from bias_ledger.metrics.exact_cells import ExactCells
from bias_ledger.metrics.exact_sum import UNIT_BITS, ExactSums
from bias_ledger.metrics.model import Task
from bias_ledger.metrics.regression_sums import RegressionSums
from bias_ledger.metrics.score_histogram import ScoreHistogram
from bias_ledger.metrics.weights import WeightParts, bad_weights
from bias_ledger.wording import counted

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
HISTOGRAM_ROWS = 1 << 20
"""Rows held before they are added to the score histogram (as the in-memory path batches)."""
SELECTED = "__bias_ledger_selected"
"""With ``--score`` and ``--threshold`` but no prediction column: ``score >= threshold``."""
DROPPED = "dropped {} rows with a missing label, prediction or score"


class Reread(Exception):
    """A value the streaming checks do not describe: read the columns whole for the message."""


def counts_statistics(mapping: ColumnMapping) -> bool:
    """Whether an audit needs this module (else rows per combination are all it needs)."""
    return (
        mapping.score is not None or mapping.task is Task.REGRESSION or mapping.weight is not None
    )


def value_columns(mapping: ColumnMapping) -> list[str]:
    """The columns read besides the grouped ones: score and weight."""
    return [name for name in (mapping.score, mapping.weight) if name is not None]


def grouped_columns(mapping: ColumnMapping) -> list[str]:
    if mapping.task is Task.REGRESSION:
        return list(dict.fromkeys(mapping.sensitive))
    names = [mapping.label, mapping.prediction, *mapping.sensitive]
    return list(dict.fromkeys(name for name in names if name is not None))


def _numeric(kind: Any, decimal: bool = False) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        return False
    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or (decimal and pa.types.is_decimal(kind))
    )


class TaskCounter:
    """The accumulators of one audit's batches (the streaming engine's counter)."""

    def __init__(self, mapping: ColumnMapping, thresholds: Sequence[float]) -> None:
        self.mapping = mapping
        self.grouped = grouped_columns(mapping)
        if mapping.score is not None and mapping.prediction is None:
            self.grouped.append(SELECTED)
        self.index = CombinationIndex(self.grouped, limits(mapping, self.grouped))
        self.rows = 0
        """Rows read (before any were dropped)."""
        self.dropped = 0
        self.regression = RegressionSums() if mapping.task is Task.REGRESSION else None
        self.histogram: ScoreHistogram | None = None
        if mapping.score is not None:
            self.histogram = ScoreHistogram(np.asarray(thresholds, dtype=np.float64))
        self.weights = ExactSums() if mapping.weight is not None else None
        # The score histogram is keyed by (label, sensitive values): not by prediction.
        self._keyed = [i for i, name in enumerate(self.grouped) if name not in self._unkeyed()]
        self._hist_ids: dict[tuple[int, ...], int] = {}
        self._hist_of: list[int] = []
        self.checked = False
        self.missing: dict[str, int] = {}
        """Without --drop-missing: missing values per column (the audit then fails)."""
        self._held: list[tuple[Ints, Floats, Floats | None]] = []
        self._held_rows = 0

    def _unkeyed(self) -> set[str]:
        mapping = self.mapping
        unkeyed = {SELECTED}
        if mapping.prediction is not None and mapping.prediction != mapping.label:
            unkeyed.add(mapping.prediction)
        return unkeyed

    def _needed(self) -> list[str]:
        mapping = self.mapping
        names = [mapping.label, mapping.prediction, mapping.score]
        return list(dict.fromkeys(name for name in names if name is not None))

    def _check_types(self, batch: Any) -> None:
        mapping = self.mapping
        numeric = [mapping.score] if mapping.score is not None else []
        if mapping.task is Task.REGRESSION:
            numeric += [mapping.label, mapping.prediction or mapping.label]
        for name in numeric:
            if not _numeric(batch.schema.field(name).type):
                raise Reread(name)
        if mapping.weight is not None and not _numeric(
            batch.schema.field(mapping.weight).type, decimal=True
        ):
            raise Reread(mapping.weight)
        self.checked = True

    def add(self, batch: Any) -> None:
        import pyarrow as pa

        self.rows += len(batch)
        if not self.checked:
            self._check_types(batch)
        needed = self._needed()
        batch = without_nan(batch, needed)
        present = np.ones(len(batch), dtype=bool)
        for name in needed:
            column = batch.column(name)
            if column.null_count:
                present &= ~bool_values(column.is_null())
        if not present.all():
            if not self.mapping.drop_missing:
                # Counted over the whole input, for the message (nothing else is needed).
                for name in needed:
                    self.missing[name] = self.missing.get(name, 0) + batch.column(name).null_count
                return
            self.dropped += int(len(present) - present.sum())
            batch = batch.filter(pa.array(present))
        if len(batch) == 0:
            return
        mapping = self.mapping
        scores = float_values(batch.column(mapping.score)) if mapping.score is not None else None
        if scores is not None and not np.isfinite(scores).all():
            raise Reread(mapping.score)
        weights = None
        if mapping.weight is not None:
            weights = float_values(batch.column(mapping.weight))
            if bad_weights(weights).any():
                raise Reread(mapping.weight)
        if SELECTED in self.grouped:
            assert scores is not None and mapping.threshold is not None
            # From the bytes, cast: pa.array of a numpy array imports pandas (~0.4 s).
            above = np.ascontiguousarray(scores >= mapping.threshold).view(np.uint8)
            flags = pa.Array.from_buffers(pa.uint8(), len(above), [None, pa.py_buffer(above)])
            selected = cast(flags, pa.bool_())
            batch = pa.RecordBatch.from_arrays(
                [*batch.columns, selected], names=[*batch.schema.names, SELECTED]
            )
        ids = self.index.add(batch)
        if self.weights is not None:
            assert weights is not None
            self.weights.add(ids, weights)
        if self.regression is not None:
            assert mapping.prediction is not None
            label = float_values(batch.column(mapping.label))
            prediction = float_values(batch.column(mapping.prediction))
            if not (np.isfinite(label).all() and np.isfinite(prediction).all()):
                raise Reread(mapping.label)
            self.regression.add(ids, label, prediction, weights)
        if self.histogram is not None:
            assert scores is not None
            self._held.append((self._histogram_ids()[ids], scores, weights))
            self._held_rows += len(ids)
            if self._held_rows >= HISTOGRAM_ROWS:
                self._flush()

    def _flush(self) -> None:
        """Add the held rows to the histogram: one bincount per statistic for many batches
        (each costs time in proportion to the histogram's size, whatever the rows)."""
        if not self._held:
            return
        assert self.histogram is not None
        keys = np.concatenate([item[0] for item in self._held])
        scores = np.concatenate([item[1] for item in self._held])
        parts = [item[2] for item in self._held if item[2] is not None]
        weights: Floats | None = np.concatenate(parts) if parts else None
        self._held, self._held_rows = [], 0
        self.histogram.add(keys, np.zeros(len(keys), dtype=bool), scores, weights)

    def _histogram_ids(self) -> Ints:
        for key in self.index.codes[len(self._hist_of) :]:
            part = tuple(key[i] for i in self._keyed)
            self._hist_of.append(self._hist_ids.setdefault(part, len(self._hist_ids)))
        return np.asarray(self._hist_of, dtype=np.int64)

    def table(self, count_column: str) -> Any:
        self._flush()
        return self.index.table(count_column)


def _regrouped_histogram(
    histogram: ScoreHistogram, group_of: Ints, label_of: Ints, groups: int
) -> ScoreHistogram:
    """The histogram keyed by combination (label slot 0) as one keyed by intersection group,
    each combination's rows under its group and label."""
    out = ScoreHistogram(histogram.thresholds, calibration_bins=histogram.calibration_bins)
    out.max_bins, out.max_distinct = histogram.max_bins, histogram.max_distinct
    out.low, out.high = histogram.low, histogram.high
    out.binning, out.values = histogram.binning, histogram.values
    fine = np.zeros((groups, *histogram.fine.shape[1:]))
    coarse = np.zeros((groups, *histogram.coarse.shape[1:]))
    for combo in range(min(len(group_of), histogram.groups)):
        fine[group_of[combo], :, label_of[combo]] += histogram.fine[combo, :, 0]
        coarse[group_of[combo], :, :, label_of[combo]] += histogram.coarse[combo, :, :, 0]
    out.fine, out.coarse = fine, coarse
    if histogram.row_coarse is not None:
        rows = np.zeros(coarse.shape)
        for combo in range(min(len(group_of), histogram.groups)):
            rows[group_of[combo], :, :, label_of[combo]] += histogram.row_coarse[combo, :, :, 0]
        out.row_coarse = rows
    if histogram.fine_weights is not None and histogram.coarse_weights is not None:
        out.fine_weights = _by_group(histogram.fine_weights, fine[0].size, group_of, label_of)
        out.coarse_weights = _by_group(histogram.coarse_weights, coarse[0].size, group_of, label_of)
    bins = histogram.calibration_bins
    mapping = np.zeros(max(histogram.score_sums.cells // bins, len(group_of)), dtype=np.int64)
    mapping[: len(group_of)] = group_of
    out.score_sums = histogram.score_sums.regrouped(mapping.tolist(), bins, groups * bins)
    return out


def _by_group(cells: ExactCells, block: int, group_of: Ints, label_of: Ints) -> ExactCells:
    """Exact sums by combination (label slot 0 of ``block`` cells each) moved to their
    intersection group and label."""

    def to(cell: Ints) -> Ints:
        combo, rest = np.divmod(cell, block)
        moved: Ints = group_of[combo] * block + rest + label_of[combo]
        return moved

    return cells.moved(to)


def _weight_parts(sums: ExactSums, size: int) -> WeightParts:
    integers = np.empty(size, dtype=object)
    integers[:] = [sums.units(cell) for cell in range(size)]
    return WeightParts(integers=integers, exponents=np.full(size, -UNIT_BITS, dtype=np.int64))


def _check_missing(
    counter: TaskCounter, files: Mapping[str, Any], locate: Callable[[Located, Ints], str]
) -> None:
    """InputError for the first column (label, prediction, score) missing values, as the
    row reader words it, its rows found by reading the column again."""
    import pyarrow as pa

    from bias_ledger.errors import InputError

    mapping = counter.mapping
    roles = [(mapping.label, "label"), (mapping.prediction, "prediction"), (mapping.score, "score")]
    for name, role in roles:
        count = counter.missing.get(name or "", 0)
        if name is None or not count:
            continue
        column = Located(name, pa.chunked_array([pa.nulls(1)]), files[name])
        raise InputError(
            f"{files[name]}: {role} column {name!r} has {counted(count, 'missing value')}, in "
            f"{locate(column, np.zeros(1, dtype=np.int64))}; expected a value on every row "
            "(pass --drop-missing to drop those rows)"
        )


def finish(
    counter: TaskCounter,
    table: Any,
    *,
    source: str,
    inputs: Sequence[InputFile],
    files: Mapping[str, Any],
    locate: Callable[[Located, Ints], str],
) -> AuditData:
    """The audit's input from a counter's combinations ``table`` and accumulators."""
    mapping = counter.mapping
    _check_missing(counter, files, locate)
    dropped = counter.dropped
    warnings: tuple[str, ...] = (DROPPED.format(dropped),) if dropped else ()
    if not table.num_rows:
        from bias_ledger.errors import InputError

        raise InputError("no rows left after dropping rows with a missing label or prediction")
    if counter.regression is not None:
        rows = np.asarray(table.column(ROWS_COLUMN).to_pylist(), dtype=np.int64)
        sensitive, notes = encode_groups(table, rows, mapping, source, files, locate)
        grouping = intersection(sensitive)
        sums = counter.regression.regrouped(grouping.codes.tolist(), len(grouping.groups))
        return AuditData(
            y_true=np.empty(0),
            y_pred=np.empty(0),
            score=None,
            sensitive=tuple(sensitive),
            inputs=tuple(inputs),
            rows=int(rows.sum()),
            dropped_rows=dropped,
            warnings=warnings + notes,
            positive_label="",
            task=mapping.task,
            statistics=Precomputed(groups=grouping.groups, regression=sums),
        )
    counted = mapping
    if SELECTED in counter.grouped:
        counted = dataclasses.replace(mapping, prediction=mapping.label)
    sample_weight = None
    if counter.weights is not None:
        sample_weight = _weight_parts(counter.weights, table.num_rows)
    data = audit_data(
        table,
        dataclasses.replace(counted, weight=None),
        source=source,
        inputs=inputs,
        files=files,
        locate=locate,
    )
    data = dataclasses.replace(data, sample_weight=sample_weight)
    if mapping.prediction is not None and mapping.threshold is not None:
        warnings += (
            f"threshold {mapping.threshold} ignored: predictions come from column "
            f"{mapping.prediction!r}",
        )
    statistics = None
    y_pred = data.y_pred
    if counter.histogram is not None:
        grouping = intersection(data.sensitive)
        hist_of = counter._histogram_ids()
        size = int(hist_of.max()) + 1 if len(hist_of) else 0
        group_of = np.zeros(size, dtype=np.int64)
        label_of = np.zeros(size, dtype=np.int64)
        group_of[hist_of] = grouping.codes
        label_of[hist_of] = np.asarray(data.y_true, dtype=np.int64)
        histogram = _regrouped_histogram(
            counter.histogram, group_of, label_of, len(grouping.groups)
        )
        statistics = Precomputed(groups=grouping.groups, scores=histogram)
        if SELECTED in counter.grouped:
            y_pred = bool_values(table.column(SELECTED))
    return dataclasses.replace(
        data,
        y_pred=y_pred,
        rows=data.rows,
        dropped_rows=dropped,
        warnings=warnings + data.warnings,
        statistics=statistics,
    )
