"""A CSV column whose values change type after pyarrow's first block and DuckDB's sniffer
sample: the duckdb engine gives the arrow engine's whole JSON, or its refusal, and never
rounds a value (DuckDB's sniffed BIGINT once read a late ``2.5`` as ``3``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import bias_ledger
from bias_ledger.errors import InputError

ROWS = 200_000  # past pyarrow's first 1 MiB block and DuckDB's sniffer sample
LATE = 40  # rows at the end holding the late value
Row = Callable[[int], tuple[str, ...]]


def _late(early: Callable[[int], str], late: str) -> Callable[[int], str]:
    return lambda i: late if i >= ROWS - LATE else early(i)


def _binary(i: int) -> str:
    return str(i % 2)


def _other(i: int) -> str:
    return str((i // 3) % 2)


def _groups(i: int) -> str:
    return str(1 + i % 3)


CASES: dict[str, tuple[str, list[Callable[[int], str]], dict[str, Any]]] = {
    # name: (header, one function per column, audit arguments)
    "group-int-then-float": ("y,p,g", [_binary, _other, _late(_groups, "2.5")], {}),
    "group-int-then-text": ("y,p,g", [_binary, _other, _late(_groups, "x")], {}),
    "group-bool-then-text": (
        "y,p,g",
        [_binary, _other, _late(lambda i: ["true", "false"][i % 2], "maybe")],
        {},
    ),
    "group-date-then-text": (
        "y,p,g",
        [_binary, _other, _late(lambda i: f"2024-01-0{1 + i % 3}", "soon")],
        {},
    ),
    "group-float-then-text": (
        "y,p,g",
        [_binary, _other, _late(lambda i: ["1.0", "2.50", "3.25"][i % 3], "x")],
        {},
    ),
    "group-missing-late": (
        "y,p,g",
        [_binary, _other, _late(_groups, "")],
        {"missing_as_group": True},
    ),
    "group-NA-without-default-na": (
        "y,p,g",
        [_binary, _other, _late(_groups, "NA")],
        {"default_na": False},
    ),
    "prediction-int-then-float": ("y,p,g", [_binary, _late(_other, "1.0"), _groups], {}),
    "score-int-then-float": (
        "y,s,g",
        [_binary, _late(_other, "0.75"), _groups],
        {"prediction": None, "score": "s", "threshold": 0.5},
    ),
    "weight-int-then-float": (
        "y,p,w,g",
        [_binary, _other, _late(_groups, "2.5"), _groups],
        {"weight": "w"},
    ),
    "regression-label-int-then-float": (
        "y,p,g",
        [_late(lambda i: str(i % 4), "2.25"), lambda i: str((i // 3) % 4), _groups],
        {"task": "regression"},
    ),
}
BASE: dict[str, Any] = {"label": "y", "prediction": "p", "sensitive": ["g"]}


def _write(path: Path, header: str, columns: list[Callable[[int], str]]) -> Path:
    lines = [header] + [",".join(column(i) for column in columns) for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("late")
    written = {
        name: _write(root / f"{name}.csv", header, columns)
        for name, (header, columns, _) in CASES.items()
    }
    merge = [_binary, _other, lambda i: "2.5" if i >= ROWS - LATE else _groups(i)]
    written["merge"] = _write(root / "merge.csv", "y,p,g", merge)
    return written


def _document(result: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(result.to_json()))
    document["parameters"].pop("engine")
    return document


def _outcome(path: Path | str, engine: str, **args: Any) -> dict[str, Any] | str:
    try:
        return _document(bias_ledger.audit(path, **{**BASE, **args}, engine=engine))
    except InputError as error:
        return str(error)


@pytest.mark.parametrize("case", list(CASES))
def test_late_type_change_gives_the_arrow_engines_json(files: dict[str, Path], case: str) -> None:
    args = CASES[case][2]
    arrow = _outcome(files[case], "arrow", **args)
    assert isinstance(arrow, dict), arrow  # every case is a valid file
    assert _outcome(files[case], "duckdb", **args) == arrow


def _group_counts(document: dict[str, Any]) -> dict[str, int]:
    (feature,) = document["results"]["features"]
    return {group["group"][0]: group["metrics"]["count"]["value"] for group in feature["groups"]}


def test_a_late_float_group_is_its_own_group_not_a_rounded_one(files: dict[str, Path]) -> None:
    import pandas as pd
    from fairlearn.metrics import MetricFrame, selection_rate

    frame = pd.read_csv(files["merge"], dtype={"g": str})
    expected = frame["g"].value_counts().to_dict()
    assert set(expected) == {"1", "2", "3", "2.5"}
    rates = MetricFrame(
        metrics=selection_rate, y_true=frame["y"], y_pred=frame["p"], sensitive_features=frame["g"]
    ).by_group
    for engine in ["arrow", "duckdb"]:
        document = _outcome(files["merge"], engine)
        assert isinstance(document, dict), document
        assert _group_counts(document) == expected, engine
        (feature,) = document["results"]["features"]
        for group in feature["groups"]:
            value = group["metrics"]["selection_rate"]["value"]
            assert value == pytest.approx(rates[group["group"][0]], abs=1e-12)


@pytest.mark.parametrize(
    ("column", "value", "role"),
    [("y", "oops", "label"), ("y", "0.5", "label"), ("g", None, "sensitive")],
)
def test_a_bad_late_value_is_refused_alike_naming_its_row(
    tmp_path: Path, column: str, value: str | None, role: str
) -> None:
    late = {column: value if value is not None else ""}
    columns = [
        _late(_binary, late["y"]) if "y" in late else _binary,
        _other,
        _late(_groups, late["g"]) if "g" in late else _groups,
    ]
    path = _write(tmp_path / "bad.csv", "y,p,g", columns)
    arrow, duck = _outcome(path, "arrow"), _outcome(path, "duckdb")
    assert isinstance(arrow, str) and f"{role} column {column!r}" in arrow, arrow
    assert f"rows {ROWS - LATE + 1}, " in arrow and "(1-based data rows)" in arrow
    assert f"the first on line {ROWS - LATE + 2} of the file" in arrow
    assert duck == arrow
    assert len(duck.splitlines()) == 1


@pytest.mark.parametrize(
    ("case", "role", "args"),
    [
        ("score", "score", {"prediction": None, "score": "s", "threshold": 0.5}),
        ("regression", "label", {"task": "regression"}),
    ],
)
def test_text_in_a_numeric_column_names_file_column_row_and_line(
    tmp_path: Path, case: str, role: str, args: dict[str, Any]
) -> None:
    path = tmp_path / f"{case}.csv"
    name = "s" if case == "score" else "y"
    header = "y,s,g" if case == "score" else "y,p,g"
    quoted = '"a\nb"'  # a value over two lines: the file line is not the data row + 1
    lines = [header, f"1,0,{quoted}"] + [f"{i % 2},{i % 3},{i % 3}" for i in range(ROWS)]
    lines[-3] = "oops,1,1" if case == "regression" else "1,oops,1"
    path.write_text("\n".join(lines) + "\n")
    message = _outcome(path, "duckdb", **args)
    assert _outcome(path, "arrow", **args) == message  # arrow refuses it in the same words
    row = ROWS - 1  # data rows: the quoted one, then ROWS more; the bad one is third from last
    assert message == (
        f"{path}: {role} column {name!r} holds 'oops' in row {row} (a 1-based data row), on "
        f"line {row + 2} of the file; expected a number"
    ), message


def test_late_values_in_an_id_joined_predictions_file(tmp_path: Path) -> None:
    ids = [str(i) for i in range(ROWS - LATE)] + [f"{i}.5" for i in range(LATE)]
    data = tmp_path / "data.csv"
    data.write_text(
        "id,y,g\n"
        + "".join(f"{ids[i]},{_binary(i)},{_late(_groups, '2.5')(i)}\n" for i in range(ROWS))
    )
    predictions = tmp_path / "predictions.csv"
    order = list(range(ROWS))[::-1]  # the late ids come first here
    predictions.write_text(
        "id,p\n" + "".join(f"{ids[i]},{_late(_other, '1.0')(i)}\n" for i in order)
    )
    args = {"predictions": predictions, "id_column": "id"}
    arrow = _outcome(data, "arrow", **args)
    assert isinstance(arrow, dict), arrow
    assert _outcome(data, "duckdb", **args) == arrow
    assert _group_counts(arrow)["2.5"] == LATE


def test_a_directory_of_files_keeps_a_late_float_group_apart(tmp_path: Path) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    _write(folder / "a.csv", "y,p,g", [_binary, _other, _groups])
    (folder / "b.csv").write_text("y,p,g\n" + "1,1,2.5\n" * LATE + "0,0,3\n" * LATE)
    document = _outcome(folder, "duckdb")
    assert isinstance(document, dict), document
    counts = {str(1 + k): sum(1 for i in range(ROWS) if i % 3 == k) for k in range(3)}
    counts["3"] += LATE
    assert _group_counts(document) == {**counts, "2.5": LATE}


def test_json_lines_late_float_group_is_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "late.jsonl"
    records: list[dict[str, object]] = [
        {"y": i % 2, "p": (i // 3) % 2, "g": 1 + i % 3} for i in range(ROWS)
    ]
    records += [{"y": 1, "p": 1, "g": 2.5}] * LATE
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    document = _outcome(path, "duckdb")
    assert isinstance(document, dict), document
    assert _group_counts(document)["2.5"] == LATE
    assert _group_counts(document)["3"] == sum(1 for i in range(ROWS) if i % 3 == 2)
    # The arrow engine types a field from the first block too: it re-reads it as float64.
    assert _outcome(path, "arrow") == document


def test_json_lines_late_floats_in_two_fields_are_read_alike(tmp_path: Path) -> None:
    # The same late number in two integer fields (pyarrow's error names the value only).
    path = tmp_path / "late.jsonl"
    records: list[dict[str, object]] = [
        {"y": i % 7, "p": (i // 3) % 5, "g": 1 + i % 3} for i in range(ROWS)
    ]
    records += [{"y": 1, "p": 2.5, "g": 2.5}] * LATE
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    args = {"task": "regression", "drop_missing": False}
    arrow = _outcome(path, "arrow", **args)
    assert isinstance(arrow, dict), arrow
    assert _outcome(path, "duckdb", **args) == arrow
    assert _group_counts(arrow)["2.5"] == LATE
    (feature,) = arrow["results"]["features"]
    late = next(group for group in feature["groups"] if group["group"] == ["2.5"])
    assert late["metrics"]["mean_prediction"]["value"] == 2.5


def test_json_lines_field_of_numbers_and_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    records: list[dict[str, object]] = [
        {"y": i % 2, "p": (i // 3) % 2, "g": 1 + i % 3} for i in range(ROWS)
    ]
    records += [{"y": 1, "p": 1, "g": "3"}] * LATE
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    message = _outcome(path, "duckdb")
    assert message == (
        f"{path}: field 'g' holds text on line {ROWS + 1} of the file, and a number on line 1; "
        "expected one kind of value in every record"
    )
    assert _outcome(path, "arrow") == message  # not pyarrow's block-relative row


def test_a_widened_reread_hashes_the_input_once(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from bias_ledger.engines import arrow_engine
    from bias_ledger.io.load import digest_inputs

    calls = []
    real = digest_inputs

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(arrow_engine, "digest_inputs", counted)
    document = _outcome(files["group-float-then-text"], "arrow")  # read twice: float, then text
    assert isinstance(document, dict), document
    assert len(calls) == 1
