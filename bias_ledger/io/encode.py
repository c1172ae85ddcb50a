"""Dictionary-encoding of sensitive features into integer codes and sorted text categories."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.io.arrays import bool_values, numeric_view
from bias_ledger.io.columns import Located, text
from bias_ledger.io.kernels import dictionary_encode, fill_null
from bias_ledger.io.model import MISSING_GROUP
from bias_ledger.metrics.model import SensitiveColumn
from bias_ledger.wording import counted

# Rows converted at a time: numpy's temporaries (bincount's int64 copy) stay a few MB.
PIECE_ROWS = 1 << 20


def _shared_dictionary(data: Any) -> tuple[list[Any], list[Any]]:
    """The chunks re-coded to one shared dictionary, and that dictionary's values."""
    import pyarrow as pa

    if not pa.types.is_dictionary(data.type):
        data = dictionary_encode(data)
    chunks = list(data.chunks)
    if not chunks:
        return [], []
    first = chunks[0].dictionary
    # Columns read batch by batch already share one dictionary: no need to re-code them.
    if not all(chunk.dictionary.equals(first) for chunk in chunks[1:]):
        chunks = list(data.unify_dictionaries().chunks)
        first = chunks[0].dictionary
    return chunks, first.to_pylist()


def _chunk_indices(chunk: Any) -> npt.NDArray[Any]:
    """A chunk's dictionary indices as numpy, -1 where missing (no copy when none is)."""
    indices = chunk.indices
    if indices.null_count:
        indices = fill_null(indices, -1)
    return numeric_view(indices)


def _pieces(chunks: list[Any]) -> Iterator[Any]:
    """The chunks cut into slices of at most PIECE_ROWS rows (views, no copies)."""
    for chunk in chunks:
        for start in range(0, len(chunk), PIECE_ROWS):
            yield chunk.slice(start, PIECE_ROWS)


def _counts(chunks: list[Any], size: int) -> npt.NDArray[np.int64]:
    counts = np.zeros(size, dtype=np.int64)
    for chunk in _pieces(chunks):
        indices = _chunk_indices(chunk)
        present = indices[indices >= 0] if chunk.null_count else indices
        counts += np.bincount(present, minlength=size)
    return counts


def _code_type(size: int) -> type[np.signedinteger[Any]]:
    """The narrowest signed integer type for codes ``0 <= code < size`` (and -1)."""
    for kind in (np.int8, np.int16, np.int32):
        if size <= np.iinfo(kind).max:
            return kind
    return np.int64


def _recode(chunks: list[Any], rows: int, lookup: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``lookup[index]`` for every row, written chunk by chunk into one array of the lookup's
    type: the narrowest that holds the codes (int8 for up to 127 groups)."""
    codes = np.empty(rows, dtype=lookup.dtype)
    offset = 0
    for chunk in _pieces(chunks):
        # mode="wrap" sends index -1 (missing) to the last slot of the lookup, without the
        # buffer that mode="raise" would add.
        np.take(lookup, _chunk_indices(chunk), out=codes[offset : offset + len(chunk)], mode="wrap")
        offset += len(chunk)
    return codes


def encode_sensitive(
    column: Located, *, missing_as_group: bool, max_groups: int
) -> tuple[SensitiveColumn, tuple[str, ...]]:
    """The column as codes into sorted text categories, and any warnings about it."""
    chunks, values = _shared_dictionary(column.data)
    missing_count = int(column.data.null_count)
    counts = _counts(chunks, len(values))
    used = [int(i) for i in np.flatnonzero(counts)]
    where = f"{column.file}: sensitive column {column.name!r}"
    if len(used) > max_groups:
        raise InputError(
            f"{where} has {len(used)} distinct values, more than the maximum of {max_groups} "
            "groups; it is probably an id column (raise --max-groups if it is not)"
        )
    try:
        used.sort(key=lambda i: values[i])
    except TypeError:
        used.sort(key=lambda i: text(values[i]))
    # One extra slot so that code -1 (missing) indexes the last entry. Codes are as narrow as
    # the groups allow: for 1e7 rows an int8 column is 10 MB where int64 would be 80 MB.
    lookup = np.full(len(values) + 1, -1, dtype=_code_type(len(used) + 1))
    categories: list[str] = []
    position: dict[str, int] = {}
    for i in used:
        name = text(values[i])
        if name not in position:
            position[name] = len(categories)
            categories.append(name)
        lookup[i] = position[name]
    if missing_count:
        if not missing_as_group:
            absent = bool_values(column.data.is_null())
            raise InputError(
                f"{where} has {counted(missing_count, 'missing value')}, in "
                f"{column.where(np.flatnonzero(absent))}; expected a group for every row "
                "(pass --missing-as-group to make them a group of their own)"
            )
        lookup[-1] = len(categories)
        categories.append(MISSING_GROUP)
    warnings: tuple[str, ...] = ()
    if len(categories) == 1:
        warnings = (
            f"{where} has a single group {categories[0]!r}; its disparities are trivially zero",
        )
    codes = _recode(chunks, len(column.data), lookup)
    encoded = SensitiveColumn(name=column.name, codes=codes, categories=tuple(categories))
    return encoded, warnings
