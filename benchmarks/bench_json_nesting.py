"""Benchmark of the nesting scan every JSON Lines input gets before pyarrow reads it
(``bias_ledger/io/json_nesting.py``), against pyarrow's own streaming read of the same file.

Run: ``python benchmarks/bench_json_nesting.py [--megabytes 100]``. Writes, in a temporary
directory (never committed), flat audit records (one in 50 with escapes in its text), the same
without escapes, and the first gzipped; prints the median of 5 scans and of 3 reads of each.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bias_ledger.io import json_nesting

WORDS = ("loan", "approved", "credit", "history", "income", "stable", "review", "manual")
RACES = ("White", "Black", "Asian", "Hispanic or Latino", "Native American")


def write_rows(path: Path, megabytes: int, *, escapes: bool) -> int:
    """Flat records of about ``megabytes`` MB at ``path``; returns how many."""
    rng, size, count = random.Random(7), 0, 0
    with path.open("w") as out:
        while size < megabytes * 1_000_000:
            note = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8)))
            if escapes and count % 50 == 0:
                note += ' said "ok" \\ path C:\\dir'
            row = {
                "id": count,
                "label": rng.randint(0, 1),
                "pred": rng.randint(0, 1),
                "score": round(rng.random(), 6),
                "sex": rng.choice("FM"),
                "race": rng.choice(RACES),
                "age": rng.randint(18, 90),
                "note": note,
            }
            line = json.dumps(row) + "\n"
            out.write(line)
            size, count = size + len(line), count + 1
    return count


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def scan(path: Path) -> None:
    json_nesting._check.cache_clear()  # a scan, not the remembered result
    json_nesting.check_nesting(path)


def pyarrow_read(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.json as pj

    with pj.open_json(pa.input_stream(str(path))) as reader:
        for _ in reader:
            pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        escaped, plain = Path(tmp) / "escapes.jsonl", Path(tmp) / "plain.jsonl"
        rows = write_rows(escaped, args.megabytes, escapes=True)
        write_rows(plain, args.megabytes, escapes=False)
        zipped = Path(tmp) / "escapes.jsonl.gz"
        with gzip.open(zipped, "wb", compresslevel=1) as out:
            out.write(escaped.read_bytes())
        print(f"{rows} records, {escaped.stat().st_size / 1e6:.0f} MB")
        for path in (plain, escaped, zipped):
            scanned = median_seconds(functools.partial(scan, path), 5)
            read = median_seconds(functools.partial(pyarrow_read, path), 3)
            print(
                f"{path.name:<20} scan {scanned:6.3f} s   pyarrow read {read:6.3f} s   "
                f"scan/read {scanned / read:5.1%}"
            )


if __name__ == "__main__":
    main()
