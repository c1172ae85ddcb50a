"""In-memory tables as audit inputs: pandas, polars and pyarrow, with a re-derivable digest.

A file is fingerprinted by the BLAKE3 of its bytes. A table in memory has no bytes of its own,
so it is fingerprinted by the BLAKE3 of a canonical Arrow IPC stream of the columns the audit
read (docs/FORMAT.md, "In-memory tables"): anyone holding the same data can re-derive it with
:func:`table_digest`, from Python or from a Parquet file of the same columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bias_ledger.errors import InputError

TABLE_KINDS = "a pandas DataFrame, a polars DataFrame, a pyarrow Table or RecordBatch"


@dataclass(frozen=True, eq=False)
class InMemoryTable:
    """A table handed to :func:`bias_ledger.audit` instead of a file."""

    name: str
    """What the record and error messages call it (``audit(..., data_name=...)``)."""
    table: Any
    """The pyarrow Table, as converted from the caller's object (columns unchanged)."""

    def __str__(self) -> str:
        return self.name


def _module(obj: object) -> str:
    return type(obj).__module__.split(".", 1)[0]


def as_arrow_table(obj: object) -> Any | None:
    """``obj`` as a pyarrow Table when it is a table this module accepts, else None.

    The caller's library is recognised by its type's module, so neither pandas nor polars is
    imported unless the caller already uses it.
    """
    kind = _module(obj)
    if kind == "pyarrow":
        import pyarrow as pa

        if isinstance(obj, pa.Table):
            return obj
        if isinstance(obj, pa.RecordBatch):
            return pa.Table.from_batches([obj])
        return None
    if kind == "pandas":
        import pandas as pd
        import pyarrow as pa

        if not isinstance(obj, pd.DataFrame):
            return None
        names = [str(name) for name in obj.columns]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise InputError(
                f"DataFrame: column {repeated[0]!r} appears more than once; expected unique "
                "column names"
            )
        try:
            return pa.Table.from_pandas(obj, preserve_index=False)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise InputError(f"DataFrame: cannot convert to Arrow: {exc}") from None
    if kind == "polars":
        import polars as pl

        if isinstance(obj, pl.LazyFrame):
            obj = obj.collect()
        if isinstance(obj, pl.DataFrame):
            return _without_views(obj.to_arrow())
    return None


def _without_views(table: Any) -> Any:
    """``table`` with string and binary views as plain strings and binaries (polars gives
    views, which the readers' text handling does not take)."""
    import pyarrow as pa

    for position, field in enumerate(table.schema):
        if pa.types.is_string_view(field.type) or pa.types.is_binary_view(field.type):
            target = pa.large_string() if pa.types.is_string_view(field.type) else pa.binary()
            table = table.set_column(position, field.name, table.column(position).cast(target))
    return table


def _canonical_type(field_type: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_dictionary(field_type):
        return _canonical_type(field_type.value_type)
    if pa.types.is_large_string(field_type) or pa.types.is_string_view(field_type):
        return pa.string()
    if pa.types.is_large_binary(field_type) or pa.types.is_binary_view(field_type):
        return pa.binary()
    return field_type


def canonical_table(table: Any, columns: Sequence[str]) -> Any:
    """The canonical form of ``columns`` of ``table``: the bytes :func:`table_digest` hashes.

    Columns sorted by name; dictionaries decoded; large and view strings and binaries as plain
    ``string``/``binary``; no schema or field metadata; every column one contiguous chunk.
    """
    import pyarrow as pa

    names = sorted(set(columns))
    fields = []
    arrays = []
    for name in names:
        column = table.column(name)
        target = _canonical_type(column.type)
        fields.append(pa.field(name, target, nullable=True))
        arrays.append(column.cast(target).combine_chunks())
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def table_digest(table: Any, columns: Sequence[str]) -> tuple[str, int]:
    """Hex BLAKE3 of the canonical Arrow IPC stream of ``columns``, and its length in bytes.

    The stream holds one schema message and a single record batch, uncompressed, written by
    pyarrow's IPC stream writer with default options (metadata version V5).
    """
    import blake3
    import pyarrow as pa

    canonical = canonical_table(table, columns)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, canonical.schema) as writer:
        batches = canonical.to_batches(max_chunksize=max(canonical.num_rows, 1))
        for batch in batches:
            writer.write_batch(batch)
    payload = sink.getvalue()
    hasher = blake3.blake3(max_threads=blake3.blake3.AUTO)
    hasher.update(memoryview(payload))
    return hasher.hexdigest(), payload.size


def column_batches(
    source: InMemoryTable, columns: Sequence[str], batch_rows: int, *, dictionary: Sequence[str]
) -> Iterator[Any]:
    """Record batches of ``columns`` of the table, text columns in ``dictionary`` encoded as
    a CSV or Parquet reader would give them, for the readers' compaction."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for batch in source.table.select(list(columns)).to_batches(max_chunksize=batch_rows):
        arrays = [
            pc.dictionary_encode(column)
            if name in dictionary and not pa.types.is_dictionary(column.type)
            else column
            for name, column in zip(batch.schema.names, batch.columns, strict=True)
        ]
        yield pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


def to_input(obj: object, *, name: str) -> InMemoryTable | None:
    """An :class:`InMemoryTable` for a supported table object, else None."""
    table = as_arrow_table(obj)
    if table is None:
        return None
    return InMemoryTable(name=name, table=table)
