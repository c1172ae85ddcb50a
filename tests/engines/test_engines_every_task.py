"""Every task on every engine, JSON compared whole: the streaming arrow engine and duckdb on
id joins, JSON Lines, ``.gz``, intersections and missing values; a hive-partitioned directory
on duckdb against the same rows in one file (spark: tests/engines/test_spark_engine.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import bias_ledger
from tests.engines.data import hive_directory, write
from tests.engines.test_arrow_streaming import TASKS, _table
from tests.engines.test_statistics_engines import _document, _same

SENSITIVE = ["sex", "region"]
# DuckDB sniffs a CSV column of "yes"/"no" as booleans (the arrow engine reads text): the text
# label is audited from Parquet and JSON Lines only (tests/engines/test_arrow_streaming.py).
# The weighted score task is the arrow engine's only (tests/engines/test_weighted_scores.py).
EVERY = [
    {**args, "label": "label", "pos_label": None} if args["label"] == "answer" else args
    for args in TASKS
    if not ("weight" in args and "score" in args)
]


@pytest.mark.parametrize("args", EVERY)
@pytest.mark.parametrize("suffix", [".jsonl", ".csv.gz"])
def test_every_task_every_format(tmp_path: Path, suffix: str, args: dict[str, Any]) -> None:
    path = write(_table(7, 2_000), tmp_path / f"data{suffix}")
    _same(path, **args, sensitive=SENSITIVE)


@pytest.mark.parametrize("args", EVERY)
def test_every_task_joined_on_an_id(tmp_path: Path, args: dict[str, Any]) -> None:
    table = _table(8, 3_000)
    own = ["id", args["label"], *SENSITIVE]
    rest = [name for name in table.column_names if name not in own]
    data = write(table.select(own), tmp_path / "data.csv")
    shuffled = table.select(["id", *rest]).take(pa.array(range(table.num_rows - 1, -1, -1)))
    predictions = write(shuffled, tmp_path / "predictions.parquet")
    _same(data, **args, sensitive=SENSITIVE, predictions=predictions, id_column="id")


@pytest.mark.parametrize("args", [TASKS[0], TASKS[3], TASKS[5], TASKS[6]])
def test_missing_values_dropped_and_as_group(tmp_path: Path, args: dict[str, Any]) -> None:
    path = write(_table(9, 3_000, missing=True), tmp_path / "data.parquet")
    options = {"drop_missing": True, "missing_as_group": True, "sensitive": SENSITIVE}
    assert _same(path, **args, **options)["data"]["dropped_rows"] > 0


def test_hive_partitioned_directory(tmp_path: Path) -> None:
    table = _table(10, 3_000)
    single = write(table, tmp_path / "all.parquet")
    root = hive_directory(table, tmp_path / "dataset", by="sex")
    for args in EVERY:
        expected = _document(bias_ledger.audit(single, **args, sensitive=SENSITIVE))
        found = _document(bias_ledger.audit(root, **args, sensitive=SENSITIVE, engine="duckdb"))
        assert found["results"] == expected["results"]
        assert found["statistics"] == expected["statistics"]
