"""Reading CSV, gzipped CSV, Parquet and JSON Lines gives the same audit data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import blake3
import numpy as np
import pytest

from bias_ledger.io.load import load_audit_data
from bias_ledger.io.model import ColumnMapping, FileFormat
from tests.io.io_helpers import assert_same, basic_columns, write_table

MAPPING = ColumnMapping(label="y", prediction="pred", score="score", sensitive=("sex", "band"))
FORMATS = {
    "data.csv": FileFormat.CSV,
    "data.csv.gz": FileFormat.CSV,
    "data.parquet": FileFormat.PARQUET,
    "data.jsonl": FileFormat.JSONL,
    "data.ndjson": FileFormat.JSONL,
    "data.jsonl.gz": FileFormat.JSONL,
}
NAMES = list(FORMATS)


@pytest.mark.parametrize("name", NAMES)
def test_every_format_gives_the_same_data(tmp_path: Path, name: str) -> None:
    columns = basic_columns()
    reference = load_audit_data(write_table(tmp_path / "ref.csv", columns), mapping=MAPPING)
    path = write_table(tmp_path / name, columns)
    data = load_audit_data(path, mapping=MAPPING)
    assert_same(data, reference)
    (item,) = data.inputs
    raw = path.read_bytes()
    assert item.path == str(path) and item.name == name
    assert item.size == len(raw) and item.rows == 12
    assert item.blake3 == blake3.blake3(raw).hexdigest()
    assert item.format is FORMATS[name]


def test_values_are_converted_as_expected(tmp_path: Path) -> None:
    columns = basic_columns()
    data = load_audit_data(write_table(tmp_path / "d.parquet", columns), mapping=MAPPING)
    np.testing.assert_array_equal(data.y_true, np.array(columns["y"]) == 1)
    np.testing.assert_array_equal(data.y_pred, np.array(columns["pred"]) == 1)
    np.testing.assert_array_equal(data.score, np.array(columns["score"], dtype=np.float64))
    sex = data.sensitive[0]
    assert sex.categories == ("female", "male")
    decoded = np.array(sex.categories)[sex.codes]
    np.testing.assert_array_equal(decoded, np.array(columns["sex"]))
    assert data.positive_label == "1" and data.warnings == () and data.dropped_rows == 0


def test_score_and_threshold_make_the_predictions(tmp_path: Path) -> None:
    columns = basic_columns()
    path = write_table(tmp_path / "d.csv", columns)
    mapping = ColumnMapping(label="y", score="score", threshold=0.4, sensitive=("sex",))
    data = load_audit_data(path, mapping=mapping)
    np.testing.assert_array_equal(data.y_pred, np.array(columns["score"]) >= 0.4)


@pytest.mark.parametrize(
    ("label", "pos_label", "positive"),
    [
        (["yes", "no"], "yes", "yes"),
        (["good", "bad"], "bad", "bad"),
        ([True, False], None, "True"),
        (["true", "false"], None, "True"),
        ([2, 5], "5", "5"),
        ([True, False], "false", "False"),
    ],
)
def test_two_valued_labels(
    tmp_path: Path, label: list[object], pos_label: str | None, positive: str
) -> None:
    rows = 8
    values = [label[i % 2] for i in range(rows)]
    predictions = [label[(i // 2) % 2] for i in range(rows)]
    columns: dict[str, list[Any]] = {"y": values, "p": predictions, "g": ["a", "b"] * (rows // 2)}
    mapping = ColumnMapping(label="y", prediction="p", pos_label=pos_label, sensitive=("g",))
    for name in ("d.csv", "d.parquet", "d.jsonl"):
        data = load_audit_data(write_table(tmp_path / name, columns), mapping=mapping)
        want = pos_label if pos_label is not None else label[0]
        np.testing.assert_array_equal(
            data.y_true, [str(v).lower() == str(want).lower() for v in values]
        )
        np.testing.assert_array_equal(
            data.y_pred, [str(v).lower() == str(want).lower() for v in predictions]
        )
        assert data.positive_label.lower() == positive.lower()


def test_integer_and_boolean_groups_become_text(tmp_path: Path) -> None:
    columns: dict[str, list[Any]] = {
        "y": [0, 1, 1, 0],
        "p": [1, 1, 0, 0],
        "n": [3, 10, 3, 2],
        "b": [True, False, True, True],
    }
    mapping = ColumnMapping(label="y", prediction="p", sensitive=("n", "b"))
    for name in ("d.csv", "d.parquet", "d.jsonl"):
        data = load_audit_data(write_table(tmp_path / name, columns), mapping=mapping)
        numbers, flags = data.sensitive
        assert numbers.categories == ("2", "3", "10")  # sorted by value, not as text
        np.testing.assert_array_equal(numbers.codes, [1, 2, 1, 0])
        assert flags.categories == ("False", "True")


def test_missing_as_group_and_drop_missing(tmp_path: Path) -> None:
    columns: dict[str, list[Any]] = {
        "y": [0, 1, None, 1, 0, 1],
        "p": [1, 1, 0, None, 0, 0],
        "g": ["a", None, "b", "a", "b", None],
    }
    mapping = ColumnMapping(
        label="y", prediction="p", sensitive=("g",), missing_as_group=True, drop_missing=True
    )
    for name in ("d.csv", "d.parquet", "d.jsonl"):
        data = load_audit_data(write_table(tmp_path / name, columns), mapping=mapping)
        assert data.rows == 4 and data.dropped_rows == 2
        assert data.inputs[0].rows == 6
        assert any("dropped 2 rows" in w for w in data.warnings)
        (group,) = data.sensitive
        assert group.categories == ("a", "b", "<missing>")
        np.testing.assert_array_equal(group.codes, [0, 2, 1, 2])
        np.testing.assert_array_equal(data.y_true, [False, True, False, True])
