"""Exact, order-independent sums of float64 values per cell, merged by addition.

A float sum depends on the order of its terms, so two engines (or two batchings) summing the
same rows would give results a few ulps apart. Here every value is split into an integer
mantissa and a power of two (read from its bits) and the mantissas are summed as integers, so a
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
_TOP = 1990
"""Values of this biased exponent and above are pending scaled down by ``2**-_TOP_SHIFT``, so
that no sum of 2**26 of them overflows (it stays below 2**987); they stay normal, hence exact."""
_TOP_SHIFT = 64
_ROWS = 1 << 16
"""Rows keyed at a time: the work arrays (:class:`_Scratch`) stay a few MB, near the cache."""
_DENSE = 1 << 20
"""Most (cell, exponent) keys kept pending in float64."""

Parts = npt.NDArray[np.complex128]
"""A value's high part as the real and its low part as the imaginary component: complex
addition adds the two independently, so one ``np.add.at`` sums both parts per key."""


class _Scratch:
    """Work arrays reused from chunk to chunk: allocating them anew for each chunk costs more
    than the arithmetic on them (their pages are faulted in again every time)."""

    def __init__(self) -> None:
        self.keys: Ints = np.empty(0, dtype=np.int64)
        self.parts: Parts = np.empty(0, dtype=np.complex128)
        self.base: Ints = np.empty(0, dtype=np.int64)

    def arrays(self, columns: int, rows: int) -> tuple[Ints, Parts, Ints]:
        """Keys and parts, ``(columns, rows)`` each, and ``rows`` integers."""
        size = columns * rows
        if size > len(self.keys):
            self.keys = np.empty(size, dtype=np.int64)
            self.parts = np.empty(size, dtype=np.complex128)
        if rows > len(self.base):
            self.base = np.empty(rows, dtype=np.int64)
        shape = (columns, rows)
        return self.keys[:size].reshape(shape), self.parts[:size].reshape(shape), self.base[:rows]


def _smallest_exponent(keys: Ints, columns: Sequence[Floats]) -> int | None:
    """The smallest biased exponent of the non-zero values (0 if one is subnormal), or None
    if every value is zero."""
    at_zero = keys == 0
    found = int(np.count_nonzero(at_zero))
    if sum(int(np.count_nonzero(values == 0)) for values in columns) < found:
        return 0
    if found == keys.size:
        return None
    return int(np.min(keys, where=~at_zero, initial=0x7FF))


class ExactSums:
    """Exact sums of values per cell; cells are ``0 <= cell < cells`` (grown on demand).

    Values are keyed by (cell, binary exponent) and split into a high part (the upper 27 bits
    of the mantissa) and a low part (the lower 26 bits), with integer operations on the bits;
    float64 additions sum each part per key exactly, for up to 2**26 values (both parts at
    once, as one complex number: :data:`Parts`). Those key sums are kept pending in a dense
    array over the exponents seen (while there are at most 2**20 keys) and moved into the
    Python integers only when read or every 2**26 values: the cost per value is a few
    whole-array passes over work arrays reused from chunk to chunk, and one scatter.
    """

    def __init__(self, cells: int = 0) -> None:
        self._totals: list[int] = [0] * cells
        self._pending_sums: Parts | None = None
        """Pending float sums of the parts per key ``cell * width + exponent - first``."""
        self._first = 0
        self._width = 0
        self._pending = 0
        """Values in :attr:`_pending_sums` since they were last moved."""
        self._scratch = _Scratch()
        self._nonfinite: set[int] = set()
        """Cells given a value that is not finite (a product or difference that overflowed):
        their totals leave it out and :meth:`finite` is False."""

    @property
    def cells(self) -> int:
        return len(self._totals)

    def _grow(self, cells: int) -> None:
        if cells > len(self._totals):
            self._totals.extend([0] * (cells - len(self._totals)))

    def add(self, cells: Ints, values: Floats) -> None:
        """Add each value to its cell (a value that is not finite marks its cell, see
        :meth:`finite`)."""
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
        count = len(codes) * len(columns)
        keys, parts, base = self._scratch.arrays(len(columns), len(codes))
        with np.errstate(invalid="ignore"):  # inf - inf, when a value is not finite
            for values, key, part in zip(columns, keys, parts, strict=True):
                bits = values.view(np.int64)
                np.right_shift(bits, 52, out=key)
                # The high part: the mantissa's low bits cleared; the low part, exactly, the rest.
                np.bitwise_and(bits, _HIGH_BITS, out=part.real.view(np.int64))
                np.subtract(values, part.real, out=part.imag)
        keys &= 0x7FF  # biased exponents: 0 for zeros and subnormals alike
        low, high = int(keys.min()), int(keys.max())
        if high == 0x7FF:  # infinite or NaN (rare): mark the cells, sum the rest
            self._add_rows(codes, self._set_aside(codes, columns))
            return
        if high >= _TOP:
            parts[keys >= _TOP] *= 2.0**-_TOP_SHIFT
        if low == 0:
            smallest = _smallest_exponent(keys, columns)
            if smallest is None:
                return  # only zeros
            if smallest > 0:
                # A zero may go in any key: keep zeros from widening the keys to exponent 0.
                np.maximum(keys, smallest, out=keys)
                low = smallest
        dense = self._dense(low, high, count)
        first, width = (self._first, self._width) if dense else (low, high - low + 1)
        # Key (code * len(columns) + column) * width + exponent - first.
        np.multiply(codes, len(columns) * width, out=base)
        base -= first
        keys += base
        if len(columns) > 1:
            keys += np.arange(0, len(columns) * width, width, dtype=np.int64)[:, None]
        if dense:
            assert self._pending_sums is not None
            np.add.at(self._pending_sums, keys.reshape(-1), parts.reshape(-1))
            self._pending += count
            return
        present, inverse = np.unique(keys, return_inverse=True)
        sums = np.zeros(len(present), dtype=np.complex128)
        np.add.at(sums, inverse.reshape(-1), parts.reshape(-1))
        cell, offset = np.divmod(present, width)
        self._move(cell, offset + first, sums.real, sums.imag)

    def _set_aside(self, codes: Ints, columns: list[Floats]) -> list[Floats]:
        """Mark the cells of the values that are not finite; the columns with those as 0."""
        out = []
        for index, values in enumerate(columns):
            bad = ~np.isfinite(values)
            if bad.any():
                self._nonfinite.update((codes[bad] * len(columns) + index).tolist())
                values = np.where(bad, 0.0, values)
            out.append(values)
        return out

    def _dense(self, low: int, high: int, values: int) -> bool:
        """Whether pending dense sums (laid out anew if needed) take keys of these exponents."""
        if self._pending_sums is not None:
            first, last = self._first, self._first + self._width - 1
            if self._pending + values > _PENDING:
                self._flush()
            size = self.cells * self._width
            if first <= low and high <= last and len(self._pending_sums) == size:
                return True
            self._flush()
            low, high = min(low, first), max(high, last)
        self._pending_sums = None
        width = high - low + 1
        if self.cells * width > _DENSE:
            return False
        self._first, self._width = low, width
        self._pending_sums = np.zeros(self.cells * width, dtype=np.complex128)
        return True

    def _flush(self) -> None:
        """Move the pending float sums into the integers."""
        if self._pending_sums is None or self._pending == 0:
            return
        keys = np.flatnonzero(self._pending_sums)
        cell, offset = np.divmod(keys, self._width)
        sums = self._pending_sums[keys]
        self._move(cell, offset + self._first, sums.real, sums.imag)
        self._pending_sums.fill(0)
        self._pending = 0

    def _move(self, cells: Ints, exponents: Ints, high: Floats, low: Floats) -> None:
        """Add per-key float sums (of values of biased ``exponents``) to the integers."""
        unit = np.maximum(exponents, 1) - 1075  # the binade's last mantissa bit: 2**unit
        scaled = unit - np.where(exponents >= _TOP, _TOP_SHIFT, 0)
        highs = np.ldexp(high, -(scaled + _SPLIT)).astype(np.int64).tolist()
        lows = np.ldexp(low, -scaled).astype(np.int64).tolist()
        totals = self._totals
        for cell, shift, h, low_units in zip(
            cells.tolist(), (unit + UNIT_BITS).tolist(), highs, lows, strict=True
        ):
            totals[cell] += ((h << _SPLIT) + low_units) << shift

    def mark_nonfinite(self, cell: int) -> None:
        """Record that a cell was given a value that is not finite (an SQL engine's report)."""
        self._grow(cell + 1)
        self._nonfinite.add(cell)

    def finite(self, cell: int) -> bool:
        """False when a value added to the cell was not finite: its total is then no sum."""
        return cell not in self._nonfinite

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
        self._nonfinite |= other._nonfinite

    def regrouped(self, mapping: Sequence[int], width: int, cells: int) -> ExactSums:
        """Totals with cell ``g * width + k`` added into ``mapping[g] * width + k``."""
        out = ExactSums(cells)
        self._flush()
        for cell, total in enumerate(self._totals):
            group, k = divmod(cell, width)
            out._totals[mapping[group] * width + k] += total
        for cell in self._nonfinite:
            group, k = divmod(cell, width)
            out._nonfinite.add(mapping[group] * width + k)
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
