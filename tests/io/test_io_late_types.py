"""A valid CSV whose column type changes after the first block (pyarrow's 1 MiB block, DuckDB's
sniffer sample) audits as if the column were text (or float) throughout, on both engines."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bias_ledger.cli.app import app
from tests.ledger.helpers import initialised_env

ROWS = 200_000  # about 1.2 MB: past pyarrow's first 1 MiB block and DuckDB's 20480-row sample
Row = Callable[[int], tuple[str, str, str]]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return initialised_env(tmp_path)


def _write(path: Path, row: Row, *, reverse: bool = False) -> Path:
    order = range(ROWS - 1, -1, -1) if reverse else range(ROWS)
    path.write_text("y,p,g\n" + "".join(",".join(row(i)) + "\n" for i in order))
    return path


def _audit(env: dict[str, str], path: Path, engine: str, *extra: str) -> tuple[int, str]:
    args = ["audit", str(path), "--label", "y", "--prediction", "p", "--sensitive", "g"]
    result = CliRunner().invoke(app, [*args, *extra, "--engine", engine, "--json"], env=env)
    if result.exit_code:
        return result.exit_code, result.stderr
    return 0, json.dumps(json.loads(result.stdout)["results"], sort_keys=True)


def _late_group(i: int) -> tuple[str, str, str]:
    return str(i % 2), str((i // 3) % 2), "x" if i == ROWS - 7 else str(i % 3)


def _late_float_label(i: int) -> tuple[str, str, str]:
    return ("2.5" if i == ROWS - 7 else str(i % 4)), str((i // 3) % 4), str(i % 3)


@pytest.mark.parametrize(
    ("row", "extra"),
    [(_late_group, ()), (_late_float_label, ("--task", "regression"))],
    ids=["group-int-then-text", "label-int-then-float"],
)
def test_late_type_change_audits_like_the_text_file(
    tmp_path: Path, env: dict[str, str], row: Row, extra: tuple[str, ...]
) -> None:
    late = _write(tmp_path / "late.csv", row)
    early = _write(tmp_path / "early.csv", row, reverse=True)  # the odd value comes first
    results = {
        (name, engine): _audit(env, path, engine, *extra)
        for name, path in [("late", late), ("early", early)]
        for engine in ["arrow", "duckdb"]
    }
    for key, (code, output) in results.items():
        assert code == 0, (key, output)
    assert len({output for _, output in results.values()}) == 1, results


@pytest.mark.parametrize("engine", ["arrow", "duckdb"])
def test_text_in_a_numeric_label_names_file_column_row_and_value(
    tmp_path: Path, env: dict[str, str], engine: str
) -> None:
    def row(i: int) -> tuple[str, str, str]:
        return ("oops" if i == ROWS - 7 else str(i % 2)), str(i % 2), str(i % 3)

    path = _write(tmp_path / "label.csv", row)
    code, message = _audit(env, path, engine)
    assert code == 2
    assert len(message.strip().splitlines()) == 1 and "Traceback" not in message
    assert "label.csv" in message and "'y'" in message and "'oops'" in message
    if engine == "arrow":
        assert f"row {ROWS - 6} (a 1-based data row)" in message


@pytest.mark.parametrize(
    ("kind", "early", "late"),
    [
        ("int64", "1", "2.5"),
        ("date32[day]", "2024-01-01", "soon"),
        ("timestamp[s]", "2024-01-01 10:00:00", "later"),
        ("bool", "true", "maybe"),
    ],
)
def test_late_value_reads_pyarrows_own_conversion_error(
    tmp_path: Path, kind: str, early: str, late: str
) -> None:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from bias_ledger.io.late_types import late_value

    path = tmp_path / "late.csv"
    path.write_text("a,b\n" + f"x,{early}\n" * ROWS + f"x,{late}\n")
    options = pcsv.ReadOptions(block_size=1 << 16)
    with pytest.raises(pa.ArrowInvalid) as raised, pcsv.open_csv(path, options) as reader:
        reader.read_all()  # the streaming reader types each column from its first block
    assert kind in str(raised.value)  # the message pyarrow really gives
    found = late_value(raised.value)
    assert found is not None and (found.column, found.value) == (1, late)
    assert late_value(ValueError("In CSV column #1: something else")) is None


def test_wider_goes_int_to_float_to_text_and_stops() -> None:
    import pyarrow as pa

    from bias_ledger.io import formats
    from bias_ledger.io.late_types import wider

    schema = pa.schema([pa.field("g", pa.int64())])
    assert wider(schema.field("g"), "2.5") == pa.float64()
    assert wider(schema.field("g"), "x") == pa.string()
    widened = formats.widen(schema, "g", pa.float64())
    assert wider(widened.field("g"), "3") == pa.string()  # a second failure: keep the text
    assert wider(formats.widen(schema, "g", pa.string()).field("g"), "x") is None
    assert wider(pa.field("g", pa.date32()), "2.5") == pa.float64()
