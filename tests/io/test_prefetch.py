"""Batches read ahead on a thread come in order, unchanged; a reader's error is raised where
its batch would have been; a consumer that stops early stops and closes the reader."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bias_ledger.io.prefetch import prefetched


def _threads() -> set[str]:
    return {thread.name for thread in threading.enumerate()}


def test_parquet_batches_come_in_order_and_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"x": np.arange(100_000)}), path, row_group_size=7_000)
    with pq.ParquetFile(path) as reader:
        expected = [batch.column(0).to_pylist() for batch in reader.iter_batches(3_000)]
    with pq.ParquetFile(path) as reader:
        found = [batch.column(0).to_pylist() for batch in prefetched(reader.iter_batches(3_000))]
    assert found == expected and len(found) > 10


def test_a_readers_error_is_raised_in_place() -> None:
    def stream() -> Iterator[int]:
        yield 1
        yield 2
        raise pa.ArrowInvalid("row 3: bad")

    seen: list[int] = []
    with pytest.raises(pa.ArrowInvalid, match="row 3: bad"):
        seen.extend(prefetched(stream()))
    assert seen == [1, 2]
    assert "bias-ledger-prefetch" not in _threads()


def test_stopping_early_stops_and_closes_the_reader() -> None:
    closed = threading.Event()

    def stream() -> Iterator[int]:
        try:
            yield from range(1_000_000)
        finally:
            closed.set()

    items = prefetched(stream(), ahead=2)
    assert [next(items) for _ in range(5)] == [0, 1, 2, 3, 4]
    items.close()  # what a for loop left by an exception does, once the generator is dropped
    assert closed.is_set()
    assert "bias-ledger-prefetch" not in _threads()
