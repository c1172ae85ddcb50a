"""NaN in a float label, prediction or score of a Parquet or JSON Lines file is a missing
value on the duckdb engine as on the arrow engine: the same audit with --drop-missing, the
same refusal naming the row without it (DuckDB read a Parquet NaN label as a third value
'nan', and a NaN score as 'must hold finite numbers'). Spark: test_spark_parity.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bias_ledger
from bias_ledger.errors import InputError
from tests.engines.nan_files import ROWS, write_nan_file, write_scores

BINARY: dict[str, Any] = {"label": "y", "prediction": "p", "sensitive": ["g"]}
SCORED: dict[str, Any] = {"label": "y", "score": "s", "threshold": 0.5, "sensitive": ["g"]}


def _outcome(path: Path, engine: str, **args: Any) -> dict[str, Any] | str:
    try:
        result = bias_ledger.audit(path, **args, engine=engine)
    except InputError as error:
        return str(error)
    document: dict[str, Any] = json.loads(json.dumps(result.to_json()))
    document["parameters"].pop("engine")
    return document


def _counted(document: dict[str, Any] | str) -> int:
    assert isinstance(document, dict), document
    (feature,) = document["results"]["features"]
    return sum(group["metrics"]["count"]["value"] for group in feature["groups"])


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
@pytest.mark.parametrize(
    ("args", "kept"),
    [(BINARY, ROWS - 2), (SCORED, ROWS - 3)],  # NaN label and prediction; and score, null score
)
def test_nan_is_dropped_alike(tmp_path: Path, suffix: str, args: dict[str, Any], kept: int) -> None:
    path = write_nan_file(tmp_path / f"nan{suffix}")
    arrow = _outcome(path, "arrow", **args, drop_missing=True)
    assert _counted(arrow) == kept
    assert _outcome(path, "duckdb", **args, drop_missing=True) == arrow


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_a_nan_label_is_refused_alike_naming_its_row(tmp_path: Path, suffix: str) -> None:
    path = write_nan_file(tmp_path / f"nan{suffix}")
    arrow = _outcome(path, "arrow", **BINARY)
    assert arrow == (
        f"{path}: label column 'y' has 1 missing value, in row 6 (a 1-based data row); expected "
        "a value on every row (pass --drop-missing to drop those rows)"
    )
    assert _outcome(path, "duckdb", **BINARY) == arrow


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_a_nan_prediction_is_refused_alike(tmp_path: Path, suffix: str) -> None:
    path = write_nan_file(tmp_path / f"nan{suffix}")
    args = {**BINARY, "label": "p", "prediction": "y"}
    arrow = _outcome(path, "arrow", **args)
    assert isinstance(arrow, str) and "column 'p' has 1 missing value, in row 8" in arrow
    assert _outcome(path, "duckdb", **args) == arrow


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl", ".csv"])
@pytest.mark.parametrize(
    ("args", "role"),
    [
        (SCORED, "score"),
        ({"label": "s", "prediction": "y", "task": "regression", "sensitive": ["g"]}, "label"),
        ({"label": "y", "prediction": "s", "task": "regression", "sensitive": ["g"]}, "prediction"),
    ],
)
def test_missing_scores_and_regression_values_name_file_and_rows_alike(
    tmp_path: Path, suffix: str, args: dict[str, Any], role: str
) -> None:
    # DuckDB counted them: "in 2 rows (the engine counts rows without numbering them; ...)".
    path = write_scores(tmp_path / f"scores{suffix}")
    arrow = _outcome(path, "arrow", **args)
    line = ", the first on line 11 of the file" if suffix == ".csv" else ""
    assert arrow == (
        f"{path}: {role} column 's' has 2 missing values, in rows 10, 40 (1-based data rows)"
        f"{line}; expected a value on every row (pass --drop-missing to drop those rows)"
    )
    assert _outcome(path, "duckdb", **args) == arrow


def test_a_missing_label_of_a_scored_audit_is_named_first_alike(tmp_path: Path) -> None:
    # The arrow engine names a missing label before a missing score; duckdb named the score.
    path = write_nan_file(tmp_path / "nan.parquet")
    arrow = _outcome(path, "arrow", **SCORED)
    assert isinstance(arrow, str) and "label column 'y' has 1 missing value, in row 6" in arrow
    assert _outcome(path, "duckdb", **SCORED) == arrow


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_an_infinite_score_is_one_line_naming_file_column_and_rows(
    tmp_path: Path, suffix: str
) -> None:
    # The arrow engine said "score must be finite; 1 rows are not (first: [49])".
    path = write_scores(tmp_path / f"scores{suffix}")
    if suffix == ".csv":
        text = path.read_text().splitlines()
        text[50] = "1,inf,a"
        path.write_text("\n".join(text) + "\n")
    else:
        table = pq.read_table(path).to_pydict()
        table["s"][49] = float("-inf")
        pq.write_table(pa.table(table), path)
    line = ", on line 51 of the file" if suffix == ".csv" else ""
    arrow = _outcome(path, "arrow", **SCORED, drop_missing=True)
    assert arrow == (
        f"{path}: score column 's' must hold finite numbers; found 1 NaN or infinite values in "
        f"row 50 (a 1-based data row){line}"
    )
    # duckdb counted them ("in 1 row (the engine counts rows without numbering them ...)").
    assert _outcome(path, "duckdb", **SCORED, drop_missing=True) == arrow


@pytest.mark.parametrize("task", ["binary", "scored", "regression"])
def test_a_nan_weight_in_parquet_is_refused_alike(tmp_path: Path, task: str) -> None:
    """DuckDB folded ``isnan(w)`` to false on a Parquet column whose min/max are finite, so a
    NaN weight became a DuckDB conversion error instead of the arrow engine's refusal."""
    rows = 60
    weights = [1.0 + (i % 4) for i in range(rows)]
    weights[20] = float("nan")
    table = pa.table(
        {
            "g": ["a" if i % 3 else "b" for i in range(rows)],
            "y": [i % 2 for i in range(rows)],
            "p": [(i // 2) % 2 for i in range(rows)],
            "s": [(i % 10) / 10 for i in range(rows)],
            "w": pa.array(weights, pa.float64()),
        }
    )
    path = tmp_path / "weights.parquet"
    pq.write_table(table, path)
    args: dict[str, Any] = {
        "binary": dict(BINARY),
        "scored": dict(SCORED),
        "regression": {"label": "y", "prediction": "s", "sensitive": ["g"], "task": "regression"},
    }[task]
    arrow = _outcome(path, "arrow", **args, weight="w")
    assert isinstance(arrow, str) and "weight column 'w'" in arrow and "row 21" in arrow, arrow
    duckdb = _outcome(path, "duckdb", **args, weight="w")
    if task == "scored":  # duckdb's score path counts the rows instead of naming them
        assert isinstance(duckdb, str), duckdb
        assert duckdb == (
            f"{path}: weight column 'w' has bad weights in 1 NaN rows (the engine counts rows "
            "without numbering them; --engine arrow names them); expected a number >= 0 on "
            "every row (0, or a number from 3.1e-151 to 3.3e150)"
        )
    else:
        assert duckdb == arrow
