"""Engines: where an audit's rows are counted.

Every engine produces the same sufficient statistics, from which everything above them
(metrics, disparities, intervals, significance, policies, reports) is computed once:

- ``arrow`` (default): reads files batch by batch with pyarrow, in this process;
- ``duckdb``: DuckDB aggregates files, directories, globs and hive-partitioned Parquet
  out of core and multi-threaded, and returns one row per distinct combination of the audited
  columns with its row count (:mod:`bias_ledger.engines.duckdb_engine`);
- ``spark``: the same aggregation as Spark SQL, on a local or remote Spark, for files and
  catalog tables; no row reaches the driver (:mod:`bias_ledger.engines.spark_engine`).

The aggregated rows are validated and encoded as the arrow engine's rows are
(:mod:`bias_ledger.engines.aggregated`), with each row weighted by its count, so every engine
gives identical numbers by construction.
"""

from __future__ import annotations

from enum import StrEnum


class Engine(StrEnum):
    """Where the rows are counted (``--engine``)."""

    ARROW = "arrow"
    DUCKDB = "duckdb"
    SPARK = "spark"
