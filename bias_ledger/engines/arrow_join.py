"""The id join of the streaming engine, out of core: a partitioned hash join.

Both files are streamed once and their rows spread by a hash of the id over partitions on
disk (Arrow IPC files in a temporary directory); then each pair of partitions, a fraction of
the rows, is checked and joined in memory and its rows counted. Missing, repeated and
unmatched ids are reported as the row reader reports them: counts over the whole files,
examples, and the rows of missing ids.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bias_ledger.errors import InputError
from bias_ledger.io.arrays import arrow_integers, bool_values, numeric_view
from bias_ledger.io.columns import rows_phrase
from bias_ledger.io.join import EXAMPLES, examples
from bias_ledger.io.read import Source
from bias_ledger.io.stream_counts import BatchCounter

PARTITION_BYTES = 64 * 1024 * 1024
"""Input bytes per partition: a partition pair is what the join holds in memory at once."""
MAX_PARTITIONS = 256
ROW = "__bias_ledger_row"


@dataclass
class _Side:
    """What pass one learns of one file's ids."""

    path: Source
    rows: int = 0
    missing: int = 0
    missing_rows: list[int] = field(default_factory=list)


def partitions_for(paths: Sequence[Source]) -> int:
    sizes = [path.stat().st_size if isinstance(path, Path) else 0 for path in paths]
    return max(1, min(MAX_PARTITIONS, math.ceil(sum(sizes) / PARTITION_BYTES)))


def _bucket(keys: Any, count: int, as_text: bool) -> Any:
    """The partition of each (present) id: stable for equal ids in both files."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if count == 1:
        return np.zeros(len(keys), dtype=np.int64)
    if not as_text:
        values = numeric_view(keys).astype(np.int64)
        # Fibonacci hashing spreads sequential ids evenly over the partitions.
        mixed = values.view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        return (mixed >> np.uint64(40)) % np.uint64(count)
    encoded = pc.dictionary_encode(keys.cast(pa.string()))
    lookup = np.asarray([hash(value) % count for value in encoded.dictionary.to_pylist()])
    return lookup.take(numeric_view(encoded.indices))


def _spread(
    side: _Side,
    stream: Iterator[Any],
    key: str,
    count: int,
    as_text: bool,
    directory: Path,
    label: str,
) -> list[Path]:
    """Pass one: the file's rows (with their row numbers) written to ``count`` partitions."""
    import pyarrow as pa

    files = [directory / f"{label}-{index}.arrow" for index in range(count)]
    writers: list[Any] = []
    try:
        for batch in stream:
            rows = arrow_integers(np.arange(side.rows, side.rows + len(batch), dtype=np.int64))
            keys = batch.column(key)
            # Both files' ids in one type: the join compares them by value.
            keys = keys.cast(pa.string() if as_text else pa.int64())
            if keys.null_count:
                absent = np.flatnonzero(bool_values(keys.is_null()))
                side.missing += len(absent)
                room = EXAMPLES + 1 - len(side.missing_rows)
                side.missing_rows += [side.rows + int(i) for i in absent[:room]]
            side.rows += len(batch)
            names = [name for name in batch.schema.names if name != key]
            table = pa.table([keys, *[batch.column(n) for n in names], rows], [key, *names, ROW])
            if side.missing:
                continue  # reported once every row is read; nothing to join
            if not writers:
                writers = [pa.ipc.new_file(str(path), table.schema) for path in files]
            buckets = _bucket(keys, count, as_text)
            order = np.argsort(buckets, kind="stable")
            ordered = table.take(arrow_integers(order.astype(np.int64)))
            bounds = np.searchsorted(buckets[order], np.arange(count + 1))
            for index, writer in enumerate(writers):
                start, stop = int(bounds[index]), int(bounds[index + 1])
                if stop > start:
                    writer.write_table(ordered.slice(start, stop - start))
    finally:
        for writer in writers:
            writer.close()
    return files if writers else []


@dataclass
class _Problems:
    """Repeated and unmatched ids, added up over the partitions."""

    repeated: list[list[Any]] = field(default_factory=lambda: [[], []])
    repeated_count: list[int] = field(default_factory=lambda: [0, 0])
    extra: list[int] = field(default_factory=lambda: [0, 0])
    unmatched: list[list[Any]] = field(default_factory=lambda: [[], []])
    unmatched_count: list[int] = field(default_factory=lambda: [0, 0])


def _read(path: Path) -> Any:
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def _check(tables: Sequence[Any], key: str, problems: _Problems) -> bool:
    import pyarrow.compute as pc

    clean = True
    for side, table in enumerate(tables):
        counts = pc.value_counts(table.column(key))
        repeated = counts.filter(pc.greater(counts.field("counts"), 1))
        if len(repeated):
            clean = False
            problems.repeated_count[side] += len(repeated)
            problems.extra[side] += int(pc.sum(repeated.field("counts")).as_py()) - len(repeated)
            room = EXAMPLES + 1 - len(problems.repeated[side])
            problems.repeated[side] += repeated.field("values").slice(0, room).to_pylist()
    for side, (here, there) in enumerate((tables, tables[::-1])):
        alone = pc.invert(pc.is_in(here.column(key), value_set=there.column(key)))
        found = here.column(key).filter(alone)
        if len(found):
            clean = False
            problems.unmatched_count[side] += len(found)
            room = EXAMPLES + 1 - len(problems.unmatched[side])
            problems.unmatched[side] += found.slice(0, room).to_pylist()
    return clean


def _raise(problems: _Problems, sides: Sequence[_Side], key: str) -> None:
    for side in (0, 1):
        if problems.repeated_count[side]:
            raise InputError(
                f"{sides[side].path}: id column {key!r} has {problems.repeated_count[side]} "
                f"duplicated ids ({problems.extra[side]} extra rows), e.g. "
                f"{examples(problems.repeated[side])}; expected each id once"
            )
    parts = []
    for side in (0, 1):
        if problems.unmatched_count[side]:
            here, there = sides[side].path, sides[1 - side].path
            parts.append(
                f"{problems.unmatched_count[side]} ids in {here} are not in {there} "
                f"(e.g. {examples(problems.unmatched[side])})"
            )
    if parts:
        raise InputError(f"id column {key!r} does not match between the files: " + "; ".join(parts))


def count_joined(
    paths: Sequence[Source],
    streams: Sequence[Iterator[Any]],
    key: str,
    as_text: bool,
    counter: BatchCounter,
    columns: Sequence[str],
) -> list[int]:
    """Join two files' batches on ``key`` and count the joined rows; each file's row count."""
    sides = [_Side(path) for path in paths]
    count = partitions_for(paths)
    with tempfile.TemporaryDirectory(prefix="bias-ledger-join-") as scratch:
        directory = Path(scratch)
        spread = [
            _spread(side, stream, key, count, as_text, directory, label)
            for side, stream, label in zip(sides, streams, ("data", "predictions"), strict=True)
        ]
        for side in sides:
            if side.missing:
                rows = [row + 1 for row in side.missing_rows[:EXAMPLES]]
                where = rows_phrase(side.path, rows, side.missing > EXAMPLES)
                raise InputError(
                    f"{side.path}: id column {key!r} has {side.missing} missing ids, in {where}; "
                    "expected an id on every row"
                )
            if not side.rows:
                raise InputError(
                    f"{side.path}: no data rows; expected a header and at least one row"
                )
        problems = _Problems()
        clean = True
        for index in range(count):
            tables = [_read(files[index]) for files in spread]
            clean = _check(tables, key, problems) and clean
            if clean:
                _count_pair(tables, key, counter, columns)
        _raise(problems, sides, key)
    return [side.rows for side in sides]


def _count_pair(
    tables: Sequence[Any], key: str, counter: BatchCounter, columns: Sequence[str]
) -> None:
    left, right = tables
    right = right.rename_columns(
        [ROW + "_p" if name == ROW else name for name in right.column_names]
    )
    joined = left.join(right, keys=key, join_type="inner", use_threads=True)
    for batch in joined.select(list(columns)).to_batches():
        counter.add(batch)
