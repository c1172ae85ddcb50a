"""Engines side by side, in one run: `bias-ledger audit` with each engine against DuckDB's own
GROUPING SETS and GROUP BY queries, polars' lazy group_by and a bare pyarrow read of the same
columns, at each size asked for, CSV and Parquet; how the default engine's peak memory grows
from the smallest size to the largest; and a 1,000-row audit with two sensitive features.

Each measurement is a fresh process; its wall time and peak resident memory are printed, and
the ratio to the faster of DuckDB's GROUPING SETS and polars (which compute the count tables
and hash nothing, while the audit also hashes the file and computes every metric). Data is
generated on the fly, in chunks, into a temporary directory (never committed).

    python benchmarks/bench_engines.py --rows 1e7 1e8 [--spark] [--keep DIR]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

PEAK = (
    "import resource, sys\n"
    "def _peak():\n"
    "    usage = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    sys.stderr.write(f'PEAK {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}\\n')\n"
)
"""Appended to each measured program: its peak resident memory (KB) and CPU seconds (every
thread, user and system), which a shared machine's load disturbs less than wall time."""


CHUNK_ROWS = 5_000_000


def _chunk(rng: np.random.Generator, start: int, rows: int) -> pa.Table:
    # Text columns by taking from a small Arrow array: building millions of numpy strings
    # first took most of the generation's time.
    sexes = pa.array(["female", "male", "nonbinary"])
    sex = sexes.take(pa.array(rng.choice(3, rows, p=[0.48, 0.48, 0.04]).astype(np.int8)))
    races = pa.array(["Asian", "Black", "Hispanic", "Native American", "White"])
    race = races.take(pa.array(rng.choice(5, rows).astype(np.int8)))
    label = (rng.random(rows) < 0.6).astype(np.int8)
    return pa.table(
        {
            "id": np.arange(start, start + rows),
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


def _write_parquet(rows: int, path: Path) -> None:
    rng = np.random.default_rng(0)
    first = _chunk(rng, 0, min(rows, CHUNK_ROWS))
    with pq.ParquetWriter(path, first.schema) as writer:
        done, table = 0, first
        while True:
            writer.write_table(table, row_group_size=1 << 20)
            done += table.num_rows
            if done >= rows:
                break
            table = _chunk(rng, done, min(rows - done, CHUNK_ROWS))


def _parquet_to_csv(parquet: Path, csv: Path) -> None:
    """The same rows as CSV, written by DuckDB's multi-threaded COPY (pyarrow's CSV writer on
    one core took minutes at 1e8 rows); pyarrow's writer where DuckDB is not installed."""
    try:
        import duckdb
    except ImportError:
        with pq.ParquetFile(parquet) as source, pcsv.CSVWriter(csv, source.schema_arrow) as out:
            for batch in source.iter_batches(batch_size=CHUNK_ROWS):
                out.write_batch(batch)
        return
    connection = duckdb.connect()
    connection.execute("SET preserve_insertion_order = true")
    connection.execute("SET enable_progress_bar = false")
    connection.execute(
        f"COPY (SELECT * FROM read_parquet('{parquet}')) TO '{csv}' (FORMAT csv, HEADER true)"
    )
    connection.close()


def generate(rows: int, directory: Path, kinds: Sequence[str]) -> None:
    """``data.parquet`` and/or ``data.csv`` (``kinds``) of ``rows`` rows: the Parquet file
    chunk by chunk, the CSV file converted from it."""
    parquet = directory / ("data.parquet" if "parquet" in kinds else "source.parquet")
    _write_parquet(rows, parquet)
    if "csv" in kinds:
        _parquet_to_csv(parquet, directory / "data.csv")
    if "parquet" not in kinds:
        parquet.unlink()


def run(code: str) -> tuple[float, float, float]:
    """(wall seconds, peak MB, CPU seconds) of ``code`` in a fresh process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK + code + "\n_peak()\n"], capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed: {code}\n{done.stderr[-2000:]}")
    line = next(line for line in done.stderr.splitlines() if line.startswith("PEAK "))
    _, peak, cpu = line.split()
    return elapsed, int(peak) / 1024, float(cpu)


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


def duckdb_group_by(path: Path) -> str:
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
    return (
        "import duckdb\n"
        f"duckdb.sql(\"SELECT sex, race, repaid, approved, count(*) FROM {reader}('{path}') "
        'GROUP BY ALL").fetchall()\n'
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


def io_floor(path: Path) -> str:
    """Reading the file's bytes once and hashing them as the audit does: what any audit of
    this file must spend (the other programs hash nothing)."""
    return (
        "import blake3, hashlib\n"
        "b, s = blake3.blake3(max_threads=blake3.blake3.AUTO), hashlib.sha256()\n"
        f"with open('{path}', 'rb', buffering=0) as f:\n"
        "    while chunk := f.read(1 << 24):\n"
        "        b.update(chunk); s.update(chunk)\n"
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


SMALL = (
    "import numpy as np, pyarrow as pa, pyarrow.csv as pcsv, sys\n"
    "rng = np.random.default_rng(1)\n"
    "n = 1000\n"
    "weights = [float(w) for w in sys.argv[2].split(',')]\n"
    "p = np.array(weights) / sum(weights)\n"
    "pcsv.write_csv(pa.table({'y': (rng.random(n) < .5).astype(int),"
    " 'p': (rng.random(n) < .5).astype(int),"
    " 'sex': np.array(['f', 'm', 'x'])[rng.choice(3, n, p=p)],"
    " 'race': np.array(['a', 'b', 'c'])[rng.integers(0, 3, n)]}), sys.argv[1])\n"
)


def _median_run(command: list[str], repeats: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``command``, each run a fresh process."""
    times, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return sorted(times)[repeats // 2], sorted(cpus)[repeats // 2]


def small_audits(directory: Path, repeats: int = 5) -> None:
    """Median wall time of a 1,000-row audit with two sensitive features, interpreter start
    included: without small groups (no Fisher's exact test) and with one (Fisher's runs),
    with ``--no-record`` and appending a signed record."""
    print("\n1,000-row audit, two sensitive features (median of 5, fresh process each)")
    cli = [sys.executable, "-m", "bias_ledger"]
    key, ledger = directory / "small-key", directory / "small-ledger"
    if not key.exists():
        subprocess.run([*cli, "key", "generate", "-o", str(key)], check=True, capture_output=True)
    subprocess.run([*cli, "init", "--ledger", str(ledger)], check=True, capture_output=True)
    for name, weights in (("no small group", "1,1,0"), ("a group of ~20 rows", "49,49,2")):
        path = directory / f"small-{weights.replace(',', '-')}.csv"
        subprocess.run([sys.executable, "-c", SMALL, str(path), weights], check=True)
        command = [*cli, "audit", str(path), "--label", "y", "--prediction", "p"]
        command += ["--sensitive", "sex", "--sensitive", "race"]
        for how, extra in (
            ("--no-record", ["--no-record"]),
            ("recorded", ["--key", str(key), "--ledger", str(ledger)]),
        ):
            wall, cpu = _median_run([*command, *extra], repeats)
            print(f"  {name + ', ' + how:36s} {wall:7.2f} s wall {cpu:7.2f} s CPU")


def prepare(rows: int, directory: Path, kinds: Sequence[str]) -> list[Path]:
    """The data files (``kinds``) of ``rows`` rows in ``directory``, generated unless already
    there (a marker file per format says a file is complete)."""
    directory.mkdir(parents=True, exist_ok=True)
    missing = [
        kind
        for kind in kinds
        if not (directory / f"{kind}.rows").exists()
        or (directory / f"{kind}.rows").read_text() != str(rows)
    ]
    if missing:
        # Generated in another process: Linux keeps a process's peak memory across exec, so
        # every measured child would otherwise start from the generator's peak.
        command = [sys.executable, __file__, "--rows", str(rows), "--formats", *missing]
        subprocess.run([*command, "--generate-into", str(directory)], check=True)
        for kind in missing:
            (directory / f"{kind}.rows").write_text(str(rows))
    return [directory / f"data.{kind}" for kind in kinds]


DUCKDB_ENGINE_ROWS = 10_000_000
"""The duckdb engine is timed up to this size (it is not what the targets compare)."""


def one_size(
    rows: int, directory: Path, spark: bool, keep: bool, kinds: Sequence[str]
) -> dict[str, float]:
    """Every measurement at one size; the default engine's peak memory per format. Files
    already generated in ``directory`` (with ``--keep``) are measured again, not remade."""
    files = prepare(rows, directory, kinds)
    print(
        f"\n{rows:,} rows; wall s / peak MB / CPU s (all threads); ratio = wall time / faster "
        "of DuckDB GROUPING SETS and polars"
    )
    peaks = {}
    for path in files:
        measured = {
            "I/O floor (read, BLAKE3+SHA-256)": run(io_floor(path)),
            "pyarrow read (audited columns)": run(arrow_read(path)),
            "DuckDB GROUP BY": run(duckdb_group_by(path)),
            "DuckDB GROUPING SETS": run(duckdb_query(path)),
            "polars lazy group_by": run(polars_query(path)),
            "bias-ledger (default engine)": run(audit(path, "arrow")),
        }
        if rows <= DUCKDB_ENGINE_ROWS:
            measured["bias-ledger --engine duckdb"] = run(audit(path, "duckdb"))
        if spark and path.suffix == ".parquet":  # one Spark run bounds the run's length
            measured["bias-ledger --engine spark"] = run(audit(path, "spark"))
        best = min(measured["DuckDB GROUPING SETS"][0], measured["polars lazy group_by"][0])
        size = path.stat().st_size / 1e6
        print(f"\n{path.suffix[1:]} ({size:,.0f} MB)")
        for name, (seconds, peak, cpu) in measured.items():
            ratio = seconds / best
            print(f"  {name:32s} {seconds:7.2f} s {peak:8.0f} MB {cpu:7.2f} s  {ratio:5.2f}x")
        peaks[path.suffix[1:]] = measured["bias-ledger (default engine)"][1]
    if not keep:
        for path in files:
            path.unlink()
            (directory / f"{path.suffix[1:]}.rows").unlink()
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=float, nargs="+", default=[1e7])
    parser.add_argument(
        "--spark", action="store_true", help="also time --engine spark (largest size, Parquet)"
    )
    parser.add_argument(
        "--keep", type=Path, help="generate into (and keep) this directory; reuse what is there"
    )
    parser.add_argument("--generate-only", action="store_true", help="with --keep: only generate")
    parser.add_argument("--no-small", action="store_true", help="skip the 1,000-row audits")
    parser.add_argument(
        "--formats", nargs="+", choices=["parquet", "csv"], default=["parquet", "csv"]
    )
    parser.add_argument("--generate-into", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    sizes = sorted(int(rows) for rows in options.rows)
    if options.generate_into is not None:
        generate(sizes[0], options.generate_into, options.formats)
        return
    if options.generate_only and options.keep is not None:
        for rows in sizes:
            prepare(rows, options.keep / str(rows), options.formats)
        return
    with tempfile.TemporaryDirectory() as scratch:
        directory = options.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        if not options.no_small:
            small_audits(directory)
        peaks = {
            rows: one_size(
                rows,
                directory / str(rows),
                options.spark and rows == sizes[-1],
                keep=options.keep is not None,
                kinds=options.formats,
            )
            for rows in sizes
        }
    if len(sizes) > 1:
        low, high = sizes[0], sizes[-1]
        print(f"\nDefault engine's peak memory, {low:,} -> {high:,} rows")
        for kind in peaks[low]:
            grown = peaks[high][kind] / peaks[low][kind]
            before, after = peaks[low][kind], peaks[high][kind]
            print(f"  {kind:8s} {before:6.0f} MB -> {after:6.0f} MB  {grown:.2f}x")


if __name__ == "__main__":
    main()
