"""Score and regression audits on an SQL engine: the engine aggregates, Python finishes.

The queries (:mod:`bias_ledger.engines.statistics_sql`) return per-group score histogram cells,
exact calibration sums and exact regression sums; they are validated and encoded as the
aggregated binary rows are (:mod:`bias_ledger.engines.aggregated`) and handed to the metric
code as :class:`~bias_ledger.metrics._cells.Precomputed` statistics, the very accumulators the
arrow engine fills row batch by row batch, so every engine gives identical results.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.engines import statistics_sql as sql
from bias_ledger.engines.aggregated import (
    EXPONENT_COLUMN,
    MANTISSA_COLUMN,
    ROWS_COLUMN,
    audit_data,
    weight_sql,
)
from bias_ledger.engines.sql_input import (
    SqlInput,
    codes_by_name,
    integers,
    numeric,
    one,
    profile,
    sensitive_columns,
)
from bias_ledger.errors import InputError
from bias_ledger.io.arrays import arrow_integers, bool_values, float_values, int_values
from bias_ledger.io.model import AuditData, ColumnMapping
from bias_ledger.metrics._cells import Precomputed, intersection
from bias_ledger.metrics._rowgroups import RowGrouping
from bias_ledger.metrics.exact_sum import ExactSums
from bias_ledger.metrics.model import SensitiveColumn, Task
from bias_ledger.metrics.regression_sums import QUANTITIES, RegressionSums
from bias_ledger.metrics.score_bins import MAX_BINS
from bias_ledger.metrics.score_histogram import CALIBRATION_BINS, ScoreHistogram

SELECTED = "__bias_ledger_selected"
_FINE, _CALIBRATION, _REACHED = "__bias_ledger_fine", "__bias_ledger_cal", "__bias_ledger_reached"


def regression_audit(source: SqlInput, mapping: ColumnMapping) -> AuditData:
    """A regression audit's sums per intersection group, computed by the engine."""
    assert mapping.prediction is not None
    label, prediction = mapping.label, mapping.prediction
    roles = [(label, "label"), (prediction, "prediction")]
    for name, role in roles:
        numeric(source, name, role)
    q = source.dialect.identifier
    weight = q(mapping.weight) if mapping.weight is not None else None
    scan = profile(
        source,
        mapping,
        dropped=[(label, "label"), (prediction, "prediction")],
        needed=[label, prediction],
        finite=[(sql.as_double(q(name)), name, role) for name, role in roles],
        # The ranges of unweighted quantities in this scan; weighted, once the weights pass.
        extra=lambda _: () if weight else sql.regression_ranges(q(label), q(prediction)),
    )
    total, kept, where = scan.rows, scan.kept, scan.drop
    dropped = total - kept
    if kept == 0:
        raise InputError("no rows left after dropping rows with a missing label or prediction")
    if mapping.weight is not None:
        from bias_ledger.engines.aggregated import check_sql_weights

        check_sql_weights(
            source.run,
            source.source,
            where,
            mapping.weight,
            q,
            source.where,
            source.dialect.nan,
            source.weights_named,
        )
    ranges = scan.found
    if weight is not None:
        items = sql.regression_ranges(q(label), q(prediction), weight)
        aggregates = ", ".join(f"{aggregate} AS {alias}" for alias, aggregate in items)
        ranges = one(source, f"SELECT {aggregates} FROM {source.source} {where}")
    plans = limb_plans(ranges, weight is not None)
    found = (
        _exponent_sums(source, mapping, q(label), q(prediction), where, weight)
        if plans is None
        else _limb_sums(source, mapping, q(label), q(prediction), where, weight, plans)
    )
    warnings = found.warnings
    if dropped:
        warnings = (f"dropped {dropped} rows with a missing label, prediction or score", *warnings)
    return AuditData(
        y_true=np.empty(0),
        y_pred=np.empty(0),
        score=None,
        sensitive=tuple(found.sensitive),
        inputs=tuple(source.inputs(total)),
        rows=kept,
        dropped_rows=dropped,
        warnings=warnings,
        positive_label="",
        task=mapping.task,
        statistics=Precomputed(groups=found.grouping.groups, regression=found.sums),
    )


@dataclasses.dataclass(frozen=True)
class _GroupSums:
    """A regression query's groups and their sums."""

    sensitive: list[SensitiveColumn]
    warnings: tuple[str, ...]
    grouping: RowGrouping
    sums: RegressionSums


def limb_plans(ranges: Mapping[str, Any], weighted: bool) -> list[sql.LimbPlan] | None:
    """A fixed-point plan per quantity from the scan's ranges (:func:`sql.regression_ranges`),
    or None when some quantity's values take the exponent-keyed query (a value that is not
    finite, or too wide a range of them)."""
    plans: dict[int, sql.LimbPlan] = {}
    for k in range(len(QUANTITIES) + weighted):
        if k == sql.SAME_MAGNITUDE[0]:
            continue
        largest = float(ranges[f"hi_{k}"] or 0)  # NULL: no values, no limbs
        plan = sql.limb_plan(ranges[f"lo_{k}"], largest) if math.isfinite(largest) else None
        if plan is None:
            return None
        plans[k] = plan
    absolute, residual = sql.SAME_MAGNITUDE
    plans[absolute] = plans[residual]
    return [plans[k] for k in sorted(plans)]


def _add(sums: RegressionSums, code: int, k: int, integer: int, exponent: int) -> None:
    """Add a partial sum of quantity ``k`` (``len(QUANTITIES)``: the weight) to a group."""
    if k == len(QUANTITIES):  # the weights' own sum (--weight)
        assert sums.weights is not None
        sums.weights.add_scaled(code, integer, exponent)
    else:
        sums.sums.add_scaled(code * len(QUANTITIES) + k, integer, exponent)


def _limb_sums(
    source: SqlInput,
    mapping: ColumnMapping,
    label: str,
    prediction: str,
    where: str,
    weight: str | None,
    plans: Sequence[sql.LimbPlan],
) -> _GroupSums:
    """The sums from one row per group of fixed-point limb sums (:class:`sql.LimbPlan`)."""
    table = source.run(
        sql.regression_limb_sums(
            source.dialect,
            source.source,
            mapping.sensitive,
            label,
            prediction,
            where,
            plans,
            weight,
        )
    )
    rows = integers(table, "n")
    sensitive, warnings = sensitive_columns(table, mapping, rows, source.where)
    grouping = intersection(sensitive)
    codes = codes_by_name(table, mapping, grouping.groups, source.where).tolist()
    sums = RegressionSums()
    sums.add_rows(np.asarray(codes, dtype=np.int64), rows)
    if weight is not None:
        sums.weights = ExactSums()
    for k, plan in enumerate(plans):
        for i in range(plan.limbs):
            exponent = plan.exponent(i)
            for code, total in zip(codes, table.column(f"m_{k}_{i}").to_pylist(), strict=True):
                _add(sums, code, k, int(total), exponent)
    return _GroupSums(sensitive, warnings, grouping, sums)


def _exponent_sums(
    source: SqlInput,
    mapping: ColumnMapping,
    label: str,
    prediction: str,
    where: str,
    weight: str | None,
) -> _GroupSums:
    """The sums from rows of (group, quantity, exponent) mantissa sums: any finite or
    non-finite values (:func:`sql.regression_sums`)."""
    table = source.run(
        sql.regression_sums(
            source.dialect, source.source, mapping.sensitive, label, prediction, where, weight
        )
    )
    quantity, rows = integers(table, "q"), integers(table, "n")
    firsts = np.flatnonzero(quantity == 0)
    counted = table.take(arrow_integers(firsts))  # numpy indices would import pandas
    sensitive, warnings = sensitive_columns(counted, mapping, rows[firsts], source.where)
    grouping = intersection(sensitive)
    codes = codes_by_name(table, mapping, grouping.groups, source.where)
    sums = RegressionSums()
    sums.add_rows(codes[firsts], rows[firsts])
    exponents, totals = integers(table, "x"), table.column("m").to_pylist()
    if weight is not None:
        sums.weights = ExactSums()
    for code, q_index, x, m in zip(
        codes.tolist(), quantity.tolist(), exponents.tolist(), totals, strict=True
    ):
        if x == sql.NONFINITE:  # a row's value overflowed (a squared error above 1.8e308)
            sums.sums.mark_nonfinite(code * len(QUANTITIES) + q_index)
            continue
        _add(sums, code, q_index, int(m), x - sql.MANTISSA_BITS)
    return _GroupSums(sensitive, warnings, grouping, sums)


def _distinct_scores(
    source: SqlInput, score: str, kept: str, estimate: int, max_distinct: int
) -> npt.NDArray[np.float64] | None:
    """The distinct scores of the kept rows, when there are at most ``max_distinct``."""
    # The sketch only rules out counts it is far above; the exact count decides.
    if estimate > 2 * max_distinct:
        return None
    table = source.run(f"SELECT DISTINCT {score} AS v FROM {source.source} WHERE {kept}")
    if table.num_rows > max_distinct:
        return None
    return float_values(table.column("v"))


def score_audit(
    source: SqlInput,
    mapping: ColumnMapping,
    *,
    thresholds: Sequence[float],
    max_distinct: int = MAX_BINS,
) -> AuditData:
    """Binary counts and per-group score histograms, computed by the engine."""
    assert mapping.score is not None
    numeric(source, mapping.score, "score")
    q = source.dialect.identifier
    score = sql.as_double(q(mapping.score))
    roles = [mapping.label] + ([mapping.prediction] if mapping.prediction else [])
    needed = [mapping.score, *roles]
    kept = " AND ".join(f"{q(name)} IS NOT NULL" for name in needed)

    def ranges(kept: str) -> list[tuple[str, str]]:
        value = f"CASE WHEN {kept} THEN {score} END"
        found = [
            ("lo", f"min({value})"),
            ("hi", f"max({value})"),
            ("d", f"approx_count_distinct({value})"),
        ]
        if mapping.weight is None:
            # A bound for the calibration sums' limbs (dropped rows too: sql.regression_ranges);
            # weighted sums take the exponent query, which needs none.
            found.append(("nonzero", f"min(CASE WHEN {score} <> 0 THEN abs({score}) END)"))
        return found

    scan = profile(
        source,
        mapping,
        dropped=[(mapping.score, "score")],
        checked=[(mapping.label, "label")]
        + ([(mapping.prediction, "prediction")] if mapping.prediction else []),
        needed=needed,
        finite=[(score, mapping.score, "score")],
        extra=ranges,
    )
    total, drop = scan.rows, scan.drop
    if scan.found["lo"] is None:
        raise InputError("no rows left after dropping rows with a missing label or prediction")
    low, high = float(scan.found["lo"]), float(scan.found["hi"])
    histogram = ScoreHistogram(np.asarray(thresholds, dtype=np.float64), max_distinct=max_distinct)
    values = _distinct_scores(source, score, kept, int(scan.found["d"]), max_distinct)
    histogram.set_binning(low, high, values)
    binning = histogram.binning
    extra = [
        (sql.fine_key(score, binning.distinct, binning.exponent), _FINE),
        (sql.calibration_bin(score, CALIBRATION_BINS), _CALIBRATION),
        (sql.thresholds_reached(score, histogram.thresholds), _REACHED),
    ]
    counted = mapping
    if mapping.prediction is None:
        assert mapping.threshold is not None
        extra.append((f"({score} >= {sql.double(mapping.threshold)})", SELECTED))
        counted = dataclasses.replace(mapping, prediction=mapping.label)
    columns = [q(name) for name in dict.fromkeys([*roles, *mapping.sensitive])]
    weight = None
    if mapping.weight is not None:
        # Bad weights are named as the binary path names them (audit_data, on the cells).
        parts = weight_sql(q(mapping.weight), q, source.dialect.nan)
        weight = (parts, q(EXPONENT_COLUMN), q(MANTISSA_COLUMN))
    query = sql.score_cells(source.source, columns, extra, q(ROWS_COLUMN), drop, weight)
    table = source.run(query)
    data = audit_data(table, counted, source=source.where, inputs=source.inputs(total))
    keep = np.ones(table.num_rows, dtype=bool)
    for name in roles:
        keep &= ~bool_values(table.column(name).is_null())
    weights = int_values(table.column(ROWS_COLUMN))[keep]
    grouping = intersection(data.sensitive)
    fine_column = table.column(_FINE)
    fine = (
        float_values(fine_column) if binning.distinct else int_values(fine_column, missing_ok=True)
    )
    histogram.add_cells(
        grouping.codes,
        data.y_true,
        fine[keep],
        integers(table, _CALIBRATION)[keep],
        integers(table, _REACHED)[keep],
        weights.astype(np.float64),
        _weight_cells(data) if mapping.weight is not None else None,
    )
    if low >= 0 and high <= 1:
        where = f"WHERE {kept}"
        _calibration_sums(source, mapping, score, histogram, grouping.groups, where, scan.found)
    y_pred = data.y_pred
    if mapping.prediction is None:
        y_pred = bool_values(table.column(SELECTED))[keep]
    dropped = total - int(weights.sum())
    warnings = tuple(w for w in data.warnings if not w.startswith("dropped "))
    if dropped:
        warnings = (f"dropped {dropped} rows with a missing label, prediction or score", *warnings)
    return dataclasses.replace(
        data,
        y_pred=y_pred,
        dropped_rows=dropped,
        warnings=warnings,
        statistics=Precomputed(groups=grouping.groups, scores=histogram),
    )


def _calibration_sums(
    source: SqlInput,
    mapping: ColumnMapping,
    score: str,
    histogram: ScoreHistogram,
    groups: Sequence[tuple[str, ...]],
    where: str,
    found: Mapping[str, Any],
) -> None:
    """Add the exact score sums per group and calibration bin: as fixed-point limbs
    (:class:`sql.LimbPlan`) when unweighted and the scores' range (``found``, the profile's
    ``nonzero`` and ``hi``) allows, else per exponent."""
    dialect, sensitive, bins = source.dialect, mapping.sensitive, CALIBRATION_BINS
    plan = None
    if mapping.weight is None:
        plan = sql.limb_plan(found["nonzero"], float(found["hi"] or 0))
    if plan is not None:
        query = sql.calibration_limb_sums(
            dialect, source.source, sensitive, score, bins, where, plan
        )
    else:
        weight = None if mapping.weight is None else dialect.identifier(mapping.weight)
        query = sql.calibration_sums(dialect, source.source, sensitive, score, bins, where, weight)
    sums = source.run(query)
    codes = codes_by_name(sums, mapping, groups, source.where).tolist()
    bins_of = integers(sums, "c").tolist()
    cells = [code * bins + c for code, c in zip(codes, bins_of, strict=True)]
    if plan is not None:
        for i in range(plan.limbs):
            for at, m in zip(cells, sums.column(f"m_{i}").to_pylist(), strict=True):
                histogram.score_sums.add_scaled(at, int(m), plan.exponent(i))
        return
    exponents, totals = integers(sums, "x").tolist(), sums.column("m").to_pylist()
    for at, x, m in zip(cells, exponents, totals, strict=True):
        histogram.score_sums.add_scaled(at, int(m), x - sql.MANTISSA_BITS)


def _weight_cells(data: AuditData) -> tuple[npt.NDArray[np.int64], list[int]]:
    """Each kept cell's exact weight sum, as (scales, integers): ``integer * 2**scale``."""
    parts = data.sample_weight
    assert parts is not None and parts.integers is not None and parts.exponents is not None
    return np.asarray(parts.exponents, dtype=np.int64), [int(value) for value in parts.integers]


def needs_statistics(mapping: ColumnMapping) -> bool:
    """Whether an audit's numbers come from score histograms or regression sums."""
    return mapping.score is not None or mapping.task is Task.REGRESSION


def statistics_audit(
    source: SqlInput, mapping: ColumnMapping, *, thresholds: Sequence[float]
) -> AuditData:
    """The score or regression audit of ``source`` (see :func:`needs_statistics`)."""
    if mapping.task is Task.REGRESSION:
        return regression_audit(source, mapping)
    return score_audit(source, mapping, thresholds=thresholds)
