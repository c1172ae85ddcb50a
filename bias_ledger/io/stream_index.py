"""Dense ids of the distinct combinations of some columns, assigned batch by batch.

The streaming engine's score, regression and weighted audits key their accumulators (score
histograms, exact sums) by combination: each row of a batch gets the id of its combination
of the grouped columns' values, ids ``0, 1, ...`` in order of first appearance. Memory is
bounded by the number of combinations, never by the rows. :meth:`CombinationIndex.table`
gives the combinations as the aggregated table every engine hands to
:func:`bias_ledger.engines.aggregated.audit_data`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.io.arrays import arrow_integers
from bias_ledger.io.stream_counts import TooManyValues, _Coder, batch_keys

Ints = npt.NDArray[np.int64]


class CombinationIndex:
    """Per row, the dense id of its combination of ``columns``; rows per id."""

    def __init__(self, columns: Sequence[str], limits: Sequence[int]) -> None:
        self.columns = list(columns)
        self.coders = [_Coder(name, limit) for name, limit in zip(columns, limits, strict=True)]
        self.ids: dict[tuple[int, ...], int] = {}
        self.codes: list[tuple[int, ...]] = []
        """Per id, the column codes of its combination."""
        self.counts: Ints = np.zeros(0, dtype=np.int64)
        self.rows = 0

    @property
    def size(self) -> int:
        return len(self.codes)

    def add(self, batch: Any) -> Ints:
        """The ids of a record ``batch``'s rows (registering new combinations)."""
        try:
            ids = self._ids(batch)
        except TooManyValues as error:
            error.rows = self.rows + len(batch)
            raise
        self.rows += len(batch)
        tally = np.bincount(ids, minlength=self.size)
        tally[: len(self.counts)] += self.counts
        self.counts = tally
        return ids

    def _register(self, codes: Sequence[Ints]) -> Ints:
        out = np.empty(len(codes[0]) if codes else 0, dtype=np.int64)
        for row, key in enumerate(zip(*(column.tolist() for column in codes), strict=True)):
            found = self.ids.get(key)
            if found is None:
                found = self.ids[key] = len(self.codes)
                self.codes.append(key)
            out[row] = found
        return out

    def _ids(self, batch: Any) -> Ints:
        if not self.columns:
            if not self.codes:
                self.ids[()] = 0
                self.codes.append(())
            return np.zeros(len(batch), dtype=np.int64)
        keys = batch_keys(self.coders, self.columns, batch)
        if keys.dense is not None:
            size = math.prod(keys.sizes)
            present = np.flatnonzero(np.bincount(keys.dense, minlength=size))
            lookup = np.full(size, -1, dtype=np.int64)
            lookup[present] = self._register(keys.global_codes(present))
            result: Ints = lookup[keys.dense]
            return result
        stacked = np.stack([item.to_global(item.codes) for item in keys.found], axis=1)
        unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
        ids = self._register([unique[:, i] for i in range(unique.shape[1])])
        out: Ints = ids[inverse.ravel()]
        return out

    def column_codes(self, position: int) -> Ints:
        """Per id, the code of its value in column ``position``."""
        return np.asarray([key[position] for key in self.codes], dtype=np.int64)

    def table(self, count_column: str) -> Any:
        """One row per combination, in id order, with its rows in ``count_column``."""
        import pyarrow as pa

        arrays = {
            name: coder.array(self.column_codes(i)) if self.codes else pa.nulls(0, coder.type)
            for i, (name, coder) in enumerate(zip(self.columns, self.coders, strict=True))
        }
        counts = np.zeros(self.size, dtype=np.int64)
        counts[: len(self.counts)] = self.counts
        return pa.table({**arrays, count_column: arrow_integers(counts)})
