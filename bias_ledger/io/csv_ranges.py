"""Reading a large CSV file as two byte ranges parsed and compacted in parallel.

pyarrow's streaming CSV reader parses on one core. A file split at a line boundary can be
parsed by two readers at once: the second gets the header's column names and the first
reader's column types, so both agree on every column. Like pyarrow's own block splitting,
this assumes no newline inside a quoted value (``ParseOptions(newlines_in_values=False)``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bias_ledger.ledger.files import open_regular

PARALLEL_BYTES = 64 * 1024 * 1024
"""Files smaller than this are read by one reader: the split would not pay for itself."""


class _Range(io.RawIOBase):
    """Bytes ``[start, end)`` of a file, as a readable stream."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        super().__init__()
        self._handle = os.fdopen(open_regular(path), "rb", buffering=0)
        self._handle.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self._left <= 0:
            return 0
        count = self._handle.readinto(view[: min(len(view), self._left)]) or 0
        self._left -= count
        return count

    def close(self) -> None:
        self._handle.close()
        super().close()


def _split_point(path: Path, size: int) -> int | None:
    """The offset just after the first newline past the middle of the file, if any."""
    with os.fdopen(open_regular(path), "rb") as handle:
        handle.seek(size // 2)
        while chunk := handle.read(1 << 16):
            found = chunk.find(b"\n")
            if found >= 0:
                point = handle.tell() - len(chunk) + found + 1
                return point if point < size else None
    return None


def parallel_worthwhile(path: Path) -> bool:
    return (
        path.suffix.lower() == ".csv"
        and (os.cpu_count() or 1) >= 2
        and path.stat().st_size >= PARALLEL_BYTES
    )


def read_compact(
    path: Path,
    convert_options: Any,
    columns: Sequence[str],
    *,
    shared: Sequence[str],
    narrow: Sequence[str],
) -> Any:
    """The compacted table of ``columns`` (see ``compact_table``), the file's two halves read
    and compacted at once; the halves are then joined into one compact table."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from bias_ledger.io.batches import compact_table

    size = path.stat().st_size
    split = _split_point(path, size)
    from bias_ledger.io.csv_options import csv_read_options

    with pcsv.open_csv(
        pa.PythonFile(_Range(path, 0, split or size), mode="r"),
        read_options=csv_read_options(path),
        convert_options=convert_options,
    ) as first:
        schema = first.schema
        if split is None:
            return compact_table(first, schema, columns, shared=shared, narrow=narrow)
        second_options = pcsv.ConvertOptions(
            include_columns=convert_options.include_columns,
            strings_can_be_null=convert_options.strings_can_be_null,
            null_values=convert_options.null_values,
            column_types={field.name: field.type for field in schema},
        )
        with (
            pcsv.open_csv(
                pa.PythonFile(_Range(path, split, size), mode="r"),
                read_options=csv_read_options(path, column_names=_header_names(path)),
                convert_options=second_options,
            ) as second,
            ThreadPoolExecutor(max_workers=1) as pool,
        ):
            later = pool.submit(
                compact_table, second, schema, columns, shared=shared, narrow=narrow
            )
            halves = [compact_table(first, schema, columns, shared=shared, narrow=narrow)]
            halves.append(later.result())
    return _joined(halves, columns)


def _width(kind: Any) -> int:
    import pyarrow as pa

    return int((kind.index_type if pa.types.is_dictionary(kind) else kind).bit_width)


def _joined(halves: Sequence[Any], columns: Sequence[str]) -> Any:
    """One table of both halves, each column in two chunks of one type: the narrower half is
    cast to the wider one's width (dictionaries keep their own values, unified downstream),
    so at most half of a column is copied."""
    import pyarrow as pa

    arrays = {}
    for name in columns:
        chunks = [chunk for half in halves for chunk in half.column(name).chunks]
        widest = max((chunk.type for chunk in chunks), key=_width)
        arrays[name] = pa.chunked_array(
            [chunk if chunk.type == widest else chunk.cast(widest) for chunk in chunks]
        )
    return pa.table(arrays)


def _header_names(path: Path) -> list[str]:
    """The column names of the header line, parsed by pyarrow itself."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    from bias_ledger.io.csv_options import csv_read_options

    with pcsv.open_csv(pa.input_stream(str(path)), read_options=csv_read_options(path)) as reader:
        return list(reader.schema.names)
