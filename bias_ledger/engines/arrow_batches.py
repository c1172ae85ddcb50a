"""The streaming engine's batches: each input's record batches, as the audit reads them, and
the rows behind an aggregated value (read again for a message)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.io import formats
from bias_ledger.io.arrays import arrow_integers, bool_values
from bias_ledger.io.columns import Located, rows_phrase
from bias_ledger.io.kernels import if_else, is_nan
from bias_ledger.io.model import ColumnMapping, FileFormat
from bias_ledger.io.read import Source, text_columns
from bias_ledger.io.tables import InMemoryTable, column_batches

ROW_EXAMPLES = 5


def limits(mapping: ColumnMapping, columns: Sequence[str]) -> list[int]:
    # A binary label has two values, but a wrong column should fail on its values, listed,
    # not on a count: every column may have as many values as a feature may have groups.
    return [max(mapping.max_groups, 2) for _ in columns]


def _may_hold_nan(column: Any) -> bool:
    """False only when no slot of a float array holds NaN: their sum (null slots included) is
    then not NaN, while one NaN, or an infinity of each sign, makes it NaN. About a tenth of
    ``is_nan``'s cost, which then decides."""
    dtype = np.dtype(f"float{column.type.bit_width}")  # float16, float32 or float64
    data = column.buffers()[1]
    if data is None:
        return True
    values = np.frombuffer(data, dtype=dtype, count=column.offset + len(column))
    with np.errstate(all="ignore"):
        return bool(np.isnan(values[column.offset :].sum()))


def without_nan(batch: Any, columns: Sequence[str]) -> Any:
    """NaN in a float label or prediction is a missing value, as the row reader has it."""
    import pyarrow as pa

    floating = [
        name
        for name in columns
        if name in batch.schema.names and pa.types.is_floating(batch.schema.field(name).type)
    ]
    if not floating:
        return batch
    arrays, changed = [], False
    for name in batch.schema.names:
        column = batch.column(name)
        if name in floating and _may_hold_nan(column):
            nan = is_nan(column)
            if nan.true_count:  # most batches have none: nothing to rewrite
                # A null of the column's type taken from an array: pa.scalar(None, ...)
                # imports pandas (~0.4 s), as pa.array of Python values does.
                column = if_else(nan, pa.nulls(1, column.type)[0], column)
                changed = True
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names) if changed else batch


def batches(
    path: Source,
    fmt: FileFormat,
    schema: Any,
    columns: Sequence[str],
    *,
    default_na: bool,
    split: bool = False,
    encode: bool = True,
) -> list[Iterator[Any]]:
    """Batch streams of ``columns`` covering the file in order (two byte ranges of a large
    CSV file when ``split``, to be read on two cores); text columns dictionary-encoded unless
    ``encode`` is false."""
    dictionary = text_columns(schema, columns) if encode else []
    if isinstance(path, InMemoryTable):
        return [column_batches(path, columns, formats.BATCH_ROWS, dictionary=dictionary)]
    if split and fmt is FileFormat.CSV:
        from bias_ledger.io.csv_ranges import parallel_worthwhile, range_batches

        if parallel_worthwhile(path):
            options = formats.csv_convert_options(
                columns, dictionary, default_na=default_na, schema=schema
            )
            return range_batches(path, options, columns)
    if split and fmt is FileFormat.PARQUET:
        halves = formats.parquet_halves(path, columns, as_dictionary=dictionary)
        if halves is not None:
            return halves
    reader = formats.reader_for(fmt)
    return [
        reader.batches(
            path, columns, as_dictionary=dictionary, default_na=default_na, schema=schema
        )
    ]


def locator(
    fmt: dict[str, tuple[Source, FileFormat, Any]], default_na: bool
) -> Callable[[Located, npt.NDArray[np.int64]], str]:
    """Names the file rows holding the values of aggregated rows, by reading the column again."""

    def locate(column: Located, positions: npt.NDArray[np.int64]) -> str:
        import pyarrow as pa
        import pyarrow.compute as pc

        path, kind, schema = fmt[column.name]
        wanted = column.data.take(arrow_integers(np.asarray(positions, dtype=np.int64)))
        if pa.types.is_dictionary(wanted.type):
            wanted = wanted.cast(wanted.type.value_type)
        values = pc.unique(wanted.drop_null())
        with_null = wanted.null_count > 0
        found: list[int] = []
        offset = 0
        more = False
        for stream in batches(path, kind, schema, [column.name], default_na=default_na):
            for batch in stream:
                data = without_nan(batch, [column.name]).column(0)
                if pa.types.is_dictionary(data.type):
                    data = data.cast(data.type.value_type)
                hits = pc.is_in(data, value_set=values.cast(data.type))
                if with_null:
                    hits = pc.or_kleene(pc.fill_null(hits, False), data.is_null())
                for index in np.flatnonzero(bool_values(hits)):
                    if len(found) == ROW_EXAMPLES:
                        more = True
                        break
                    found.append(offset + int(index) + 1)
                offset += len(batch)
                if more:
                    break
        return rows_phrase(path, found, more)

    return locate
