"""Reading batch by batch: compacted columns hold the same values as the batches they came from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from bias_ledger.errors import InputError
from bias_ledger.io.batches import SHARED_LIMIT, compact_table
from bias_ledger.io.load import load_audit_data
from bias_ledger.io.model import ColumnMapping
from bias_ledger.io.read import BATCH_ROWS
from tests.io.io_helpers import assert_same, write_table

TEXT = pa.dictionary(pa.int32(), pa.string())


def _batches(columns: list[dict[str, Any]], schema: pa.Schema) -> list[pa.RecordBatch]:
    return [pa.RecordBatch.from_pydict(batch, schema=schema) for batch in columns]


def _values(table: pa.Table, name: str) -> list[Any]:
    return list(table.column(name).to_pylist())


def test_dictionaries_of_every_batch_become_one() -> None:
    schema = pa.schema([("group", TEXT), ("label", pa.int64())])
    raw: list[dict[str, Any]] = [
        {"group": ["b", "a", None, "b"], "label": [0, 1, 1, 0]},
        {"group": ["c", "a", "c"], "label": [1, None, 0]},
        {"group": [None, None], "label": [None, None]},
        {"group": ["d", "b"], "label": [1, 1]},
    ]
    table = compact_table(
        _batches(raw, schema), schema, ["group", "label"], shared=["group"], narrow=["label"]
    )
    assert _values(table, "group") == [v for batch in raw for v in batch["group"]]
    assert _values(table, "label") == [v for batch in raw for v in batch["label"]]
    assert table.schema.field("group").type == pa.dictionary(pa.int8(), pa.string())
    assert table.schema.field("label").type == pa.int8()
    chunks = table.column("group").chunks
    assert all(chunk.dictionary.equals(chunks[0].dictionary) for chunk in chunks)


def test_indices_widen_as_the_dictionary_grows() -> None:
    schema = pa.schema([("group", TEXT)])
    raw = [{"group": [f"g{i}" for i in range(start, start + 100)]} for start in (0, 100, 200)]
    table = compact_table(_batches(raw, schema), schema, ["group"], shared=["group"])
    assert _values(table, "group") == [f"g{i}" for i in range(300)]
    assert table.schema.field("group").type == pa.dictionary(pa.int16(), pa.string())


def test_an_id_like_column_keeps_its_batches() -> None:
    schema = pa.schema([("group", TEXT)])
    half = SHARED_LIMIT // 2 + 1
    raw = [{"group": [f"id{i}" for i in range(s, s + half)]} for s in range(0, 3 * half, half)]
    table = compact_table(_batches(raw, schema), schema, ["group"], shared=["group"])
    assert _values(table, "group") == [f"id{i}" for i in range(3 * half)]
    assert table.schema.field("group").type == TEXT


def test_integers_take_the_widest_type_any_batch_needs() -> None:
    schema = pa.schema([("label", pa.int64()), ("other", pa.int64())])
    raw = [{"label": [0, 1], "other": [0, 1]}, {"label": [-40000, 7], "other": [5, 6]}]
    table = compact_table(_batches(raw, schema), schema, ["label", "other"], narrow=["label"])
    assert _values(table, "label") == [0, 1, -40000, 7]
    assert table.schema.field("label").type == pa.int32()
    assert table.schema.field("other").type == pa.int64()


def test_large_unsigned_values_keep_their_type() -> None:
    schema = pa.schema([("id", pa.uint32())])
    raw = [{"id": [1, 2]}, {"id": [70_000]}, {"id": [2**31 + 5, 3]}]
    table = compact_table(_batches(raw, schema), schema, ["id"], narrow=["id"])
    assert _values(table, "id") == [1, 2, 70_000, 2**31 + 5, 3]
    assert table.schema.field("id").type == pa.uint32()


def test_no_batches_give_an_empty_table() -> None:
    schema = pa.schema([("group", TEXT), ("label", pa.int64())])
    table = compact_table([], schema, ["label", "group"], shared=["group"], narrow=["label"])
    assert table.num_rows == 0 and table.column_names == ["label", "group"]


ROWS = 60_000


def _wide_columns(missing_sex: bool) -> dict[str, list[Any]]:
    """Groups that first appear late in the file, so later batches bring new dictionary values."""
    return {
        "y": [i % 2 for i in range(ROWS)],
        "pred": [(i // 3) % 2 for i in range(ROWS)],
        "site": [f"site-{i * 300 // ROWS:03d}" for i in range(ROWS)],
        "sex": [
            None if missing_sex and i in (45_000, 59_998) else "fm"[i % 2] for i in range(ROWS)
        ],
        "note": ["padding to make the file span several read blocks"] * ROWS,
    }


def _several_batches(path: Path) -> int:
    if path.suffix == ".csv":
        with pcsv.open_csv(path) as reader:
            return sum(1 for _ in reader)
    parquet = pq.ParquetFile(path, read_dictionary=["site", "sex"])
    return sum(1 for _ in parquet.iter_batches(batch_size=BATCH_ROWS))


def _write(path: Path, columns: dict[str, list[Any]]) -> Path:
    if path.suffix == ".parquet":
        pq.write_table(pa.table(columns), path, row_group_size=7_000)
        return path
    return write_table(path, columns)


@pytest.mark.parametrize("name", ["data.csv", "data.parquet"])
def test_many_batches_load_as_one_read_does(tmp_path: Path, name: str) -> None:
    columns = _wide_columns(missing_sex=True)
    mapping = ColumnMapping(
        label="y", prediction="pred", sensitive=("site", "sex"), missing_as_group=True
    )
    path = _write(tmp_path / name, columns)
    assert _several_batches(path) > 1
    # JSON Lines are read whole: the reference for the batched readers.
    reference = load_audit_data(write_table(tmp_path / "ref.jsonl", columns), mapping=mapping)
    data = load_audit_data(path, mapping=mapping)
    assert_same(data, reference)
    assert len(data.sensitive[0].categories) == 300


@pytest.mark.parametrize("name", ["data.csv", "data.parquet"])
def test_a_late_missing_group_is_found_at_its_row(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path / name, _wide_columns(missing_sex=True))
    mapping = ColumnMapping(label="y", prediction="pred", sensitive=("site", "sex"))
    with pytest.raises(InputError, match=r"2 missing values, in rows 45001, 59999 \(1-based"):
        load_audit_data(path, mapping=mapping)
