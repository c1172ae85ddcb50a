"""Joins of a dataset with a separate predictions file give the single-file data."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import pytest

from bias_ledger.errors import InputError
from bias_ledger.io.load import load_audit_data
from bias_ledger.io.model import ColumnMapping, JoinMode
from tests.io.io_helpers import assert_same, basic_columns, write_table

SENSITIVE = ("sex", "band")
FULL = ColumnMapping(label="y", prediction="pred", score="score", sensitive=SENSITIVE)


def _halves(rows: int = 40) -> tuple[dict[str, list[object]], dict[str, list[object]]]:
    columns = {k: list(v) for k, v in basic_columns(rows).items()}
    data = {k: columns[k] for k in ("id", "y", "sex", "band")}
    pred = {k: columns[k] for k in ("id", "pred", "score")}
    return data, pred


@pytest.mark.parametrize(("data_name", "pred_name"), [("d.csv", "p.csv"), ("d.parquet", "p.jsonl")])
def test_id_join_equals_single_file(tmp_path: Path, data_name: str, pred_name: str) -> None:
    data, pred = _halves()
    single = load_audit_data(write_table(tmp_path / "all.csv", basic_columns(40)), mapping=FULL)
    order = np.random.default_rng(1).permutation(40)
    shuffled = {k: [v[i] for i in order] for k, v in pred.items()}
    data_path = write_table(tmp_path / data_name, data)
    pred_path = write_table(tmp_path / pred_name, shuffled)
    mapping = ColumnMapping(
        label="y", prediction="pred", score="score", sensitive=SENSITIVE, id_column="id"
    )
    joined = load_audit_data(data_path, predictions=pred_path, mapping=mapping)
    assert_same(joined, single)
    assert [f.name for f in joined.inputs] == [data_name, pred_name]
    assert [f.rows for f in joined.inputs] == [40, 40]


def test_id_join_with_text_ids_in_one_file(tmp_path: Path) -> None:
    data, pred = _halves(10)
    pred["id"] = [str(v) for v in pred["id"]]
    data_path = write_table(tmp_path / "d.parquet", data)
    pred_path = write_table(tmp_path / "p.jsonl", pred)
    mapping = ColumnMapping(label="y", prediction="pred", sensitive=SENSITIVE, id_column="id")
    joined = load_audit_data(data_path, predictions=pred_path, mapping=mapping)
    np.testing.assert_array_equal(joined.y_pred, np.array(pred["pred"]) == 1)


def test_prediction_errors_name_rows_of_the_predictions_file(tmp_path: Path) -> None:
    data, pred = _halves(10)
    pred["id"] = pred["id"][::-1]
    pred["pred"] = [0, 1, 0, 3, 1, 0, 1, 1, 0, 0]
    mapping = ColumnMapping(label="y", prediction="pred", sensitive=SENSITIVE, id_column="id")
    with pytest.raises(InputError) as info:
        load_audit_data(
            write_table(tmp_path / "d.csv", data),
            predictions=write_table(tmp_path / "p.csv", pred),
            mapping=mapping,
        )
    assert "p.csv: prediction column 'pred'" in info.value.message
    assert "row 4 (a 1-based data row)" in info.value.message


def test_row_order_join(tmp_path: Path) -> None:
    data, pred = _halves()
    del pred["id"]
    del data["id"]
    single = load_audit_data(write_table(tmp_path / "all.csv", basic_columns(40)), mapping=FULL)
    mapping = ColumnMapping(
        label="y", prediction="pred", score="score", sensitive=SENSITIVE, join=JoinMode.ROW_ORDER
    )
    joined = load_audit_data(
        write_table(tmp_path / "d.csv", data),
        predictions=write_table(tmp_path / "p.parquet", pred),
        mapping=mapping,
    )
    assert_same(joined, single)


def test_sample_data_join(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2] / "sample_data"
    single = load_audit_data(root / "lending.csv", mapping=_sample_mapping(None))
    joined = load_audit_data(
        root / "applicants.csv", predictions=root / "predictions.csv", mapping=_sample_mapping("id")
    )
    assert_same(joined, single)
    parquet = load_audit_data(root / "lending.parquet", mapping=_sample_mapping(None))
    assert_same(parquet, single)


def _sample_mapping(id_column: str | None) -> ColumnMapping:
    return ColumnMapping(
        label="repaid",
        prediction="approved_v1",
        score="score",
        sensitive=("sex", "race_ethnicity", "age_band"),
        id_column=id_column,
    )


def test_progress_counts_the_bytes_of_both_files(tmp_path: Path) -> None:
    data, pred = _halves()
    data_path = write_table(tmp_path / "d.csv", data)
    pred_path = write_table(tmp_path / "p.parquet", pred)
    steps: list[int] = []
    mapping = ColumnMapping(label="y", prediction="pred", sensitive=SENSITIVE, id_column="id")
    loaded = load_audit_data(
        data_path, predictions=pred_path, mapping=mapping, progress=steps.append
    )
    sizes = data_path.stat().st_size + pred_path.stat().st_size
    assert sum(steps) == sizes == sum(item.size for item in loaded.inputs)


@pytest.mark.parametrize("scale", [1, -3, 10**9], ids=["dense", "negative", "sparse"])
def test_integer_id_joins_dense_and_sparse(tmp_path: Path, scale: int) -> None:
    data, pred = _halves()
    data["id"] = [cast(int, v) * scale for v in data["id"]]
    order = np.random.default_rng(2).permutation(40)
    shuffled = {k: [v[i] for i in order] for k, v in pred.items()}
    shuffled["id"] = [cast(int, v) * scale for v in shuffled["id"]]
    single = load_audit_data(write_table(tmp_path / "all.csv", basic_columns(40)), mapping=FULL)
    mapping = ColumnMapping(
        label="y", prediction="pred", score="score", sensitive=SENSITIVE, id_column="id"
    )
    joined = load_audit_data(
        write_table(tmp_path / "d.parquet", data),
        predictions=write_table(tmp_path / "p.parquet", shuffled),
        mapping=mapping,
    )
    assert_same(joined, single)
