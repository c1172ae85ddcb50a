"""Exact sums of sample weights (``--weight``, fairlearn's ``sample_weight``).

Every weight is split exactly as ``mantissa * 2**(exponent - 53)`` and mantissas are summed
as integers, so a weighted count is the exact sum of its weights: the same whatever the
engine, the batch boundaries or the order rows are added in (a float sum is none of these;
DuckDB and Spark sum in parallel). Numbers are rounded to float64 once, at the end, and a
weighted rate is the correctly rounded quotient of two exact sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

MANTISSA_BITS = 53
"""``mantissa * 2**(exponent - MANTISSA_BITS)`` is a weight; the mantissa is an integer."""
SMALLEST = 2.0**-500
LARGEST = 2.0**500
"""Non-zero weights lie in [SMALLEST, LARGEST]: every sum of them is a finite float64."""
RANGE_TEXT = "0, or a number from 3.1e-151 to 3.3e150"
# Per block, float64 bincounts of 28-bit halves of the mantissas are exact (2**20 * 2**28).
_BLOCK = 1 << 20
_HALF = 28

Objects = npt.NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class WeightParts:
    """Weights (one per row, or summed per aggregated row) as exact integer parts."""

    exponents: npt.NDArray[np.int64]
    """Each value is ``mantissas[i] * 2**(exponents[i] - MANTISSA_BITS)``."""
    mantissas: npt.NDArray[np.int64] | Objects
    """int64 below 2**62 (per-row weights), or Python ints (sums an engine returned)."""

    def __len__(self) -> int:
        return len(self.exponents)

    def take(self, index: npt.NDArray[np.int64] | npt.NDArray[np.bool_]) -> WeightParts:
        return WeightParts(self.exponents[index], self.mantissas[index])

    def take_slice(self, rows: slice) -> WeightParts:
        return WeightParts(self.exponents[rows], self.mantissas[rows])


def bad_weights(values: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Where a weight is not 0 or a finite number in [SMALLEST, LARGEST] (NaN included)."""
    ok = (values == 0) | ((values >= SMALLEST) & (values <= LARGEST))
    bad: npt.NDArray[np.bool_] = ~ok
    return bad


def split_weights(values: npt.NDArray[np.float64]) -> WeightParts:
    """Exact parts of valid float64 weights (see :func:`bad_weights`)."""
    fractions, exponents = np.frexp(values)
    # frexp gives fractions in [0.5, 1): times 2**53 they are exact integers below 2**53.
    mantissas = np.ldexp(fractions, MANTISSA_BITS).astype(np.int64)
    exponents = exponents.astype(np.int64)
    zero = mantissas == 0
    if zero.any() and not zero.all():
        # frexp(0) has exponent 0: moved among the others, zeros widen no exponent range.
        exponents[zero] = exponents[~zero].min()
    return WeightParts(exponents, mantissas)


@dataclass(frozen=True, eq=False)
class ExactSums:
    """Exact sums: ``numerators[i] * 2**scale`` (Python ints, one common scale)."""

    numerators: Objects
    scale: int

    def rescaled(self, scale: int) -> ExactSums:
        """The same sums on a finer (or equal) scale."""
        if scale > self.scale:
            raise ValueError(f"cannot rescale exact sums from 2**{self.scale} up to 2**{scale}")
        shift = self.scale - scale
        numerators = np.array([int(n) << shift for n in self.numerators.ravel()], dtype=object)
        return ExactSums(numerators.reshape(self.numerators.shape), scale)

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


def exact_bincount(codes: npt.NDArray[np.int64], parts: WeightParts, size: int) -> ExactSums:
    """The exact sum of the weights of each code in ``range(size)``."""
    if len(parts) == 0:
        return ExactSums(zeros((size,)), 0)
    low = int(parts.exponents.min())
    span = int(parts.exponents.max()) - low + 1
    shifted = _bucket_sums(codes, parts, size, low, span)
    totals = zeros((size,))
    for bucket in range(span):
        column = shifted[:, bucket]
        if any(column):
            totals += np.array([int(n) << bucket for n in column], dtype=object)
    return ExactSums(totals, low - MANTISSA_BITS)


def _bucket_sums(
    codes: npt.NDArray[np.int64], parts: WeightParts, size: int, low: int, span: int
) -> Objects:
    """Per code and exponent bucket, the exact integer sum of the mantissas."""
    sums = zeros((size, span))
    buckets = parts.exponents - low
    if parts.mantissas.dtype == object:
        # An engine's sums: one per aggregated row, few of them.
        for code, bucket, mantissa in zip(
            codes.tolist(), buckets.tolist(), parts.mantissas, strict=True
        ):
            sums[code, bucket] += int(mantissa)
        return sums
    mantissas = np.asarray(parts.mantissas, dtype=np.int64)
    for start in range(0, len(codes), _BLOCK):
        rows = slice(start, start + _BLOCK)
        key = codes[rows] * span + buckets[rows]
        block = mantissas[rows]
        for shift, half in ((_HALF, block >> _HALF), (0, block & ((1 << _HALF) - 1))):
            summed = np.bincount(key, weights=half, minlength=size * span)
            exact = summed.astype(np.int64).reshape(size, span)
            sums += _shifted(exact, shift)
    return sums


def _shifted(values: npt.NDArray[np.int64], shift: int) -> Objects:
    out = values.astype(object)
    return out * (1 << shift) if shift else out


def sum_exact(parts: Sequence[ExactSums]) -> ExactSums:
    """Element-wise sum of exact sums of the same shape, on their finest scale."""
    scale = min(item.scale for item in parts)
    total = zeros(parts[0].numerators.shape)
    for item in parts:
        total = total + item.rescaled(scale).numerators
    return ExactSums(total, scale)
