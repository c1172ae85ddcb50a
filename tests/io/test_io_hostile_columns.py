"""Column shapes that used to crash (exit 2 "internal error") or be used silently: each is one
clear line naming the file and column, through the real CLI, on real files.

Also: a 0/1 prediction of a yes/no label, and group names that read like "missing".
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from tests.ledger.helpers import cli_env

MAP = ["--label", "y", "--prediction", "p", "--sensitive", "s", "--no-record"]


def _audit(tmp_path: Path, name: str, *extra: str) -> tuple[int, str, str]:
    env = cli_env(tmp_path, BIAS_LEDGER_DIR=str(tmp_path / "none"))
    result = CliRunner().invoke(app, ["audit", str(tmp_path / name), *MAP, *extra], env=env)
    return result.exit_code, result.stdout, result.stderr


def _one_line(code: int, stderr: str) -> str:
    assert code == 2, stderr
    assert stderr.count("\n") == 1 and stderr.startswith("bias-ledger: error: "), stderr
    assert "internal error" not in stderr
    return stderr


def _write_files(tmp: Path) -> None:
    (tmp / "bad_name.csv").write_bytes(b"y,p,s\xff\n1,0,a\n0,1,b\n")
    (tmp / "two_s.csv").write_text("y,p,s,s\n1,0,a,x\n0,1,b,y\n")
    (tmp / "two_y.csv").write_text("y,p,s,y\n1,0,a,0\n0,1,b,1\n")
    (tmp / "bad_byte.csv").write_bytes(b"y,p,s\n1,0,f\n0,1,f\xff\n1,1,m\n")
    pq.write_table(pa.table({"y": [1, 0], "p": [0, 1], "s": [[1], [2]]}), tmp / "list.parquet")
    lines = [json.dumps({"y": 1, "p": 0, "s": {"a": 1}}), json.dumps({"y": 0, "p": 1, "s": {}})]
    (tmp / "struct.jsonl").write_text("\n".join(lines) + "\n")
    (tmp / "one_line.csv").write_text("y,p,s" + ",x" * (10 << 20))  # 20 MiB, no line break
    columns = [f"column_{i}" for i in range(200_000)]  # a 2.6 MB header: over pyarrow's block
    rows = ",".join(["y", "p", "s", *columns]) + "\n1,0,a" + "," * len(columns) + "\n"
    (tmp / "wide.csv").write_text(rows + "0,1,b" + "," * len(columns) + "\n")


CASES = {
    "non-UTF-8 column name": (
        "bad_name.csv",
        "bad_name.csv: a column name is not UTF-8 text (byte 0xff at position 1 of the name)",
    ),
    "duplicated sensitive column": (
        "two_s.csv",
        "two_s.csv: column 's' appears 2 times (columns 3, 4); expected each column name once",
    ),
    "duplicated label column": (
        "two_y.csv",
        "two_y.csv: column 'y' appears 2 times (columns 1, 4); expected each column name once",
    ),
    "non-UTF-8 group name": (
        "bad_byte.csv",
        "bad_byte.csv: column 's' is not UTF-8 text (data row 2 holds b'f\\xff')",
    ),
    "nested Parquet column": (
        "list.parquet",
        "list.parquet: column 's' holds nested values (list<element: int64>)",
    ),
    "nested JSON Lines column": (
        "struct.jsonl",
        "struct.jsonl: column 's' holds nested values (struct<a: int64>)",
    ),
    "one 20 MiB line": (
        "one_line.csv",
        "one_line.csv: the first line is longer than 16 MiB; expected a header line",
    ),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile")
    _write_files(tmp)
    return tmp


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_columns_are_one_line_errors(files: Path, case: str) -> None:
    name, expected = CASES[case]
    code, out, err = _audit(files, name)
    assert expected in _one_line(code, err), err
    assert out == ""


def test_a_header_longer_than_a_read_block_is_read(files: Path) -> None:
    """Before: "the file is empty" for a 10^6-column header (pyarrow's 1 MiB first block)."""
    code, out, err = _audit(files, "wide.csv", "--json", "--min-group-size", "0")
    assert code == 0, err
    document = json.loads(out)
    assert document["data"]["rows"] == 2
    assert [g["group"] for g in document["results"]["features"][0]["groups"]] == [["a"], ["b"]]


def test_a_line_longer_than_a_block_says_so(tmp_path: Path) -> None:
    (tmp_path / "long.csv").write_text("y,p,s,t\n1,0,a," + "x" * (3 << 20) + "\n0,1,b,x\n")
    code, _, err = _audit(tmp_path, "long.csv")
    assert "long.csv: a line is longer than the 1 MiB the CSV reader takes" in _one_line(code, err)


def test_a_really_empty_file_is_still_called_empty(tmp_path: Path) -> None:
    (tmp_path / "blank.csv").write_text("\n\n\n")
    code, _, err = _audit(tmp_path, "blank.csv")
    assert "blank.csv: the file is empty" in _one_line(code, err)


@pytest.mark.parametrize("prediction", [["1", "0", "0", "1"], ["true", "false", "false", "true"]])
def test_a_zero_one_prediction_of_a_yes_no_label(tmp_path: Path, prediction: list[str]) -> None:
    """The README accepts 0/1 predictions; with a yes/no label they used to be refused."""
    labels = ["yes", "no", "yes", "no"]
    rows = [f"{y},{p},{s}" for y, p, s in zip(labels, prediction, "abab", strict=True)]
    (tmp_path / "yn.csv").write_text("y,p,s\n" + "\n".join(rows) + "\n")
    extra = ["--pos-label", "yes", "--json", "--min-group-size", "0"]
    code, out, err = _audit(tmp_path, "yn.csv", *extra)
    assert code == 0, err
    counts = json.loads(out)["results"]["overall"]["counts"]
    # (yes,1) TP, (no,0) TN, (yes,0) FN, (no,1) FP
    assert counts == {
        "true_positives": 1,
        "false_positives": 1,
        "true_negatives": 1,
        "false_negatives": 1,
    }


def test_mixed_spellings_of_a_prediction_are_refused(tmp_path: Path) -> None:
    (tmp_path / "mix.csv").write_text("y,p,s\nyes,1,a\nno,no,b\nyes,0,a\n")
    code, _, err = _audit(tmp_path, "mix.csv", "--pos-label", "yes")
    assert "prediction column 'p' must hold 'no' or 'yes'; found '0', '1'" in _one_line(code, err)


def _na_file(tmp_path: Path) -> Path:
    rows = ["y,p,s", "1,1,NA", "0,0,N/A", "1,0,null", "0,1,a", "1,1,NA", "0,1,"]
    (tmp_path / "na.csv").write_text("\n".join(rows) + "\n")
    return tmp_path / "na.csv"


def test_na_group_names_are_missing_by_default(tmp_path: Path) -> None:
    _na_file(tmp_path)
    code, _, err = _audit(tmp_path, "na.csv")
    assert "sensitive column 's' has 5 missing values, in rows 1, 2, 3, 5, 6" in _one_line(
        code, err
    )


def test_no_default_na_keeps_them_as_groups(tmp_path: Path) -> None:
    _na_file(tmp_path)
    extra = ["--no-default-na", "--missing-as-group", "--min-group-size", "0", "--json"]
    code, out, err = _audit(tmp_path, "na.csv", *extra)
    assert code == 0, err
    document = json.loads(out)
    groups = {g["group"][0]: g["counts"] for g in document["results"]["features"][0]["groups"]}
    assert sorted(groups) == ["<missing>", "N/A", "NA", "a", "null"]  # only the empty cell
    assert sum(groups["NA"].values()) == 2
    assert document["parameters"]["default_na"] is False


def test_no_default_na_recomputes_from_the_record(tmp_path: Path) -> None:
    from bias_ledger._audit import request_from_parameters, run_audit

    _na_file(tmp_path)
    extra = ["--no-default-na", "--missing-as-group", "--min-group-size", "0", "--json"]
    code, out, err = _audit(tmp_path, "na.csv", *extra)
    assert code == 0, err
    recorded = json.loads(out)
    from bias_ledger.results_layout import expanded

    request = request_from_parameters(
        expanded(recorded)["parameters"], data=tmp_path / "na.csv", predictions=None
    )
    again = json.loads(json.dumps(run_audit(request).to_json()))
    assert again["results"] == recorded["results"]
