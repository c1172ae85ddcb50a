"""Conversions between pyarrow and numpy arrays agree with pyarrow's own values."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bias_ledger.io.arrays import (
    arrow_integers,
    arrow_mask,
    bool_values,
    float_values,
    numeric_view,
)

NUMERIC = [
    pa.int8(),
    pa.int16(),
    pa.int32(),
    pa.int64(),
    pa.uint8(),
    pa.uint16(),
    pa.uint32(),
    pa.uint64(),
    pa.float32(),
    pa.float64(),
]


@pytest.mark.parametrize("kind", NUMERIC, ids=str)
def test_numeric_view_of_a_slice(kind: pa.DataType) -> None:
    array = pa.array([5, 0, 1, 2, 3, 4, 7], type=kind).slice(2, 4)
    view = numeric_view(array)
    assert view.tolist() == array.to_pylist()
    assert len(numeric_view(array.slice(0, 0))) == 0


def test_bool_values_across_chunks_with_missing_values() -> None:
    data = pa.chunked_array([pa.array([True, None, False, True]).slice(1), pa.array([None, True])])
    assert bool_values(data).tolist() == [bool(v) for v in data.to_pylist()]


def test_float_values_of_integers_and_missing_values() -> None:
    data = pa.chunked_array(
        [pa.array([1, None, 3], type=pa.int16()), pa.array([7], type=pa.int16())]
    )
    values = float_values(data)
    assert values[[0, 2, 3]].tolist() == [1.0, 3.0, 7.0] and math.isnan(values[1])


def test_arrow_arrays_from_numpy_round_trip() -> None:
    mask = np.arange(21) % 3 == 0
    assert arrow_mask(mask).to_pylist() == mask.tolist()
    order = np.arange(10, dtype=np.int64)[::-2]
    assert arrow_integers(order).to_pylist() == order.tolist()


def test_an_audit_load_does_not_import_pandas(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    y = pa.array([0, 1, 1, 0], pa.int8())
    pq.write_table(pa.table({"y": y, "p": [1, 1, 0, 0], "s": ["a", "b", "a", "b"]}), path)
    code = (
        "import sys, pathlib\n"
        "from bias_ledger.io.load import load_audit_data\n"
        "from bias_ledger.io.model import ColumnMapping\n"
        "mapping = ColumnMapping(label='y', prediction='p', sensitive=('s',))\n"
        "load_audit_data(pathlib.Path(sys.argv[1]), mapping=mapping)\n"
        "print('pandas' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
