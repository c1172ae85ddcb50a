"""Every task streams: a fresh audit process's peak memory at N and 4N rows (not timed).

Reading the columns whole holds a float64 per row for the score, regression or weight column
alone, and the label, prediction and group codes besides (20 bytes a row or more); the
streamed audit's peak grows by less than that one column (the reader's and allocator's
noise, about 3 bytes a row on the prediction path, remains).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROWS = 1_000_000
TASKS: dict[str, dict[str, Any]] = {
    "scores": {"label": "label", "score": "score", "threshold": 0.5},
    "regression": {"label": "target", "prediction": "estimate", "task": "regression"},
    "multiclass": {"label": "klass", "prediction": "guess", "task": "multiclass_classification"},
    "weighted": {"label": "label", "prediction": "prediction", "weight": "w", "ci": None},
    "weighted scores": {"label": "label", "score": "score", "threshold": 0.5, "weight": "w"},
}

_MEASURE = """
import json, sys
import bias_ledger
args = json.loads(sys.argv[2])
result = bias_ledger.audit(sys.argv[1], sensitive=["sex", "region"], **args)
peak = next(int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM"))
print(result.rows, peak)
"""


def _write(path: Path, rows: int) -> Path:
    rng = np.random.default_rng(rows)
    label = rng.random(rows) < 0.4
    target = rng.gamma(2.0, 20.0, rows)
    table = pa.table(
        {
            "label": label.astype(np.int64),
            "prediction": (rng.random(rows) < np.where(label, 0.7, 0.3)).astype(np.int64),
            "score": np.clip(rng.normal(0.4 + 0.2 * label, 0.2), 0, 1),
            "target": target,
            "estimate": target + rng.normal(0, 5, rows),
            "klass": rng.choice(["low", "mid", "high"], rows),
            "guess": rng.choice(["low", "mid", "high"], rows),
            "sex": rng.choice(["female", "male", "nonbinary"], rows),
            "region": rng.integers(0, 4, rows),
            "w": rng.gamma(2.0, 1.0, rows),
        }
    )
    # Row groups of a fixed size: the reader's memory does not depend on the file's.
    pq.write_table(table, path, row_group_size=1 << 16)
    return path


def _peak_kib(path: Path, args: dict[str, Any]) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path), json.dumps(args)],
        capture_output=True,
        text=True,
        check=True,
    )
    rows, peak = done.stdout.split()
    return int(rows), int(peak)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("memory")
    return _write(root / "small.parquet", ROWS), _write(root / "large.parquet", 4 * ROWS)


@pytest.mark.slow
@pytest.mark.parametrize("task", list(TASKS))
def test_peak_memory_does_not_grow_with_rows(files: tuple[Path, Path], task: str) -> None:
    small_rows, small = _peak_kib(files[0], TASKS[task])
    large_rows, large = _peak_kib(files[1], TASKS[task])
    assert (small_rows, large_rows) == (ROWS, 4 * ROWS)
    grown = 3 * ROWS * 8  # one float64 column of the extra rows, in bytes
    if (large - small) * 1024 >= grown:
        # The noise is one-sided: on a loaded machine the reader thread can hold its batches
        # read ahead (two of 2**18 rows) at the larger size only (seen once in CI: +30 MB).
        # Holding the rows would show in every run; the lower of two runs is kept.
        large = min(large, _peak_kib(files[1], TASKS[task])[1])
    print(f"{task}: peak KiB {small} at {ROWS} rows, {large} at {4 * ROWS}")
    assert (large - small) * 1024 < grown, (small, large)
