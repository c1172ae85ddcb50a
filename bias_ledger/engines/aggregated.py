"""Aggregated rows to the metric engine's input: validated and encoded as the arrow engine's
rows are, each weighted by how many input rows it stands for.

An engine returns one row per distinct combination of the audited columns, with its count in
:data:`ROWS_COLUMN`. The same column checks (binary domains, classes, missing values, group
limits) run on those rows; a message names how many input rows hold a bad value rather than
their numbers, which an aggregating engine does not keep (``--engine arrow`` lists them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.engines import statistics_sql as sql
from bias_ledger.errors import InputError
from bias_ledger.io.arrays import int_values
from bias_ledger.io.columns import Located, label_domain, to_bool, to_classes
from bias_ledger.io.encode import encode_sensitive
from bias_ledger.io.model import AuditData, ColumnMapping, InputFile
from bias_ledger.io.tables import InMemoryTable
from bias_ledger.io.weights import EXPECTED
from bias_ledger.metrics.model import SensitiveColumn, Task
from bias_ledger.metrics.weights import LARGEST, SMALLEST, WeightParts
from bias_ledger.wording import counted

ROWS_COLUMN = "__bias_ledger_rows"
"""The count column of an aggregated table (a name no dataset is expected to use)."""
EXPONENT_COLUMN = "__bias_ledger_weight_exponent"
MANTISSA_COLUMN = "__bias_ledger_weight_mantissa"
"""With ``--weight``: rows are also grouped by each weight's binary exponent, and the integer
mantissas summed exactly (:mod:`bias_ledger.metrics.exact_sum`), so that every engine's weight
sums are exact, whatever order its threads add them in."""
# Exponents that stand for bad weights instead (valid ones lie in [-500, 501]).
BAD_WEIGHTS = {
    -10001: "missing",
    -10002: "not a number",
    -10003: "NaN",
    -10004: "negative",
    -10005: "infinite or out of range",
}


@dataclass(frozen=True, eq=False)
class AggregatedColumn(Located):
    """A column of aggregated rows: messages count input rows instead of numbering them."""

    weights: npt.NDArray[np.int64] | None = None
    locate: Callable[[Located, npt.NDArray[np.int64]], str] | None = None
    """Names the input rows behind aggregated rows (the streaming engine rescans its file)."""

    def where(self, positions: npt.NDArray[np.int64]) -> str:
        if self.locate is not None:
            return self.locate(self, positions)
        assert self.weights is not None
        rows = int(self.weights[positions].sum())
        return (
            f"{counted(rows, 'row')} (the engine counts rows without numbering them; "
            "--engine arrow names them)"
        )

    def subset(
        self, keep: npt.NDArray[np.bool_], selector: Any, kept: npt.NDArray[np.int64]
    ) -> Located:
        assert self.weights is not None
        return AggregatedColumn(
            self.name, self.data.filter(selector), self.file, None, self.weights[keep], self.locate
        )


def weight_sql(column: str, identifier: Callable[[str], str], nan: Callable[[str], str]) -> str:
    """SQL (DuckDB's and Spark's alike, with the engine's NaN test ``nan``) of a weight's
    exponent and integer mantissa, as the score and regression sums write values
    (:mod:`bias_ledger.engines.statistics_sql`); bad weights get an exponent of BAD_WEIGHTS
    instead."""
    value = f"TRY_CAST({column} AS DOUBLE)"
    good = (
        f"({value} = 0 OR ({value} >= {sql.double(SMALLEST)} AND {value} <= {sql.double(LARGEST)}))"
    )
    codes = {text: code for code, text in BAD_WEIGHTS.items()}
    return (
        f"CASE WHEN {column} IS NULL THEN {codes['missing']} "
        f"WHEN {value} IS NULL THEN {codes['not a number']} "
        f"WHEN {nan(value)} THEN {codes['NaN']} "
        f"WHEN {value} < 0 THEN {codes['negative']} "
        f"WHEN NOT {good} THEN {codes['infinite or out of range']} "
        f"ELSE {sql.exponent(value)} END AS {identifier(EXPONENT_COLUMN)}, "
        f"CASE WHEN NOT {nan(value)} AND {good} THEN {sql.mantissa(value, sql.exponent(value))} "
        f"ELSE CAST(0 AS BIGINT) END AS {identifier(MANTISSA_COLUMN)}"
    )


def check_sql_weights(
    run: Callable[[str], Any],
    source: str,
    where: str,
    column: str,
    identifier: Callable[[str], str],
    name: str,
    nan: Callable[[str], str],
    named: Callable[[], None] | None = None,
) -> None:
    """InputError naming how many rows hold each kind of bad weight (an SQL engine's rows), or
    the arrow engine's naming their rows when ``named`` (which raises it) can read them."""
    code = identifier(EXPONENT_COLUMN)
    found = run(
        f"SELECT {code}, CAST(count(*) AS BIGINT) AS {identifier(ROWS_COLUMN)} FROM "
        f"(SELECT {weight_sql(identifier(column), identifier, nan)} FROM {source} {where}) AS w "
        f"WHERE {code} <= {max(BAD_WEIGHTS)} GROUP BY {code}"
    )
    exponents = np.asarray(found.column(EXPONENT_COLUMN).to_pylist(), dtype=np.int64)
    rows = np.asarray(found.column(ROWS_COLUMN).to_pylist(), dtype=np.int64)
    parts = WeightParts(integers=np.zeros(len(rows), dtype=object), exponents=exponents)
    _check_weights(parts, rows, name, column, shift=0, named=named)


def read_columns(mapping: ColumnMapping) -> list[str]:
    """The columns an engine reads: the audited ones and the weight column."""
    weight = [mapping.weight] if mapping.weight is not None else []
    return list(dict.fromkeys([*audited_columns(mapping), *weight]))


def nan_missing(mapping: ColumnMapping) -> list[str]:
    """The columns whose NaN is a missing value on every engine, as on the arrow engine
    (:func:`bias_ledger.engines.arrow_batches.without_nan`): label, prediction and score (a
    NaN weight is refused instead)."""
    names = [mapping.label, mapping.prediction, mapping.score]
    return list(dict.fromkeys(name for name in names if name is not None))


def nan_as_null_sql(column: str) -> str:
    """Spark SQL of a float ``column`` with NaN read as NULL."""
    return f"CASE WHEN isnan({column}) THEN NULL ELSE {column} END"


def duckdb_nan_as_null_sql(column: str) -> str:
    """DuckDB SQL of a float ``column`` with NaN read as NULL (:func:`sql.duckdb_nan` says why
    not ``isnan``: a NaN label or score stayed NaN in a GROUP BY)."""
    return f"CASE WHEN {sql.duckdb_nan(column)} THEN NULL ELSE {column} END"


FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
"""SQL type names (DuckDB's and Spark's, in upper case) of float columns, which may hold NaN."""


def audited_columns(mapping: ColumnMapping) -> list[str]:
    """The columns an engine aggregates by: label, prediction, sensitive features (once each)."""
    names = [mapping.label, mapping.prediction, *mapping.sensitive]
    return list(dict.fromkeys(name for name in names if name is not None))


def _missing_rows(column: Located, weights: npt.NDArray[np.int64]) -> int:
    if not column.data.null_count:
        return 0
    from bias_ledger.io.arrays import bool_values

    return int(weights[bool_values(column.data.is_null())].sum())


def _nulls(column: Located) -> npt.NDArray[np.bool_]:
    from bias_ledger.io.arrays import bool_values

    return bool_values(column.data.is_null())


def audit_data(
    table: Any,
    mapping: ColumnMapping,
    *,
    source: str,
    inputs: Sequence[InputFile],
    files: Mapping[str, Any] | None = None,
    locate: Callable[[Located, npt.NDArray[np.int64]], str] | None = None,
    weights_named: Callable[[], None] | None = None,
) -> AuditData:
    """The engine's input from an aggregated ``table`` (audited columns + :data:`ROWS_COLUMN`).

    ``files`` names the file of each column and ``locate`` the input rows behind aggregated
    rows, for messages that name rows as the row-by-row reader's do; ``weights_named`` raises
    the row-by-row reader's refusal of the weight column, when it can read it.
    """
    from bias_ledger.io.arrays import numeric_view

    # Chunk by chunk: ChunkedArray.to_numpy imports pandas (0.4 s) on first use.
    counts = table.column(ROWS_COLUMN)
    weights = np.concatenate(
        [np.asarray(numeric_view(chunk), dtype=np.int64) for chunk in counts.chunks]
        or [np.zeros(0, dtype=np.int64)]
    )
    sample_weight = _weight_parts(table) if mapping.weight is not None else None
    origin = InMemoryTable(name=source, table=table)
    located: dict[str, Located] = {
        name: AggregatedColumn(
            name, table.column(name), (files or {}).get(name, origin), None, weights, locate
        )
        for name in audited_columns(mapping)
    }
    dropped = 0
    warnings: tuple[str, ...] = ()
    targets = [(mapping.label, "label"), (mapping.prediction, "prediction")]
    masks = []
    for name, role in targets:
        if name is None:
            continue
        count = _missing_rows(located[name], weights)
        if count and not mapping.drop_missing:
            column = located[name]
            where = (
                f", in {column.where(np.flatnonzero(_nulls(column)))}" if locate is not None else ""
            )
            raise InputError(
                f"{column.file if locate else source}: {role} column {name!r} has "
                f"{counted(count, 'missing value')}{where}; expected a value on every row "
                "(pass --drop-missing to drop those rows)"
            )
        if count:
            masks.append(_nulls(located[name]))
    if masks:
        import pyarrow.compute as pc

        drop = np.logical_or.reduce(masks)
        dropped = int(weights[drop].sum())
        if dropped == int(weights.sum()):
            raise InputError("no rows left after dropping rows with a missing label or prediction")
        keep = ~drop
        selector = pc.invert(pc.or_kleene(*[located[n].data.is_null() for n, _ in targets if n]))
        located = {
            name: column.subset(keep, selector, np.flatnonzero(keep))
            for name, column in located.items()
        }
        weights = weights[keep]
        if sample_weight is not None:
            sample_weight = sample_weight.take(keep)
        warnings += (f"dropped {dropped} rows with a missing label, prediction or score",)
    if sample_weight is not None:
        assert mapping.weight is not None
        _check_weights(sample_weight, weights, source, mapping.weight, named=weights_named)
    _check_groups(located, weights, mapping, source, locate)
    label = located[mapping.label]
    assert mapping.prediction is not None
    prediction = located[mapping.prediction]
    classes: tuple[str, ...] = ()
    positive_label = ""
    y_true: npt.NDArray[Any]
    y_pred: npt.NDArray[Any]
    if mapping.task is Task.MULTICLASS_CLASSIFICATION:
        y_true, y_pred, classes = to_classes(label, prediction, max_classes=mapping.max_groups)
    else:
        domain, positive_label = label_domain(label, mapping.pos_label)
        y_true = to_bool(label, domain, "label")
        y_pred = to_bool(prediction, domain, "prediction")
    sensitive, notes = _encode(located, mapping)
    warnings += notes
    return AuditData(
        y_true=y_true,
        y_pred=y_pred,
        score=None,
        sensitive=tuple(sensitive),
        inputs=tuple(inputs),
        rows=int(weights.sum()),
        dropped_rows=dropped,
        warnings=warnings,
        positive_label=positive_label,
        task=mapping.task,
        classes=classes,
        weights=weights,
        sample_weight=sample_weight,
    )


def _check_groups(
    located: Mapping[str, Located],
    weights: npt.NDArray[np.int64],
    mapping: ColumnMapping,
    source: str,
    locate: Callable[[Located, npt.NDArray[np.int64]], str] | None,
) -> None:
    for name in mapping.sensitive:
        count = _missing_rows(located[name], weights)
        if count and not mapping.missing_as_group:
            column = located[name]
            where = (
                f", in {column.where(np.flatnonzero(_nulls(column)))}" if locate is not None else ""
            )
            raise InputError(
                f"{column.file if locate else source}: sensitive column {name!r} has "
                f"{counted(count, 'missing value')}{where}; expected a group for every row "
                "(pass --missing-as-group to make them a group of their own)"
            )


def _encode(
    located: Mapping[str, Located], mapping: ColumnMapping
) -> tuple[list[SensitiveColumn], tuple[str, ...]]:
    sensitive = []
    warnings: tuple[str, ...] = ()
    for name in mapping.sensitive:
        encoded, notes = encode_sensitive(
            located[name], missing_as_group=mapping.missing_as_group, max_groups=mapping.max_groups
        )
        sensitive.append(encoded)
        warnings += notes
    return sensitive, warnings


def encode_groups(
    table: Any,
    weights: npt.NDArray[np.int64],
    mapping: ColumnMapping,
    source: str,
    files: Mapping[str, Any],
    locate: Callable[[Located, npt.NDArray[np.int64]], str] | None,
) -> tuple[list[SensitiveColumn], tuple[str, ...]]:
    """The sensitive columns of aggregated rows (``weights`` input rows each), checked and
    encoded as :func:`audit_data` checks and encodes them."""
    origin = InMemoryTable(name=source, table=table)
    located: dict[str, Located] = {
        name: AggregatedColumn(
            name, table.column(name), files.get(name, origin), None, weights, locate
        )
        for name in mapping.sensitive
    }
    _check_groups(located, weights, mapping, source, locate)
    return _encode(located, mapping)


def _weight_parts(table: Any) -> WeightParts:
    # The query's exponent x stands for units of 2**(x - MANTISSA_BITS).
    exponents = int_values(table.column(EXPONENT_COLUMN))
    integers = np.empty(len(exponents), dtype=object)
    integers[:] = [int(value) for value in table.column(MANTISSA_COLUMN).to_pylist()]
    return WeightParts(integers=integers, exponents=exponents - sql.MANTISSA_BITS)


def _check_weights(
    parts: WeightParts,
    rows: npt.NDArray[np.int64],
    source: str,
    column: str,
    *,
    shift: int = sql.MANTISSA_BITS,
    named: Callable[[], None] | None = None,
) -> None:
    """InputError naming how many rows hold each kind of bad weight (or, through ``named``,
    which rows)."""
    found = []
    for code, kind in BAD_WEIGHTS.items():
        assert parts.exponents is not None
        count = int(rows[parts.exponents == code - shift].sum())
        if count:
            found.append(f"{count} {kind}")
    if found:
        if named is not None:
            named()
        raise InputError(
            f"{source}: weight column {column!r} has bad weights in {', '.join(found)} rows "
            f"(the engine counts rows without numbering them; --engine arrow names them); "
            f"expected {EXPECTED}"
        )
