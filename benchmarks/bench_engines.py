"""Engines side by side, in one run: `bias-ledger audit` with each engine against DuckDB's own
GROUPING SETS query, polars' lazy group_by and a bare pyarrow read of the same columns.

Each measurement is a fresh process; its wall time and peak resident memory are printed, and
the ratio to the faster of DuckDB and polars (which compute the count tables and hash nothing,
while the audit also hashes the file and computes every metric). Data is generated on the fly.

    python benchmarks/bench_engines.py --rows 10000000 [--spark] [--keep DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

PEAK = (
    "import resource, sys\n"
    "def _peak():\n"
    "    sys.stderr.write(f'PEAK {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}\\n')\n"
)


def generate(rows: int, directory: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    sex = np.array(["female", "male", "nonbinary"])[rng.choice(3, rows, p=[0.48, 0.48, 0.04])]
    race = np.array(["Asian", "Black", "Hispanic", "Native American", "White"])[rng.choice(5, rows)]
    label = (rng.random(rows) < 0.6).astype(np.int8)
    table = pa.table(
        {
            "id": np.arange(rows),
            "repaid": label,
            "approved": (rng.random(rows) < np.where(label == 1, 0.7, 0.4)).astype(np.int8),
            "sex": sex,
            "race": race,
            "income": rng.normal(50_000, 15_000, rows).round(2),
            "age": rng.integers(18, 90, rows),
            "score": rng.random(rows).round(6),
            "region": rng.integers(0, 50, rows),
        }
    )
    parquet, csv = directory / "data.parquet", directory / "data.csv"
    pq.write_table(table, parquet)
    pcsv.write_csv(table, csv)
    return parquet, csv


def run(code: str) -> tuple[float, float]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK + code + "\n_peak()\n"], capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {code}\n{done.stderr[-2000:]}")
    peak = next(
        int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK ")
    )
    return elapsed, peak / 1024


def audit(path: Path, engine: str) -> str:
    args = [
        "audit",
        str(path),
        "--label",
        "repaid",
        "--prediction",
        "approved",
        "--sensitive",
        "sex",
        "--sensitive",
        "race",
        "--engine",
        engine,
        "--no-record",
        "--json",
        "--ci",
        "0",
    ]
    return (
        "import sys, io, contextlib\n"
        "from bias_ledger.cli import main\n"
        f"sys.argv = ['bias-ledger', *{args!r}]\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main()\n    except SystemExit as exit:\n"
        "        assert not exit.code, exit.code\n"
    )


def duckdb_query(path: Path) -> str:
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    return (
        "import duckdb\n"
        f"duckdb.sql(\"SELECT sex, race, repaid, approved, count(*) FROM {reader}('{path}') "
        "GROUP BY GROUPING SETS ((sex, repaid, approved), (race, repaid, approved), "
        '(sex, race, repaid, approved))").fetchall()\n'
    )


def polars_query(path: Path) -> str:
    scan = "scan_parquet" if path.suffix == ".parquet" else "scan_csv"
    return (
        "import polars as pl\n"
        f"frame = pl.{scan}('{path}').select(['sex', 'race', 'repaid', 'approved'])\n"
        "keys = [['sex', 'repaid', 'approved'], ['race', 'repaid', 'approved'],"
        " ['sex', 'race', 'repaid', 'approved']]\n"
        "pl.collect_all([frame.group_by(k).agg(pl.len()) for k in keys])\n"
    )


def arrow_read(path: Path) -> str:
    columns = ["repaid", "approved", "sex", "race"]
    if path.suffix == ".parquet":
        return f"import pyarrow.parquet as pq\npq.read_table('{path}', columns={columns!r})\n"
    return (
        "import pyarrow.csv as pcsv\n"
        f"pcsv.read_csv('{path}', convert_options=pcsv.ConvertOptions("
        f"include_columns={columns!r}))\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--spark", action="store_true", help="also time --engine spark")
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this directory")
    parser.add_argument("--generate-into", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    rows = int(options.rows)
    if options.generate_into is not None:
        generate(rows, options.generate_into)
        return
    with tempfile.TemporaryDirectory() as scratch:
        directory = options.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        # Generated in another process: Linux keeps a process's peak memory across exec, so
        # every measured child would otherwise start from the generator's peak.
        subprocess.run(
            [sys.executable, __file__, "--rows", str(rows), "--generate-into", str(directory)],
            check=True,
        )
        files = directory / "data.parquet", directory / "data.csv"
        print(f"{rows:,} rows; time s / peak MB; ratio = time / faster of DuckDB and polars")
        for path in files:
            measured = {
                "pyarrow read (audited columns)": run(arrow_read(path)),
                "DuckDB GROUPING SETS": run(duckdb_query(path)),
                "polars lazy group_by": run(polars_query(path)),
                "bias-ledger --engine arrow": run(audit(path, "arrow")),
                "bias-ledger --engine duckdb": run(audit(path, "duckdb")),
            }
            if options.spark:
                measured["bias-ledger --engine spark"] = run(audit(path, "spark"))
            best = min(measured["DuckDB GROUPING SETS"][0], measured["polars lazy group_by"][0])
            size = path.stat().st_size / 1e6
            print(f"\n{path.suffix[1:]} ({size:,.0f} MB)")
            for name, (seconds, peak) in measured.items():
                print(f"  {name:32s} {seconds:7.2f} s {peak:8.0f} MB  {seconds / best:5.2f}x")


if __name__ == "__main__":
    main()
