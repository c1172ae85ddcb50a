"""Joining a dataset with a separate predictions file: on an id column, or by row order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.io.arrays import bool_values, numeric_view
from bias_ledger.io.columns import Located, text

EXAMPLES = 5
# Rows per step of the dense join: its offsets stay a few MB instead of one int64 per row.
BLOCK_ROWS = 1 << 20


def examples(values: Sequence[Any]) -> str:
    """The first few values for a message, then ``...`` if there are more."""
    shown = [repr(text(v)) for v in list(values[:EXAMPLES])]
    return ", ".join(shown) + (", ..." if len(values) > EXAMPLES else "")


def _present_ids(ids: Located) -> Any:
    """The id values as one array; InputError for missing ids."""
    # combine_chunks copies even a single chunk; the reader gives one chunk per column.
    data = ids.data.chunk(0) if ids.data.num_chunks == 1 else ids.data.combine_chunks()
    if data.null_count:
        positions = np.flatnonzero(bool_values(data.is_null()))
        raise InputError(
            f"{ids.file}: id column {ids.name!r} has {data.null_count} missing ids, in "
            f"{ids.where(positions)}; expected an id on every row"
        )
    return data


def _duplicates(ids: Located, repeated: Sequence[Any], extra: int) -> InputError:
    return InputError(
        f"{ids.file}: id column {ids.name!r} has {len(repeated)} duplicated ids ({extra} extra "
        f"rows), e.g. {examples(repeated)}; expected each id once"
    )


def _unmatched(
    data_ids: Located, pred_ids: Located, only_left: Sequence[Any], only_right: Sequence[Any]
) -> InputError:
    parts = []
    for count, found, here, there in (
        (len(only_left), only_left, data_ids.file, pred_ids.file),
        (len(only_right), only_right, pred_ids.file, data_ids.file),
    ):
        if count:
            parts.append(f"{count} ids in {here} are not in {there} (e.g. {examples(found)})")
    return InputError(
        f"id column {data_ids.name!r} does not match between the files: " + "; ".join(parts)
    )


def _check_unique_hashed(ids: Located, data: Any) -> None:
    import pyarrow.compute as pc

    if len(pc.unique(data)) < len(data):
        counts = pc.value_counts(data)
        repeated = counts.filter(pc.greater(counts.field("counts"), 1))
        extra = int(pc.sum(repeated.field("counts")).as_py()) - len(repeated)
        raise _duplicates(ids, repeated.field("values").to_pylist(), extra)


def _join_hashed(
    data_ids: Located, pred_ids: Located, left: Any, right: Any
) -> npt.NDArray[np.int64]:
    """The join by pyarrow hash lookups (text ids)."""
    import pyarrow.compute as pc

    _check_unique_hashed(data_ids, left)
    _check_unique_hashed(pred_ids, right)
    index = pc.index_in(left, value_set=right)
    if index.null_count or len(right) != len(left):
        only_left = left.filter(index.is_null()).to_pylist()
        only_right = right.filter(pc.invert(pc.is_in(right, value_set=left))).to_pylist()
        raise _unmatched(data_ids, pred_ids, only_left, only_right)
    return np.asarray(numeric_view(index), dtype=np.int64)


def _sorted_unique(ids: Located, values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    ordered = np.sort(values)
    same = ordered[1:] == ordered[:-1]
    if same.any():
        raise _duplicates(ids, np.unique(ordered[1:][same]).tolist(), int(same.sum()))
    return ordered


def _join_sorted(
    data_ids: Located, pred_ids: Located, left: npt.NDArray[Any], right: npt.NDArray[Any]
) -> npt.NDArray[np.int64]:
    """The join by sorting and binary search (integer ids): faster than hashing 1e7 ids."""
    _sorted_unique(data_ids, left)
    if len(left) == len(right) and np.array_equal(left, right):
        return np.arange(len(left), dtype=np.int64)
    order = np.argsort(right, kind="quicksort")  # ids are unique here: no need for stability
    ordered = right[order]
    same = ordered[1:] == ordered[:-1]
    if same.any():
        raise _duplicates(pred_ids, np.unique(ordered[1:][same]).tolist(), int(same.sum()))
    position = np.minimum(np.searchsorted(ordered, left), len(ordered) - 1)
    found = ordered[position] == left
    if not found.all() or len(left) != len(right):
        left_sorted = np.sort(left)
        back = np.minimum(np.searchsorted(left_sorted, right), len(left) - 1)
        only_right = right[left_sorted[back] != right]
        raise _unmatched(data_ids, pred_ids, left[~found].tolist(), only_right.tolist())
    return np.asarray(order[position], dtype=np.int64)


def _blocks(rows: int) -> Iterator[slice]:
    for start in range(0, rows, BLOCK_ROWS):
        yield slice(start, min(start + BLOCK_ROWS, rows))


def _offsets(ids: npt.NDArray[Any], low: int) -> npt.NDArray[np.int64]:
    """``ids - low`` as int64 (``low`` is at most every id, so unsigned ids cannot wrap)."""
    if ids.dtype.kind == "u":
        shifted: npt.NDArray[Any] = ids - ids.dtype.type(low)
        return shifted.astype(np.int64)
    return ids.astype(np.int64) - low


def _join_dense(left: npt.NDArray[Any], right: npt.NDArray[Any]) -> npt.NDArray[np.int64] | None:
    """The join through a lookup table, for integer ids in a compact range (e.g. 1..n).

    None when the ids are too sparse, or anything is wrong: the sorted join then finds and
    reports it. Offsets are computed block by block, so the only full-size arrays are the
    table and the result.
    """
    if left.dtype.kind != right.dtype.kind or len(left) != len(right):
        return None
    low = int(min(left.min(), right.min()))
    span = int(max(left.max(), right.max())) - low + 1
    if span > 2 * len(right):
        return None
    # Row numbers fit in int32 below 2**31 rows: half the table.
    table = np.full(span, -1, dtype=np.int32 if len(right) < 1 << 31 else np.int64)
    for rows in _blocks(len(right)):
        table[_offsets(right[rows], low)] = np.arange(rows.start, rows.stop)
    for rows in _blocks(len(right)):
        owners = table[_offsets(right[rows], low)]
        if not np.array_equal(owners, np.arange(rows.start, rows.stop)):
            return None  # repeated ids in the predictions file
    index = np.empty(len(left), dtype=np.int64)
    for rows in _blocks(len(left)):
        index[rows] = table[_offsets(left[rows], low)]
    del table
    if (index < 0).any():
        return None  # ids of the dataset not in the predictions file
    seen = np.zeros(len(right), dtype=np.bool_)
    seen[index] = True
    return index if seen.all() else None


def join_on_id(data_ids: Located, pred_ids: Located) -> npt.NDArray[np.int64]:
    """For each dataset row, the predictions-file row with the same id.

    InputError when ids are missing, repeated, or present in one file and not the other.
    """
    import pyarrow as pa

    left, right = _present_ids(data_ids), _present_ids(pred_ids)
    if pa.types.is_integer(left.type) and pa.types.is_integer(right.type):
        left_values, right_values = numeric_view(left), numeric_view(right)
        dense = _join_dense(left_values, right_values)
        if dense is not None:
            return dense
        return _join_sorted(data_ids, pred_ids, left_values, right_values)
    if left.type != right.type:
        # Different inferred types (int in one file, text in the other): compare as text.
        left, right = left.cast(pa.string()), right.cast(pa.string())
    return _join_hashed(data_ids, pred_ids, left, right)


def check_row_counts(data: object, data_rows: int, predictions: object, pred_rows: int) -> None:
    """InputError unless both files have the same number of data rows."""
    if data_rows != pred_rows:
        raise InputError(
            f"row-count mismatch: {data} has {data_rows} data rows and {predictions} has "
            f"{pred_rows}; joining by row order needs the same number"
        )
