"""Fisher's exact test in the standard library against scipy.stats.fisher_exact and against
exact rational enumeration (tests only: the audit never imports scipy for it)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact as scipy_fisher

from bias_ledger.metrics.fisher import fisher_two_sided


def _scipy(a: int, b: int, c: int, d: int) -> tuple[float, float]:
    result = scipy_fisher([[a, b], [c, d]], alternative="two-sided")
    return float(result.statistic), float(result.pvalue)


def _exact(a: int, b: int, c: int, d: int) -> float:
    """scipy's rule (tables at most 1 + 1e-14 times as likely), in rational arithmetic."""
    rows, cols, total = a + b, a + c, a + b + c + d
    low, high = max(0, rows + cols - total), min(rows, cols)
    weight = {low: math.comb(rows, low) * math.comb(total - rows, cols - low)}
    for x in range(low, high):  # C(rows, x) C(total - rows, cols - x), each exactly
        step = (rows - x) * (cols - x), (x + 1) * (total - rows - cols + x + 1)
        weight[x + 1] = weight[x] * step[0] // step[1]
    bound = Fraction(weight[a]) * (1 + Fraction(1, 10**14))
    return float(Fraction(sum(w for w in weight.values() if w <= bound), sum(weight.values())))


def _same_odds(found: float, expected: float) -> bool:
    return (math.isnan(found) and math.isnan(expected)) or found == expected


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 80), st.integers(1, 3000), st.integers(0, 80), st.integers(0, 3000))
def test_matches_scipy(n1: int, n2: int, s1: int, s2: int) -> None:
    s1, s2 = min(s1, n1), min(s2, n2)
    table = (s1, n1 - s1, s2, n2 - s2)
    odds, p = fisher_two_sided(*table)
    expected_odds, expected_p = _scipy(*table)
    assert _same_odds(odds, expected_odds)
    assert p == pytest.approx(expected_p, rel=1e-12, abs=1e-300)
    assert p == pytest.approx(_exact(*table), rel=1e-13, abs=1e-300)


@pytest.mark.parametrize(
    "table",
    [
        (0, 0, 0, 5),  # an empty row: NaN and 1, as scipy
        (0, 5, 0, 5),  # an empty column
        (3, 3, 3, 3),  # the most likely table: exactly 1
        (5, 0, 0, 5),
        (1, 0, 0, 1),
        (10, 10, 10, 10),
        (2, 7, 8, 2),  # symmetric margins: the mirrored table is an exact tie
        (0, 20, 480, 500),
        (20, 9980, 4000, 99_996_000),  # a small group against a large reference
    ],
)
def test_edge_tables(table: tuple[int, int, int, int]) -> None:
    odds, p = fisher_two_sided(*table)
    expected_odds, expected_p = _scipy(*table)
    assert _same_odds(odds, expected_odds)
    # scipy's float pmfs lose up to ~2e-9 on the large table; the exact sum is the referee.
    assert p == pytest.approx(expected_p, rel=1e-8, abs=1e-300)
    assert p == pytest.approx(_exact(*table), rel=1e-13, abs=1e-300)


def test_symmetric_tie_counts_both_tails() -> None:
    # [[2, 8], [8, 2]] and [[8, 2], [2, 8]] are equally likely: both tails are summed.
    assert fisher_two_sided(2, 8, 8, 2)[1] == pytest.approx(_exact(2, 8, 8, 2), rel=1e-14)
    assert fisher_two_sided(3, 3, 3, 3)[1] == 1.0


def test_more_exact_than_float_pmfs_on_a_large_table() -> None:
    # scipy's hypergeometric pmf loses about 1e-11 here; the recurrence does not.
    table = (12, 8, 4_000_000, 6_000_000)
    assert fisher_two_sided(*table)[1] == pytest.approx(0.10747802397274045, rel=1e-15)
    assert _scipy(*table)[1] == pytest.approx(0.10747802397274045, rel=1e-9)


def test_negative_cell_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        fisher_two_sided(-1, 2, 3, 4)
