"""Exact sums of non-negative float64 values over many cells (weighted score histogram bins),
merged, moved between cells and rounded once, all with whole-array operations.

Each cell's total is a fixed-point integer in units of ``2**base`` (``base``: the smallest
power of two any value needed), held as 32-bit limbs in int64 slots: a dense ``(cells, limbs)``
array, so memory is bounded by the cells and the values' dynamic range, never by the rows.
A value's 53-bit mantissa (``np.frexp``; an SQL engine returns its own exact sums,
:mod:`bias_ledger.engines.statistics_sql`) is split across the three limbs it covers and added
with one ``np.add.at``; carries are propagated only when a slot could otherwise overflow.
Reading a cell rounds its exact total once, correctly: the same bits whatever the engine, the
batching or the order the values came in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

_LIMB = 32
_MASK = (1 << _LIMB) - 1
_SAFE = 1 << 62
"""Slots stay below this (carries propagated before), so no int64 addition overflows."""
_CHUNK = 1 << 24
"""Values added per step: each raises a slot by less than ``2**33``, so a step raises none
by ``2**57``."""
_ROUNDED = 1 << 16
"""Cells rounded per step (bounding the temporary arrays)."""


class ExactCells:
    """Exact sums per cell of non-negative values; cells are ``0 <= cell < cells``."""

    def __init__(self) -> None:
        self.limbs: Ints = np.zeros((0, 1), dtype=np.int64)
        """``limbs[c, k]``: digit ``k`` (base ``2**32``, maybe carrying) of cell ``c``'s total."""
        self.base = 0
        """Limb 0 counts units of ``2**base`` (meaningful once a value was added)."""
        self.bound = 0
        """No slot of :attr:`limbs` exceeds this."""

    @property
    def cells(self) -> int:
        return int(self.limbs.shape[0])

    def add(self, cells: Ints, values: Floats) -> None:
        """Add each (finite, non-negative) value to its cell."""
        cells = np.asarray(cells, dtype=np.int64)
        for start in range(0, len(values), _CHUNK):
            self._add_floats(cells[start : start + _CHUNK], values[start : start + _CHUNK])

    def _add_floats(self, cells: Ints, values: Floats) -> None:
        keep = values != 0
        if not keep.all():
            cells, values = cells[keep], values[keep]
        if len(values) == 0:
            return
        if not (values > 0).all():
            raise ValueError("exact cell sums add non-negative values only")
        fraction, exponent = np.frexp(values)
        mantissa = np.ldexp(fraction, 53).astype(np.int64)  # exact: 53 significant bits
        scales = exponent.astype(np.int64) - 53
        offset = self._prepare(cells, int(scales.min()), int(scales.max()) + 53)
        offset += scales
        # mantissa << r is (low << r) + (high << r) * 2**32, each part below 2**63, spread
        # over three limbs.
        limb, shift = offset >> 5, offset & (_LIMB - 1)
        low = (mantissa & _MASK) << shift
        high = (mantissa >> _LIMB) << shift
        middle = (low >> _LIMB) + (high & _MASK)
        self._scatter(cells, limb, (low & _MASK, middle, high >> _LIMB))

    def add_integers(self, cells: Ints, scales: Ints, integers: list[int]) -> None:
        """Add ``integers[i] * 2**scales[i]`` (non-negative) to ``cells[i]`` (an SQL engine's
        exact sums)."""
        where: list[int] = []
        at: list[int] = []
        pieces: list[int] = []
        for cell, scale, value in zip(cells.tolist(), scales.tolist(), integers, strict=True):
            if value < 0:
                raise ValueError("exact cell sums add non-negative values only")
            while value:
                where.append(cell)
                at.append(scale)
                pieces.append(value & _MASK)
                scale += _LIMB
                value >>= _LIMB
        for start in range(0, len(pieces), _CHUNK):
            stop = start + _CHUNK
            self._add_pieces(
                np.asarray(where[start:stop], dtype=np.int64),
                np.asarray(at[start:stop], dtype=np.int64),
                np.asarray(pieces[start:stop], dtype=np.int64),
            )

    def _add_pieces(self, cells: Ints, scales: Ints, pieces: Ints) -> None:
        """Add ``pieces[i] * 2**scales[i]`` (each piece below ``2**32``)."""
        if len(pieces) == 0:
            return
        offset = self._prepare(cells, int(scales.min()), int(scales.max()) + _LIMB)
        offset += scales
        limb, shift = offset >> 5, offset & (_LIMB - 1)
        shifted = pieces << shift
        self._scatter(cells, limb, (shifted & _MASK, shifted >> _LIMB))

    def _prepare(self, cells: Ints, lowest: int, top: int) -> Ints:
        """Room for values of scales from ``lowest`` up to bits below ``2**top`` in ``cells``;
        returns ``-base`` in an array the size of ``cells``, to offset scales by."""
        if self.bound == 0:
            self.base = lowest
        elif lowest < self.base:
            self._rebase(lowest)
        if self.bound > _SAFE - (len(cells) << (_LIMB + 1)):
            self._normalise()
        self._grow(int(cells.max()) + 1, (top - self.base) // _LIMB + 2)
        self.bound = max(self.bound, 1) + (len(cells) << (_LIMB + 1))
        return np.full(len(cells), -self.base, dtype=np.int64)

    def _scatter(self, cells: Ints, limb: Ints, parts: tuple[Ints, ...]) -> None:
        width = self.limbs.shape[1]
        first = cells * width + limb
        index = np.concatenate([first + k for k in range(len(parts))])
        np.add.at(self.limbs.reshape(-1), index, np.concatenate(parts))

    def _grow(self, cells: int, width: int) -> None:
        have_cells, have_width = self.limbs.shape
        if cells <= have_cells and width <= have_width:
            return
        grown = np.zeros((max(cells, have_cells), max(width, have_width)), dtype=np.int64)
        grown[:have_cells, :have_width] = self.limbs
        self.limbs = grown

    def _normalise(self) -> None:
        """Carries propagated: every slot below ``2**32`` (a limb added on top if needed)."""
        if self.bound <= _MASK:
            return
        limbs = self.limbs
        while True:
            carries = limbs >> _LIMB
            if not carries.any():
                break
            if carries[:, -1].any():
                limbs = np.concatenate([limbs, np.zeros((len(limbs), 1), np.int64)], axis=1)
                carries = np.concatenate([carries, np.zeros((len(limbs), 1), np.int64)], axis=1)
            limbs &= _MASK
            limbs[:, 1:] += carries[:, :-1]
        self.limbs, self.bound = limbs, _MASK

    def _rebase(self, base: int) -> None:
        """Limb 0 now counts units of ``2**base`` (below the current base)."""
        self._normalise()
        whole, shift = divmod(self.base - base, _LIMB)
        old = self.limbs
        cells, width = old.shape
        limbs = np.zeros((cells, width + whole + 1), dtype=np.int64)
        limbs[:, whole : whole + width] = (old << shift) & _MASK
        limbs[:, whole + 1 : whole + width + 1] += old >> (_LIMB - shift)
        self.limbs, self.base = _trimmed(limbs), base

    def merge(self, other: ExactCells) -> None:
        """Add another accumulator's sums, cell by cell."""
        if other.bound == 0:
            return
        if self.bound == 0:
            self.limbs, self.base, self.bound = other.limbs.copy(), other.base, other.bound
            return
        other = other.copy()
        if other.base < self.base:
            self._rebase(other.base)
        elif self.base < other.base:
            other._rebase(self.base)
        self._normalise()
        other._normalise()
        self._grow(*other.limbs.shape)
        self._grow(self.cells, self.limbs.shape[1] + 1)
        cells, width = other.limbs.shape
        self.limbs[:cells, :width] += other.limbs
        self.bound = 2 * (_MASK + 1)

    def copy(self) -> ExactCells:
        out = ExactCells()
        out.limbs, out.base, out.bound = self.limbs.copy(), self.base, self.bound
        return out

    def moved(self, to: Callable[[Ints], Ints]) -> ExactCells:
        """The sums with every cell ``c`` added into cell ``to(c)`` (a vectorised mapping)."""
        out = ExactCells()
        out.base = self.base
        self._normalise()
        rows = np.flatnonzero(self.limbs.any(axis=1))
        if len(rows) == 0:
            return out
        targets = np.asarray(to(rows), dtype=np.int64)
        order = np.argsort(targets, kind="stable")
        targets = targets[order]
        starts = np.flatnonzero(np.concatenate(([True], targets[1:] != targets[:-1])))
        # Sums of up to 2**30 normalised cells stay below 2**62; one more limb for their carry.
        width = self.limbs.shape[1]
        out.limbs = np.zeros((int(targets[-1]) + 1, width + 1), dtype=np.int64)
        rows, cells = rows[order], targets[starts]
        # Limb by limb: the copies made on the way are one column, not the whole table.
        for k in range(width):
            column = self.limbs[rows, k]
            out.limbs[cells, k] = (
                column if len(starts) == len(rows) else np.add.reduceat(column, starts)
            )
        out.bound = int(np.diff(np.append(starts, len(rows))).max()) * (_MASK + 1)
        out._normalise()
        out.limbs = _trimmed(out.limbs)
        return out

    def rounded(self, cells: int) -> Floats:
        """The exact total of cells ``0 .. cells - 1``, each correctly rounded to float64."""
        out = np.zeros(cells)
        if self.bound == 0:
            return out
        self._normalise()
        limbs = self.limbs[:cells]
        present = np.flatnonzero(limbs.any(axis=1))
        if len(present) == 0:
            return out
        for start in range(0, len(present), _ROUNDED):
            rows = present[start : start + _ROUNDED]
            values, exact = _rounded(limbs[rows], self.base)
            out[rows] = values
            for row in rows[~exact].tolist():
                out[row] = _rounded_exactly(limbs[row], self.base)
        return out


def _trimmed(limbs: Ints) -> Ints:
    """Without the top limbs that are zero in every cell (one kept), so that repeated
    rebasing or moving does not widen the table."""
    used = np.flatnonzero(limbs.any(axis=0))
    width = int(used[-1]) + 1 if len(used) else 1
    return limbs if width == limbs.shape[1] else np.ascontiguousarray(limbs[:, :width])


def _rounded(limbs: Ints, base: int) -> tuple[Floats, npt.NDArray[np.bool_]]:
    """Non-zero normalised totals correctly rounded, and whether each was (the others'
    results are subnormal or overflow: :func:`_rounded_exactly` rounds them)."""
    rows, width = limbs.shape
    padded = np.concatenate([np.zeros((rows, 2), dtype=np.int64), limbs], axis=1)
    nonzero = padded != 0
    top = width + 1 - np.argmax(nonzero[:, ::-1], axis=1)  # the highest non-zero limb
    at = np.arange(rows)
    high, middle, low = padded[at, top], padded[at, top - 1], padded[at, top - 2]
    # Anything below the three limbs only matters as a sticky bit.
    sticky = np.logical_or.accumulate(nonzero, axis=1)[at, np.maximum(top - 3, 0)] & (top >= 3)
    bits = np.frexp(high.astype(np.float64))[1].astype(np.int64)  # 1..32
    # The 62 leading bits of high:middle:low (a 65..96-bit number), cut below by ``shift``.
    shift = bits + 2
    small = shift <= _LIMB
    leading = high << (62 - bits)
    leading |= np.where(small, middle << np.where(small, _LIMB - shift, 0), 0)
    leading |= np.where(small, low >> np.where(small, shift, 0), middle >> (shift - _LIMB).clip(0))
    cut = np.where(small, low & ((1 << shift) - 1), (middle & ((1 << (shift - _LIMB).clip(0)) - 1)))
    cut |= np.where(small, 0, low)
    # With nine bits to spare, a sticky last bit makes one rounding correct (round to odd).
    leading |= ((cut != 0) | sticky).astype(np.int64)
    exponent = shift + _LIMB * (top - 4) + base
    exact = (exponent + 61 >= -1022) & (exponent + 62 <= 1023)
    values: Floats = np.ldexp(leading.astype(np.float64), np.where(exact, exponent, 0))
    return values, exact


def _rounded_exactly(limbs: Ints, base: int) -> float:
    total = sum(int(limb) << (_LIMB * k) for k, limb in enumerate(limbs.tolist()))
    # int / int is correctly rounded; a negative base divides by its power of two.
    return total / (1 << -base) if base < 0 else float(total << base)
