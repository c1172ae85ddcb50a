"""Joining a dataset with a separate predictions file: on an id column, or by row order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.io.columns import Located, text

EXAMPLES = 5


def _examples(values: Any) -> str:
    shown = [repr(text(v)) for v in values.slice(0, EXAMPLES).to_pylist()]
    return ", ".join(shown) + (", ..." if len(values) > EXAMPLES else "")


def _unique_ids(ids: Located) -> Any:
    """The id values as one array; InputError for missing or duplicated ids."""
    import pyarrow.compute as pc

    data = ids.data.combine_chunks()
    where = f"{ids.file}: id column {ids.name!r}"
    if data.null_count:
        positions = np.flatnonzero(data.is_null().to_numpy(zero_copy_only=False))
        raise InputError(
            f"{where} has {data.null_count} missing ids, in {ids.where(positions)}; "
            "expected an id on every row"
        )
    if len(pc.unique(data)) < len(data):
        counts = pc.value_counts(data)
        repeated = counts.filter(pc.greater(counts.field("counts"), 1))
        extra = int(pc.sum(repeated.field("counts")).as_py()) - len(repeated)
        raise InputError(
            f"{where} has {len(repeated)} duplicated ids ({extra} extra rows), e.g. "
            f"{_examples(repeated.field('values'))}; expected each id once"
        )
    return data


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    import pyarrow as pa

    if left.type == right.type:
        return left, right
    # Different inferred types (int in one file, text in the other): compare as text.
    return left.cast(pa.string()), right.cast(pa.string())


def join_on_id(data_ids: Located, pred_ids: Located) -> npt.NDArray[np.int64]:
    """For each dataset row, the predictions-file row with the same id.

    InputError when ids are missing, repeated, or present in one file and not the other.
    """
    import pyarrow.compute as pc

    left, right = _comparable(_unique_ids(data_ids), _unique_ids(pred_ids))
    index = pc.index_in(left, value_set=right)
    unmatched_left = index.null_count
    unmatched_right = len(right) - (len(left) - unmatched_left)
    if unmatched_left or unmatched_right:
        parts = []
        if unmatched_left:
            absent = left.filter(index.is_null())
            parts.append(
                f"{unmatched_left} ids in {data_ids.file} are not in {pred_ids.file} "
                f"(e.g. {_examples(absent)})"
            )
        if unmatched_right:
            absent = right.filter(pc.invert(pc.is_in(right, value_set=left)))
            parts.append(
                f"{unmatched_right} ids in {pred_ids.file} are not in {data_ids.file} "
                f"(e.g. {_examples(absent)})"
            )
        raise InputError(
            f"id column {data_ids.name!r} does not match between the files: " + "; ".join(parts)
        )
    return np.asarray(index.to_numpy(), dtype=np.int64)


def check_row_counts(data: Path, data_rows: int, predictions: Path, pred_rows: int) -> None:
    """InputError unless both files have the same number of data rows."""
    if data_rows != pred_rows:
        raise InputError(
            f"row-count mismatch: {data} has {data_rows} data rows and {predictions} has "
            f"{pred_rows}; joining by row order needs the same number"
        )
