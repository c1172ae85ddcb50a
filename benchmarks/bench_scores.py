"""Score and regression audits against DuckDB and polars computing the same statistics.

`bias-ledger audit --score` (per-group score histograms: ROC AUC, calibration, threshold
sweep) and `bias-ledger audit --task regression` (per-group sums), with the arrow and duckdb
engines, against DuckDB's `GROUPING SETS` and polars' lazy `group_by` computing the same
histograms (2^16 score bins x label, per feature and intersection) and the same regression sums
(n, prediction, label, error, |error|, error^2), from the same Parquet file. Each measurement is
a fresh process; wall time, peak resident memory and the ratio to the faster of DuckDB and
polars are printed. Data is generated on the fly (continuous scores: equal-width bins).

    python benchmarks/bench_scores.py [--rows 1e7 | --rows 1e8] [--csv] [--keep DIR]
        [--task score | --task regression]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))
from bench_engines import run  # noqa: E402  (one way of measuring for every benchmark)

CHUNK = 5_000_000


def generate(rows: int, directory: Path, csv: bool) -> None:
    """Written in chunks, so generating 1e8 rows needs no more memory than 5e6."""
    rng = np.random.default_rng(0)
    writer = None
    csv_writer = None
    for start in range(0, rows, CHUNK):
        n = min(CHUNK, rows - start)
        sex = np.array(["female", "male", "nonbinary"])[rng.choice(3, n, p=[0.48, 0.48, 0.04])]
        race = np.array(["Asian", "Black", "Hispanic", "Native", "White"])[rng.choice(5, n)]
        label = rng.random(n) < 0.6
        score = 1 / (1 + np.exp(-(rng.normal(0, 1.2, n) + label)))
        income = rng.gamma(4.0, 12_000.0, n)
        table = pa.table(
            {
                "repaid": label.astype(np.int8),
                "sex": sex,
                "race": race,
                "score": score,
                "income": income,
                "estimate": income * rng.lognormal(0, 0.2, n),
            }
        )
        if writer is None:
            writer = pq.ParquetWriter(directory / "data.parquet", table.schema)
            if csv:
                csv_writer = pcsv.CSVWriter(directory / "data.csv", table.schema)
        writer.write_table(table)
        if csv_writer is not None:
            csv_writer.write_table(table)
    assert writer is not None
    writer.close()
    if csv_writer is not None:
        csv_writer.close()


def audit(path: Path, engine: str, task: str) -> str:
    common = ["--sensitive", "sex", "--sensitive", "race", "--engine", engine, "--no-record"]
    if task == "score":
        args = ["audit", str(path), "--label", "repaid", "--score", "score", "--threshold", "0.5"]
        args += [*common, "--ci", "0"]
    else:
        args = ["audit", str(path), "--label", "income", "--prediction", "estimate"]
        args += ["--task", "regression", *common]
    return (
        "import sys, io, contextlib\n"
        "from bias_ledger.cli import main\n"
        f"sys.argv = ['bias-ledger', *{[*args, '--json']!r}]\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main()\n    except SystemExit as exit:\n"
        "        assert not exit.code, exit.code\n"
    )


_SETS = "((sex, {k}), (race, {k}), (sex, race, {k}))"


def duckdb_query(path: Path, task: str) -> str:
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    if task == "score":
        query = (
            "SELECT sex, race, repaid, bin, count(*) FROM (SELECT sex, race, repaid, "
            f"CAST(floor(score * 65536) AS BIGINT) AS bin FROM {reader}('{path}')) "
            f"GROUP BY GROUPING SETS {_SETS.format(k='repaid, bin')}"
        )
    else:
        query = (
            "SELECT sex, race, count(*), sum(estimate), sum(income), sum(e), sum(abs(e)), "
            f"sum(e * e) FROM (SELECT sex, race, income, estimate, estimate - income AS e "
            f"FROM {reader}('{path}')) GROUP BY GROUPING SETS ((sex), (race), (sex, race))"
        )
    return f'import duckdb\nduckdb.sql("{query}").fetchall()\n'


def polars_query(path: Path, task: str) -> str:
    scan = "scan_parquet" if path.suffix == ".parquet" else "scan_csv"
    if task == "score":
        frame = (
            f"pl.{scan}('{path}').select(['sex', 'race', 'repaid', "
            "(pl.col('score') * 65536).floor().cast(pl.Int64).alias('bin')])"
        )
        keys = (
            "[['sex', 'repaid', 'bin'], ['race', 'repaid', 'bin'], "
            "['sex', 'race', 'repaid', 'bin']]"
        )
        aggregate = "pl.len()"
    else:
        frame = (
            f"pl.{scan}('{path}').select(['sex', 'race', 'income', 'estimate', "
            "(pl.col('estimate') - pl.col('income')).alias('e')])"
        )
        keys = "[['sex'], ['race'], ['sex', 'race']]"
        aggregate = (
            "pl.len(), pl.col('estimate').sum(), pl.col('income').sum(), pl.col('e').sum(), "
            "pl.col('e').abs().sum().alias('abs'), (pl.col('e') * pl.col('e')).sum().alias('sq')"
        )
    return (
        "import polars as pl\n"
        f"frame = {frame}\n"
        f"pl.collect_all([frame.group_by(k).agg({aggregate}) for k in {keys}])\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--csv", action="store_true", help="also time a CSV of the same rows")
    parser.add_argument(
        "--keep", type=Path, help="generate into (and keep) this directory; reuse what is there"
    )
    parser.add_argument(
        "--task", choices=["score", "regression"], action="append", help="only this task"
    )
    parser.add_argument("--generate-into", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    rows = int(options.rows)
    if options.generate_into is not None:
        generate(rows, options.generate_into, options.csv)
        return
    with tempfile.TemporaryDirectory() as scratch:
        directory = options.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        marker = directory / ("generated-csv" if options.csv else "generated")
        if not marker.exists() or marker.read_text() != str(rows):
            # In another process: a child's peak memory would otherwise start at the generator's.
            command = [
                sys.executable,
                __file__,
                "--rows",
                str(rows),
                "--generate-into",
                str(directory),
            ]
            subprocess.run(command + (["--csv"] if options.csv else []), check=True)
            marker.write_text(str(rows))  # --keep reuses complete files, never half-written ones
        files = [directory / "data.parquet"] + ([directory / "data.csv"] if options.csv else [])
        print(
            f"{rows:,} rows; wall s / peak MB / CPU s (all threads); "
            "ratio = wall time / faster of DuckDB and polars"
        )
        for path in files:
            for task in options.task or ["score", "regression"]:
                measured = {
                    "DuckDB GROUPING SETS": run(duckdb_query(path, task)),
                    "polars lazy group_by": run(polars_query(path, task)),
                    "bias-ledger --engine arrow": run(audit(path, "arrow", task)),
                    "bias-ledger --engine duckdb": run(audit(path, "duckdb", task)),
                }
                best = min(measured["DuckDB GROUPING SETS"][0], measured["polars lazy group_by"][0])
                size = path.stat().st_size / 1e6
                print(f"\n{task} audit, {path.suffix[1:]} ({size:,.0f} MB)")
                for name, (seconds, peak, cpu) in measured.items():
                    ratio = seconds / best
                    print(
                        f"  {name:30s} {seconds:7.2f} s {peak:8.0f} MB {cpu:7.2f} s  {ratio:5.2f}x"
                    )


if __name__ == "__main__":
    main()
