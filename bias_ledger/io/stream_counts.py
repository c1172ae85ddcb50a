"""Rows per distinct combination of the audited columns, counted batch by batch.

Memory is bounded by the batch size and the number of distinct combinations, never by the
number of rows: each column's distinct values get small integer codes as they are seen, each
batch is reduced to (combination, count) pairs with one ``bincount``, and the pairs of all
batches are added up. The result is the aggregated table every engine hands to
:func:`bias_ledger.engines.aggregated.audit_data`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.io.arrays import arrow_integers, bool_values, numeric_view
from bias_ledger.io.kernels import cast, dictionary_encode, fill_null, min_max, take

DENSE_LIMIT = 1 << 20
"""Largest product of column sizes counted with one dense ``bincount`` per batch."""
PENDING_LIMIT = 1 << 16
"""Distinct combinations held per batch before they are folded into the running totals."""


class TooManyValues(Exception):
    """A column passed its limit of distinct values (the caller says what that means)."""

    def __init__(self, column: str, limit: int, rows: int) -> None:
        super().__init__(column)
        self.column, self.limit, self.rows = column, limit, rows


SMALL_RANGE = 1 << 12
"""Integer columns spanning at most this many values are coded by offset, without hashing."""


@dataclass(frozen=True)
class Local:
    """One batch's codes of a column, with the map from those codes to the column's own."""

    codes: npt.NDArray[Any]
    """Per row, ``0 <= code < size``."""
    size: int
    to_global: Callable[[npt.NDArray[Any]], npt.NDArray[np.int64]]
    """Codes of this batch to the column's stable codes (registering new values)."""


@dataclass(frozen=True)
class BatchKeys:
    """A batch's rows keyed by their combination of the coded columns' values."""

    found: list[Local]
    """Each column's batch-local codes."""
    dense: npt.NDArray[np.int64] | None
    """One key per row combining the local codes (mixed radix), or None when the batch's
    combinations could exceed ``DENSE_LIMIT``."""

    @property
    def sizes(self) -> list[int]:
        return [item.size for item in self.found]

    def global_codes(self, present: npt.NDArray[np.int64]) -> list[npt.NDArray[np.int64]]:
        """The stable (global) codes of each column for the dense keys ``present``."""
        slots = np.unravel_index(present, self.sizes)
        return [item.to_global(slot) for item, slot in zip(self.found, slots, strict=True)]


def batch_keys(coders: Sequence[_Coder], columns: Sequence[str], batch: Any) -> BatchKeys:
    """Code each column of ``batch`` and, when the combinations are few enough, combine the
    codes into one dense key per row (one bincount then counts the batch)."""
    found = [coder.local(batch.column(name)) for coder, name in zip(coders, columns, strict=True)]
    sizes = [item.size for item in found]
    if math.prod(sizes) > DENSE_LIMIT:
        return BatchKeys(found, None)
    dense = np.zeros(len(batch), dtype=np.int64)
    for item in found:
        dense *= item.size
        dense += item.codes
    return BatchKeys(found, dense)


def _small_range(array: Any) -> tuple[int, int] | None:
    bounds = min_max(array)
    low, high = bounds["min"], bounds["max"]
    if low is None or high - low >= SMALL_RANGE:
        return None
    return int(low), int(high)


class _NaN:
    """The one dictionary key of every NaN (NaN is not equal to itself)."""


_NAN = _NaN()


class _Coder:
    """Stable codes 0, 1, ... for one column's distinct values, missing included."""

    def __init__(self, name: str, limit: int) -> None:
        self.name, self.limit = name, limit
        self.codes: dict[Any, int] = {}
        self.size = 0
        self.has_null = False
        # The values in code order, as slices of the batches' dictionaries: built with
        # pyarrow's own arrays, never from Python objects (pa.array would import pandas).
        self.pieces: list[Any] = []
        self.type: Any = None

    def _register(self, value: Any, piece: Any) -> int:
        key = _NAN if isinstance(value, float) and math.isnan(value) else value
        code = self.codes.get(key)
        if code is None:
            code = self.codes[key] = self.size
            self.size += 1
            self.has_null = self.has_null or value is None
            self.pieces.append(piece)
        return code

    def _check(self) -> None:
        if self.size - self.has_null > self.limit:
            raise TooManyValues(self.name, self.limit, 0)

    def local(self, array: Any) -> Local:
        """The batch's values as codes of its own (cheap to compute), and a map to ours."""
        import pyarrow as pa

        if self.type is None:
            self.type = array.type.value_type if pa.types.is_dictionary(array.type) else array.type
        if pa.types.is_integer(array.type):
            small = _small_range(array)
            if small is not None:
                return self._offsets(array, *small)
        if pa.types.is_boolean(array.type):
            return self._offsets(cast(array, pa.int8()), 0, 1)
        if not pa.types.is_dictionary(array.type):
            array = dictionary_encode(array)
        dictionary = array.dictionary
        lookup = np.empty(len(dictionary) + 1, dtype=np.int64)
        for position, value in enumerate(dictionary.to_pylist()):
            lookup[position] = self._register(value, dictionary.slice(position, 1))
        indices = array.indices
        if indices.null_count:
            lookup[-1] = self._register(None, pa.nulls(1, dictionary.type))
            indices = fill_null(indices, len(lookup) - 1)
        self._check()
        return Local(numeric_view(indices), len(lookup), lookup.take)

    def _offsets(self, array: Any, low: int, high: int) -> Local:
        """Codes ``value - low`` (``high - low + 1`` for a missing value): no hashing."""
        import pyarrow as pa

        span = high - low + 1
        missing = bool_values(array.is_null()) if array.null_count else None
        if missing is not None:
            array = fill_null(array, pa.scalar(low, array.type))
        values = numeric_view(array)
        # Widened before the shift: int8 values from -5 to 127 have offsets up to 132.
        offsets = values if low == 0 and missing is None else values.astype(np.int64) - low
        if missing is not None:
            offsets[missing] = span

        def to_global(slots: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
            # Only the values present are registered: a value in the range but absent from
            # the data must not count towards the column's limit.
            mapping = np.full(span + 1, -1, dtype=np.int64)
            # The slots present, in order (np.unique would import numpy.ma, 20 ms of a run).
            for slot in np.flatnonzero(np.bincount(slots, minlength=span + 1)).tolist():
                if slot == span:
                    mapping[slot] = self._register(None, pa.nulls(1, self.type))
                else:
                    value = low + slot
                    piece = cast(arrow_integers(np.asarray([value], dtype=np.int64)), self.type)
                    mapping[slot] = self._register(value, piece)
            self._check()
            result: npt.NDArray[np.int64] = mapping[slots]
            return result

        return Local(offsets, span + 1, to_global)

    def array(self, codes: npt.NDArray[np.int64]) -> Any:
        """The values of ``codes`` as a pyarrow array of the column's type."""
        import pyarrow as pa

        pieces = [
            piece if piece.type == self.type else cast(piece, self.type) for piece in self.pieces
        ]
        values = pa.concat_arrays(pieces) if pieces else pa.nulls(0, self.type)
        return take(values, arrow_integers(codes))


class BatchCounter(Protocol):
    """What the streaming engine feeds batches to (:class:`CombinationCounter`, or the score,
    regression and weighted audits' accumulators)."""

    rows: int

    def add(self, batch: Any) -> None: ...

    def table(self, count_column: str) -> Any: ...


class CombinationCounter:
    """Rows per distinct combination of ``columns``, added up over record batches."""

    def __init__(self, columns: Sequence[str], limits: Sequence[int]) -> None:
        self.columns = list(columns)
        self.coders = [_Coder(name, limit) for name, limit in zip(columns, limits, strict=True)]
        # Combinations are keyed by their codes in a fixed radix (a column's limit plus its
        # missing value plus one spare), so a key keeps its meaning as new values appear.
        self.radix = [limit + 2 for limit in limits]
        self.wide = math.prod(self.radix) >= 1 << 62
        self.keys: list[npt.NDArray[Any]] = []
        self.counts: list[npt.NDArray[np.int64]] = []
        self.pending = 0
        self.rows = 0

    def add(self, batch: Any, weights: npt.NDArray[np.int64] | None = None) -> None:
        """Count the rows of a record ``batch`` holding (at least) the counter's columns."""
        try:
            self._add(batch, weights)
        except TooManyValues as error:
            error.rows = self.rows + len(batch)
            raise
        self.rows += len(batch) if weights is None else int(weights.sum())

    def _add(self, batch: Any, weights: npt.NDArray[np.int64] | None) -> None:
        keys = batch_keys(self.coders, self.columns, batch)
        if keys.dense is not None:
            # One key per row in the batch's own small codes, one bincount; only the
            # combinations present are mapped to the stable codes.
            tally = np.bincount(keys.dense, weights=weights, minlength=math.prod(keys.sizes))
            present = np.flatnonzero(tally)
            codes = keys.global_codes(present)
            self._pending(self._stable(codes), tally[present].astype(np.int64))
            return
        codes = [item.to_global(item.codes) for item in keys.found]
        stable = self._stable(codes)
        if self.wide:
            unique, inverse = np.unique(stable, axis=0, return_inverse=True)
            inverse = inverse.ravel()
        else:
            unique, inverse = np.unique(stable, return_inverse=True)
        tally = np.bincount(inverse, weights=weights, minlength=len(unique))
        self._pending(unique, tally.astype(np.int64))

    def _stable(self, codes: Sequence[npt.NDArray[np.int64]]) -> npt.NDArray[Any]:
        return np.stack(codes, axis=1) if self.wide else self._key(codes)

    def _key(self, codes: Sequence[npt.NDArray[Any]]) -> npt.NDArray[np.int64]:
        key = np.zeros(len(codes[0]) if codes else 0, dtype=np.int64)
        for column, radix in zip(codes, self.radix, strict=True):
            key *= radix
            key += column
        return key

    def _pending(self, keys: npt.NDArray[Any], counts: npt.NDArray[np.int64]) -> None:
        self.keys.append(keys)
        self.counts.append(counts)
        self.pending += len(keys)
        if self.pending > PENDING_LIMIT and len(self.keys) > 1:
            self._fold()

    def _fold(self) -> None:
        if len(self.keys) <= 1:
            return
        keys = np.concatenate(self.keys)
        counts = np.concatenate(self.counts)
        if self.wide:
            unique, inverse = np.unique(keys, axis=0, return_inverse=True)
            inverse = inverse.ravel()
        else:
            unique, inverse = np.unique(keys, return_inverse=True)
        total = np.zeros(len(unique), dtype=np.int64)
        np.add.at(total, inverse, counts)
        self.keys, self.counts, self.pending = [unique], [total], len(unique)

    def table(self, count_column: str) -> Any:
        """One row per combination seen, with its row count in ``count_column``."""
        import pyarrow as pa

        self._fold()
        if not self.keys:
            empty = {
                name: pa.array([], type=coder.type or pa.null())
                for name, coder in zip(self.columns, self.coders, strict=True)
            }
            return pa.table({**empty, count_column: pa.array([], type=pa.int64())})
        keys, counts = self.keys[0], self.counts[0]
        if self.wide:
            codes = [keys[:, i] for i in range(len(self.columns))]
        else:
            codes = list(np.unravel_index(keys, self.radix)) if len(keys) else []
        arrays = {
            name: coder.array(np.asarray(column, dtype=np.int64))
            for name, coder, column in zip(self.columns, self.coders, codes, strict=True)
        }
        return pa.table({**arrays, count_column: arrow_integers(counts)})


def merge_tables(tables: Sequence[Any], columns: Sequence[str], count_column: str) -> Any:
    """Aggregated tables of the same columns (e.g. of a file's byte ranges) added up."""
    if len(tables) == 1:
        return tables[0]
    counter = CombinationCounter(columns, [max(1, 1 << 40)] * len(columns))
    for table in tables:
        for batch in table.to_batches():
            weights = np.asarray(numeric_view(batch.column(count_column)), dtype=np.int64)
            counter.add(batch, weights)
    return counter.table(count_column)


def too_many(error: TooManyValues, file: object, role: str) -> InputError:
    """The message for a column with more distinct values than an audit can group by."""
    return InputError(
        f"{file}: {role} column {error.column!r} has more than {error.limit} distinct values "
        f"(within its first {error.rows} rows read), more than the maximum of {error.limit} "
        "groups; it is probably an id column (raise --max-groups if it is not)"
    )


def require_rows(table: Any, count_column: str, file: object) -> int:
    rows = int(sum(table.column(count_column).to_pylist())) if table.num_rows else 0
    if rows == 0:
        raise InputError(f"{file}: no data rows; expected a header and at least one row")
    return rows
