"""Parquet and JSON Lines files whose float label, prediction and score hold NaN (and null),
for the engine parity tests: NaN is a missing value on every engine, as on the arrow engine."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROWS = 120
NAN_ROWS = {"y": 6, "p": 8, "s": 10}
"""The 1-based data row holding NaN, by column (row 40's score is null)."""


def write_nan_file(path: Path) -> Path:
    """A float label ``y``, prediction ``p`` and score ``s``, each NaN in one row, with
    groups ``g``: Parquet for a ``.parquet`` path, JSON Lines (Python's ``NaN``) otherwise."""
    columns: dict[str, list[float | None]] = {
        "y": [float(i % 2) for i in range(ROWS)],
        "p": [float(i // 3 % 2) for i in range(ROWS)],
        "s": [(i % 10) / 10 for i in range(ROWS)],
    }
    for name, row in NAN_ROWS.items():
        columns[name][row - 1] = math.nan
    columns["s"][39] = None
    groups = ["ab"[i % 2] for i in range(ROWS)]
    if path.suffix == ".parquet":
        pq.write_table(pa.table({**columns, "g": groups}), path)
        return path
    records = [
        {**{name: values[i] for name, values in columns.items()}, "g": groups[i]}
        for i in range(ROWS)
    ]
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    assert "NaN" in path.read_text()
    return path


def write_scores(path: Path) -> Path:
    """A complete label ``y``, and a score (and regression values) ``s`` missing in rows 10
    (NaN) and 40 (null or empty), in the format of ``path``'s suffix."""
    scores: list[float | None] = [(i % 10) / 10 for i in range(ROWS)]
    scores[9], scores[39] = math.nan, None
    labels = [i % 2 for i in range(ROWS)]
    groups = ["ab"[i % 2] for i in range(ROWS)]
    if path.suffix == ".parquet":
        pq.write_table(pa.table({"y": labels, "s": scores, "g": groups}), path)
    elif path.suffix == ".jsonl":
        path.write_text(
            "".join(
                json.dumps({"y": y, "s": s, "g": g}) + "\n"
                for y, s, g in zip(labels, scores, groups, strict=True)
            )
        )
    else:
        path.write_text(
            "y,s,g\n"
            + "".join(
                f"{y},{'' if s is None else s},{g}\n"
                for y, s, g in zip(labels, scores, groups, strict=True)
            )
        )
    return path
