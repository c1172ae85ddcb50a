"""Exact sums of float64 values over many sparse cells (weighted score histogram bins),
merged, moved between cells and rounded once, all with whole-array operations.

Each value is an integer mantissa times a power of two (``np.frexp``; an SQL engine returns
its own mantissas, :mod:`bias_ledger.engines.statistics_sql`). Mantissas are summed per (cell,
power of two) as two int64 limbs of 28 bits each, so no sum of fewer than 2**35 values can
overflow. Only the (cell, power) pairs present are kept, sorted. Reading a cell's total adds
its few powers as Python integers and divides once: the correctly rounded float64 of the exact
sum, the same bits whatever the engine, the batching or the order the values came in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

LOWEST = -1200
"""Scales (powers of two of a mantissa's unit) lie in [LOWEST, LOWEST + SPAN)."""
SPAN = 2400
_LIMB = 28
_MASK = (1 << _LIMB) - 1


def _reduced(keys: Ints, high: Ints, low: Ints) -> tuple[Ints, Ints, Ints]:
    """Equal keys summed (int64, exact), sorted by key."""
    if len(keys) == 0:
        return keys, high, low
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    return keys[starts], np.add.reduceat(high[order], starts), np.add.reduceat(low[order], starts)


class ExactCells:
    """Exact sums per cell (a non-negative integer), kept as sorted (cell, scale) limbs."""

    def __init__(self) -> None:
        self.keys: Ints = np.empty(0, dtype=np.int64)
        """``cell * SPAN + scale - LOWEST``, sorted and distinct."""
        self.high: Ints = np.empty(0, dtype=np.int64)
        """Sums of ``mantissa >> 28`` per key ..."""
        self.low: Ints = np.empty(0, dtype=np.int64)
        """... and of ``mantissa & (2**28 - 1)``: a key's total is
        ``(high * 2**28 + low) * 2**scale``."""

    def add(self, cells: Ints, values: Floats) -> None:
        """Add each (finite) value to its cell."""
        keep = values != 0
        if not keep.all():
            cells, values = cells[keep], values[keep]
        fraction, exponent = np.frexp(values)
        mantissa = np.ldexp(fraction, 53).astype(np.int64)  # exact: 53 significant bits
        self.add_parts(cells, exponent.astype(np.int64) - 53, mantissa >> _LIMB, mantissa & _MASK)

    def add_integers(self, cells: Ints, scales: Ints, integers: list[int]) -> None:
        """Add ``integers[i] * 2**scales[i]`` to ``cells[i]`` (an SQL engine's exact sums)."""
        high = [value >> _LIMB for value in integers]
        low = [value & _MASK for value in integers]
        if high and max(abs(min(high)), abs(max(high))) >= 1 << 62:
            raise ValueError("an exact partial sum is too large to hold")
        self.add_parts(
            cells, scales, np.asarray(high, dtype=np.int64), np.asarray(low, dtype=np.int64)
        )

    def add_parts(self, cells: Ints, scales: Ints, high: Ints, low: Ints) -> None:
        if len(cells) == 0:
            return
        if int(scales.min()) < LOWEST or int(scales.max()) >= LOWEST + SPAN:
            raise ValueError("a value's scale is outside the exact sums' range")
        keys = np.asarray(cells, dtype=np.int64) * SPAN + (scales - LOWEST)
        self.keys, self.high, self.low = _reduced(
            np.concatenate([self.keys, keys]),
            np.concatenate([self.high, high]),
            np.concatenate([self.low, low]),
        )

    def merge(self, other: ExactCells) -> None:
        """Add another accumulator's sums, cell by cell."""
        self.keys, self.high, self.low = _reduced(
            np.concatenate([self.keys, other.keys]),
            np.concatenate([self.high, other.high]),
            np.concatenate([self.low, other.low]),
        )

    def moved(self, to: Callable[[Ints], Ints]) -> ExactCells:
        """The sums with every cell ``c`` added into cell ``to(c)`` (a vectorised mapping)."""
        out = ExactCells()
        cells, scales = np.divmod(self.keys, SPAN)
        out.keys, out.high, out.low = _reduced(to(cells) * SPAN + scales, self.high, self.low)
        return out

    def rounded(self, cells: int) -> Floats:
        """The exact total of cells ``0 .. cells - 1``, each correctly rounded to float64."""
        out = np.zeros(cells)
        if len(self.keys) == 0:
            return out
        cell, scale = np.divmod(self.keys, SPAN)
        lowest = int(scale.min())
        totals: dict[int, int] = {}
        rows = zip(
            cell.tolist(), scale.tolist(), self.high.tolist(), self.low.tolist(), strict=True
        )
        for c, s, h, low in rows:
            totals[c] = totals.get(c, 0) + (((h << _LIMB) + low) << (s - lowest))
        unit = LOWEST + lowest
        for c, total in totals.items():
            if 0 <= c < cells:
                # int / int is correctly rounded; a negative unit divides by its power of two.
                out[c] = total / (1 << -unit) if unit < 0 else float(total << unit)
        return out
