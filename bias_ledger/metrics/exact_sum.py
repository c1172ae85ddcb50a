"""Exact, order-independent sums of float64 values per cell, merged by addition.

A float sum depends on the order of its terms, so two engines (or two batchings) summing the
same rows would give results a few ulps apart. Here every value is split into an integer
mantissa and a power of two (``np.frexp``) and the mantissas are summed as integers, so a
cell's total is the exact sum of its values, kept as a Python integer in units of
``2**-UNIT_BITS``. Results (sums, means) are rounded once, correctly, when read: every engine
and every batching gives the same bits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

UNIT_BITS = 1130
"""Totals count units of ``2**-UNIT_BITS``: below the smallest subnormal's last bit (2**-1074)
with room for SQL engines' mantissas, which carry a few more bits (see :meth:`add_scaled`)."""
_SPLIT = 26
"""A value's low 26 mantissa bits are split off (a bit mask, then one exact subtraction)."""
_HIGH_BITS = -(1 << _SPLIT)
_PENDING = 1 << 26
"""Values summed in float64 before they are moved into the integers: each key's float sum of
high parts (27 bits) and of low parts (26 bits) stays an exact integer below 2**53 units."""
_ROWS = 1 << 20
"""Rows keyed at a time (bounding the temporary arrays)."""
_DENSE = 1 << 20
"""Most (cell, exponent) keys kept pending in float64."""


class ExactSums:
    """Exact sums of values per cell; cells are ``0 <= cell < cells`` (grown on demand).

    Values are keyed by (cell, binary exponent) and split into a high part (the upper 27 bits
    of the mantissa) and a low part (the lower 26 bits), with integer operations on the bits;
    float64 ``bincount`` sums each part per key exactly, for up to 2**26 values. Those key
    sums are kept pending in dense arrays over the exponents seen (while there are at most
    2**20 keys) and moved into the Python integers only when read or every 2**26 values: the
    cost per value is a few whole-array passes, and no Python loop runs per batch.
    """

    def __init__(self, cells: int = 0) -> None:
        self._totals: list[int] = [0] * cells
        self._high: Floats | None = None
        """Pending float sums of the high parts per ``cell * width + exponent - first``."""
        self._low: Floats | None = None
        self._first = 0
        self._width = 0
        self._pending = 0
        """Values in :attr:`_high` and :attr:`_low` since they were last moved."""

    @property
    def cells(self) -> int:
        return len(self._totals)

    def _grow(self, cells: int) -> None:
        if cells > len(self._totals):
            self._totals.extend([0] * (cells - len(self._totals)))

    def add(self, cells: Ints, values: Floats) -> None:
        """Add each (finite) value to its cell."""
        self.add_columns(cells, [values])

    def add_columns(self, codes: Ints, columns: Sequence[Floats]) -> None:
        """Add ``columns[i][r]`` to cell ``codes[r] * len(columns) + i``, for every row ``r``."""
        if len(codes) == 0 or not columns:
            return
        codes = np.asarray(codes, dtype=np.int64)
        self._grow((int(codes.max()) + 1) * len(columns))
        for start in range(0, len(codes), _ROWS):
            parts = [
                np.ascontiguousarray(values[start : start + _ROWS], dtype=np.float64)
                for values in columns
            ]
            self._add_rows(codes[start : start + _ROWS], parts)

    def _add_rows(self, codes: Ints, columns: list[Floats]) -> None:
        exponents = []
        for values in columns:
            exponent = values.view(np.int64) >> 52
            exponent &= 0x7FF  # biased: 0 for zeros and subnormals alike
            exponents.append(exponent)
        low = min(int(exponent.min()) for exponent in exponents)
        high = max(int(exponent.max()) for exponent in exponents)
        if low == 0:
            # A zero may go in any key: keep zeros from widening the keys to exponent 0.
            found = [e[v != 0] for e, v in zip(exponents, columns, strict=True)]
            smallest = min((int(e.min()) for e in found if len(e)), default=high)
            if smallest > 0:
                for exponent in exponents:
                    np.maximum(exponent, smallest, out=exponent)
                low = smallest
        count = len(codes) * len(columns)
        dense = self._dense(low, high, count)
        first, width = (self._first, self._width) if dense else (low, high - low + 1)
        base = codes * (len(columns) * width)
        base -= first
        for index, (values, key) in enumerate(zip(columns, exponents, strict=True)):
            key += base
            if index:
                key += index * width
            bits = values.view(np.int64)
            high_part = (bits & _HIGH_BITS).view(np.float64)  # the mantissa's low bits cleared
            low_part = values - high_part  # exact: the low 26 bits, in the value's binade
            if dense:
                assert self._high is not None and self._low is not None
                self._high += np.bincount(key, weights=high_part, minlength=len(self._high))
                self._low += np.bincount(key, weights=low_part, minlength=len(self._low))
                continue
            present, key = np.unique(key, return_inverse=True)
            size = len(present)
            high_sums = np.bincount(key, weights=high_part, minlength=size).astype(np.float64)
            low_sums = np.bincount(key, weights=low_part, minlength=size).astype(np.float64)
            cell, offset = np.divmod(present, width)
            self._move(cell, offset + first, high_sums, low_sums)
        if dense:
            self._pending += count

    def _dense(self, low: int, high: int, values: int) -> bool:
        """Whether pending dense sums (laid out anew if needed) take keys of these exponents."""
        if self._high is not None:
            first, last = self._first, self._first + self._width - 1
            if self._pending + values > _PENDING:
                self._flush()
            if first <= low and high <= last and len(self._high) == self.cells * self._width:
                return True
            self._flush()
            low, high = min(low, first), max(high, last)
        self._high = self._low = None
        width = high - low + 1
        if self.cells * width > _DENSE:
            return False
        self._first, self._width = low, width
        self._high, self._low = np.zeros(self.cells * width), np.zeros(self.cells * width)
        return True

    def _flush(self) -> None:
        """Move the pending float sums into the integers."""
        if self._high is None or self._low is None or self._pending == 0:
            return
        keys = np.flatnonzero((self._high != 0) | (self._low != 0))
        cell, offset = np.divmod(keys, self._width)
        self._move(cell, offset + self._first, self._high[keys], self._low[keys])
        self._high.fill(0.0)
        self._low.fill(0.0)
        self._pending = 0

    def _move(self, cells: Ints, exponents: Ints, high: Floats, low: Floats) -> None:
        """Add per-key float sums (of values of biased ``exponents``) to the integers."""
        unit = np.maximum(exponents, 1) - 1075  # the binade's last mantissa bit: 2**unit
        highs = np.ldexp(high, -(unit + _SPLIT)).astype(np.int64).tolist()
        lows = np.ldexp(low, -unit).astype(np.int64).tolist()
        totals = self._totals
        for cell, shift, h, low_units in zip(
            cells.tolist(), (unit + UNIT_BITS).tolist(), highs, lows, strict=True
        ):
            totals[cell] += ((h << _SPLIT) + low_units) << shift

    def add_scaled(self, cell: int, integer: int, exponent: int) -> None:
        """Add ``integer * 2**exponent`` to a cell (an SQL engine's exact partial sum)."""
        self._grow(cell + 1)
        shift = exponent + UNIT_BITS
        if shift < 0:
            raise ValueError(f"exponent {exponent} is below the finest unit 2**-{UNIT_BITS}")
        self._totals[cell] += integer << shift

    def merge(self, other: ExactSums) -> None:
        """Add another accumulator's totals, cell by cell."""
        other._flush()
        self._grow(other.cells)
        for cell, total in enumerate(other._totals):
            self._totals[cell] += total

    def regrouped(self, mapping: Sequence[int], width: int, cells: int) -> ExactSums:
        """Totals with cell ``g * width + k`` added into ``mapping[g] * width + k``."""
        out = ExactSums(cells)
        self._flush()
        for cell, total in enumerate(self._totals):
            group, k = divmod(cell, width)
            out._totals[mapping[group] * width + k] += total
        return out

    def units(self, cell: int) -> int:
        """The exact total of a cell, in units of ``2**-UNIT_BITS``."""
        self._flush()
        return self._totals[cell] if cell < len(self._totals) else 0

    def total(self, cell: int) -> float:
        """The exact total of a cell, correctly rounded."""
        return self.units(cell) / (1 << UNIT_BITS)

    def ratio(self, cell: int, denominator: int) -> float:
        """A cell's exact total divided by an integer count, correctly rounded once."""
        return self.units(cell) / (denominator << UNIT_BITS)

    def ratio_to(self, cell: int, other: ExactSums, other_cell: int) -> float:
        """A cell's exact total divided by another accumulator's (a weighted mean)."""
        return self.units(cell) / other.units(other_cell)
