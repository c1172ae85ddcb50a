"""A numeric CSV column (score, regression values, weights) accepts on the duckdb engine exactly
what pyarrow's CSV conversion accepts on the arrow engine: both give the same whole JSON, or
the same one-line refusal naming the file, the column, the values and their rows (DuckDB's own
cast read ``1_000`` as a thousand, and named no rows of a text weight)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import bias_ledger
from bias_ledger.errors import InputError

ROWS = 120
SCORE: dict[str, Any] = {"label": "y", "score": "s", "threshold": 0.5, "sensitive": ["g"]}
REGRESSION: dict[str, Any] = {
    "label": "y",
    "prediction": "s",
    "sensitive": ["g"],
    "task": "regression",
}
WEIGHTED: dict[str, Any] = {"label": "y", "prediction": "p", "sensitive": ["g"], "weight": "s"}


def _outcome(path: Path, engine: str, **args: Any) -> dict[str, Any] | str:
    try:
        result = bias_ledger.audit(path, **args, engine=engine)
    except InputError as error:
        return str(error)
    document: dict[str, Any] = json.loads(json.dumps(result.to_json()))
    document["parameters"].pop("engine")
    return document


def _file(tmp_path: Path, values: dict[int, str], early: str = "float") -> Path:
    """A CSV file whose column ``s`` holds ``values`` at those data rows (0-based), numbers
    elsewhere (integers or floats as ``early`` says)."""
    lines = ["y,p,g,s"]
    for i in range(ROWS):
        number = str(i % 7) if early == "int" else f"{(i % 10) / 10}"
        value = values.get(i, number)
        quoted = '"' + value + '"' if any(c in value for c in ',\r"') else value
        lines.append(f"{i % 2},{(i // 3) % 2},{'ab'[i % 2]},{quoted}")
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "args", [SCORE, REGRESSION, WEIGHTED], ids=["score", "regression", "weight"]
)
@pytest.mark.parametrize(
    ("values", "early"),
    [
        ({50: "1_000"}, "float"),
        ({50: "1_000", 70: "1,5", 90: "1_000"}, "float"),
        ({50: "0x10"}, "float"),
        ({50: "0x10", 80: "2.5"}, "int"),  # widened to float64: 0x10 is no number there
        ({50: "\r1"}, "float"),
    ],
)
def test_values_pyarrow_does_not_read_as_numbers_are_refused_alike(
    tmp_path: Path, args: dict[str, Any], values: dict[int, str], early: str
) -> None:
    path = _file(tmp_path, values, early)
    arrow = _outcome(path, "arrow", **args)
    assert isinstance(arrow, str), arrow
    role = "weight" if "weight" in args else ("score" if "score" in args else "prediction")
    assert arrow.startswith(f"{path}: {role} column 's' "), arrow
    assert "row 51 (a 1-based data row), on line 52 of the file" in arrow or (
        "rows 51, " in arrow and "the first on line 52 of the file" in arrow
    ), arrow
    assert _outcome(path, "duckdb", **args) == arrow


@pytest.mark.parametrize(
    "args", [SCORE, REGRESSION, WEIGHTED], ids=["score", "regression", "weight"]
)
@pytest.mark.parametrize(
    ("values", "early"),
    [
        ({50: "0x10", 51: " 0X1f "}, "int"),  # pyarrow reads hexadecimal in an int64 column
        ({50: " 1 ", 51: "+.5e1", 52: "1.", 53: "\t2", 54: "1e2", 55: ".5", 56: "1E+0"}, "float"),
        ({50: "+3", 51: "00.5"}, "int"),  # numbers that widen an int64 column to float64
    ],
)
def test_numbers_pyarrow_reads_give_the_same_json(
    tmp_path: Path, args: dict[str, Any], values: dict[int, str], early: str
) -> None:
    path = _file(tmp_path, values, early)
    arrow = _outcome(path, "arrow", **args)
    assert isinstance(arrow, dict), arrow
    assert _outcome(path, "duckdb", **args) == arrow


def test_a_nan_payload_is_a_missing_value_alike(tmp_path: Path) -> None:
    # pyarrow reads nan(1) as NaN (not one of its missing spellings); the arrow engine treats
    # NaN as missing, so --drop-missing drops the row on both engines.
    path = _file(tmp_path, {50: "nan(1)", 60: "-NaN"})
    arrow = _outcome(path, "arrow", **REGRESSION, drop_missing=True)
    assert isinstance(arrow, dict), arrow
    assert arrow["data"] == {"rows": ROWS - 2, "dropped_rows": 2}
    assert _outcome(path, "duckdb", **REGRESSION, drop_missing=True) == arrow


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("-2", "has 3 bad weight(s) (-2.0, -2.0, -2.0) in rows 11, 51, 91 (1-based data rows)"),
        ("", "has 3 bad weight(s) (missing, missing, missing) in rows 11, 51, 91 "),
        ("inf", "has 3 bad weight(s) (inf, inf, inf) in rows 11, 51, 91 "),
        ("heavy", "must hold numbers; found 'heavy' in rows 11, 51, 91 "),
    ],
)
@pytest.mark.parametrize("task", ["binary_classification", "regression"])
def test_a_bad_weight_names_its_rows_on_duckdb_as_on_arrow(
    tmp_path: Path, value: str, found: str, task: str
) -> None:
    path = _file(tmp_path, {10: value, 50: value, 90: value})
    args = {**WEIGHTED, "task": task}
    arrow = _outcome(path, "arrow", **args)
    assert isinstance(arrow, str) and f"{path}: weight column 's' {found}" in arrow, arrow
    assert "the first on line 12 of the file" in arrow
    assert _outcome(path, "duckdb", **args) == arrow
