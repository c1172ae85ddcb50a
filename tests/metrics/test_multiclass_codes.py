"""Multiclass audits code classes from Arrow dictionaries (no per-row text, no np.unique over
strings): the numbers are those of the text path, whatever the columns' types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bias_ledger
from bias_ledger.io.columns import Located, text, to_classes
from bias_ledger.metrics.counts import encode_column
from bias_ledger.metrics.multiclass import multiclass_metrics


def _columns(kind: str, rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array]:
    if kind == "strings":
        names = np.array(["ünï", "b", "A", "10", "9", "z z"])
        return pa.array(rng.choice(names, n)), pa.array(rng.choice(names, n))
    if kind == "ints_and_floats":  # 1 and 1.0 are one class, "1"
        return pa.array(rng.integers(0, 4, n)), pa.array(rng.integers(0, 4, n).astype(float))
    if kind == "dictionary":
        labels = pa.array(rng.choice(["lo", "mid", "hi"], n)).dictionary_encode()
        return labels, pa.array(rng.choice(["hi", "lo", "mid", "none"], n))
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["strings", "ints_and_floats", "dictionary"])
def test_class_codes_equal_the_text_path(tmp_path: Path, kind: str) -> None:
    rng = np.random.default_rng(len(kind))
    n = 3_000
    labels, predictions = _columns(kind, rng, n)
    group = rng.choice(["f", "m", "x"], n)
    # Chunks with different dictionaries: each chunk is coded on its own.
    table = pa.Table.from_batches(
        pa.table({"y": labels, "p": predictions, "g": group}).to_batches(max_chunksize=700)
    )
    path = tmp_path / "data.parquet"
    pq.write_table(table, path, row_group_size=900)
    args: dict[str, Any] = {
        "label": "y",
        "prediction": "p",
        "sensitive": "g",
        "task": "multiclass_classification",
        "min_group_size": 0,
    }
    texts = [np.array([text(v) for v in column.to_pylist()]) for column in (labels, predictions)]
    expected = multiclass_metrics(texts[0], texts[1], [encode_column("g", group)]).to_json()
    for source in (table, path):
        assert bias_ledger.audit(source, **args).results.to_json() == expected
    true_codes, _, classes = to_classes(
        Located("y", table.column("y"), path),
        Located("p", table.column("p"), path),
        max_classes=100,
    )
    assert [classes[c] for c in true_codes.tolist()] == texts[0].tolist()
