"""The DuckDB engine: one ``GROUP BY`` over the audited columns of files, directories, globs
or hive-partitioned Parquet, out of core and on every core; only the aggregated rows (one per
distinct combination, with its count) come back to Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bias_ledger.engines.aggregated import (
    EXPONENT_COLUMN,
    MANTISSA_COLUMN,
    ROWS_COLUMN,
    audit_data,
    audited_columns,
    weight_sql,
)
from bias_ledger.engines.sources import Dataset, fingerprint, resolve_dataset
from bias_ledger.engines.sql_input import SqlInput
from bias_ledger.engines.statistics import needs_statistics, statistics_audit
from bias_ledger.engines.statistics_sql import duckdb_dialect
from bias_ledger.errors import InputError
from bias_ledger.io.model import AuditData, ColumnMapping, FileFormat, JoinMode

EXAMPLES = 5


def quote(name: str) -> str:
    """An SQL identifier for a column name, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _null_values() -> str:
    import pyarrow.csv as pcsv

    # The arrow engine's missing-value spellings, so that both read the same rows as missing.
    return "[" + ", ".join(_literal(value) for value in pcsv.ConvertOptions().null_values) + "]"


def relation(dataset: Dataset, *, as_text: Sequence[str] = ()) -> str:
    """The SQL table function reading every file of ``dataset``; ``as_text`` names CSV columns
    read as text whatever DuckDB's sniffer makes of them."""
    files = "[" + ", ".join(_literal(str(path)) for path in dataset.files) + "]"
    hive = "true" if dataset.hive else "false"
    if dataset.format is FileFormat.PARQUET:
        return f"read_parquet({files}, hive_partitioning = {hive}, union_by_name = true)"
    if dataset.format is FileFormat.CSV:
        forced = {**dict(dataset.types), **dict.fromkeys(as_text, "VARCHAR")}
        types = ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in forced.items())
        return (
            f"read_csv({files}, header = true, nullstr = {_null_values()}, "
            f"hive_partitioning = {hive}, union_by_name = true"
            + (f", types = {{{types}}})" if forced else ")")
        )
    if dataset.format is FileFormat.JSONL:
        return (
            f"read_json({files}, format = 'newline_delimited', hive_partitioning = {hive}, "
            "union_by_name = true)"
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


def _binary_as_text(
    connection: Any,
    sources: Sequence[str],
    described: Sequence[Sequence[tuple[str, str]]],
    datasets: Sequence[Dataset],
    mapping: ColumnMapping,
) -> list[str]:
    """The sources, with CSV columns DuckDB sniffed as BOOLEAN read as text where the arrow
    engine reads text: DuckDB takes yes/no, y/n and t/f for booleans, pyarrow only its own
    true/false spellings (``ConvertOptions().true_values``/``false_values``).

    Label and prediction columns sniffed so are always read as text (``--pos-label yes`` names
    the text; true/false mean the same either way, io/columns.py). A sensitive column sniffed so
    is read as text unless every value is one of pyarrow's spellings: otherwise ``Yes`` and
    ``yes`` would silently merge into one group named ``True``."""
    binary = {mapping.label, mapping.prediction}
    sensitive = set(mapping.sensitive)
    changed = []
    for source, columns, dataset in zip(sources, described, datasets, strict=True):
        if dataset.format is not FileFormat.CSV:
            changed.append(source)
            continue
        sniffed = [name for name, kind in columns if kind == "BOOLEAN"]
        text = [name for name in sniffed if name in binary]
        maybe = [name for name in sniffed if name in sensitive and name not in binary]
        if maybe:
            text += _not_arrow_booleans(connection, dataset, maybe)
        changed.append(f"(SELECT * FROM {relation(dataset, as_text=text)})" if text else source)
    return changed


def _not_arrow_booleans(connection: Any, dataset: Dataset, names: Sequence[str]) -> list[str]:
    """Those of ``names`` holding a value that pyarrow's CSV reader would not read as a boolean."""
    import duckdb
    import pyarrow.csv as pcsv

    options = pcsv.ConvertOptions()
    spellings = ", ".join(_literal(v) for v in [*options.true_values, *options.false_values])
    checks = ", ".join(
        f"bool_or({quote(name)} IS NOT NULL AND {quote(name)} NOT IN ({spellings})) AS c{i}"
        for i, name in enumerate(names)
    )
    try:
        (found,) = connection.sql(
            f"SELECT {checks} FROM {relation(dataset, as_text=names)}"
        ).fetchall()
    except duckdb.Error as exc:
        raise _read_error(dataset.spec, exc) from None
    return [name for name, other in zip(names, found, strict=True) if other]


class TypeChanged(InputError):
    """A CSV column's values stop matching the type DuckDB sniffed from its sample."""

    def __init__(self, message: str, file: str, name: str, value: str, line: str) -> None:
        super().__init__(message)
        self.file = file
        self.name = name
        self.value = value
        self.line = line


_CONVERTING = re.compile(r'Error when converting column "(.+?)"\. Could not convert string "(.*?)"')
_LINE = re.compile(r"CSV Error on Line: (\d+)")
_FILE = re.compile(r"^\s*file = (.*)$", re.MULTILINE)


def _read_error(spec: str, exc: Exception) -> InputError:
    """The InputError for a DuckDB read error (a TypeChanged for a sniffed type that fails)."""
    message = f"{spec}: cannot read: {_first_line(exc)}"
    converting = _CONVERTING.search(str(exc))
    if converting is None:
        return InputError(message)
    line = _LINE.search(str(exc))
    file = _FILE.search(str(exc))
    return TypeChanged(
        message,
        file.group(1).strip() if file else spec,
        converting.group(1),
        converting.group(2),
        line.group(1) if line else "?",
    )


def _widened(datasets: list[Dataset], changed: TypeChanged, mapping: ColumnMapping) -> bool:
    """Retype the column ``changed`` names in its dataset: DOUBLE for a number after integers,
    else VARCHAR (as the arrow engine does); False when it cannot be widened further."""
    from dataclasses import replace

    numeric = {mapping.label, mapping.prediction, mapping.score, mapping.weight}
    for index, dataset in enumerate(datasets):
        if dataset.format is not FileFormat.CSV:
            continue
        if len(datasets) > 1 and not any(str(p).endswith(changed.file) for p in dataset.files):
            continue
        types = dict(dataset.types)
        if types.get(changed.name) == "VARCHAR":
            return False
        try:
            float(changed.value)
            kind = "VARCHAR" if changed.name in types else "DOUBLE"
        except ValueError:
            kind = "VARCHAR"
        if kind == "VARCHAR" and changed.name in numeric and changed.name != mapping.label:
            raise InputError(
                f"{changed.file}: column {changed.name!r} holds {changed.value!r} on line "
                f"{changed.line} of the file (1-based, the header is line 1); expected a number"
            ) from None
        types[changed.name] = kind
        datasets[index] = replace(dataset, types=tuple(types.items()))
        return True
    return False


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
            examples = connection.sql(
                f"SELECT {column} FROM {source} GROUP BY ALL HAVING count(*) > 1 "
                f"ORDER BY 1 LIMIT {EXAMPLES}"
            ).fetchall()
            shown = ", ".join(repr(str(row[0])) for row in examples)
            raise InputError(
                f"{name}: id column {key!r} has duplicated ids ({extra} extra rows), e.g. "
                f"{shown}; expected each id once"
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
            examples = connection.sql(
                f"SELECT {column} FROM {here} AS a ANTI JOIN {there} AS b USING ({column}) "
                f"ORDER BY 1 LIMIT {EXAMPLES}"
            ).fetchall()
            shown = ", ".join(repr(str(row[0])) for row in examples)
            parts.append(f"{count} ids in {label_here} are not in {label_there} (e.g. {shown})")
    if parts:
        raise InputError(f"id column {key!r} does not match between the files: " + "; ".join(parts))


def aggregate_sql(
    source: str,
    columns: Sequence[str],
    *,
    identifier: Callable[[str], str] = quote,
    weight: str | None = None,
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
        f"FROM (SELECT {selected}, {weight_sql(identifier(weight), identifier)} FROM {source}) "
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

    datasets = [resolve_dataset(data)] + ([resolve_dataset(predictions)] if predictions else [])
    while True:
        try:
            return _load(datasets, mapping, threads, thresholds)
        except TypeChanged as changed:
            if not _widened(datasets, changed, mapping):
                raise


def _load(
    datasets: list[Dataset],
    mapping: ColumnMapping,
    threads: int | None,
    thresholds: Sequence[float],
) -> AuditData:
    import duckdb

    connection = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        sources = [f"({'SELECT * FROM ' + relation(item)})" for item in datasets]
        described = [
            _columns(connection, source, item)
            for source, item in zip(sources, datasets, strict=True)
        ]
        names = [[name for name, _ in columns] for columns in described]
        sources = _binary_as_text(connection, sources, described, datasets, mapping)
        wanted = [(name, role) for name, role in _roles(mapping)]
        columns = audited_columns(mapping)
        if len(datasets) == 1:
            _require(names[0], wanted, datasets[0].spec)
            source = sources[0]
        else:
            source = _joined(connection, sources, names, datasets, mapping, wanted)
        with ThreadPoolExecutor(max_workers=1) as pool:
            # Hashing reads the files while DuckDB scans them: the two overlap.
            hashing = pool.submit(lambda: [fingerprint(item, rows=0) for item in datasets])
            if needs_statistics(mapping):
                found = _statistics_input(connection, source, datasets, hashing.result)
                return statistics_audit(found, mapping, thresholds=thresholds)
            try:
                query = aggregate_sql(source, columns, weight=mapping.weight)
                table = connection.sql(query).to_arrow_table()
            except duckdb.Error as exc:
                raise _read_error(datasets[0].spec, exc) from None
            digests = hashing.result()
    finally:
        connection.close()
    total = int(sum(table.column(ROWS_COLUMN).to_pylist())) if table.num_rows else 0
    if total == 0:
        raise InputError(
            f"{datasets[0].spec}: no data rows; expected a header and at least one row"
        )
    from dataclasses import replace

    inputs = [replace(item, rows=total) for item in digests]
    where = " joined with ".join(item.spec for item in datasets)
    return audit_data(table, mapping, source=where, inputs=inputs)


def _statistics_input(
    connection: Any, source: str, datasets: Sequence[Dataset], digests: Callable[[], Any]
) -> SqlInput:
    """Score and regression audits: the engine computes histograms and sums (no rows back)."""
    from dataclasses import replace

    import duckdb

    def run(query: str) -> Any:
        try:
            return connection.sql(query).to_arrow_table()
        except duckdb.Error as exc:
            raise _read_error(datasets[0].spec, exc) from None

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
    _check_join(connection, sources[0], sources[1], key, (datasets[0].spec, datasets[1].spec))
    return f"({sources[0]} AS d JOIN {sources[1]} AS p USING ({quote(key)}))"
