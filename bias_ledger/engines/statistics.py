"""Score and regression audits on an SQL engine: the engine aggregates, Python finishes.

The queries (:mod:`bias_ledger.engines.statistics_sql`) return per-group score histogram cells,
exact calibration sums and exact regression sums; they are validated and encoded as the
aggregated binary rows are (:mod:`bias_ledger.engines.aggregated`) and handed to the metric
code as :class:`~bias_ledger.metrics._cells.Precomputed` statistics, the very accumulators the
arrow engine fills row batch by row batch, so every engine gives identical results.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.engines import statistics_sql as sql
from bias_ledger.engines.aggregated import ROWS_COLUMN, AggregatedColumn, audit_data
from bias_ledger.errors import InputError
from bias_ledger.io.encode import encode_sensitive
from bias_ledger.io.model import AuditData, ColumnMapping, InputFile
from bias_ledger.io.tables import InMemoryTable
from bias_ledger.metrics._cells import Precomputed, intersection
from bias_ledger.metrics.exact_sum import ExactSums
from bias_ledger.metrics.model import SensitiveColumn, Task
from bias_ledger.metrics.regression_sums import QUANTITIES, RegressionSums
from bias_ledger.metrics.score_histogram import CALIBRATION_BINS, MAX_BINS, ScoreHistogram

SELECTED = "__bias_ledger_selected"
_FINE, _CALIBRATION, _REACHED = "__bias_ledger_fine", "__bias_ledger_cal", "__bias_ledger_reached"
_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INT",
    "BIGINT",
    "HUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "REAL",
    "UBIGINT",
    "UINTEGER",
    "USMALLINT",
    "UTINYINT",
    "LONG",
    "SHORT",
    "BYTE",
)


@dataclass(frozen=True)
class SqlInput:
    """What the statistics need from an engine: a way to run a query and the relation's name."""

    run: Callable[[str], Any]
    """Runs a query, returns a pyarrow Table."""
    source: str
    """The relation to read (a table function, view or subquery)."""
    dialect: sql.Dialect
    where: str
    """The input, as messages name it."""
    types: Mapping[str, str]
    """Column name to its SQL type."""
    inputs: Callable[[int], Sequence[InputFile]]
    """The recorded inputs, given the number of rows read."""


def _numeric(source: SqlInput, name: str, role: str) -> None:
    kind = source.types.get(name, "").upper()
    if not any(kind.startswith(prefix) for prefix in _NUMERIC):
        raise InputError(f"{source.where}: {role} column {name!r} must be numeric; found {kind}")


def _rows_text(count: int) -> str:
    return (
        f"{count} rows (the engine counts rows without numbering them; --engine arrow names them)"
    )


def _one(source: SqlInput, query: str) -> dict[str, Any]:
    table = source.run(query)
    return {name: table.column(name)[0].as_py() for name in table.column_names}


@dataclass(frozen=True)
class _Profile:
    """What one scan of the input says before the aggregation proper."""

    rows: int
    """Rows read."""
    kept: int
    """Rows with every value the audit needs."""
    drop: str
    """The WHERE clause dropping rows with a missing value (empty without --drop-missing)."""
    found: Mapping[str, Any]
    """The extra aggregates, by alias."""


def _profile(
    source: SqlInput,
    mapping: ColumnMapping,
    *,
    dropped: Sequence[tuple[str, str]],
    needed: Sequence[str],
    finite: Sequence[tuple[str, str, str]],
    extra: Callable[[str], Sequence[tuple[str, str]]] = lambda kept: (),
) -> _Profile:
    """Rows, missing values of the ``dropped`` (column, role)s (InputError without
    --drop-missing), and over the rows where every ``needed`` column has a value: non-finite
    ``finite`` (expression, column, role)s and the ``extra`` (alias, aggregate)s, in one scan."""
    q, nonfinite = source.dialect.identifier, source.dialect.nonfinite
    kept = " AND ".join(f"{q(name)} IS NOT NULL" for name in needed)
    items = ["count(*) AS n", f"sum(CASE WHEN {kept} THEN 1 ELSE 0 END) AS kept"]
    items += [f"count(*) - count({q(name)}) AS m{i}" for i, (name, _) in enumerate(dropped)]
    items += [
        f"sum(CASE WHEN {kept} AND {nonfinite(expression)} THEN 1 ELSE 0 END) AS f{i}"
        for i, (expression, _, _) in enumerate(finite)
    ]
    items += [f"{aggregate} AS {alias}" for alias, aggregate in extra(kept)]
    found = _one(source, f"SELECT {', '.join(items)} FROM {source.source}")
    for i, (name, role) in enumerate(dropped):
        count = int(found[f"m{i}"] or 0)
        if count and not mapping.drop_missing:
            raise InputError(
                f"{source.where}: {role} column {name!r} has {count} missing values, in "
                f"{_rows_text(count)}; expected a value on every row (pass --drop-missing to "
                "drop those rows)"
            )
    for i, (_, name, role) in enumerate(finite):
        count = int(found[f"f{i}"] or 0)
        if count:
            raise InputError(
                f"{source.where}: {role} column {name!r} must hold finite numbers; found "
                f"{count} NaN or infinite values in {_rows_text(count)}"
            )
    drop = ""
    if mapping.drop_missing and dropped:
        drop = "WHERE " + " AND ".join(f"{q(name)} IS NOT NULL" for name, _ in dropped)
    return _Profile(int(found["n"]), int(found["kept"] or 0), drop, found)


def _sensitive(
    table: Any, mapping: ColumnMapping, weights: npt.NDArray[np.int64], where: str
) -> tuple[list[SensitiveColumn], tuple[str, ...]]:
    origin = InMemoryTable(name=where, table=table)
    columns: list[SensitiveColumn] = []
    warnings: tuple[str, ...] = ()
    for name in mapping.sensitive:
        located = AggregatedColumn(name, table.column(name), origin, None, weights)
        if located.data.null_count and not mapping.missing_as_group:
            from bias_ledger.io.arrays import bool_values

            count = int(weights[bool_values(located.data.is_null())].sum())
            raise InputError(
                f"{where}: sensitive column {name!r} has {count} missing values; expected a "
                "group for every row (pass --missing-as-group to make them a group of their own)"
            )
        encoded, notes = encode_sensitive(
            located, missing_as_group=mapping.missing_as_group, max_groups=mapping.max_groups
        )
        columns.append(encoded)
        warnings += notes
    return columns, warnings


def _codes_by_name(
    table: Any, mapping: ColumnMapping, groups: Sequence[tuple[str, ...]], where: str
) -> npt.NDArray[np.int64]:
    """Each row's intersection code, matching its sensitive values by name to ``groups``."""
    weights = np.ones(table.num_rows, dtype=np.int64)
    columns, _ = _sensitive(table, mapping, weights, where)
    lookup = {group: code for code, group in enumerate(groups)}
    names = [[column.categories[code] for code in column.codes.tolist()] for column in columns]
    return np.array([lookup[tuple(row)] for row in zip(*names, strict=True)], dtype=np.int64)


def _integers(table: Any, name: str) -> npt.NDArray[np.int64]:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=np.int64)


def regression_audit(source: SqlInput, mapping: ColumnMapping) -> AuditData:
    """A regression audit's sums per intersection group, computed by the engine."""
    assert mapping.prediction is not None
    label, prediction = mapping.label, mapping.prediction
    roles = [(label, "label"), (prediction, "prediction")]
    for name, role in roles:
        _numeric(source, name, role)
    q = source.dialect.identifier
    profile = _profile(
        source,
        mapping,
        dropped=[(label, "label"), (prediction, "prediction")],
        needed=[label, prediction],
        finite=[(sql.as_double(q(name)), name, role) for name, role in roles],
    )
    total, kept, where = profile.rows, profile.kept, profile.drop
    dropped = total - kept
    if kept == 0:
        raise InputError("no rows left after dropping rows with a missing label or prediction")
    weight = q(mapping.weight) if mapping.weight is not None else None
    if mapping.weight is not None:
        from bias_ledger.engines.aggregated import check_sql_weights

        check_sql_weights(source.run, source.source, where, mapping.weight, q, source.where)
    table = source.run(
        sql.regression_sums(
            source.dialect, source.source, mapping.sensitive, q(label), q(prediction), where, weight
        )
    )
    quantity, rows = _integers(table, "q"), _integers(table, "n")
    firsts = np.flatnonzero(quantity == 0)
    counted = table.take(firsts)
    sensitive, warnings = _sensitive(counted, mapping, rows[firsts], source.where)
    grouping = intersection(sensitive)
    codes = _codes_by_name(table, mapping, grouping.groups, source.where)
    sums = RegressionSums()
    sums.add_rows(codes[firsts], rows[firsts])
    exponents, totals = _integers(table, "x"), table.column("m").to_pylist()
    width = len(QUANTITIES)
    if weight is not None:
        sums.weights = ExactSums()
    for code, q_index, x, m in zip(
        codes.tolist(), quantity.tolist(), exponents.tolist(), totals, strict=True
    ):
        if q_index == width:  # the weights' own sum (--weight)
            assert sums.weights is not None
            sums.weights.add_scaled(code, int(m), x - sql.MANTISSA_BITS)
            continue
        sums.sums.add_scaled(code * width + q_index, int(m), x - sql.MANTISSA_BITS)
    if dropped:
        warnings = (f"dropped {dropped} rows with a missing label, prediction or score", *warnings)
    return AuditData(
        y_true=np.empty(0),
        y_pred=np.empty(0),
        score=None,
        sensitive=tuple(sensitive),
        inputs=tuple(source.inputs(total)),
        rows=kept,
        dropped_rows=dropped,
        warnings=warnings,
        positive_label="",
        task=mapping.task,
        statistics=Precomputed(groups=grouping.groups, regression=sums),
    )


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
    return np.asarray(table.column("v").to_numpy(zero_copy_only=False), dtype=np.float64)


def score_audit(
    source: SqlInput,
    mapping: ColumnMapping,
    *,
    thresholds: Sequence[float],
    max_distinct: int = MAX_BINS,
) -> AuditData:
    """Binary counts and per-group score histograms, computed by the engine."""
    assert mapping.score is not None
    _numeric(source, mapping.score, "score")
    q = source.dialect.identifier
    score = sql.as_double(q(mapping.score))
    roles = [mapping.label] + ([mapping.prediction] if mapping.prediction else [])
    needed = [mapping.score, *roles]
    kept = " AND ".join(f"{q(name)} IS NOT NULL" for name in needed)

    def ranges(kept: str) -> list[tuple[str, str]]:
        value = f"CASE WHEN {kept} THEN {score} END"
        return [
            ("lo", f"min({value})"),
            ("hi", f"max({value})"),
            ("d", f"approx_count_distinct({value})"),
        ]

    profile = _profile(
        source,
        mapping,
        dropped=[(mapping.score, "score")],
        needed=needed,
        finite=[(score, mapping.score, "score")],
        extra=ranges,
    )
    total, drop = profile.rows, profile.drop
    if profile.found["lo"] is None:
        raise InputError("no rows left after dropping rows with a missing label or prediction")
    low, high = float(profile.found["lo"]), float(profile.found["hi"])
    histogram = ScoreHistogram(np.asarray(thresholds, dtype=np.float64), max_distinct=max_distinct)
    values = _distinct_scores(source, score, kept, int(profile.found["d"]), max_distinct)
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
    table = source.run(sql.score_cells(source.source, columns, extra, q(ROWS_COLUMN), drop))
    data = audit_data(table, counted, source=source.where, inputs=source.inputs(total))
    keep = np.ones(table.num_rows, dtype=bool)
    for name in roles:
        keep &= ~np.asarray(table.column(name).is_null().to_numpy(zero_copy_only=False))
    weights = np.asarray(table.column(ROWS_COLUMN).to_numpy(), dtype=np.int64)[keep]
    grouping = intersection(data.sensitive)
    fine = np.asarray(table.column(_FINE).to_numpy(zero_copy_only=False))[keep]
    histogram.add_cells(
        grouping.codes,
        data.y_true,
        fine.astype(np.float64 if binning.distinct else np.int64),
        _integers(table, _CALIBRATION)[keep],
        _integers(table, _REACHED)[keep],
        weights.astype(np.float64),
    )
    if low >= 0 and high <= 1:
        sums = source.run(
            sql.calibration_sums(
                source.dialect,
                source.source,
                mapping.sensitive,
                score,
                CALIBRATION_BINS,
                f"WHERE {kept}",
            )
        )
        codes = _codes_by_name(sums, mapping, grouping.groups, source.where)
        bins, exponents = _integers(sums, "c"), _integers(sums, "x")
        for code, c, x, m in zip(
            codes.tolist(),
            bins.tolist(),
            exponents.tolist(),
            sums.column("m").to_pylist(),
            strict=True,
        ):
            histogram.score_sums.add_scaled(
                code * CALIBRATION_BINS + c, int(m), x - sql.MANTISSA_BITS
            )
    y_pred = data.y_pred
    if mapping.prediction is None:
        y_pred = np.asarray(table.column(SELECTED).to_numpy(zero_copy_only=False), dtype=bool)[keep]
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
