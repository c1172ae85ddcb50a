"""Exact sums of sample weights (``--weight``, fairlearn's ``sample_weight``).

Weights are summed exactly (:mod:`bias_ledger.metrics.exact_sum`: integer mantissas added as
integers), so a weighted count is the exact sum of its weights: the same whatever the engine,
the batch boundaries or the order rows are added in (a float sum is none of these; DuckDB and
Spark sum in parallel). Numbers are rounded to float64 once, when read, and a weighted rate
is the correctly rounded quotient of two exact sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bias_ledger.metrics.exact_sum import UNIT_BITS, ExactSums

SMALLEST = 2.0**-500
LARGEST = 2.0**500
"""Non-zero weights lie in [SMALLEST, LARGEST]: every sum of them is a finite float64."""
RANGE_TEXT = "0, or a number from 3.1e-151 to 3.3e150"

Objects = npt.NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class WeightParts:
    """Weights, one per row: float64 values, or exact sums an engine returned per aggregated
    row as ``integers * 2**exponents``."""

    values: npt.NDArray[np.float64] | None = None
    """Per-row weights (already checked by :func:`bad_weights`)."""
    integers: Objects | None = None
    """Per aggregated row, an exact integer sum (Python int) ..."""
    exponents: npt.NDArray[np.int64] | None = None
    """... in units of ``2**exponent``."""

    def __len__(self) -> int:
        if self.values is not None:
            return len(self.values)
        assert self.exponents is not None
        return len(self.exponents)

    def take(self, index: npt.NDArray[np.int64] | npt.NDArray[np.bool_] | slice) -> WeightParts:
        if self.values is not None:
            return WeightParts(values=self.values[index])
        assert self.integers is not None and self.exponents is not None
        return WeightParts(integers=self.integers[index], exponents=self.exponents[index])


def bad_weights(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Where a weight is not 0 or a finite number in [SMALLEST, LARGEST] (NaN included)."""
    ok = (values == 0) | ((values >= SMALLEST) & (values <= LARGEST))
    bad: npt.NDArray[np.bool_] = ~ok
    return bad


@dataclass(frozen=True, eq=False)
class WeightSums:
    """Exact sums, shaped as the counts they go with: ``numerators * 2**scale``."""

    numerators: Objects
    """Python ints."""
    scale: int

    def rescaled(self, scale: int) -> WeightSums:
        """The same sums on a finer (or equal) scale."""
        if scale > self.scale:
            raise ValueError(f"cannot rescale exact sums from 2**{self.scale} up to 2**{scale}")
        shift = self.scale - scale
        numerators = np.array([int(n) << shift for n in self.numerators.ravel()], dtype=object)
        return WeightSums(numerators.reshape(self.numerators.shape), scale)

    def rounded(self) -> npt.NDArray[np.float64]:
        """Each sum rounded once to the nearest float64."""
        values = [to_float(int(n), self.scale) for n in self.numerators.ravel()]
        return np.array(values, dtype=np.float64).reshape(self.numerators.shape)


def to_float(numerator: int, scale: int) -> float:
    """``numerator * 2**scale`` correctly rounded (Python's int division rounds so)."""
    if scale >= 0:
        return float(numerator << scale)
    return numerator / (1 << -scale)


def zeros(shape: tuple[int, ...]) -> Objects:
    array = np.empty(shape, dtype=object)
    array.fill(0)
    return array


def exact_bincount(codes: npt.NDArray[np.int64], parts: WeightParts, size: int) -> WeightSums:
    """The exact sum of the weights of each code in ``range(size)``."""
    sums = ExactSums(size)
    if parts.values is not None:
        sums.add(codes, parts.values)
    else:
        assert parts.integers is not None and parts.exponents is not None
        # An engine's sums: one per aggregated row, few of them.
        for code, integer, exponent in zip(
            codes.tolist(), parts.integers, parts.exponents.tolist(), strict=True
        ):
            sums.add_scaled(code, int(integer), exponent)
    numerators = np.empty(size, dtype=object)
    numerators[:] = [sums.units(cell) for cell in range(size)]
    return WeightSums(numerators, -UNIT_BITS)


def sum_exact(parts: Sequence[WeightSums]) -> WeightSums:
    """Element-wise sum of exact sums of the same shape, on their finest scale."""
    scale = min(item.scale for item in parts)
    total = zeros(parts[0].numerators.shape)
    for item in parts:
        total = total + item.rescaled(scale).numerators
    return WeightSums(total, scale)
