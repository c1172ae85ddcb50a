"""Dictionary-encoding of sensitive features into integer codes and sorted text categories."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.io.columns import Located, text
from bias_ledger.io.model import MISSING_GROUP
from bias_ledger.metrics.model import SensitiveColumn


def _indices(data: Any) -> tuple[npt.NDArray[np.int64], list[Any]]:
    """Codes (-1 where missing) and the dictionary values, one hash pass over the column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(data.type):
        data = data.dictionary_encode()
    data = data.unify_dictionaries()
    codes = np.empty(len(data), dtype=np.int64)
    offset = 0
    for chunk in data.chunks:
        indices = chunk.indices
        if indices.null_count:
            indices = pc.fill_null(indices, -1)
        codes[offset : offset + len(chunk)] = indices.to_numpy()
        offset += len(chunk)
    values = data.chunk(0).dictionary.to_pylist() if data.num_chunks else []
    return codes, values


def encode_sensitive(
    column: Located, *, missing_as_group: bool, max_groups: int
) -> tuple[SensitiveColumn, tuple[str, ...]]:
    """The column as codes into sorted text categories, and any warnings about it."""
    codes, values = _indices(column.data)
    missing_count = int(column.data.null_count)
    absent = codes < 0 if missing_count else None
    present = codes if absent is None else codes[~absent]
    counts = np.bincount(present, minlength=len(values))
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
    # One extra slot so that code -1 (missing) indexes the last entry.
    lookup = np.full(len(values) + 1, -1, dtype=np.int64)
    categories: list[str] = []
    position: dict[str, int] = {}
    for i in used:
        name = text(values[i])
        if name not in position:
            position[name] = len(categories)
            categories.append(name)
        lookup[i] = position[name]
    if absent is not None:
        if not missing_as_group:
            raise InputError(
                f"{where} has {missing_count} missing values, in "
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
    encoded = SensitiveColumn(name=column.name, codes=lookup[codes], categories=tuple(categories))
    return encoded, warnings
