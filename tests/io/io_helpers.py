"""Helpers for tests/io: small input files in every supported format.

Named io_helpers (not conftest) because tests/io cannot be a package: it would shadow `io`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bias_ledger.io.model import AuditData

Columns = Mapping[str, Sequence[Any]]


def write_table(path: Path, columns: Columns) -> Path:
    """Write ``columns`` to ``path`` in the format its extension names (None is missing)."""
    names = list(columns)
    rows = list(zip(*columns.values(), strict=True))
    name = path.name
    if name.endswith((".csv", ".csv.gz")):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(["" if v is None else v for v in row] for row in rows)
        data = buffer.getvalue().encode()
        path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    elif name.endswith((".jsonl", ".ndjson", ".jsonl.gz")):
        text = "".join(json.dumps(dict(zip(names, row, strict=True))) + "\n" for row in rows)
        data = text.encode()
        path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({k: list(v) for k, v in columns.items()}), path)
    return path


def basic_columns(rows: int = 12) -> dict[str, list[Any]]:
    """A small valid dataset: id, label, prediction, score and two sensitive features."""
    return {
        "id": [1000 + i for i in range(rows)],
        "y": [i % 2 for i in range(rows)],
        "pred": [(i // 2) % 2 for i in range(rows)],
        "score": [round((i % 7) / 7, 3) for i in range(rows)],
        "sex": ["female" if i % 3 else "male" for i in range(rows)],
        "band": [["a", "b", "c"][i % 3] for i in range(rows)],
    }


def assert_same(left: AuditData, right: AuditData) -> None:
    """Assert that two loads produced the same arrays, groups and counts."""
    np.testing.assert_array_equal(left.y_true, right.y_true)
    np.testing.assert_array_equal(left.y_pred, right.y_pred)
    assert (left.score is None) == (right.score is None)
    if left.score is not None and right.score is not None:
        np.testing.assert_array_equal(left.score, right.score)
    assert len(left.sensitive) == len(right.sensitive)
    for a, b in zip(left.sensitive, right.sensitive, strict=True):
        assert (a.name, a.categories) == (b.name, b.categories)
        np.testing.assert_array_equal(a.codes, b.codes)
        # The narrowest signed type that holds the codes (and -1), the same for both loads.
        assert a.codes.dtype == b.codes.dtype
        assert np.iinfo(a.codes.dtype).max >= len(a.categories)
        if len(a.categories) < 100:
            assert a.codes.dtype == np.int8
    assert (left.rows, left.dropped_rows, left.positive_label) == (
        right.rows,
        right.dropped_rows,
        right.positive_label,
    )
    assert left.warnings == right.warnings
