"""ExactCells against exact rational arithmetic: every cell's total correctly rounded once,
whatever the batching, the merging, the moving or the values' dynamic range."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from bias_ledger.metrics.exact_cells import ExactCells


def _reference(cells: np.ndarray, values: np.ndarray, size: int) -> list[float]:
    totals = [Fraction(0)] * size
    for cell, value in zip(cells.tolist(), values.tolist(), strict=True):
        totals[cell] += Fraction(value)
    return [float(total) for total in totals]


def _values(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "gamma":
        return rng.gamma(2.0, 1.0, n)
    if kind == "wide":
        # From 2**-500 to 2**500, the weights' whole range, with zeros.
        values = np.ldexp(rng.random(n) + 0.5, rng.integers(-500, 500, n))
        values[rng.random(n) < 0.1] = 0.0
        return values
    return np.ldexp(rng.random(n), rng.integers(-1074, -1000, n))


@pytest.mark.parametrize("kind", ["gamma", "wide", "subnormal"])
def test_totals_are_the_exact_sums_rounded_once(kind: str) -> None:
    rng = np.random.default_rng(len(kind))
    n, size = 4000, 37
    values = _values(kind, n, rng)
    cells = rng.integers(0, size, n)
    expected = _reference(cells, values, size)
    whole = ExactCells()
    whole.add(cells, values)
    assert whole.rounded(size).tolist() == expected
    # Any batching, in any order, gives the same bits.
    order = rng.permutation(n)
    batched = ExactCells()
    for part in np.array_split(order, 13):
        batched.add(cells[part], values[part])
    assert batched.rounded(size).tolist() == expected


def test_halfway_totals_round_to_even_unless_a_far_lower_bit_is_set() -> None:
    half, tiny = 2.0**-53, 2.0**-200
    cases = [
        ([1.0, half], 1.0),
        ([1.0, half, tiny], 1.0 + 2 * half),
        ([1.0, 2 * half, half], 1.0 + 4 * half),
        ([tiny, 2.0**60, half * 2.0**60], 2.0**60 + 2.0**8),
    ]
    values = np.array([value for terms, _ in cases for value in terms])
    cells = np.array([cell for cell, (terms, _) in enumerate(cases) for _ in terms])
    sums = ExactCells()
    sums.add(cells, values)
    assert sums.rounded(len(cases)).tolist() == [total for _, total in cases]
    # Summed in float64 in row order, the sticky low bits are lost.
    assert sum([1.0, half, tiny]) == 1.0


def test_integers_and_floats_add_up_alike() -> None:
    rng = np.random.default_rng(3)
    values = rng.gamma(2.0, 1.0, 500)
    cells = rng.integers(0, 9, 500)
    fraction, exponent = np.frexp(values)
    mantissas = np.ldexp(fraction, 53).astype(np.int64)
    # An SQL engine's exact sums: per (cell, exponent), the mantissas' integer sum.
    sums: dict[tuple[int, int], int] = {}
    for cell, e, m in zip(cells.tolist(), exponent.tolist(), mantissas.tolist(), strict=True):
        sums[cell, e - 53] = sums.get((cell, e - 53), 0) + m
    keys = list(sums)
    sql = ExactCells()
    sql.add_integers(
        np.array([cell for cell, _ in keys]), np.array([e for _, e in keys]), list(sums.values())
    )
    floats = ExactCells()
    floats.add(cells, values)
    assert sql.rounded(9).tolist() == floats.rounded(9).tolist() == _reference(cells, values, 9)
    # Integers wider than a 64-bit slot (DECIMAL(38) sums) are split, not truncated.
    big = ExactCells()
    big.add_integers(np.array([0, 0]), np.array([-60, 10]), [(1 << 120) + 1, 3])
    assert big.rounded(1).tolist() == [float(Fraction((1 << 120) + 1, 1 << 60) + 3 * 1024)]


def test_merged_and_moved_sums_are_exact() -> None:
    rng = np.random.default_rng(5)
    values = _values("wide", 3000, rng)
    cells = rng.integers(0, 20, 3000)
    first, second = ExactCells(), ExactCells()
    first.add(cells[:1000], values[:1000])
    second.add(cells[1000:], values[1000:])
    first.merge(second)
    assert first.rounded(20).tolist() == _reference(cells, values, 20)
    moved = first.moved(lambda cell: cell % 7)
    assert moved.rounded(7).tolist() == _reference(cells % 7, values, 7)


def test_negative_values_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        ExactCells().add(np.array([0, 1]), np.array([1.0, -2.0]))
