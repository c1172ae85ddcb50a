"""The id join over more rows than one block: every row finds its match, or the join says why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from bias_ledger.errors import InputError
from bias_ledger.io.columns import Located
from bias_ledger.io.join import BLOCK_ROWS, join_on_id

ROWS = 2 * BLOCK_ROWS + 12_345


def _ids(values: np.ndarray, name: str) -> Located:
    half = len(values) // 2
    chunks = [pa.array(values[:half]), pa.array(values[half:])]
    return Located("id", pa.chunked_array(chunks), Path(name))


@pytest.mark.parametrize(("dtype", "base"), [(np.int64, -5), (np.uint64, 2**63 + 11)])
def test_shuffled_ids_find_their_rows(dtype: type, base: int) -> None:
    rng = np.random.default_rng(3)
    right: np.ndarray = (np.arange(ROWS, dtype=np.uint64) + np.uint64(base % 2**64)).astype(dtype)
    left = right[rng.permutation(ROWS)]
    order = join_on_id(_ids(left, "data.csv"), _ids(right, "pred.csv"))
    np.testing.assert_array_equal(right[order], left)


def test_a_repeated_id_in_a_late_block_is_reported() -> None:
    right = np.arange(ROWS, dtype=np.int64)
    right[-1] = right[3]
    with pytest.raises(InputError, match=r"pred.csv: id column 'id' has 1 duplicated ids"):
        join_on_id(_ids(np.arange(ROWS, dtype=np.int64), "data.csv"), _ids(right, "pred.csv"))


def test_an_unmatched_id_in_a_late_block_is_reported() -> None:
    left = np.arange(ROWS, dtype=np.int64)
    left[-2] = ROWS + 7
    with pytest.raises(InputError, match=r"1 ids in data.csv are not in pred.csv"):
        join_on_id(_ids(left, "data.csv"), _ids(np.arange(ROWS, dtype=np.int64), "pred.csv"))
