"""The DuckDB engine: one ``GROUP BY`` over the audited columns of files, directories, globs
or hive-partitioned Parquet, out of core and on every core; only the aggregated rows (one per
distinct combination, with its count) come back to Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bias_ledger.engines import csv_numbers
from bias_ledger.engines.aggregated import (
    EXPONENT_COLUMN,
    FLOAT_TYPES,
    MANTISSA_COLUMN,
    ROWS_COLUMN,
    AggregatedColumn,
    audit_data,
    audited_columns,
    duckdb_nan_as_null_sql,
    nan_missing,
    weight_sql,
)
from bias_ledger.engines.arrow_batches import locator
from bias_ledger.engines.csv_text import ArrowTyping, ColumnTyper, arrow_typing
from bias_ledger.engines.sources import Dataset, DatasetKind, fingerprint, resolve_dataset
from bias_ledger.engines.sql_input import SqlInput, rows_text
from bias_ledger.engines.statistics import needs_statistics, statistics_audit
from bias_ledger.engines.statistics_sql import duckdb_dialect, duckdb_nan
from bias_ledger.errors import InputError
from bias_ledger.io import numbers as number_text
from bias_ledger.io.columns import Located, _listing
from bias_ledger.io.join import examples
from bias_ledger.io.json_kinds import mixed_across
from bias_ledger.io.model import AuditData, ColumnMapping, FileFormat, JoinMode
from bias_ledger.io.read import Source, read_schema
from bias_ledger.io.weights import EXPECTED as WEIGHT_EXPECTED
from bias_ledger.metrics.model import Task

EXAMPLES = 5


def quote(name: str) -> str:
    """An SQL identifier for a column name, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _null_values(default_na: bool) -> str:
    import pyarrow.csv as pcsv

    # The arrow engine's missing-value spellings, so that both read the same rows as missing.
    spellings = pcsv.ConvertOptions().null_values if default_na else [""]
    return "[" + ", ".join(_literal(value) for value in spellings) + "]"


def relation(dataset: Dataset, *, default_na: bool = True) -> str:
    """The SQL table function reading every file of ``dataset``.

    Every CSV column is read as text: DuckDB's sniffer would type a column from a sample and
    cast later values to that type leniently (``'2.5'`` to ``3`` in a BIGINT column). The
    audited columns are typed afterwards as the arrow engine types them (:func:`_typed_source`,
    :mod:`bias_ledger.engines.csv_text`). JSON Lines are typed from every record, not a sample,
    for the same reason."""
    files = "[" + ", ".join(_literal(str(path)) for path in dataset.files) + "]"
    hive = "true" if dataset.hive else "false"
    if dataset.format is FileFormat.PARQUET:
        return f"read_parquet({files}, hive_partitioning = {hive}, union_by_name = true)"
    if dataset.format is FileFormat.CSV:
        return (
            f"read_csv({files}, header = true, all_varchar = true, "
            f"nullstr = {_null_values(default_na)}, hive_partitioning = {hive}, "
            "union_by_name = true)"
        )
    if dataset.format is FileFormat.JSONL:
        return (
            f"read_json({files}, format = 'newline_delimited', hive_partitioning = {hive}, "
            "union_by_name = true, sample_size = -1)"
        )
    raise InputError(f"{dataset.spec}: the duckdb engine reads CSV, Parquet and JSON Lines")


def _columns(connection: Any, source: str, dataset: Dataset) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column of ``source``."""
    import duckdb

    try:
        described = connection.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        raise _read_error(dataset.spec, exc) from None
    return [(str(row[0]), str(row[1])) for row in described]


def _read_error(
    spec: str, exc: Exception, numbers: Mapping[str, NumberColumn] | None = None
) -> InputError:
    """The InputError for a DuckDB error; a value that is not a number in a numeric column
    names the column, the values and (for a single file) their rows as the arrow engine does."""
    found = csv_numbers.not_a_number(exc)
    column = (numbers or {}).get(found.column) if found is not None else None
    if found is None or column is None:
        return InputError(f"{spec}: cannot read: {_first_line(exc)}")
    return InputError(column.refusal(found.value))


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _require(names: Sequence[str], wanted: Sequence[tuple[str, str]], where: str) -> None:
    import difflib

    for name, role in wanted:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
            hint = (
                ("did you mean " + ", ".join(repr(c) for c in close) + "?")
                if close
                else ("columns are " + ", ".join(repr(c) for c in list(names)[:10]))
            )
            raise InputError(f"{where}: no {role} column {name!r}; {hint}")


def _check_join(
    connection: Any, data: str, predictions: str, key: str, names: tuple[str, str]
) -> None:
    column = quote(key)
    # Examples in number order, text ids shorter first (x2 before x10): the order the arrow
    # engine finds sequential ids in (it has no other; DuckDB numbers no rows of CSV files).
    order = f"TRY_CAST({column} AS BIGINT) NULLS LAST, length({column}), {column}"
    for source, name in ((data, names[0]), (predictions, names[1])):
        ((missing, extra),) = connection.sql(
            f"SELECT count(*) - count({column}), count({column}) - count(DISTINCT {column}) "
            f"FROM {source}"
        ).fetchall()
        if missing:
            raise InputError(
                f"{name}: id column {key!r} has {missing} missing ids; expected an id on every row"
            )
        if extra:
            ((repeated,),) = connection.sql(
                f"SELECT count(*) FROM (SELECT {column} FROM {source} GROUP BY {column} "
                "HAVING count(*) > 1)"
            ).fetchall()
            found = connection.sql(
                f"SELECT {column} FROM {source} GROUP BY {column} HAVING count(*) > 1 "
                f"ORDER BY {order} LIMIT {EXAMPLES + 1}"
            ).fetchall()
            raise InputError(
                f"{name}: id column {key!r} has {repeated} duplicated ids ({extra} extra rows), "
                f"e.g. {examples([row[0] for row in found])}; expected each id once"
            )
    parts = []
    for here, there, label_here, label_there in (
        (data, predictions, names[0], names[1]),
        (predictions, data, names[1], names[0]),
    ):
        ((count,),) = connection.sql(
            f"SELECT count(*) FROM {here} AS a ANTI JOIN {there} AS b USING ({column})"
        ).fetchall()
        if count:
            found = connection.sql(
                f"SELECT {column} FROM {here} AS a ANTI JOIN {there} AS b USING ({column}) "
                f"ORDER BY {order} LIMIT {EXAMPLES + 1}"
            ).fetchall()
            shown = examples([row[0] for row in found])
            parts.append(f"{count} ids in {label_here} are not in {label_there} (e.g. {shown})")
    if parts:
        raise InputError(f"id column {key!r} does not match between the files: " + "; ".join(parts))


def _id_keys(
    sources: Sequence[str],
    datasets: Sequence[Dataset],
    described: Sequence[Sequence[tuple[str, str]]],
    key: str,
    default_na: bool,
) -> list[str]:
    """``sources`` with the id column as the text the arrow engine compares: an integer
    column's ids as integers (``007`` is ``7``, in a CSV file pyarrow types as integers), any
    other as written; so ``007`` joins ``7`` when both files hold integers, as on arrow, and
    not when one of them holds text."""
    column = quote(key)
    keyed = []
    for source, item, columns in zip(sources, datasets, described, strict=True):
        kinds = dict(columns)
        if key not in kinds:
            keyed.append(source)
            continue
        if item.format is FileFormat.CSV:
            first = _number_typing([item], [list(kinds)], key, default_na)
            integer = first is not None and _is_integer(first.type)
            if not integer:
                keyed.append(source)
                continue
            match = DIALECT.matches
            value = (
                f"CASE WHEN {match(column, number_text.INTEGER)} OR "
                f"{match(column, number_text.HEX)} THEN CAST(TRY_CAST(trim({column}) AS "
                f"BIGINT) AS VARCHAR) ELSE {column} END"
            )
        else:
            value = f"CAST({column} AS VARCHAR)"
        keyed.append(f"(SELECT * REPLACE ({value} AS {column}) FROM {source})")
    return keyed


def _is_integer(kind: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(kind))


def aggregate_sql(
    source: str,
    columns: Sequence[str],
    *,
    identifier: Callable[[str], str] = quote,
    weight: str | None = None,
    nan: Callable[[str], str] = duckdb_nan,
) -> str:
    """The query every engine runs: rows per distinct combination of the audited columns
    (``identifier`` quotes a column name in the engine's SQL dialect); with a ``weight``
    column, also the exact sums of its weights (:func:`weight_sql`)."""
    selected = ", ".join(identifier(name) for name in columns)
    rows = f"CAST(count(*) AS BIGINT) AS {identifier(ROWS_COLUMN)}"
    if weight is None:
        return f"SELECT {selected}, {rows} FROM {source} GROUP BY {selected}"
    exponent, mantissa = identifier(EXPONENT_COLUMN), identifier(MANTISSA_COLUMN)
    return (
        f"SELECT {selected}, {exponent}, {rows}, "
        f"CAST(sum(CAST({mantissa} AS DECIMAL(38, 0))) AS DECIMAL(38, 0)) AS {mantissa} "
        f"FROM (SELECT {selected}, {weight_sql(identifier(weight), identifier, nan)} "
        f"FROM {source}) "
        f"GROUP BY {selected}, {exponent}"
    )


def load(
    data: Any,
    *,
    predictions: Any | None,
    mapping: ColumnMapping,
    threads: int | None = None,
    thresholds: Sequence[float] = (0.5,),
) -> AuditData:
    """Aggregate the inputs with DuckDB and validate the aggregated rows."""
    import duckdb

    datasets = [resolve_dataset(data)] + ([resolve_dataset(predictions)] if predictions else [])
    connection = duckdb.connect(config={"threads": threads} if threads else {})
    hexadecimal: frozenset[str] = frozenset()
    try:
        while True:
            try:
                return _load(connection, datasets, mapping, thresholds, hexadecimal)
            except csv_numbers.Hexadecimal as found:
                hexadecimal |= {found.name}
    finally:
        connection.close()


@dataclass(frozen=True)
class NumberColumn:
    """A CSV column read as text and cast to DOUBLE by the query (score, regression values,
    weights)."""

    name: str
    role: str
    file: str
    """The file or dataset, as messages name it."""
    path: Path | None
    """The one file holding the column (None for directories and globs: no rows named)."""
    default_na: bool
    hexadecimal: bool = False
    """Whether ``0x...`` reads as an integer (the arrow engine reads the column as int64)."""

    def refusal(self, value: str) -> str:
        """The arrow engine's message for the column's values that are not numbers."""
        values, rows = (
            [value],
            "some rows (the engine does not number rows of directories and globs)",
        )
        if self.path is not None:
            values, rows = csv_numbers.refused_rows(
                self.path, self.name, default_na=self.default_na, hexadecimal=self.hexadecimal
            )
            values = values or [value]
        if self.role == "weight":
            return (
                f"{self.file}: weight column {self.name!r} must hold numbers; found "
                f"{_listing(values)} in {rows}; expected {WEIGHT_EXPECTED}"
            )
        return (
            f"{self.file}: {self.role} column {self.name!r} holds {_listing(values)} in {rows}; "
            "expected a number"
        )


def numbers_by_role(mapping: ColumnMapping) -> dict[str, str]:
    """The columns the queries need as numbers, by role."""
    found = {mapping.score: "score"} if mapping.score is not None else {}
    if mapping.task is Task.REGRESSION:
        found[mapping.label] = "label"
        if mapping.prediction is not None:
            found[mapping.prediction] = "prediction"
    if mapping.weight is not None:
        found[mapping.weight] = "weight"
    return {name: role for name, role in found.items() if name is not None}


DIALECT = csv_numbers.Dialect(
    matches=lambda text, pattern: f"regexp_full_match({text}, {_literal(pattern)})",
    fail=lambda text: f"error({text})",
    literal=_literal,
    hexadecimal=lambda text: f"CAST(CAST({text} AS BIGINT) AS DOUBLE)",
    fits_bigint=lambda text: f"TRY_CAST({text} AS BIGINT) IS NOT NULL",
)


def _typed_source(
    raw: str,
    dataset: Dataset,
    columns: Sequence[tuple[str, str]],
    numbers: Sequence[str],
    nan: Sequence[str],
    hexadecimal: frozenset[str] = frozenset(),
) -> str:
    """The relation of one dataset: a CSV file's numeric columns cast to DOUBLE as pyarrow
    converts them (:mod:`bias_ledger.engines.csv_numbers`: a value that is not a number fails
    the query), every other column left as text; in other formats NaN in a float column of
    ``nan`` is NULL, a missing value as on the arrow engine."""
    names = [name for name, _ in columns]
    if dataset.format is not FileFormat.CSV:
        floats = [
            name for name, kind in columns if name in nan and kind.upper().startswith(FLOAT_TYPES)
        ]
        if not floats:
            return f"(SELECT * FROM {raw})"
        nulled = ", ".join(
            f"{duckdb_nan_as_null_sql(quote(name))} AS {quote(name)}" for name in floats
        )
        return f"(SELECT * REPLACE ({nulled}) FROM {raw})"
    cast = [name for name in numbers if name in names]
    if not cast:
        return f"(SELECT * FROM {raw})"
    replaced = ", ".join(
        f"{csv_numbers.cast_sql(quote(name), name, DIALECT, hexadecimal=name in hexadecimal)} "
        f"AS {quote(name)}"
        for name in cast
    )
    return f"(SELECT * REPLACE ({replaced}) FROM {raw})"


def _load(
    connection: Any,
    datasets: list[Dataset],
    mapping: ColumnMapping,
    thresholds: Sequence[float],
    hexadecimal: frozenset[str],
) -> AuditData:
    import duckdb

    raw = [relation(item, default_na=mapping.default_na) for item in datasets]
    described = [
        _columns(connection, f"(SELECT * FROM {source})", item)
        for source, item in zip(raw, datasets, strict=True)
    ]
    names = [[name for name, _ in columns] for columns in described]
    _refuse_mixed(datasets, described, mapping)
    roles = numbers_by_role(mapping)
    sources = [
        _typed_source(source, item, found, list(roles), nan_missing(mapping), hexadecimal)
        for source, item, found in zip(raw, datasets, described, strict=True)
    ]
    wanted = [(name, role) for name, role in _roles(mapping)]
    columns = audited_columns(mapping)
    if len(datasets) == 1:
        _require(names[0], wanted, datasets[0].spec)
        source = sources[0]
    else:
        source = _joined(connection, sources, described, names, datasets, mapping, wanted)
    where = " joined with ".join(item.spec for item in datasets)
    typing = _typing(datasets, names, mapping, roles, where)
    read = where_read(datasets, names, mapping) or {}
    numbers = {
        name: NumberColumn(
            name,
            role,
            _file_of(name, datasets, names),
            read[name][0] if name in read else None,
            mapping.default_na,
            name in hexadecimal,
        )
        for name, role in roles.items()
    }

    named = weights_named(read, mapping)

    def failed(exc: Exception) -> Exception:
        found = csv_numbers.not_a_number(exc)
        column = numbers.get(found.column) if found is not None else None
        if found is not None and column is not None:
            held = [
                item
                for item, found_names in zip(raw, names, strict=True)
                if column.name in found_names
            ]
            query = csv_numbers.widening_sql(held[0], quote(column.name), DIALECT)
            retry = csv_numbers.hexadecimal_retry(
                column.name,
                column.hexadecimal,
                found.value,
                lambda: _number_typing(datasets, names, column.name, mapping.default_na),
                lambda: int(connection.sql(query).fetchall()[0][0]),
            )
            if retry is not None:
                return retry
        return _read_error(datasets[0].spec, exc, numbers)

    with ThreadPoolExecutor(max_workers=1) as pool:
        # Hashing reads the files while DuckDB scans them: the two overlap.
        hashing = pool.submit(lambda: [fingerprint(item, rows=0) for item in datasets])
        if needs_statistics(mapping):
            found = _statistics_input(connection, source, datasets, hashing.result, typing, failed)
            files, locate = locator_for(datasets, names, mapping, typing)
            found = replace(found, weights_named=named, files=files, locate=locate)
            return statistics_audit(found, mapping, thresholds=thresholds)
        try:
            query = aggregate_sql(source, columns, weight=mapping.weight)
            table = typing.typed(connection.sql(query).to_arrow_table())
        except duckdb.Error as exc:
            raise failed(exc) from None
        digests = hashing.result()
    total = int(sum(table.column(ROWS_COLUMN).to_pylist())) if table.num_rows else 0
    if total == 0:
        raise InputError(
            f"{datasets[0].spec}: no data rows; expected a header and at least one row"
        )
    inputs = [replace(item, rows=total) for item in digests]
    files, locate = locator_for(datasets, names, mapping, typing)
    return audit_data(
        table,
        mapping,
        source=where,
        inputs=inputs,
        files=files,
        locate=locate,
        weights_named=named,
    )


def _refuse_mixed(
    datasets: Sequence[Dataset],
    described: Sequence[Sequence[tuple[str, str]]],
    mapping: ColumnMapping,
) -> None:
    """InputError for a JSON Lines field holding numbers in some records and text (or other
    kinds) in others: DuckDB types it JSON, and ``3`` and ``"3"`` would be two groups."""
    wanted = set(_roles_names(mapping))
    for item, columns in zip(datasets, described, strict=True):
        for name, kind in columns:
            if item.format is FileFormat.JSONL and name in wanted and kind == "JSON":
                mixed = mixed_across(item.files, name)  # the arrow engine's words and lines
                if mixed is not None:
                    raise mixed
                raise InputError(
                    f"{item.spec}: field {name!r} holds values of several kinds (numbers, text, "
                    "booleans or objects) across the records; expected one kind in every record"
                )


def _roles_names(mapping: ColumnMapping) -> list[str]:
    return [name for name, _ in _roles(mapping)]


def _typing(
    datasets: Sequence[Dataset],
    names: Sequence[Sequence[str]],
    mapping: ColumnMapping,
    numbers: Mapping[str, str],
    where: str,
) -> ColumnTyper:
    """How the text columns of CSV datasets (labels, predictions, groups) become typed."""
    typed = [name for name in audited_columns(mapping) if name not in numbers]
    first: dict[str, Any] = {}
    for item, found in zip(datasets, names, strict=True):
        if item.format is FileFormat.CSV:
            present = [name for name in typed if name in found]
            first.update(
                arrow_typing(item.files, present, default_na=mapping.default_na, where=where).first
            )
    return ArrowTyping(first=first, default_na=mapping.default_na, where=where).typer()


def _file_of(name: str, datasets: Sequence[Dataset], names: Sequence[Sequence[str]]) -> str:
    for item, found in zip(datasets, names, strict=True):
        if name in found:
            return item.spec
    return datasets[0].spec


def where_read(
    datasets: Sequence[Dataset], names: Sequence[Sequence[str]], mapping: ColumnMapping
) -> dict[str, tuple[Path, FileFormat]] | None:
    """Each audited column's file, when every dataset is one file (rows can be named)."""
    if any(item.kind is not DatasetKind.FILE for item in datasets):
        return None
    wanted = [*audited_columns(mapping), *numbers_by_role(mapping)]
    return {
        name: (item.files[0], item.format)
        for item, found in zip(datasets, names, strict=True)
        for name in wanted
        if name in found
    }


def locator_for(
    datasets: Sequence[Dataset],
    names: Sequence[Sequence[str]],
    mapping: ColumnMapping,
    typing: ColumnTyper,
) -> tuple[dict[str, Any] | None, Callable[[Located, Any], str] | None]:
    """The files of the columns and the namer of the rows behind aggregated rows, as the arrow
    engine names them (by reading the column again with pyarrow); (None, None) for
    directories and globs, whose messages count rows instead."""
    read = where_read(datasets, names, mapping)
    if read is None:
        return None, None

    def locate(column: Located, positions: Any) -> str:
        import pyarrow as pa

        path, fmt = read[column.name]
        try:
            schema = read_schema(path, fmt, default_na=mapping.default_na)
            if fmt is FileFormat.CSV:
                schema = typing.schema(schema)
            where: dict[str, tuple[Source, FileFormat, Any]] = {column.name: (path, fmt, schema)}
            return locator(where, mapping.default_na)(column, positions)
        except (InputError, pa.ArrowException, OSError, ValueError):
            assert isinstance(column, AggregatedColumn) and column.weights is not None
            return rows_text(int(column.weights[positions].sum()))

    return {name: path for name, (path, _) in read.items()}, locate


def weights_named(
    read: Mapping[str, tuple[Path, FileFormat]], mapping: ColumnMapping
) -> Callable[[], None] | None:
    """Raises the arrow engine's refusal of the weight column of one file, naming its rows."""
    weight = mapping.weight
    if weight is None or weight not in read:
        return None
    path, fmt = read[weight]

    def named() -> None:
        from bias_ledger.io.columns import Located as Column
        from bias_ledger.io.read import read_columns
        from bias_ledger.io.weights import to_weights

        data = read_columns(path, fmt, [weight], default_na=mapping.default_na).column(0)
        to_weights(Column(weight, data, path))

    return named


def _number_typing(
    datasets: Sequence[Dataset], names: Sequence[Sequence[str]], name: str, default_na: bool
) -> Any:
    """The arrow engine's first-block field of CSV column ``name`` (None if not CSV)."""
    for item, found in zip(datasets, names, strict=True):
        if name in found:
            if item.format is not FileFormat.CSV:
                return None
            typed = arrow_typing(item.files, [name], default_na=default_na, where=item.spec)
            return typed.first[name]
    return None


def _statistics_input(
    connection: Any,
    source: str,
    datasets: Sequence[Dataset],
    digests: Callable[[], Any],
    typing: ColumnTyper,
    failed: Callable[[Exception], Exception],
) -> SqlInput:
    """Score and regression audits: the engine computes histograms and sums (no rows back)."""
    import duckdb

    def run(query: str) -> Any:
        try:
            return typing.typed(connection.sql(query).to_arrow_table())
        except duckdb.Error as exc:
            raise failed(exc) from None

    described = connection.sql(f"DESCRIBE SELECT * FROM {source}").fetchall()
    return SqlInput(
        run=run,
        source=source,
        dialect=duckdb_dialect(quote),
        where=" joined with ".join(item.spec for item in datasets),
        types={str(row[0]): str(row[1]) for row in described},
        inputs=lambda rows: [replace(item, rows=rows) for item in digests()],
    )


def _roles(mapping: ColumnMapping) -> list[tuple[str, str]]:
    pairs = [(mapping.label, "label")]
    if mapping.prediction is not None:
        pairs.append((mapping.prediction, "prediction"))
    if mapping.score is not None:
        pairs.append((mapping.score, "score"))
    pairs += [(name, "sensitive") for name in mapping.sensitive]
    if mapping.weight is not None:
        pairs.append((mapping.weight, "weight"))
    return pairs


def _joined(
    connection: Any,
    sources: Sequence[str],
    described: Sequence[Sequence[tuple[str, str]]],
    names: Sequence[list[str]],
    datasets: Sequence[Dataset],
    mapping: ColumnMapping,
    wanted: Sequence[tuple[str, str]],
) -> str:
    mode = mapping.join or (JoinMode.ID if mapping.id_column else None)
    if mode is not JoinMode.ID or mapping.id_column is None:
        raise InputError(
            f"the duckdb engine joins {datasets[0].spec} with {datasets[1].spec} on an id column: "
            "expected --id COLUMN (row order is not defined across files and threads)"
        )
    key = mapping.id_column
    for item, columns in zip(datasets, names, strict=True):
        _require(columns, [(key, "id")], item.spec)
    shared = [n for n in names[0] if n in names[1] and n != key]
    if shared:
        raise InputError(
            f"columns {', '.join(repr(n) for n in shared[:10])} are in both {datasets[0].spec} and "
            f"{datasets[1].spec}; expected each column other than the id in one file only"
        )
    _require(names[0] + names[1], wanted, f"{datasets[0].spec} or {datasets[1].spec}")
    keyed = _id_keys(sources, datasets, described, key, mapping.default_na)
    _check_join(connection, keyed[0], keyed[1], key, (datasets[0].spec, datasets[1].spec))
    return f"({keyed[0]} AS d JOIN {keyed[1]} AS p USING ({quote(key)}))"
