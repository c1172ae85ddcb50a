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

from bias_ledger.engines.aggregated import ROWS_COLUMN, audit_data, audited_columns, read_columns
from bias_ledger.engines.duckdb_engine import aggregate_sql
from bias_ledger.engines.sources import Dataset, fingerprint, resolve_dataset
from bias_ledger.engines.sql_input import SqlInput
from bias_ledger.engines.statistics import needs_statistics, statistics_audit
from bias_ledger.engines.statistics_sql import spark_dialect
from bias_ledger.errors import InputError
from bias_ledger.io.model import AuditData, ColumnMapping, FileFormat, InputFile, JoinMode

DEFAULT_MASTER = "local[*]"
VIEW = "bias_ledger_input"


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
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _frame(spark: Any, dataset: Dataset) -> Any:
    import pyarrow.csv as pcsv

    paths = [str(path) for path in dataset.files]
    reader = spark.read
    if dataset.hive:
        reader = reader.option("basePath", str(dataset.root))
    if dataset.format is FileFormat.PARQUET:
        return reader.parquet(*paths)
    if dataset.format is FileFormat.CSV:
        # Spark takes one missing-value spelling; the arrow engine's others are mapped below.
        frame = reader.csv(paths, header=True, inferSchema=True, nullValue="")
        nulls = [value for value in pcsv.ConvertOptions().null_values if value]
        from pyspark.sql import functions as F

        for name, kind in frame.dtypes:
            if kind == "string":
                frame = frame.withColumn(
                    name, F.when(F.col(name).isin(nulls), None).otherwise(F.col(name))
                )
        return frame
    if dataset.format is FileFormat.JSONL:
        return reader.json(paths)
    raise InputError(f"{dataset.spec}: the spark engine reads CSV, Parquet and JSON Lines")


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
    inputs: list[InputFile]
    if table is not None:
        frame = _catalog_table(spark, table)
        where = f"table {table}"
    else:
        dataset = resolve_dataset(data)
        frame = _frame(spark, dataset)
        where = dataset.spec
    names = list(frame.columns)
    wanted = read_columns(mapping) + ([mapping.score] if mapping.score else [])
    for name in wanted:
        if name not in names:
            raise InputError(f"{where}: no column {name!r}; columns are {', '.join(names[:10])}")
    frame.createOrReplaceTempView(VIEW)
    if needs_statistics(mapping):
        found = SqlInput(
            run=lambda query: _arrow(spark.sql(query)),
            source=backquote(VIEW),
            dialect=spark_dialect(backquote),
            where=where,
            types=dict(frame.dtypes),
            inputs=lambda rows: (
                [_table_input(spark, table, rows)]
                if table is not None
                else [fingerprint(dataset, rows=rows)]
            ),
        )
        return _noted(statistics_audit(found, mapping, thresholds=thresholds), table)
    result = spark.sql(
        aggregate_sql(
            backquote(VIEW), audited_columns(mapping), identifier=backquote, weight=mapping.weight
        )
    )
    aggregated = _arrow(result)
    total = int(sum(aggregated.column(ROWS_COLUMN).to_pylist())) if aggregated.num_rows else 0
    if total == 0:
        raise InputError(f"{where}: no data rows")
    if table is not None:
        inputs = [_table_input(spark, table, total)]
    else:
        inputs = [fingerprint(dataset, rows=total)]
    return _noted(audit_data(aggregated, mapping, source=where, inputs=inputs), table)


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
