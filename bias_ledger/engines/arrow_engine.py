"""The default engine: every input streamed batch by batch with pyarrow, in this process.

Each batch is reduced at once to rows per distinct combination of the audited columns
(:mod:`bias_ledger.io.stream_counts`), so memory is bounded by the batch size and the number
of groups, not by the rows. A large CSV file is parsed as two byte ranges on two cores, and
the files are hashed on another thread meanwhile. The aggregated rows are validated as every
engine's are (:func:`bias_ledger.engines.aggregated.audit_data`); a bad value's file rows are
found by reading its column again, so messages name them as the row-by-row reader's do.

Two files are joined by row order in step, or on an id by a partitioned hash join on disk
(:mod:`bias_ledger.engines.arrow_join`). Score, regression and weighted audits feed their
accumulators batch by batch (:mod:`bias_ledger.engines.arrow_statistics`); only a bad value
in their score, regression or weight columns, whose message names rows, is read again whole
(:func:`bias_ledger.io.load.load_audit_data`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bias_ledger.engines.aggregated import ROWS_COLUMN, audit_data, audited_columns
from bias_ledger.engines.arrow_batches import batches, limits, locator, without_nan
from bias_ledger.engines.arrow_pairs import count_id_join, count_row_order, join_key
from bias_ledger.errors import InputError
from bias_ledger.io.late_types import TypeChanged, retry_wider
from bias_ledger.io.load import check_mapping, digest_inputs, needed_columns, no_column_error
from bias_ledger.io.model import AuditData, ColumnMapping, FileFormat, InputFile
from bias_ledger.io.prefetch import prefetched
from bias_ledger.io.read import (
    Source,
    check_columns,
    check_readable,
    detect_format,
    read_fail,
    read_schema,
)
from bias_ledger.io.stream_counts import (
    BatchCounter,
    CombinationCounter,
    TooManyValues,
    merge_tables,
    too_many,
)

Progress = Callable[[int], None]


def streams(mapping: ColumnMapping, *, predictions: Source | None) -> bool:
    """Whether this engine streams the audit (else it reads the columns whole): every task
    streams (``--cross-check`` then reads the rows of a small input whole, for fairlearn)."""
    return True


def _roles(mapping: ColumnMapping) -> dict[str, str]:
    return dict(needed_columns(mapping))


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
            counter.add(without_nan(batch, floats))
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
    counters = [CombinationCounter(columns, limits(mapping, columns)) for _ in parts]
    later = [
        pool.submit(_count, part, path, fmt, counter, floats)
        for part, counter in zip(parts[1:], counters[1:], strict=True)
    ]
    _count(parts[0], path, fmt, counters[0], floats)
    for future in later:
        future.result()
    tables = [counter.table(ROWS_COLUMN) for counter in counters]
    return merge_tables(tables, columns, ROWS_COLUMN), sum(c.rows for c in counters)


def _count_statistics(
    path: Source,
    fmt: FileFormat,
    schema: Any,
    columns: Sequence[str],
    counter: BatchCounter,
    default_na: bool,
) -> tuple[Any, list[int]]:
    """A score, regression or weighted audit's combinations, its accumulators fed meanwhile."""
    import pyarrow as pa

    try:
        for part in batches(path, fmt, schema, columns, default_na=default_na):
            # The next batches are read on the other core while this one is summed.
            for batch in prefetched(part):
                counter.add(batch)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise read_fail(path, fmt, exc) from None
    return counter.table(ROWS_COLUMN), [counter.rows]


def load(
    data: Source,
    *,
    predictions: Source | None,
    mapping: ColumnMapping,
    progress: Progress | None = None,
    thresholds: Sequence[float] = (0.5,),
) -> AuditData:
    """Stream, count, validate and encode an audit's inputs; InputError on any bad input."""
    from bias_ledger.engines.arrow_statistics import Reread

    try:
        return _load(data, predictions, mapping, progress, thresholds)
    except Reread:
        from bias_ledger.io.load import load_audit_data

        return load_audit_data(data, predictions=predictions, mapping=mapping, progress=progress)


def _load(
    data: Source,
    predictions: Source | None,
    mapping: ColumnMapping,
    progress: Progress | None,
    thresholds: Sequence[float],
) -> AuditData:
    from bias_ledger.engines import arrow_statistics as tasks

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
    statistics = tasks.counts_statistics(mapping)
    columns = audited_columns(mapping)
    if statistics:
        columns = list(dict.fromkeys([*columns, *tasks.value_columns(mapping)]))
    for path, schema in zip(paths, schemas, strict=True):
        check_columns(path, schema, [*columns, *([mapping.id_column] if mapping.id_column else [])])
    names = [list(schema.names) for schema in schemas]
    key = join_key(paths, names, mapping)
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
    plan = _Plan(paths, fmts, columns, key, parts)
    cancel = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        # The files are hashed once, however often a late type change has them re-read.
        hashing = pool.submit(digest_inputs, paths, mapping, progress, cancel)

        def widen(changed: TypeChanged) -> bool:
            # A valid file whose column type changes after the first block: re-read it wider.
            index = paths.index(changed.path)
            wider = changed.widened(schemas[index])
            if wider is not None:
                schemas[index] = wider
            return wider is not None

        try:
            return retry_wider(
                lambda: _audit(plan, mapping, thresholds, schemas, pool, hashing), widen
            )
        except BaseException:
            cancel.set()
            raise


@dataclass(frozen=True)
class _Plan:
    """What an audit reads, worked out once from the files' schemas (a late type change
    retypes a column, never renames one)."""

    paths: list[Source]
    fmts: list[FileFormat]
    columns: list[str]
    """Every column read, in the order the aggregated table holds them."""
    key: str | None
    """The id column joining two files, if any."""
    parts: list[list[str]]
    """The columns read from each file."""


def _audit(
    plan: _Plan,
    mapping: ColumnMapping,
    thresholds: Sequence[float],
    schemas: list[Any],
    pool: ThreadPoolExecutor,
    hashing: Future[Any],
) -> AuditData:
    from bias_ledger.engines import arrow_statistics as tasks

    paths, fmts, columns, key, parts = plan.paths, plan.fmts, plan.columns, plan.key, plan.parts
    data = paths[0]
    statistics = tasks.counts_statistics(mapping)
    where = {
        name: (path, fmt, schema)
        for path, fmt, schema, part in zip(paths, fmts, schemas, parts, strict=True)
        for name in part
    }
    roles = _roles(mapping)
    counter = tasks.TaskCounter(mapping, thresholds) if statistics else None
    try:
        if counter is not None and len(paths) == 1:
            table, file_rows = _count_statistics(
                data, fmts[0], schemas[0], parts[0], counter, mapping.default_na
            )
        elif len(paths) == 1:
            table, rows = _count_file(data, fmts[0], schemas[0], parts[0], mapping, pool)
            file_rows = [rows]
        elif key is None:
            table, file_rows = count_row_order(paths, fmts, schemas, parts, mapping, counter)
        else:
            table, file_rows = count_id_join(paths, fmts, schemas, parts, mapping, key, counter)
        if counter is None:
            table = table.select([*columns, ROWS_COLUMN])
    except TooManyValues as error:
        raise too_many(error, where[error.column][0], roles[error.column]) from None
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
    if counter is not None:
        return tasks.finish(
            counter,
            table,
            source=str(data),
            inputs=inputs,
            files=files,
            locate=locator(where, mapping.default_na),
        )
    result = audit_data(
        table,
        mapping,
        source=str(data),
        inputs=inputs,
        files=files,
        locate=locator(where, mapping.default_na),
    )
    return result
