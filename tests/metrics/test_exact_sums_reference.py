"""ExactSums against exact rational sums (fractions.Fraction) and math.fsum: every cell's total
is the exact sum of its values to the last unit, whatever the magnitudes (subnormal to near
overflow, both signs, zeros of either sign), the number of cells, the chunking, the batching,
the pending window, merging or regrouping."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

import bias_ledger.metrics.exact_sum as exact_sum
from bias_ledger.metrics.exact_sum import UNIT_BITS, ExactSums

KINDS = ("gamma", "signed", "wide", "tiny", "huge", "zeros", "integers")


def _values(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "gamma":
        return rng.gamma(4.0, 12_000.0, n)
    if kind == "signed":
        return rng.normal(0.0, 1.0, n) * 10.0 ** rng.integers(-8, 9, n)
    if kind == "wide":
        # Every binade from the subnormals to 2**1000, both signs, a fifth zeros of either sign.
        values = rng.normal(0, 1, n) * np.ldexp(1.0, rng.integers(-1074, 1000, n))
        values[rng.random(n) < 0.1] = 0.0
        values[rng.random(n) < 0.1] = -0.0
        return values
    if kind == "tiny":
        # Subnormals and the smallest normals (biased exponents 0 and 1 share a unit).
        values = np.ldexp(rng.random(n), rng.integers(-1074, -1018, n))
        signed: np.ndarray = values * rng.choice([-1.0, 1.0], n)
        return signed
    if kind == "huge":
        # Near the top of the range, cancelling: the exact totals are far from any float sum.
        values = rng.choice([-1.0, 1.0], n) * np.ldexp(rng.random(n) + 1.0, 1020)
        values[::7] = rng.normal(0, 1, len(values[::7]))
        return values
    if kind == "zeros":
        return np.where(rng.random(n) < 0.5, 0.0, -0.0)
    return rng.integers(-1000, 1000, n).astype(np.float64)


def _exact_units(cells: np.ndarray, values: np.ndarray, size: int) -> list[int]:
    """Each cell's exact total in units of 2**-UNIT_BITS (an integer: every float is one)."""
    totals = [Fraction(0)] * size
    for cell, value in zip(cells.tolist(), values.tolist(), strict=True):
        totals[cell] += Fraction(value)
    units = [total * (1 << UNIT_BITS) for total in totals]
    assert all(unit.denominator == 1 for unit in units)
    return [int(unit) for unit in units]


def _batches(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Random, unequal batches (some of a single row) of a random order."""
    cuts = np.sort(rng.choice(np.arange(1, n), size=min(n - 1, 11), replace=False))
    return np.split(rng.permutation(n), cuts)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("size", [1, 7, 3000])
def test_totals_are_exact_whatever_the_batching(
    kind: str, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng([len(kind), size])
    n = 3000
    columns = [_values(kind, n, rng), _values(kind, n, rng)[::-1].copy()]
    codes = rng.integers(0, size, n)
    expected = [_exact_units(codes, column, size) for column in columns]
    # In one call, two columns keyed together.
    whole = ExactSums()
    whole.add_columns(codes, columns)
    # In random batches of a random order, in chunks of 64 rows, flushed every 500 values.
    monkeypatch.setattr(exact_sum, "_ROWS", 64)
    monkeypatch.setattr(exact_sum, "_PENDING", 500)
    batched = ExactSums()
    for part in _batches(n, rng):
        batched.add_columns(codes[part], [column[part] for column in columns])
    # Column by column, in two accumulators merged.
    left, right = ExactSums(), ExactSums()
    for index, column in enumerate(columns):
        half = n // 3
        left.add(codes[:half] * 2 + index, column[:half])
        right.add(codes[half:] * 2 + index, column[half:])
    left.merge(right)
    for sums in (whole, batched, left):
        for index in range(2):
            units = [sums.units(code * 2 + index) for code in range(size)]
            assert units == expected[index]


@pytest.mark.parametrize("kind", [kind for kind in KINDS if kind != "huge"])
def test_totals_and_means_are_rounded_once(kind: str) -> None:
    rng = np.random.default_rng(len(kind) + 100)
    n, size = 2000, 5
    values = _values(kind, n, rng)
    codes = rng.integers(0, size, n)
    sums = ExactSums()
    for part in _batches(n, rng):
        sums.add(codes[part], values[part])
    for cell in range(size):
        members = values[codes == cell]
        assert sums.total(cell) == math.fsum(members.tolist())
        exact = sum((Fraction(value) for value in members.tolist()), Fraction(0))
        assert sums.ratio(cell, len(members)) == float(exact / len(members))


def test_sparse_keys_and_regrouping_are_exact() -> None:
    # 40,000 cells over a thousand binades: too many keys to keep dense.
    rng = np.random.default_rng(5)
    n, size = 20_000, 40_000
    values = _values("wide", n, rng)
    codes = rng.integers(0, size, n)
    sums = ExactSums()
    for part in _batches(n, rng):
        sums.add(codes[part], values[part])
    mapping = (np.arange(size) % 3).tolist()
    regrouped = sums.regrouped(mapping, 1, 3)
    assert [regrouped.units(g) for g in range(3)] == _exact_units(codes % 3, values, 3)


def test_only_zeros_and_a_zero_batch_between_others() -> None:
    sums = ExactSums()
    sums.add(np.array([0, 1]), np.array([1e300, -1e-300]))
    sums.add(np.array([0, 1, 2]), np.array([0.0, -0.0, 0.0]))
    sums.add(np.array([0, 1]), np.array([-1e300, 2e-300]))
    assert [sums.units(cell) for cell in range(3)] == _exact_units(
        np.array([0, 1, 0, 1]), np.array([1e300, -1e-300, -1e300, 2e-300]), 3
    )
    assert [sums.total(cell) for cell in range(3)] == [0.0, 1e-300, 0.0]
