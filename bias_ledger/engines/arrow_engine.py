"""The default engine: every input streamed batch by batch with pyarrow, in this process.

Each batch is reduced at once to rows per distinct combination of the audited columns
(:mod:`bias_ledger.io.stream_counts`), so memory is bounded by the batch size and the number
of groups, not by the rows. A large CSV file is parsed as two byte ranges on two cores, and
the files are hashed on another thread meanwhile. The aggregated rows are validated as every
engine's are (:func:`bias_ledger.engines.aggregated.audit_data`); a bad value's file rows are
found by reading its column again, so messages name them as the row-by-row reader's do.

Two files are joined by row order in step, or on an id by a partitioned hash join on disk
(:mod:`bias_ledger.engines.arrow_join`). Score and regression audits and ``--cross-check``
still read the columns whole
(:func:`bias_ledger.io.load.load_audit_data`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.engines.aggregated import ROWS_COLUMN, audit_data, audited_columns
from bias_ledger.errors import InputError
from bias_ledger.io import formats
from bias_ledger.io.arrays import arrow_integers, bool_values
from bias_ledger.io.columns import Located
from bias_ledger.io.join import check_row_counts
from bias_ledger.io.load import check_mapping, digest_inputs, needed_columns, no_column_error
from bias_ledger.io.model import AuditData, ColumnMapping, FileFormat, InputFile, JoinMode
from bias_ledger.io.read import (
    Source,
    check_columns,
    check_readable,
    detect_format,
    read_fail,
    read_schema,
    text_columns,
)
from bias_ledger.io.stream_counts import (
    CombinationCounter,
    TooManyValues,
    merge_tables,
    too_many,
)
from bias_ledger.io.tables import InMemoryTable, column_batches
from bias_ledger.metrics.model import Task

Progress = Callable[[int], None]
ROW_EXAMPLES = 5


def streams(mapping: ColumnMapping, *, predictions: Source | None, cross_check: bool) -> bool:
    """Whether this engine streams the audit (else it reads the columns whole)."""
    return not (mapping.score is not None or mapping.task is Task.REGRESSION or cross_check)


def _limits(mapping: ColumnMapping, columns: Sequence[str]) -> list[int]:
    # A binary label has two values, but a wrong column should fail on its values, listed,
    # not on a count: every column may have as many values as a feature may have groups.
    return [max(mapping.max_groups, 2) for _ in columns]


def _roles(mapping: ColumnMapping) -> dict[str, str]:
    return dict(needed_columns(mapping))


def _without_nan(batch: Any, columns: Sequence[str]) -> Any:
    """NaN in a float label or prediction is a missing value, as the row reader has it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    floating = [
        name
        for name in columns
        if name in batch.schema.names and pa.types.is_floating(batch.schema.field(name).type)
    ]
    if not floating:
        return batch
    arrays = []
    for name in batch.schema.names:
        column = batch.column(name)
        if name in columns and pa.types.is_floating(column.type):
            column = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names)


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
            options = formats.csv_convert_options(columns, dictionary, default_na=default_na)
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


def _count(
    stream: Iterator[Any],
    path: Source,
    fmt: FileFormat,
    counter: CombinationCounter,
    floats: Sequence[str],
) -> None:
    import pyarrow as pa

    try:
        for batch in stream:
            counter.add(_without_nan(batch, floats))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise read_fail(path, fmt, exc) from None


def _count_file(
    path: Source,
    fmt: FileFormat,
    schema: Any,
    columns: Sequence[str],
    mapping: ColumnMapping,
    pool: ThreadPoolExecutor,
) -> tuple[Any, int]:
    """The aggregated table of one file, and its row count."""
    parts = batches(path, fmt, schema, columns, default_na=mapping.default_na, split=True)
    floats = [mapping.label, mapping.prediction or ""]
    counters = [CombinationCounter(columns, _limits(mapping, columns)) for _ in parts]
    later = [
        pool.submit(_count, part, path, fmt, counter, floats)
        for part, counter in zip(parts[1:], counters[1:], strict=True)
    ]
    _count(parts[0], path, fmt, counters[0], floats)
    for future in later:
        future.result()
    tables = [counter.table(ROWS_COLUMN) for counter in counters]
    return merge_tables(tables, columns, ROWS_COLUMN), sum(c.rows for c in counters)


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


def _count_row_order(
    paths: Sequence[Source],
    fmts: Sequence[FileFormat],
    schemas: Sequence[Any],
    parts: Sequence[list[str]],
    mapping: ColumnMapping,
) -> tuple[Any, list[int]]:
    import pyarrow as pa

    columns = [name for part in parts for name in part]
    counter = CombinationCounter(columns, _limits(mapping, columns))
    sources = [
        batches(path, fmt, schema, part, default_na=mapping.default_na)[0]
        for path, fmt, schema, part in zip(paths, fmts, schemas, parts, strict=True)
    ]
    floats = [mapping.label, mapping.prediction or ""]
    seen = [0, 0]
    try:
        for left, right in _aligned(sources[0], sources[1], seen):
            batch = pa.RecordBatch.from_arrays([*left.columns, *right.columns], names=columns)
            counter.add(_without_nan(batch, floats))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"{paths[0]} joined with {paths[1]}: cannot read: {exc}") from None
    check_row_counts(paths[0], seen[0], paths[1], seen[1])
    return counter.table(ROWS_COLUMN), seen


def _join_key(
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


def _count_id_join(
    paths: Sequence[Source],
    fmts: Sequence[FileFormat],
    schemas: Sequence[Any],
    parts: Sequence[list[str]],
    mapping: ColumnMapping,
    key: str,
) -> tuple[Any, list[int]]:
    import pyarrow as pa

    from bias_ledger.engines.arrow_join import count_joined

    columns = [name for part in parts for name in part]
    counter = CombinationCounter(columns, _limits(mapping, columns))
    sources = [
        batches(path, fmt, schema, [key, *part], default_na=mapping.default_na, encode=False)[0]
        for path, fmt, schema, part in zip(paths, fmts, schemas, parts, strict=True)
    ]
    as_text = not all(pa.types.is_integer(schema.field(key).type) for schema in schemas)
    try:
        rows = count_joined(paths, sources, key, as_text, counter, columns)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"{paths[0]} joined with {paths[1]}: cannot read: {exc}") from None
    return counter.table(ROWS_COLUMN), rows


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
                data = _without_nan(batch, [column.name]).column(0)
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
        shown = ", ".join(str(row) for row in found)
        return f"rows {shown}{', ...' if more else ''} (1-based data rows)"

    return locate


def load(
    data: Source,
    *,
    predictions: Source | None,
    mapping: ColumnMapping,
    progress: Progress | None = None,
) -> AuditData:
    """Stream, count, validate and encode an audit's inputs; InputError on any bad input."""
    check_mapping(mapping)
    paths: list[Source] = [data] if predictions is None else [data, predictions]
    fmts = []
    for path in paths:
        check_readable(path)
        fmts.append(detect_format(path))
    schemas = [
        read_schema(path, fmt, default_na=mapping.default_na)
        for path, fmt in zip(paths, fmts, strict=True)
    ]
    columns = audited_columns(mapping)
    roles = _roles(mapping)
    for path, schema in zip(paths, schemas, strict=True):
        check_columns(path, schema, [*columns, *([mapping.id_column] if mapping.id_column else [])])
    names = [list(schema.names) for schema in schemas]
    key = _join_key(paths, names, mapping)
    parts = [[name for name in columns if name in found and name != key] for found in names]
    if len(paths) == 2:
        shared = [n for n in names[0] if n in names[1] and n != key]
        if shared:
            raise InputError(
                f"columns {', '.join(repr(n) for n in shared[:10])} are in both {data} and "
                f"{predictions}; expected each column other than the id in one file only"
            )
        for path, used in zip(paths, parts, strict=True):
            if not used and key is None:
                raise InputError(f"{path}: none of the mapped columns is in this file")
    for name, role in needed_columns(mapping):
        if not any(name in found for found in names):
            raise no_column_error(name, role, paths, [n for found in names for n in found])
    where = {
        name: (path, fmt, schema)
        for path, fmt, schema, part in zip(paths, fmts, schemas, parts, strict=True)
        for name in part
    }
    cancel = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        hashing = pool.submit(digest_inputs, paths, mapping, progress, cancel)
        try:
            if len(paths) == 1:
                table, rows = _count_file(data, fmts[0], schemas[0], parts[0], mapping, pool)
                file_rows = [rows]
            elif key is None:
                table, file_rows = _count_row_order(paths, fmts, schemas, parts, mapping)
            else:
                table, file_rows = _count_id_join(paths, fmts, schemas, parts, mapping, key)
            table = table.select([*columns, ROWS_COLUMN])
        except TooManyValues as error:
            cancel.set()
            raise too_many(error, where[error.column][0], roles[error.column]) from None
        except BaseException:
            cancel.set()
            raise
        digests = hashing.result()
    if file_rows[0] == 0:
        raise InputError(f"{data}: no data rows; expected a header and at least one row")
    inputs = [
        InputFile(
            path=str(path),
            name=path.name,
            format=fmt,
            size=digest.size,
            blake3=digest.blake3,
            rows=rows,
            sha256=digest.sha256 or None,
        )
        for path, fmt, digest, rows in zip(paths, fmts, digests, file_rows, strict=True)
    ]
    files = {name: item[0] for name, item in where.items()}
    result = audit_data(
        table,
        mapping,
        source=str(data),
        inputs=inputs,
        files=files,
        locate=locator(where, mapping.default_na),
    )
    return result
