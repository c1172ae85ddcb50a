"""Every bad input of issue 2 fails with one clear InputError naming the file or column."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bias_ledger.errors import ExitCode, InputError
from bias_ledger.io.load import load_audit_data
from bias_ledger.io.model import ColumnMapping, JoinMode
from tests.io.io_helpers import basic_columns, write_table

MAPPING = ColumnMapping(label="y", prediction="pred", sensitive=("sex",))


def fails(data: Path, mapping: ColumnMapping = MAPPING, predictions: Path | None = None) -> str:
    with pytest.raises(InputError) as info:
        load_audit_data(data, predictions=predictions, mapping=mapping)
    message = info.value.diagnostics()
    assert "\n" not in message
    assert info.value.exit_code is ExitCode.USAGE
    return message


def test_missing_file(tmp_path: Path) -> None:
    message = fails(tmp_path / "nope.csv")
    assert str(tmp_path / "nope.csv") in message and "no such file" in message


def test_directory_instead_of_file(tmp_path: Path) -> None:
    (tmp_path / "dir.csv").mkdir()
    message = fails(tmp_path / "dir.csv")
    assert "dir.csv" in message and "directory" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write_table(tmp_path / "secret.csv", basic_columns())
    path.chmod(0)
    message = fails(path)
    assert "secret.csv" in message and "permission denied" in message


def test_unknown_format(tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK\x03\x04")
    message = fails(path)
    assert "data.xlsx" in message and "unknown file format '.xlsx'" in message
    assert ".csv" in message and ".parquet" in message and ".jsonl" in message


def test_malformed_csv(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("y,pred,sex\n1,0,male\n0,1\n")
    message = fails(path)
    assert "ragged.csv" in message and "data row 2 (line 3 of the file) has 2 fields" in message


@pytest.mark.parametrize("name", ["empty.csv", "empty.parquet", "empty.jsonl"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"")
    message = fails(tmp_path / name)
    assert name in message and "empty" in message


def test_header_only_csv(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("y,pred,sex\n")
    message = fails(path)
    assert "header.csv" in message and "no data rows" in message


@pytest.mark.parametrize("name", ["d.csv", "d.parquet", "d.jsonl"])
def test_missing_column_suggests_closest(tmp_path: Path, name: str) -> None:
    path = write_table(tmp_path / name, basic_columns())
    message = fails(path, ColumnMapping(label="y", prediction="pred", sensitive=("sexx",)))
    assert name in message and "no sensitive column 'sexx'" in message
    assert "did you mean 'sex'" in message


def test_missing_column_without_close_match_lists_columns(tmp_path: Path) -> None:
    path = write_table(tmp_path / "d.csv", basic_columns())
    message = fails(path, ColumnMapping(label="outcome", prediction="pred", sensitive=("sex",)))
    assert "no label column 'outcome'" in message and "columns are 'id', 'y'" in message


def test_label_not_binary(tmp_path: Path) -> None:
    columns = basic_columns()
    columns["y"] = [i % 3 for i in range(12)]
    message = fails(write_table(tmp_path / "d.csv", columns))
    assert "d.csv" in message and "label column 'y'" in message
    assert "binary" in message and "3 values: '0', '1', '2'" in message


def test_two_valued_label_needs_pos_label(tmp_path: Path) -> None:
    columns = basic_columns()
    columns["y"] = ["yes" if i % 2 else "no" for i in range(12)]
    message = fails(write_table(tmp_path / "d.csv", columns))
    assert "label column 'y'" in message and "'no', 'yes'" in message and "--pos-label" in message


def test_more_than_two_values_with_pos_label(tmp_path: Path) -> None:
    columns = basic_columns()
    columns["y"] = [["a", "b", "c"][i % 3] for i in range(12)]
    mapping = ColumnMapping(label="y", prediction="pred", pos_label="a", sensitive=("sex",))
    message = fails(write_table(tmp_path / "d.csv", columns), mapping)
    assert "label column 'y'" in message and "two values; found 3: 'a', 'b', 'c'" in message


def test_pos_label_not_a_label_value(tmp_path: Path) -> None:
    mapping = ColumnMapping(label="y", prediction="pred", pos_label="7", sensitive=("sex",))
    message = fails(write_table(tmp_path / "d.csv", basic_columns()), mapping)
    assert "label column 'y'" in message and "'7' is not one of its values '0', '1'" in message


def test_prediction_outside_zero_one(tmp_path: Path) -> None:
    columns = basic_columns()
    columns["pred"] = [0, 1, 0, 2, 1, 0, 0, 2, 1, 1, 0, 0]
    message = fails(write_table(tmp_path / "d.csv", columns))
    assert "d.csv" in message and "prediction column 'pred'" in message
    assert "0/1 or true/false" in message and "found '2'" in message
    assert "rows 4, 8 (1-based data rows)" in message


def test_prediction_outside_pos_label_values(tmp_path: Path) -> None:
    columns = {
        "y": ["yes", "no", "no", "yes"],
        "pred": ["yes", "maybe", "no", "no"],
        "sex": ["f", "m", "f", "m"],
    }
    mapping = ColumnMapping(label="y", prediction="pred", pos_label="yes", sensitive=("sex",))
    message = fails(write_table(tmp_path / "d.jsonl", columns), mapping)
    assert "prediction column 'pred'" in message and "'no' or 'yes'" in message
    assert "'maybe' in row 2 (a 1-based data row)" in message


def test_score_without_threshold(tmp_path: Path) -> None:
    path = write_table(tmp_path / "d.csv", basic_columns())
    message = fails(path, ColumnMapping(label="y", score="score", sensitive=("sex",)))
    assert "score column 'score'" in message and "--threshold" in message


def test_non_numeric_score(tmp_path: Path) -> None:
    columns = basic_columns()
    columns["score"] = ["high" if i % 2 else "low" for i in range(12)]
    mapping = ColumnMapping(label="y", score="score", threshold=0.5, sensitive=("sex",))
    message = fails(write_table(tmp_path / "d.parquet", columns), mapping)
    assert "d.parquet" in message
    assert "score column 'score' holds 'high', 'low' in rows 1, 2," in message
    assert message.endswith("expected a number")


def test_missing_sensitive_value(tmp_path: Path) -> None:
    columns = basic_columns()
    columns["sex"] = [None if i in (2, 5, 9) else "f" for i in range(12)]
    message = fails(write_table(tmp_path / "d.csv", columns))
    assert "sensitive column 'sex'" in message and "3 missing values" in message
    assert "rows 3, 6, 10 (1-based data rows)" in message and "--missing-as-group" in message


def test_missing_label(tmp_path: Path) -> None:
    columns = basic_columns()
    columns["y"] = [None if i == 4 else 1 for i in range(12)]
    message = fails(write_table(tmp_path / "d.parquet", columns))
    assert "label column 'y' has 1 missing value, in row 5 " in message
    assert "--drop-missing" in message


def test_single_group_is_a_warning(tmp_path: Path) -> None:
    columns = basic_columns()
    columns["sex"] = ["f"] * 12
    data = load_audit_data(write_table(tmp_path / "d.csv", columns), mapping=MAPPING)
    (warning,) = data.warnings
    assert (
        "d.csv" in warning and "sensitive column 'sex'" in warning and "single group 'f'" in warning
    )


def test_too_many_groups(tmp_path: Path) -> None:
    mapping = ColumnMapping(label="y", prediction="pred", sensitive=("id",), max_groups=10)
    message = fails(write_table(tmp_path / "d.csv", basic_columns()), mapping)
    assert "sensitive column 'id'" in message and "12 distinct values" in message
    assert "maximum of 10" in message and "probably an id column" in message


def test_default_max_groups_is_1000(tmp_path: Path) -> None:
    columns = basic_columns(1001)
    mapping = ColumnMapping(label="y", prediction="pred", sensitive=("id",))
    assert "1001 distinct values, more than the maximum of 1000" in fails(
        write_table(tmp_path / "d.parquet", columns), mapping
    )


def _split(
    tmp_path: Path, data_name: str = "data.csv", pred_name: str = "pred.csv", prefix: str = ""
) -> tuple[Path, Path]:
    columns = basic_columns()
    columns["id"] = [f"{prefix}{v}" for v in columns["id"]] if prefix else columns["id"]
    data = {k: columns[k] for k in ("id", "y", "sex")}
    pred = {k: columns[k] for k in ("id", "pred")}
    return write_table(tmp_path / data_name, data), write_table(tmp_path / pred_name, pred)


def test_join_without_id_is_refused(tmp_path: Path) -> None:
    data, pred = _split(tmp_path)
    message = fails(data, MAPPING, pred)
    assert "data.csv" in message and "pred.csv" in message
    assert "--id COLUMN" in message and "--join row-order" in message


def test_row_count_mismatch(tmp_path: Path) -> None:
    data, _ = _split(tmp_path)
    pred = write_table(tmp_path / "short.csv", {"pred": [0, 1, 1]})
    mapping = ColumnMapping(
        label="y", prediction="pred", sensitive=("sex",), join=JoinMode.ROW_ORDER
    )
    message = fails(data, mapping, pred)
    assert (
        "row-count mismatch" in message
        and "data.csv has 12" in message
        and "short.csv has 3" in message
    )


@pytest.mark.parametrize("prefix", ["", "k"], ids=["integer-ids", "text-ids"])
@pytest.mark.parametrize("side", ["data", "pred"])
def test_duplicate_ids(tmp_path: Path, side: str, prefix: str) -> None:
    data, pred = _split(tmp_path, prefix=prefix)
    target = data if side == "data" else pred
    lines = target.read_text().splitlines()
    lines += [lines[3], lines[3], lines[5]]
    target.write_text("\n".join(lines) + "\n")
    mapping = ColumnMapping(label="y", prediction="pred", sensitive=("sex",), id_column="id")
    message = fails(data, mapping, pred)
    assert target.name in message and "id column 'id'" in message
    assert "2 duplicated ids (3 extra rows)" in message
    assert f"'{prefix}1002'" in message and f"'{prefix}1004'" in message


@pytest.mark.parametrize("prefix", ["", "k"], ids=["integer-ids", "text-ids"])
def test_ids_in_one_file_only(tmp_path: Path, prefix: str) -> None:
    columns = basic_columns()
    ids = [f"{prefix}{v}" if prefix else v for v in columns["id"]]
    data = write_table(tmp_path / "data.csv", {"id": ids, "y": columns["y"], "sex": columns["sex"]})
    other = [f"{prefix}{v}" if prefix else v for v in (5, 6, *columns["id"][2:], 7)]
    pred = write_table(tmp_path / "pred.parquet", {"id": other, "pred": [0, 1] * 6 + [0]})
    mapping = ColumnMapping(label="y", prediction="pred", sensitive=("sex",), id_column="id")
    message = fails(data, mapping, pred)
    assert "2 ids in" in message and "data.csv are not in" in message
    assert f"'{prefix}1000', '{prefix}1001'" in message
    assert "3 ids in" in message and "pred.parquet are not in" in message
    assert f"'{prefix}5', '{prefix}6', '{prefix}7'" in message


def test_column_collision(tmp_path: Path) -> None:
    columns = basic_columns()
    data = write_table(tmp_path / "data.csv", {k: columns[k] for k in ("id", "y", "sex", "score")})
    pred = write_table(
        tmp_path / "pred.csv", {k: columns[k] for k in ("id", "pred", "score", "sex")}
    )
    mapping = ColumnMapping(label="y", prediction="pred", sensitive=("sex",), id_column="id")
    message = fails(data, mapping, pred)
    assert re.search(r"columns 'sex', 'score' are in both .*data\.csv and .*pred\.csv", message)


def test_missing_id_column(tmp_path: Path) -> None:
    data, pred = _split(tmp_path)
    mapping = ColumnMapping(label="y", prediction="pred", sensitive=("sex",), id_column="key")
    message = fails(data, mapping, pred)
    assert "data.csv" in message and "no id column 'key'" in message


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        (ColumnMapping(label="", prediction="p", sensitive=("g",)), "--label"),
        (ColumnMapping(label="y", sensitive=("g",)), "--prediction COLUMN or --score"),
        (ColumnMapping(label="y", prediction="p"), "--sensitive"),
        (
            ColumnMapping(label="y", prediction="p", threshold=0.5, sensitive=("g",)),
            "without --score",
        ),
        (
            ColumnMapping(label="y", prediction="p", sensitive=("g", "g")),
            "'g' is given more than once",
        ),
    ],
)
def test_unusable_mapping(tmp_path: Path, mapping: ColumnMapping, expected: str) -> None:
    assert expected in fails(write_table(tmp_path / "d.csv", basic_columns()), mapping)
