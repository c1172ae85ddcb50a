"""What the SQL engines' score and regression audits share: the engine seen as a way to run
a query, one profiling scan of the input, and the aggregated rows' sensitive values encoded as
the arrow engine encodes them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.engines import statistics_sql as sql
from bias_ledger.engines.aggregated import AggregatedColumn
from bias_ledger.errors import InputError
from bias_ledger.io.arrays import int_values
from bias_ledger.io.columns import Located
from bias_ledger.io.encode import encode_sensitive
from bias_ledger.io.model import ColumnMapping, InputFile
from bias_ledger.io.tables import InMemoryTable
from bias_ledger.metrics.model import SensitiveColumn
from bias_ledger.wording import counted

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
    weights_named: Callable[[], None] | None = None
    """Raises the arrow engine's refusal of the weight column, naming its rows (one file)."""
    files: Mapping[str, Any] | None = None
    """Each column's file, when the input is one file per column (rows can be named)."""
    locate: Callable[[Located, Any], str] | None = None
    """Names the file rows behind values, as the arrow engine does (with :attr:`files`)."""

    def missing(self, name: str, role: str, count: int) -> InputError:
        """The arrow engine's refusal of ``count`` missing values of column ``name``, naming
        the file and rows when they can be named, counting the rows otherwise."""
        import pyarrow as pa

        where, rows = self.where, rows_text(count)
        if self.files is not None and self.locate is not None and name in self.files:
            where = str(self.files[name])
            column = Located(name, pa.chunked_array([pa.nulls(1)]), self.files[name])
            rows = self.locate(column, np.zeros(1, dtype=np.int64))
        return InputError(
            f"{where}: {role} column {name!r} has {counted(count, 'missing value')}, in {rows}; "
            "expected a value on every row (pass --drop-missing to drop those rows)"
        )

    def nonfinite(self, name: str, role: str, count: int) -> InputError:
        """The arrow engine's refusal of ``count`` infinite values of column ``name`` (NaN is
        a missing value before this is asked), naming the file and rows when they can be."""
        where, rows = self.where, rows_text(count)
        if self.files is not None and self.locate is not None and name in self.files:
            import pyarrow as pa

            # pa.array of Python floats imports pandas: only on this refusal's path.
            infinite = pa.chunked_array([pa.array([math.inf, -math.inf], type=pa.float64())])
            try:
                rows = self.locate(Located(name, infinite, self.files[name]), np.arange(2))
                where = str(self.files[name])
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                pass  # the file's own typing of the column is no float: count the rows
        return InputError(
            f"{where}: {role} column {name!r} must hold finite numbers; found "
            f"{count} NaN or infinite values in {rows}"
        )


def numeric(source: SqlInput, name: str, role: str) -> None:
    kind = source.types.get(name, "").upper()
    if not any(kind.startswith(prefix) for prefix in _NUMERIC):
        raise InputError(f"{source.where}: {role} column {name!r} must be numeric; found {kind}")


def rows_text(count: int) -> str:
    return (
        f"{counted(count, 'row')} (the engine counts rows without numbering them; --engine arrow "
        "names them)"
    )


def one(source: SqlInput, query: str) -> dict[str, Any]:
    table = source.run(query)
    return {name: table.column(name)[0].as_py() for name in table.column_names}


@dataclass(frozen=True)
class Profile:
    """What one scan of the input says before the aggregation proper."""

    rows: int
    """Rows read."""
    kept: int
    """Rows with every value the audit needs."""
    drop: str
    """The WHERE clause dropping rows with a missing value (empty without --drop-missing)."""
    found: Mapping[str, Any]
    """The extra aggregates, by alias."""


def profile(
    source: SqlInput,
    mapping: ColumnMapping,
    *,
    dropped: Sequence[tuple[str, str]],
    needed: Sequence[str],
    finite: Sequence[tuple[str, str, str]],
    extra: Callable[[str], Sequence[tuple[str, str]]] = lambda kept: (),
    checked: Sequence[tuple[str, str]] = (),
) -> Profile:
    """Rows, missing values of the ``checked`` then ``dropped`` (column, role)s (InputError
    without --drop-missing; only ``dropped`` make the WHERE clause), and over the rows where
    every ``needed`` column has a value: non-finite ``finite`` (expression, column, role)s and
    the ``extra`` (alias, aggregate)s, in one scan."""
    q, nonfinite = source.dialect.identifier, source.dialect.nonfinite
    kept = " AND ".join(f"{q(name)} IS NOT NULL" for name in needed)
    items = ["count(*) AS n", f"sum(CASE WHEN {kept} THEN 1 ELSE 0 END) AS kept"]
    counted_missing = [*checked, *dropped]
    items += [f"count(*) - count({q(name)}) AS m{i}" for i, (name, _) in enumerate(counted_missing)]
    items += [
        f"sum(CASE WHEN {kept} AND {nonfinite(expression)} THEN 1 ELSE 0 END) AS f{i}"
        for i, (expression, _, _) in enumerate(finite)
    ]
    items += [f"{aggregate} AS {alias}" for alias, aggregate in extra(kept)]
    found = one(source, f"SELECT {', '.join(items)} FROM {source.source}")
    for i, (name, role) in enumerate(counted_missing):
        count = int(found[f"m{i}"] or 0)
        if count and not mapping.drop_missing:
            raise source.missing(name, role, count)
    for i, (_, name, role) in enumerate(finite):
        count = int(found[f"f{i}"] or 0)
        if count:
            raise source.nonfinite(name, role, count)
    drop = ""
    if mapping.drop_missing and dropped:
        drop = "WHERE " + " AND ".join(f"{q(name)} IS NOT NULL" for name, _ in dropped)
    return Profile(int(found["n"]), int(found["kept"] or 0), drop, found)


def sensitive_columns(
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
                f"{where}: sensitive column {name!r} has {counted(count, 'missing value')}; "
                "expected a group for every row (pass --missing-as-group to make them a group of "
                "their own)"
            )
        encoded, notes = encode_sensitive(
            located, missing_as_group=mapping.missing_as_group, max_groups=mapping.max_groups
        )
        columns.append(encoded)
        warnings += notes
    return columns, warnings


def codes_by_name(
    table: Any, mapping: ColumnMapping, groups: Sequence[tuple[str, ...]], where: str
) -> npt.NDArray[np.int64]:
    """Each row's intersection code, matching its sensitive values by name to ``groups``."""
    weights = np.ones(table.num_rows, dtype=np.int64)
    columns, _ = sensitive_columns(table, mapping, weights, where)
    lookup = {group: code for code, group in enumerate(groups)}
    names = [[column.categories[code] for code in column.codes.tolist()] for column in columns]
    return np.array([lookup[tuple(row)] for row in zip(*names, strict=True)], dtype=np.int64)


def integers(table: Any, name: str) -> npt.NDArray[np.int64]:
    return int_values(table.column(name))
