"""An id join (``--predictions FILE --id COLUMN``) compares ids on the duckdb engine as the
arrow engine compares them: a column pyarrow types as integers holds integers (``007`` in one
file joins ``7`` in the other), a column of text holds text as written (``007`` is not ``7``),
and an integer column joined with a text one compares the integers' digits with the text. Both
engines give the same whole JSON or the same one-line refusal (DuckDB compared the ids as
written, so integer ids ``007`` and ``7`` did not join)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bias_ledger
from bias_ledger.errors import InputError

IDS = range(1, 60)
ARGS: dict[str, Any] = {"label": "y", "prediction": "p", "sensitive": ["g"], "id_column": "id"}


def _outcome(data: Path, predictions: Path, engine: str) -> dict[str, Any] | str:
    try:
        result = bias_ledger.audit(data, predictions=predictions, **ARGS, engine=engine)
    except InputError as error:
        return str(error)
    document: dict[str, Any] = json.loads(json.dumps(result.to_json()))
    document["parameters"].pop("engine")
    return document


def _data(path: Path, ids: list[str]) -> Path:
    path.write_text("id,y,g\n" + "".join(f"{v},{i % 2},{'ab'[i % 2]}\n" for i, v in enumerate(ids)))
    return path


def _predictions(path: Path, ids: list[str]) -> Path:
    if path.suffix == ".parquet":
        pq.write_table(
            pa.table({"id": [int(v) for v in ids], "p": [i // 3 % 2 for i in IDS]}), path
        )
        return path
    path.write_text("id,p\n" + "".join(f"{v},{i // 3 % 2}\n" for i, v in enumerate(ids)))
    return path


PADDED = [f"{i:03d}" for i in IDS]
PLAIN = [str(i) for i in IDS]


@pytest.mark.parametrize(
    ("data", "predictions", "suffix"),
    [
        (PADDED, PLAIN, ".csv"),  # integers both: 007 is 7
        (PLAIN, PADDED[::-1], ".csv"),
        (PADDED, PLAIN, ".parquet"),  # a Parquet int64 column against CSV integers
        ([" 7 " if v == "7" else v for v in PLAIN], PLAIN, ".csv"),  # pyarrow trims an integer
    ],
)
def test_integer_ids_join_as_integers_on_both_engines(
    tmp_path: Path, data: list[str], predictions: list[str], suffix: str
) -> None:
    left = _data(tmp_path / "data.csv", data)
    right = _predictions(tmp_path / f"predictions{suffix}", predictions)
    arrow = _outcome(left, right, "arrow")
    assert isinstance(arrow, dict), arrow
    assert arrow["data"]["rows"] == len(IDS)
    assert _outcome(left, right, "duckdb") == arrow


@pytest.mark.parametrize(
    ("data", "predictions", "found"),
    [
        # Text in both files (one id that is no integer): compared as written.
        (PADDED + ["x"], PLAIN + ["x"], "59 ids in {data} are not in {predictions} (e.g. '001'"),
        # Integers in one file, text in the other: the integers' digits against the text.
        (PADDED, [f"x{v}" for v in PLAIN], "ids in {data} are not in {predictions} (e.g. '1', "),
    ],
)
def test_ids_that_do_not_match_are_refused_alike(
    tmp_path: Path, data: list[str], predictions: list[str], found: str
) -> None:
    left = _data(tmp_path / "data.csv", data)
    right = _predictions(tmp_path / "predictions.csv", predictions)
    arrow = _outcome(left, right, "arrow")
    assert isinstance(arrow, str), arrow
    assert arrow.startswith("id column 'id' does not match between the files: "), arrow
    assert found.format(data=left, predictions=right) in arrow, arrow
    assert _outcome(left, right, "duckdb") == arrow


def test_an_integer_id_written_twice_two_ways_is_a_duplicate_alike(tmp_path: Path) -> None:
    left = _data(tmp_path / "data.csv", PADDED + ["7"])
    right = _predictions(tmp_path / "predictions.csv", PLAIN)
    arrow = _outcome(left, right, "arrow")
    assert arrow == (
        f"{left}: id column 'id' has 1 duplicated ids (1 extra rows), e.g. '7'; expected each "
        "id once"
    )
    assert _outcome(left, right, "duckdb") == arrow
