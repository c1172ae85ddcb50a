"""Two files audited together: paired by row order in step, or joined on an id column."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from bias_ledger.engines.aggregated import ROWS_COLUMN
from bias_ledger.engines.arrow_batches import batches, limits, without_nan
from bias_ledger.errors import InputError
from bias_ledger.io.join import check_row_counts
from bias_ledger.io.load import no_column_error
from bias_ledger.io.model import ColumnMapping, FileFormat, JoinMode
from bias_ledger.io.read import Source, read_fail
from bias_ledger.io.stream_counts import BatchCounter, CombinationCounter


def _aligned(left: Iterator[Any], right: Iterator[Any], seen: list[int]) -> Iterator[Any]:
    """Pairs of equal-length slices of two batch streams, in order; ``seen`` gets each
    stream's row count (the longer one is read to its end, for the mismatch message)."""
    sources: tuple[Iterator[Any], Iterator[Any]] = (left, right)
    held: list[Any] = [None, None]
    offsets = [0, 0]

    def refill(side: int) -> bool:
        while held[side] is None or offsets[side] >= len(held[side]):
            batch = next(sources[side], None)
            if batch is None:
                return False
            held[side], offsets[side] = batch, 0
            seen[side] += len(batch)
        return True

    while True:
        if not (refill(0) and refill(1)):
            for side in (0, 1):
                seen[side] += sum(len(batch) for batch in sources[side])
            return
        size = min(len(held[0]) - offsets[0], len(held[1]) - offsets[1])
        yield tuple(held[side].slice(offsets[side], size) for side in (0, 1))
        offsets[0] += size
        offsets[1] += size


def _named(stream: Iterator[Any], path: Source, fmt: FileFormat) -> Iterator[Any]:
    """``stream``, its read errors naming its file: a column whose type changes late raises
    TypeChanged, so that the engine re-reads that file with the column widened."""
    import pyarrow as pa

    try:
        yield from stream
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise read_fail(path, fmt, exc) from None


def count_row_order(
    paths: Sequence[Source],
    fmts: Sequence[FileFormat],
    schemas: Sequence[Any],
    parts: Sequence[list[str]],
    mapping: ColumnMapping,
    counter: BatchCounter | None = None,
) -> tuple[Any, list[int]]:
    import pyarrow as pa

    columns = [name for part in parts for name in part]
    if counter is None:
        counter = CombinationCounter(columns, limits(mapping, columns))
    sources = [
        _named(batches(path, fmt, schema, part, default_na=mapping.default_na)[0], path, fmt)
        for path, fmt, schema, part in zip(paths, fmts, schemas, parts, strict=True)
    ]
    floats = [mapping.label, mapping.prediction or ""]
    seen = [0, 0]
    try:
        for left, right in _aligned(sources[0], sources[1], seen):
            batch = pa.RecordBatch.from_arrays([*left.columns, *right.columns], names=columns)
            counter.add(without_nan(batch, floats))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"{paths[0]} joined with {paths[1]}: cannot read: {exc}") from None
    check_row_counts(paths[0], seen[0], paths[1], seen[1])
    return counter.table(ROWS_COLUMN), seen


def join_key(
    paths: Sequence[Source], names: Sequence[list[str]], mapping: ColumnMapping
) -> str | None:
    """The id column two files are joined on; None for one file or a row-order join."""
    if len(paths) == 1:
        return None
    mode = mapping.join or (JoinMode.ID if mapping.id_column else None)
    if mode is None:
        raise InputError(
            f"cannot join {paths[0]} with {paths[1]}: expected --id COLUMN (in both files), "
            "or --join row-order to pair rows by position"
        )
    if mode is JoinMode.ROW_ORDER:
        return None
    key = mapping.id_column
    if key is None:
        raise InputError("--join id needs --id COLUMN naming the id column of both files")
    for path, columns in zip(paths, names, strict=True):
        if key not in columns:
            raise no_column_error(key, "id", [path], columns)
    return key


def count_id_join(
    paths: Sequence[Source],
    fmts: Sequence[FileFormat],
    schemas: Sequence[Any],
    parts: Sequence[list[str]],
    mapping: ColumnMapping,
    key: str,
    counter: BatchCounter | None = None,
) -> tuple[Any, list[int]]:
    import pyarrow as pa

    from bias_ledger.engines.arrow_join import count_joined

    columns = [name for part in parts for name in part]
    if counter is None:
        counter = CombinationCounter(columns, limits(mapping, columns))
    sources = [
        _named(
            batches(path, fmt, schema, [key, *part], default_na=mapping.default_na, encode=False)[
                0
            ],
            path,
            fmt,
        )
        for path, fmt, schema, part in zip(paths, fmts, schemas, parts, strict=True)
    ]
    as_text = not all(pa.types.is_integer(schema.field(key).type) for schema in schemas)
    try:
        rows = count_joined(paths, sources, key, as_text, counter, columns)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"{paths[0]} joined with {paths[1]}: cannot read: {exc}") from None
    return counter.table(ROWS_COLUMN), rows
