"""NaN in a float label or prediction becomes a missing value batch by batch, whatever the
float width, slicing, infinities of both signs or what a null slot holds; a batch without NaN
is passed through as it is."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from bias_ledger.engines.arrow_batches import without_nan


def _nan_in_a_null_slot() -> pa.Array:
    values = np.array([1.0, np.nan, 3.0])
    validity = pa.array([True, False, True]).buffers()[1]
    return pa.Array.from_buffers(pa.float64(), 3, [validity, pa.py_buffer(values.tobytes())])


ARRAYS = {
    "no nan": pa.array([0.5, None, 2.0]),
    "nan": pa.array([0.5, float("nan"), 2.0]),
    "both infinities": pa.array([float("inf"), -float("inf"), 1.0]),
    "nan sliced away": pa.array([float("nan"), 1.0, 2.0]).slice(1),
    "nan in the slice": pa.array([1.0, 2.0, float("nan"), 4.0]).slice(1, 2),
    "float32 nan": pa.array(np.array([1.0, np.nan], dtype=np.float32)),
    "float16": pa.array(np.array([1.0, 2.0], dtype=np.float16)),
    "nan in a null slot": _nan_in_a_null_slot(),
    "empty": pa.array([], pa.float64()),
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_nan_is_missing_and_nothing_else_changes(name: str) -> None:
    column = ARRAYS[name]
    batch = pa.RecordBatch.from_arrays([column, pa.array(range(len(column)))], names=["y", "i"])
    found = without_nan(batch, ["y"])
    nan = pc.fill_null(pc.is_nan(column), False)
    expected = pc.if_else(nan, pa.nulls(1, column.type)[0], column)
    assert found.column("y").to_pylist() == expected.to_pylist()
    assert found.column("i") == batch.column("i")
    if not pc.any(nan).as_py():
        assert found is batch
