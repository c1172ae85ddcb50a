"""The Spark engine: the same aggregation as Spark SQL, on ``local[*]``, a cluster's master or
Spark Connect (``$SPARK_REMOTE``); inputs are Parquet, CSV or JSON Lines paths (directories,
globs and hive partitions as Spark reads them) or catalog tables. Only the aggregated rows,
one per distinct combination of the audited columns, are collected to the driver.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

from bias_ledger.engines import csv_numbers
from bias_ledger.engines.aggregated import (
    FLOAT_TYPES,
    ROWS_COLUMN,
    audit_data,
    audited_columns,
    nan_as_null_sql,
    nan_missing,
    read_columns,
)
from bias_ledger.engines.csv_text import ArrowTyping, arrow_typing
from bias_ledger.engines.duckdb_engine import (
    NumberColumn,
    aggregate_sql,
    locator_for,
    numbers_by_role,
    weights_named,
    where_read,
)
from bias_ledger.engines.sources import Dataset, fingerprint, resolve_dataset
from bias_ledger.engines.sql_input import SqlInput
from bias_ledger.engines.statistics import needs_statistics, statistics_audit
from bias_ledger.engines.statistics_sql import spark_dialect, spark_nan
from bias_ledger.errors import InputError
from bias_ledger.io.model import AuditData, ColumnMapping, FileFormat, InputFile, JoinMode

DEFAULT_MASTER = "local[*]"
VIEW = "bias_ledger_input"
RAW_VIEW = "bias_ledger_text"
"""A CSV input as text, before any cast."""


def backquote(name: str) -> str:
    """A Spark SQL identifier for a column name, whatever characters it holds."""
    return "`" + name.replace("`", "``") + "`"


def session(master: str | None) -> Any:
    """A Spark session: Spark Connect when ``$SPARK_REMOTE`` is set, else ``master``."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("bias-ledger")
    if os.environ.get("SPARK_REMOTE") and master is None:
        return builder.remote(os.environ["SPARK_REMOTE"]).getOrCreate()
    spark = (
        builder.master(master or DEFAULT_MASTER)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    # A refused value fails a task: its executor would log a stack trace over the one line.
    spark.sparkContext.setLogLevel("FATAL")
    return spark


def _frame(
    spark: Any, dataset: Dataset, mapping: ColumnMapping, hexadecimal: frozenset[str]
) -> Any:
    paths = [str(path) for path in dataset.files]
    reader = spark.read
    if dataset.hive:
        reader = reader.option("basePath", str(dataset.root))
    if dataset.format is FileFormat.PARQUET:
        return _nan_as_null(reader.parquet(*paths), mapping)
    if dataset.format is FileFormat.CSV:
        return _csv_frame(reader, paths, mapping, hexadecimal)
    if dataset.format is FileFormat.JSONL:
        return _nan_as_null(reader.json(paths), mapping)
    raise InputError(f"{dataset.spec}: the spark engine reads CSV, Parquet and JSON Lines")


def _nan_as_null(frame: Any, mapping: ColumnMapping) -> Any:
    """``frame`` with NaN in a float label, prediction or score column read as NULL: a missing
    value, as on the arrow engine (a CSV file's numbers are cast so already)."""
    nan = nan_missing(mapping)
    floats = {
        name for name, kind in frame.dtypes if name in nan and kind.upper().startswith(FLOAT_TYPES)
    }
    if not floats:
        return frame
    return frame.selectExpr(
        *[
            f"{nan_as_null_sql(backquote(name)) if name in floats else backquote(name)} "
            f"AS {backquote(name)}"
            for name in frame.columns
        ]
    )


SPARK_NUMBERS = csv_numbers.Dialect(
    matches=lambda text, pattern: f"({text} RLIKE {_literal(pattern)})",
    fail=lambda text: f"raise_error({text})",
    literal=lambda text: _literal(text),
    hexadecimal=lambda text: f"CAST(CAST(conv(substr({text}, 3), 16, 10) AS BIGINT) AS DOUBLE)",
    fits_bigint=lambda text: f"try_cast({text} AS BIGINT) IS NOT NULL",
)


def _hexadecimal_retry(
    spark: Any, dataset: Dataset, column: NumberColumn, value: str, default_na: bool
) -> csv_numbers.Hexadecimal | None:
    """A retry reading ``0x...`` of ``column`` as integers, as the arrow engine does when it
    reads the column as int64 throughout (:func:`csv_numbers.hexadecimal_retry`)."""
    query = csv_numbers.widening_sql(backquote(RAW_VIEW), backquote(column.name), SPARK_NUMBERS)
    return csv_numbers.hexadecimal_retry(
        column.name,
        column.hexadecimal,
        value,
        lambda: arrow_typing(
            dataset.files, [column.name], default_na=default_na, where=dataset.spec
        ).first[column.name],
        lambda: int(spark.sql(query).collect()[0][0]),
    )


def _literal(text: str) -> str:
    # Spark SQL string literals take backslash escapes: double them, and the quotes.
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _csv_frame(
    reader: Any, paths: list[str], mapping: ColumnMapping, hexadecimal: frozenset[str]
) -> Any:
    """Every column read as text (Spark's inferSchema types differently from pyarrow: dates,
    timestamps, ``1_000``); missing values as the arrow engine spells them (only empty cells
    with --no-default-na); numeric columns cast as pyarrow converts them
    (:mod:`bias_ledger.engines.csv_numbers`); the other audited columns are typed afterwards
    as the arrow engine types them (:class:`bias_ledger.engines.csv_text.ColumnTyper`). The
    columns ``hexadecimal`` also read ``0x...`` as integers; the text is the view
    :data:`RAW_VIEW`."""
    import pyarrow.csv as pcsv

    frame = reader.csv(paths, header=True, inferSchema=False, nullValue="", emptyValue="")
    frame.createOrReplaceTempView(RAW_VIEW)
    nulls = [value for value in pcsv.ConvertOptions().null_values if value]
    numbers = numbers_by_role(mapping)
    items = []
    for name in frame.columns:
        column = backquote(name)
        if mapping.default_na:
            nulled = ", ".join(_literal(value) for value in nulls)
            column = f"CASE WHEN {column} IN ({nulled}) THEN NULL ELSE {column} END"
        if name in numbers:
            column = csv_numbers.cast_sql(
                f"({column})", name, SPARK_NUMBERS, hexadecimal=name in hexadecimal
            )
        items.append(f"{column} AS {backquote(name)}")
    return frame.selectExpr(*items)


def load(
    data: Any,
    *,
    predictions: Any | None,
    mapping: ColumnMapping,
    table: str | None,
    master: str | None,
    thresholds: Sequence[float] = (0.5,),
) -> AuditData:
    """Aggregate the inputs with Spark SQL and validate the aggregated rows."""
    if predictions is not None:
        raise InputError(
            "the spark engine reads one dataset holding labels and predictions; join them in "
            "Spark first (or use --engine duckdb for two files joined on --id)"
        )
    if mapping.join is JoinMode.ROW_ORDER:
        raise InputError("--join row-order is not defined for the spark engine")
    spark = session(master)
    hexadecimal: frozenset[str] = frozenset()
    while True:
        try:
            return _load(spark, data, mapping, table, thresholds, hexadecimal)
        except csv_numbers.Hexadecimal as found:
            hexadecimal |= {found.name}


def _load(
    spark: Any,
    data: Any,
    mapping: ColumnMapping,
    table: str | None,
    thresholds: Sequence[float],
    hexadecimal: frozenset[str],
) -> AuditData:
    """One attempt, with the CSV columns ``hexadecimal`` reading ``0x...`` as integers."""
    inputs: list[InputFile]
    dataset: Dataset | None = None
    if table is not None:
        frame = _nan_as_null(_catalog_table(spark, table), mapping)
        where = f"table {table}"
    else:
        dataset = resolve_dataset(data)
        frame = _frame(spark, dataset, mapping, hexadecimal)
        where = dataset.spec
    names = list(frame.columns)
    wanted = read_columns(mapping) + ([mapping.score] if mapping.score else [])
    for name in wanted:
        if name not in names:
            raise InputError(f"{where}: no column {name!r}; columns are {', '.join(names[:10])}")
    if dataset is not None and dataset.format is FileFormat.JSONL:
        _refuse_mixed(spark, dataset, frame, mapping)
    frame.createOrReplaceTempView(VIEW)
    typing, numbers, files, locate, named = _typing(dataset, names, mapping, hexadecimal)

    def run(query: str) -> Any:
        try:
            return typing.typed(_arrow(spark.sql(query)))
        except Exception as exc:  # Spark raises its own exception classes by version
            found = csv_numbers.not_a_number(exc)
            column = numbers.get(found.column) if found is not None else None
            if found is None or column is None:
                raise
            assert dataset is not None  # only CSV columns are cast
            retry = _hexadecimal_retry(spark, dataset, column, found.value, mapping.default_na)
            if retry is not None:
                raise retry from None
            raise InputError(column.refusal(found.value)) from None

    if needs_statistics(mapping):
        found = SqlInput(
            run=run,
            source=backquote(VIEW),
            dialect=spark_dialect(backquote),
            where=where,
            types=dict(frame.dtypes),
            inputs=lambda rows: (
                [_table_input(spark, str(table), rows)]
                if table is not None or dataset is None
                else [fingerprint(dataset, rows=rows)]
            ),
            weights_named=named,
            files=files,
            locate=locate,
        )
        return _noted(statistics_audit(found, mapping, thresholds=thresholds), table)
    aggregated = run(
        aggregate_sql(
            backquote(VIEW),
            audited_columns(mapping),
            identifier=backquote,
            weight=mapping.weight,
            nan=spark_nan,
        )
    )
    total = int(sum(aggregated.column(ROWS_COLUMN).to_pylist())) if aggregated.num_rows else 0
    if total == 0:
        raise InputError(f"{where}: no data rows; expected a header and at least one row")
    if table is not None or dataset is None:
        inputs = [_table_input(spark, str(table), total)]
    else:
        inputs = [fingerprint(dataset, rows=total)]
    audited = audit_data(
        aggregated,
        mapping,
        source=where,
        inputs=inputs,
        files=files,
        locate=locate,
        weights_named=named,
    )
    return _noted(audited, table)


def _typing(
    dataset: Dataset | None,
    names: Sequence[str],
    mapping: ColumnMapping,
    hexadecimal: frozenset[str] = frozenset(),
) -> Any:
    """How a CSV dataset's text columns become the arrow engine's values, and how messages
    name its rows (as on the duckdb engine, by reading a column of one file again)."""
    roles = numbers_by_role(mapping)
    if dataset is None:
        return ArrowTyping({}, mapping.default_na, "").typer(), {}, None, None, None
    read = where_read([dataset], [list(names)], mapping) or {}
    if dataset.format is not FileFormat.CSV:
        typing = ArrowTyping({}, mapping.default_na, dataset.spec).typer()
        files, locate = locator_for([dataset], [list(names)], mapping, typing)
        return typing, {}, files, locate, weights_named(read, mapping)
    typed = [name for name in audited_columns(mapping) if name not in roles]
    start = arrow_typing(dataset.files, typed, default_na=mapping.default_na, where=dataset.spec)
    typing = start.typer()
    numbers = {
        name: NumberColumn(
            name,
            role,
            dataset.spec,
            read[name][0] if name in read else None,
            mapping.default_na,
            name in hexadecimal,
        )
        for name, role in roles.items()
    }
    files, locate = locator_for([dataset], [list(names)], mapping, typing)
    return typing, numbers, files, locate, weights_named(read, mapping)


def _refuse_mixed(spark: Any, dataset: Dataset, frame: Any, mapping: ColumnMapping) -> None:
    """The arrow engine's refusal of a JSON Lines field holding numbers (or true/false) in
    some records and text in others, which Spark reads as text: a field Spark typed as text
    that also parses as numbers (or booleans) in some record is scanned for the line."""
    from bias_ledger.io.json_kinds import mixed_across

    texts = [
        name for name, kind in frame.dtypes if kind == "string" and name in read_columns(mapping)
    ]
    if not texts:
        return
    paths = [str(path) for path in dataset.files]
    for kind in ("DOUBLE", "BOOLEAN"):
        schema = ", ".join(f"{backquote(name)} {kind}" for name in texts)
        typed = spark.read.schema(schema).json(paths)
        counts = _arrow(typed.selectExpr(*[f"count({backquote(name)})" for name in texts]))
        for name, count in zip(texts, counts.to_pylist()[0].values(), strict=True):
            if not count:
                continue
            mixed = mixed_across(dataset.files, name)
            if mixed is not None:
                raise mixed


def _arrow(result: Any) -> Any:
    with warnings.catch_warnings():
        # pyspark 4.x warns that it has not been tried with pandas 3; toArrow uses no pandas.
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        return result.toArrow()


def _noted(audited: AuditData, table: str | None) -> AuditData:
    if table is None:
        return audited
    from dataclasses import replace

    note = (
        f"input table {table} cannot be re-identified: the catalog exposes no snapshot of it, "
        "so the record holds no digest of its contents"
    )
    return replace(audited, warnings=(*audited.warnings, note))


def _catalog_table(spark: Any, table: str) -> Any:
    try:
        return spark.table(table)
    except Exception as exc:  # Spark raises AnalysisException subclasses by version
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"table {table}: cannot read: {message}") from None


def _table_input(spark: Any, table: str, rows: int) -> InputFile:
    """A catalog table as a recorded input. Plain catalog tables expose no snapshot, so the
    record says the input cannot be re-identified (``blake3`` is empty)."""
    return InputFile(
        path=f"table:{table}", name=table, format=FileFormat.TABLE, size=0, blake3="", rows=rows
    )
