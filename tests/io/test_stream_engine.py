"""The streaming arrow engine against the row-by-row reader: same numbers, same messages.

Every case runs an audit twice on the same real file: once streamed batch by batch (the
default), once with the columns read whole (what score and regression audits still use).
Results are compared whole; a bad input must fail with the identical one-line message.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import bias_ledger
from bias_ledger._audit_model import AuditResult
from bias_ledger.engines import arrow_engine
from bias_ledger.errors import InputError
from bias_ledger.io import formats, stream_counts
from tests.io.io_helpers import basic_columns, write_table

SUFFIXES = [".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz"]


def _both(
    monkeypatch: pytest.MonkeyPatch, run: Callable[[], AuditResult]
) -> tuple[AuditResult | str, AuditResult | str]:
    """(streamed, read whole): each the result, or the InputError's message."""
    outcomes: list[AuditResult | str] = []
    for streamed in (True, False):
        with monkeypatch.context() as patch:
            if not streamed:
                patch.setattr(arrow_engine, "streams", lambda *args, **kwargs: False)
            try:
                outcomes.append(run())
            except InputError as error:
                outcomes.append(error.diagnostics())
    return outcomes[0], outcomes[1]


def _same(streamed: AuditResult | str, whole: AuditResult | str) -> None:
    if isinstance(streamed, str) or isinstance(whole, str):
        assert streamed == whole
        return
    assert streamed.results == whole.results
    assert (streamed.rows, streamed.dropped_rows) == (whole.rows, whole.dropped_rows)
    assert streamed.warnings == whole.warnings
    assert streamed.inputs == whole.inputs
    assert streamed.statistics == whole.statistics


def _audit(path: Path | Any, **options: Any) -> Callable[[], AuditResult]:
    arguments: dict[str, Any] = {"label": "y", "prediction": "pred", "sensitive": ["sex", "band"]}
    arguments.update(options)
    return lambda: bias_ledger.audit(path, **arguments)


def _columns(rows: int = 60) -> dict[str, list[Any]]:
    columns = basic_columns(rows)
    columns["y"] = [(i * 7) % 3 % 2 for i in range(rows)]
    return columns


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_every_format_gives_the_row_readers_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    path = write_table(tmp_path / f"d{suffix}", _columns())
    streamed, whole = _both(monkeypatch, _audit(path))
    assert not isinstance(streamed, str)
    assert streamed.rows == 60
    _same(streamed, whole)


def test_an_in_memory_table(monkeypatch: pytest.MonkeyPatch) -> None:
    table = pa.table(_columns())
    _same(*_both(monkeypatch, _audit(table)))


def test_many_batches_and_both_byte_ranges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bias_ledger.io import csv_ranges

    # Small batches and a split threshold below the file size: many batches on two readers.
    monkeypatch.setattr(formats, "BATCH_ROWS", 7)
    monkeypatch.setattr(csv_ranges, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(stream_counts, "PENDING_LIMIT", 3)
    rows = 5000
    columns = _columns(rows)
    columns["band"] = [f"b{(i * 31) % 40}" for i in range(rows)]
    monkeypatch.setattr(formats, "PARALLEL_BYTES", 1)
    import pyarrow.parquet as pq

    parquet = tmp_path / "d.parquet"
    pq.write_table(pa.table(columns), parquet, row_group_size=700)
    assert formats.parquet_halves(parquet, ["y"], as_dictionary=()) is not None
    for path in (write_table(tmp_path / "d.csv", columns), parquet):
        _same(*_both(monkeypatch, _audit(path)))


def test_missing_values_are_named_by_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    columns = _columns()
    columns["y"] = [None if i in (4, 17, 33) else v for i, v in enumerate(columns["y"])]
    columns["sex"] = [None if i in (2, 50) else v for i, v in enumerate(columns["sex"])]
    path = write_table(tmp_path / "d.csv", columns)
    streamed, whole = _both(monkeypatch, _audit(path))
    assert isinstance(streamed, str) and "rows 5, 18, 34 (1-based data rows)" in streamed
    _same(streamed, whole)
    streamed, whole = _both(monkeypatch, _audit(path, drop_missing=True))
    assert isinstance(streamed, str) and "rows 3, 51 (1-based data rows)" in streamed
    _same(streamed, whole)
    _same(*_both(monkeypatch, _audit(path, drop_missing=True, missing_as_group=True)))


def test_bad_predictions_are_named_by_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    columns = _columns()
    columns["pred"] = [
        2 if i in (3, 9, 10, 20, 41, 42, 59) else v for i, v in enumerate(columns["pred"])
    ]
    for suffix in (".parquet", ".jsonl"):
        path = write_table(tmp_path / f"d{suffix}", columns)
        streamed, whole = _both(monkeypatch, _audit(path))
        assert isinstance(streamed, str) and "rows 4, 10, 11, 21, 42, ..." in streamed
        _same(streamed, whole)


def test_integer_and_boolean_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = 400
    columns: dict[str, list[Any]] = {
        "y": [bool(i % 3) for i in range(rows)],
        "pred": [bool(i % 5) for i in range(rows)],
        # int8 from -100 to 120: offsets past int8; a missing value; a wide-ranging feature.
        "sex": [None if i == 7 else (-100 + (i * 37) % 221) // 20 * 20 for i in range(rows)],
        "band": [(i % 4) * 10**12 for i in range(rows)],
    }
    table = pa.table(
        columns,
        schema=pa.schema(
            [("y", pa.bool_()), ("pred", pa.bool_()), ("sex", pa.int8()), ("band", pa.int64())]
        ),
    )
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    streamed, whole = _both(monkeypatch, _audit(path))
    assert isinstance(streamed, str) and "row 8 (a 1-based data row)" in streamed
    _same(streamed, whole)
    _same(*_both(monkeypatch, _audit(path, missing_as_group=True)))


def test_text_labels_and_multiclass(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    columns = _columns()
    columns["y"] = [">50K" if v else "<=50K" for v in columns["y"]]
    columns["pred"] = [">50K" if v else "<=50K" for v in columns["pred"]]
    path = write_table(tmp_path / "d.csv", columns)
    _same(*_both(monkeypatch, _audit(path, pos_label=">50K")))
    _same(*_both(monkeypatch, _audit(path, pos_label="50K")))
    columns["y"] = [["cat", "dog", "eel"][i % 3] for i in range(60)]
    columns["pred"] = [["cat", "dog", "eel"][(i // 2) % 3] for i in range(60)]
    path = write_table(tmp_path / "m.parquet", columns)
    _same(*_both(monkeypatch, _audit(path, task="multiclass_classification")))


def test_row_order_join(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    columns = _columns(3000)
    monkeypatch.setattr(formats, "BATCH_ROWS", 101)
    data = write_table(tmp_path / "d.parquet", {k: columns[k] for k in ("y", "sex", "band")})
    predictions = write_table(tmp_path / "p.csv", {"pred": columns["pred"]})
    _same(*_both(monkeypatch, _audit(data, predictions=predictions, join="row-order")))
    short = write_table(tmp_path / "short.csv", {"pred": columns["pred"][:2990]})
    streamed, whole = _both(monkeypatch, _audit(data, predictions=short, join="row-order"))
    assert isinstance(streamed, str) and "3000 data rows" in streamed and "2990" in streamed
    _same(streamed, whole)


def test_an_id_column_is_refused_without_reading_every_row(tmp_path: Path) -> None:
    columns = _columns(3000)
    columns["band"] = [f"person {i}" for i in range(3000)]
    path = write_table(tmp_path / "d.csv", columns)
    with pytest.raises(InputError) as info:
        _audit(path, max_groups=100)()
    message = info.value.diagnostics()
    assert "d.csv" in message and "sensitive column 'band'" in message
    assert "more than 100 distinct values" in message and "--max-groups" in message


def test_unknown_extension_names_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "d.xlsx"
    path.write_text("y,pred,sex\n1,0,f\n")
    with pytest.raises(InputError) as info:
        _audit(path)()
    message = info.value.diagnostics()
    assert "d.xlsx" in message and "'.xlsx'" in message
    for suffix in (".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz", ".ndjson"):
        assert suffix in message


def _join_files(tmp_path: Path, rows: int, *, text_ids: bool = False) -> tuple[Path, Path]:
    columns = _columns(rows)
    ids = [f"u{i * 7919 % rows}" if text_ids else i * 7919 % rows + 5 for i in range(rows)]
    data = write_table(
        tmp_path / "d.csv", {"id": ids, **{k: columns[k] for k in ("y", "sex", "band")}}
    )
    shuffled = sorted(range(rows), key=lambda i: (i * 31) % rows)
    predictions = write_table(
        tmp_path / "p.parquet",
        {"id": [ids[i] for i in shuffled], "pred": [columns["pred"][i] for i in shuffled]},
    )
    return data, predictions


@pytest.mark.parametrize("text_ids", [False, True])
def test_id_join_on_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text_ids: bool
) -> None:
    from bias_ledger.engines import arrow_join

    data, predictions = _join_files(tmp_path, 3001, text_ids=text_ids)
    run = _audit(data, predictions=predictions, id_column="id")
    _same(*_both(monkeypatch, run))
    monkeypatch.setattr(arrow_join, "PARTITION_BYTES", 1000)
    monkeypatch.setattr(formats, "BATCH_ROWS", 64)
    assert arrow_join.partitions_for([data, predictions]) > 10
    _same(*_both(monkeypatch, run))


def test_id_join_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = 50
    columns = _columns(rows)
    ids: list[Any] = list(range(rows))
    data = write_table(
        tmp_path / "d.csv",
        {"id": ids, "y": columns["y"], "sex": columns["sex"], "band": columns["band"]},
    )
    cases = {
        "missing": [None if i in (3, 30) else v for i, v in enumerate(ids)],
        "repeated": [4 if i == 9 else v for i, v in enumerate(ids)],
        "unmatched": [v + 1000 if i in (2, 40) else v for i, v in enumerate(ids)],
    }
    for name, other in cases.items():
        predictions = write_table(tmp_path / f"{name}.csv", {"id": other, "pred": columns["pred"]})
        streamed, whole = _both(monkeypatch, _audit(data, predictions=predictions, id_column="id"))
        assert isinstance(streamed, str), name
        _same(streamed, whole)
    # Text ids in one file and numbers in the other are compared as text.
    text = write_table(tmp_path / "t.jsonl", {"id": [str(v) for v in ids], "pred": columns["pred"]})
    _same(*_both(monkeypatch, _audit(data, predictions=text, id_column="id")))
