"""A real local Spark gives the arrow engine's whole JSON, or its one-line refusal, where it
used to differ: ``--no-default-na`` is honoured (Spark read ``NA`` and ``null`` as missing
anyway), a CSV file's columns are typed as pyarrow types them (Spark's inferSchema read a
score column holding ``1_000`` as text and refused it as 'must be numeric; found STRING'),
and a JSON Lines field of numbers and text is refused naming its line (Spark read it as text
and made ``3`` and ``"3"`` two groups)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import bias_ledger
from bias_ledger.errors import InputError
from tests.engines.nan_files import write_nan_file, write_scores
from tests.engines.test_engine_parity_json_kinds import write_mixed_directory

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs a Java runtime"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
]

ENGINES = ("arrow", "duckdb", "spark")


def _outcomes(path: Path, **args: Any) -> dict[str, dict[str, Any] | str]:
    found: dict[str, dict[str, Any] | str] = {}
    for engine in ENGINES:
        try:
            result = bias_ledger.audit(path, **args, engine=engine)
        except InputError as error:
            found[engine] = str(error)
            continue
        document: dict[str, Any] = json.loads(json.dumps(result.to_json()))
        document["parameters"].pop("engine")
        found[engine] = document
    return found


def _groups(document: dict[str, Any] | str) -> dict[str, int]:
    assert isinstance(document, dict), document
    (feature,) = document["results"]["features"]
    return {group["group"][0]: group["metrics"]["count"]["value"] for group in feature["groups"]}


def test_no_default_na_keeps_na_and_null_as_groups(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "na.csv"
    spelled = ["NA", "b", "null", "", "N/A", "NaN"]
    path.write_text(
        "y,p,g\n" + "".join(f"{i % 2},{i // 3 % 2},{spelled[i % 6]}\n" for i in range(120))
    )
    args = {"label": "y", "prediction": "p", "sensitive": ["g"], "missing_as_group": True}
    kept = _outcomes(path, **args, default_na=False)
    assert _groups(kept["arrow"]) == {
        "NA": 20,
        "b": 20,
        "null": 20,
        "N/A": 20,
        "NaN": 20,
        "<missing>": 20,
    }
    assert kept["duckdb"] == kept["arrow"] and kept["spark"] == kept["arrow"]
    usual = _outcomes(path, **args)
    assert _groups(usual["arrow"]) == {"b": 20, "<missing>": 100}
    assert usual["duckdb"] == usual["arrow"] and usual["spark"] == usual["arrow"]


def test_csv_columns_are_typed_as_pyarrow_types_them(spark: Any, tmp_path: Path) -> None:
    # Dates, true/false spelled three ways, integers with leading zeros and spaces: Spark's
    # inferSchema types these otherwise (timestamps, strings); every engine names the groups
    # as pyarrow reads them, and reads the score's odd but valid numbers alike.
    path = tmp_path / "typed.csv"
    days = ["2024-01-01", "2024-01-02"]
    flags = ["True", "true", "1"]
    scores = [" 0.25", "+.5e0", "1.", "0.75 ", "1E-1", "0"]
    path.write_text(
        "y,s,day,flag,region\n"
        + "".join(
            f"{i % 2},{scores[i % 6]},{days[i % 2]},{flags[i % 3] if i % 4 else 'false'},"
            f"{'007' if i % 5 else ' 7 '}\n"
            for i in range(240)
        )
    )
    for sensitive in (["day"], ["flag"], ["region"]):
        found = _outcomes(path, label="y", score="s", threshold=0.5, sensitive=sensitive)
        assert isinstance(found["arrow"], dict), found["arrow"]
        assert found["duckdb"] == found["arrow"], sensitive
        assert found["spark"] == found["arrow"], sensitive


def test_a_score_pyarrow_does_not_read_is_refused_alike(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "score.csv"
    lines = [f"{i % 2},{(i % 10) / 10},{'ab'[i % 2]}" for i in range(100)]
    lines[49] = "1,1_000,a"
    path.write_text("y,s,g\n" + "\n".join(lines) + "\n")
    found = _outcomes(path, label="y", score="s", threshold=0.5, sensitive=["g"])
    assert found["arrow"] == (
        f"{path}: score column 's' holds '1_000' in row 50 (a 1-based data row), on line 51 of "
        "the file; expected a number"
    )
    assert found["duckdb"] == found["arrow"] and found["spark"] == found["arrow"]


def test_a_json_lines_field_of_numbers_and_text_is_refused_alike(
    spark: Any, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.jsonl"
    records: list[dict[str, object]] = [
        {"y": i % 2, "p": i // 3 % 2, "g": 1 + i % 3} for i in range(60)
    ]
    records[40] = {"y": 1, "p": 1, "g": "3"}
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    found = _outcomes(path, label="y", prediction="p", sensitive=["g"])
    assert found["arrow"] == (
        f"{path}: field 'g' holds text on line 41 of the file, and a number on line 1; expected "
        "one kind of value in every record"
    )
    assert found["duckdb"] == found["arrow"] and found["spark"] == found["arrow"]


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_nan_label_prediction_and_score_are_missing_alike(
    spark: Any, tmp_path: Path, suffix: str
) -> None:
    # NaN in a float column is a missing value, as on the arrow engine: dropped alike with
    # --drop-missing, refused naming its row without.
    path = write_nan_file(tmp_path / f"nan{suffix}")
    binary = {"label": "y", "prediction": "p", "sensitive": ["g"]}
    scored = {"label": "y", "score": "s", "threshold": 0.5, "sensitive": ["g"]}
    for args in (binary, scored):
        dropped = _outcomes(path, **args, drop_missing=True)
        assert isinstance(dropped["arrow"], dict), dropped["arrow"]
        assert dropped["duckdb"] == dropped["arrow"] and dropped["spark"] == dropped["arrow"]
    refused = _outcomes(path, **binary)
    assert refused["arrow"] == (
        f"{path}: label column 'y' has 1 missing value, in row 6 (a 1-based data row); expected "
        "a value on every row (pass --drop-missing to drop those rows)"
    )
    assert refused["duckdb"] == refused["arrow"] and refused["spark"] == refused["arrow"]


def test_missing_scores_and_regression_values_name_file_and_rows_alike(
    spark: Any, tmp_path: Path
) -> None:
    # The spark engine counted them: "in 2 rows (the engine counts rows without numbering
    # them; --engine arrow names them)".
    regression = {"label": "s", "prediction": "y", "task": "regression", "sensitive": ["g"]}
    scored = {"label": "y", "score": "s", "threshold": 0.5, "sensitive": ["g"]}
    for suffix in (".parquet", ".csv"):
        path = write_scores(tmp_path / f"scores{suffix}")
        for args, role in ((scored, "score"), (regression, "label")):
            found = _outcomes(path, **args)
            line = ", the first on line 11 of the file" if suffix == ".csv" else ""
            assert found["arrow"] == (
                f"{path}: {role} column 's' has 2 missing values, in rows 10, 40 (1-based data "
                f"rows){line}; expected a value on every row (pass --drop-missing to drop those "
                "rows)"
            )
            assert found["duckdb"] == found["arrow"] and found["spark"] == found["arrow"]


def test_a_json_lines_directory_of_two_kinds_is_refused_alike(spark: Any, tmp_path: Path) -> None:
    # Spark read the field as text and merged 3 and "x0" into groups of one column.
    root = write_mixed_directory(tmp_path / "mixed")
    args: dict[str, Any] = {"label": "y", "prediction": "p", "sensitive": ["g"]}
    with pytest.raises(InputError) as duckdb:
        bias_ledger.audit(root, **args, engine="duckdb")
    with pytest.raises(InputError) as on_spark:
        bias_ledger.audit(root, **args, engine="spark")
    assert str(duckdb.value).startswith(f"{root / 'b.jsonl'}: field 'g' holds text on line 1")
    assert str(on_spark.value) == str(duckdb.value)


@pytest.mark.parametrize(
    ("values", "early", "read"),
    [
        ({50: "0x10", 51: " 0X1f "}, "int", True),  # pyarrow reads hexadecimal in int64
        ({50: "0x10", 80: "2.5"}, "int", False),  # widened to float64: 0x10 is no number
        ({50: "0x10"}, "float", False),
    ],
)
def test_hexadecimal_in_an_integer_column_is_read_as_pyarrow_reads_it(
    spark: Any, tmp_path: Path, values: dict[int, str], early: str, read: bool
) -> None:
    from tests.engines.test_engine_parity_numbers import REGRESSION, SCORE, WEIGHTED, _file

    path = _file(tmp_path, values, early)
    for args in (SCORE, REGRESSION, WEIGHTED):
        found = _outcomes(path, **args)
        assert isinstance(found["arrow"], dict) == read, found["arrow"]
        assert found["duckdb"] == found["arrow"] and found["spark"] == found["arrow"], args
