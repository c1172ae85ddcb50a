"""A JSON Lines field holding two kinds of value (numbers and text, text and true/false) is
refused alike by the arrow and duckdb engines, naming the field and the real line of the
file (pyarrow's message named a row of the block it was reading: row 32188 for line 199961;
DuckDB's named no line at all)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

import bias_ledger
from bias_ledger.errors import InputError

ROWS = 200_000  # past pyarrow's first block: its row number is no longer the file's line
BINARY: dict[str, Any] = {"label": "y", "prediction": "p", "sensitive": ["g"]}


def _outcome(path: Path, engine: str, **args: Any) -> dict[str, Any] | str:
    try:
        result = bias_ledger.audit(path, **{**BINARY, **args}, engine=engine)
    except InputError as error:
        return str(error)
    document: dict[str, Any] = json.loads(json.dumps(result.to_json()))
    document["parameters"].pop("engine")
    return document


def _number(i: int) -> int:
    return 1 + i % 3


def _write(path: Path, rows: int, late: dict[int, dict[str, object]], group: Any) -> Path:
    records = [{"y": i % 2, "p": (i // 3) % 2, "g": group(i)} for i in range(rows)]
    for index, record in late.items():
        records[index] = record
    text = "".join(json.dumps(record) + "\n" for record in records)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("rows", "late", "group", "field", "kind", "line"),
    [
        # A number field that holds text late (after pyarrow's first block), and early.
        (ROWS, {ROWS - 40: {"y": 1, "p": 1, "g": "3"}}, _number, "g", "text", ROWS - 39),
        (50, {20: {"y": 1, "p": 1, "g": "x"}}, _number, "g", "text", 21),
        # A text field holding true/false, after a missing value (which is no kind).
        (
            50,
            {0: {"y": 0, "p": 0, "g": None}, 30: {"y": 1, "p": 1, "g": True}},
            str,
            "g",
            "true/false",
            31,
        ),
        # The label, not a group.
        (50, {20: {"y": "1", "p": 1, "g": "a"}}, str, "y", "text", 21),
    ],
)
def test_a_field_of_two_kinds_names_its_real_line_on_both_engines(
    tmp_path: Path,
    rows: int,
    late: dict[int, dict[str, object]],
    group: Any,
    field: str,
    kind: str,
    line: int,
) -> None:
    path = _write(tmp_path / "mixed.jsonl", rows, late, group)
    arrow = _outcome(path, "arrow", missing_as_group=True)
    assert isinstance(arrow, str), arrow
    assert arrow.startswith(f"{path}: field {field!r} holds {kind} on line {line} of the file, "), (
        arrow
    )
    assert arrow.endswith("; expected one kind of value in every record")
    assert _outcome(path, "duckdb", missing_as_group=True) == arrow


def test_the_line_is_the_files_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "mixed.jsonl.gz", ROWS, {ROWS - 40: {"y": 1, "p": 1, "g": "3"}}, _number
    )
    expected = (
        f"{path}: field 'g' holds text on line {ROWS - 39} of the file, and a number on line 1; "
        "expected one kind of value in every record"
    )
    assert _outcome(path, "arrow") == expected
    assert _outcome(path, "duckdb") == expected


def test_one_kind_with_missing_values_is_read(tmp_path: Path) -> None:
    path = _write(tmp_path / "fine.jsonl", 60, {5: {"y": 1, "p": 0, "g": None}}, str)
    arrow = _outcome(path, "arrow", missing_as_group=True)
    assert isinstance(arrow, dict), arrow
    assert _outcome(path, "duckdb", missing_as_group=True) == arrow


def write_mixed_directory(root: Path) -> Path:
    """A directory of two JSON Lines files, field ``g`` numbers in one and text in the other
    (each file holds one kind)."""
    root.mkdir()
    _write(root / "a.jsonl", 30, {}, _number)
    _write(root / "b.jsonl", 30, {5: {"y": 1, "p": 0, "g": None}}, lambda i: f"x{i % 3}")
    return root


def test_a_field_of_one_kind_per_file_but_two_across_a_directory_is_refused(
    tmp_path: Path,
) -> None:
    # DuckDB's message named no file nor line: 'holds values of several kinds (numbers, text,
    # booleans or objects) across the records'.
    root = write_mixed_directory(tmp_path / "mixed")
    assert _outcome(root, "duckdb") == (
        f"{root / 'b.jsonl'}: field 'g' holds text on line 1 of the file, and a number on line 1 "
        f"of {root / 'a.jsonl'}; expected one kind of value in every record of every file"
    )
