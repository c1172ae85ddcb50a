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
_LIMB = 26
# Sums of 2**26 limbs below 2**27 each stay below 2**53: float64 bincount adds them exactly.
_CHUNK = 1 << 26
_DENSE = 1 << 22


class ExactSums:
    """Exact sums of values per cell; cells are ``0 <= cell < cells`` (grown on demand)."""

    def __init__(self, cells: int = 0) -> None:
        self._totals: list[int] = [0] * cells

    @property
    def cells(self) -> int:
        return len(self._totals)

    def _grow(self, cells: int) -> None:
        if cells > len(self._totals):
            self._totals.extend([0] * (cells - len(self._totals)))

    def add(self, cells: Ints, values: Floats) -> None:
        """Add each (finite) value to its cell."""
        if len(values) == 0:
            return
        self._grow(int(cells.max()) + 1)
        for start in range(0, len(values), _CHUNK):
            self._add_chunk(cells[start : start + _CHUNK], values[start : start + _CHUNK])

    def _add_chunk(self, cells: Ints, values: Floats) -> None:
        fraction, exponent = np.frexp(values)
        low_exponent = int(exponent.min())
        width = int(exponent.max()) - low_exponent + 1
        key = cells.astype(np.int64) * width
        key += exponent
        key -= low_exponent
        size = (int(cells.max()) + 1) * width
        if size > max(_DENSE, 2 * len(values)):
            present, key = np.unique(key, return_inverse=True)
        else:
            present = None
        # |fraction| in [0.5, 1) has 53 significant bits: fraction * 2**53 = high * 2**26 + low
        # with integers |high| <= 2**27 and 0 <= low < 2**26, split exactly by float operations.
        fraction *= 2.0 ** (53 - _LIMB)
        top = np.floor(fraction)
        fraction -= top
        fraction *= 2.0**_LIMB
        high = np.bincount(key, weights=top)
        low = np.bincount(key, weights=fraction)
        for index in np.flatnonzero((high != 0) | (low != 0)).tolist():
            full = int(present[index]) if present is not None else index
            cell, offset = divmod(full, width)
            integer = (int(high[index]) << _LIMB) + int(low[index])
            self._totals[cell] += integer << (low_exponent + offset - 53 + UNIT_BITS)

    def add_scaled(self, cell: int, integer: int, exponent: int) -> None:
        """Add ``integer * 2**exponent`` to a cell (an SQL engine's exact partial sum)."""
        self._grow(cell + 1)
        shift = exponent + UNIT_BITS
        if shift < 0:
            raise ValueError(f"exponent {exponent} is below the finest unit 2**-{UNIT_BITS}")
        self._totals[cell] += integer << shift

    def merge(self, other: ExactSums) -> None:
        """Add another accumulator's totals, cell by cell."""
        self._grow(other.cells)
        for cell, total in enumerate(other._totals):
            self._totals[cell] += total

    def regrouped(self, mapping: Sequence[int], width: int, cells: int) -> ExactSums:
        """Totals with cell ``g * width + k`` added into ``mapping[g] * width + k``."""
        out = ExactSums(cells)
        for cell, total in enumerate(self._totals):
            group, k = divmod(cell, width)
            out._totals[mapping[group] * width + k] += total
        return out

    def units(self, cell: int) -> int:
        """The exact total of a cell, in units of ``2**-UNIT_BITS``."""
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
