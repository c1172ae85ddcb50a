"""In-memory tables as audit inputs: pandas, polars and pyarrow give the file's numbers, and a
digest that anyone holding the same data re-derives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import blake3
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bias_ledger
from bias_ledger.errors import InputError
from bias_ledger.io.tables import table_digest

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "lending.csv"
ARGS: dict[str, Any] = {
    "label": "repaid",
    "prediction": "approved_v1",
    "sensitive": ["sex", "race_ethnicity"],
}


def _without_inputs(result: Any) -> dict[str, Any]:
    document: dict[str, Any] = result.to_json()
    document.pop("inputs")
    return document


@pytest.fixture(scope="module")
def from_file() -> Any:
    return bias_ledger.audit(SAMPLE, **ARGS)


@pytest.mark.parametrize(
    "convert",
    [
        pytest.param(lambda df: df, id="pandas"),
        pytest.param(pl.from_pandas, id="polars"),
        pytest.param(lambda df: pl.from_pandas(df).lazy(), id="polars-lazy"),
        pytest.param(lambda df: pa.Table.from_pandas(df, preserve_index=False), id="arrow"),
        pytest.param(
            lambda df: pa.Table.from_pandas(df, preserve_index=False).to_batches()[0],
            id="arrow-batch",
        ),
        pytest.param(lambda df: df.astype({"sex": "category"}), id="pandas-categorical"),
    ],
)
def test_every_table_kind_gives_the_files_numbers_and_one_digest(
    convert: Any, from_file: Any
) -> None:
    frame = pd.read_csv(SAMPLE)
    result = bias_ledger.audit(convert(frame), **ARGS, data_name="lending")
    assert _without_inputs(result) == _without_inputs(from_file)
    (recorded,) = result.inputs
    assert recorded.format.value == "table"
    assert recorded.name == "lending"
    assert recorded.rows == len(frame)
    expected, size = table_digest(
        pa.Table.from_pandas(frame, preserve_index=False),
        ["repaid", "approved_v1", "sex", "race_ethnicity"],
    )
    assert (recorded.blake3, recorded.size) == (expected, size)


def test_the_digest_is_rederived_from_the_spec_alone(tmp_path: Path) -> None:
    """docs/FORMAT.md's recipe, written out with pyarrow and blake3 only, from a Parquet file
    of the same data: sorted columns, plain types, no metadata, one batch, IPC stream."""
    frame = pd.read_csv(SAMPLE)
    result = bias_ledger.audit(frame, **ARGS)
    path = tmp_path / "same.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=999)
    table = pq.read_table(path, columns=sorted(["repaid", "approved_v1", "sex", "race_ethnicity"]))
    plain = [
        pa.string() if pa.types.is_large_string(field.type) else field.type
        for field in table.schema
    ]
    table = table.cast(
        pa.schema([pa.field(f.name, t) for f, t in zip(table.schema, plain, strict=True)])
    )
    table = table.replace_schema_metadata(None).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=table.num_rows)
    assert result.inputs[0].blake3 == blake3.blake3(sink.getvalue().to_pybytes()).hexdigest()


def test_one_changed_value_changes_the_digest() -> None:
    frame = pd.read_csv(SAMPLE)
    before = bias_ledger.audit(frame, **ARGS).inputs[0].blake3
    changed = frame.copy()
    flipped = changed["approved_v1"].to_numpy().copy()
    flipped[17] = 1 - flipped[17]
    changed["approved_v1"] = flipped
    assert bias_ledger.audit(changed, **ARGS).inputs[0].blake3 != before
    # A column the audit does not read is not part of the digest.
    other = frame.copy()
    other["loan_amount"] = np.arange(len(frame))
    assert bias_ledger.audit(other, **ARGS).inputs[0].blake3 == before


def test_dataframe_predictions_join_on_an_id() -> None:
    data = pd.DataFrame({"id": [3, 1, 2, 4] * 10, "y": [1, 0, 1, 0] * 10})
    data["id"] = range(40)
    data["g"] = ["a", "b"] * 20
    predictions = pd.DataFrame({"id": list(reversed(range(40))), "p": [1, 1, 0, 0] * 10})
    result = bias_ledger.audit(
        data,
        predictions=predictions,
        id_column="id",
        label="y",
        prediction="p",
        sensitive="g",
        min_group_size=0,
    )
    joined = data.merge(predictions, on="id")
    rate = joined.groupby("g")["p"].mean()
    frame = result.by_group("g", metrics=["selection_rate"])
    assert frame["selection_rate"].astype(float).to_dict() == pytest.approx(rate.to_dict())


def test_a_bad_table_says_where_and_what() -> None:
    frame = pd.DataFrame({"y": [0, 1, 2], "p": [0, 1, 1], "g": ["a", "b", "a"]})
    with pytest.raises(InputError, match=r"^scores: label column 'y'"):
        bias_ledger.audit(frame, label="y", prediction="p", sensitive="g", data_name="scores")
    with pytest.raises(InputError, match="no sensitive column 'h'"):
        bias_ledger.audit(frame, label="y", prediction="p", sensitive="h")
    with pytest.raises(InputError, match=r"expected a path or a pandas DataFrame"):
        bias_ledger.audit([1, 2, 3], label="y", prediction="p", sensitive="g")
    twice = pd.DataFrame([[0, 1, "a"]], columns=["y", "y", "g"])
    with pytest.raises(InputError, match="column 'y' appears more than once"):
        bias_ledger.audit(twice, label="y", prediction="p", sensitive="g")
