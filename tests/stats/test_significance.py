"""Selection-rate tests against formulas written out here and against scipy's chi-square test."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import chi2_contingency

from bias_ledger.errors import InputError
from bias_ledger.metrics.counts import count_binary, encode_column
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.significance import (
    SignificanceMethod,
    compare_selection,
    fisher_exact,
    selection_rate_tests,
    two_proportion_z,
)


def _fisher_by_enumeration(s1: int, n1: int, s2: int, n2: int) -> float:
    """Sum of hypergeometric probabilities of tables no more likely than the observed one."""
    selected, total = s1 + s2, n1 + n2

    def probability(k: int) -> Fraction:
        return Fraction(math.comb(n1, k) * math.comb(n2, selected - k), math.comb(total, selected))

    observed = probability(s1)
    # Ties within a relative 1e-7 count as "as extreme", as scipy does.
    support = range(max(0, selected - n2), min(n1, selected) + 1)
    return float(sum(p for k in support if (p := probability(k)) <= observed * (1 + 1e-7)))


@pytest.mark.parametrize(
    "table", [(3, 10, 9, 12), (0, 5, 4, 6), (5, 5, 0, 7), (12, 40, 30, 45), (1, 2, 1, 2)]
)
def test_fisher_matches_enumeration(table: tuple[int, int, int, int]) -> None:
    odds, p = fisher_exact(*table)
    assert p == pytest.approx(_fisher_by_enumeration(*table), rel=1e-9, abs=1e-12)
    s1, n1, s2, n2 = table
    if 0 not in (s1, n1 - s1, s2, n2 - s2):
        assert odds == pytest.approx(s1 * (n2 - s2) / ((n1 - s1) * s2), rel=1e-12)


@pytest.mark.parametrize("table", [(30, 100, 45, 100), (500, 2000, 270, 1000), (7, 40, 19, 60)])
def test_z_test_matches_formula_and_chi_square(table: tuple[int, int, int, int]) -> None:
    s1, n1, s2, n2 = table
    z, p = two_proportion_z(*table)
    pooled = (s1 + s2) / (n1 + n2)
    textbook = (s1 / n1 - s2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert z == pytest.approx(textbook, rel=1e-12)
    # Two-sided normal tail: 1 - erf(|z| / sqrt 2); and z^2 is Pearson's chi-square (1 dof).
    assert p == pytest.approx(1 - math.erf(abs(textbook) / math.sqrt(2)), rel=1e-9, abs=1e-15)
    chi2 = chi2_contingency(np.array([[s1, n1 - s1], [s2, n2 - s2]]), correction=False)
    assert z * z == pytest.approx(chi2.statistic, rel=1e-9)
    assert p == pytest.approx(chi2.pvalue, rel=1e-9)


def test_expected_count_rule_picks_the_method() -> None:
    # Expected selected in the smaller row: 10 * 8 / 110 < 5 -> Fisher.
    method, _, p, expected = compare_selection(1, 10, 7, 100)
    assert method is SignificanceMethod.FISHER_EXACT and expected < 5
    assert p.value == pytest.approx(_fisher_by_enumeration(1, 10, 7, 100))
    method, statistic, p, expected = compare_selection(30, 100, 45, 100)
    assert method is SignificanceMethod.TWO_PROPORTION_Z and expected >= 5
    assert (statistic.value, p.value) == two_proportion_z(30, 100, 45, 100)
    # Nobody selected anywhere: the z test is undefined, Fisher says p = 1.
    method, statistic, p, _ = compare_selection(0, 50, 0, 50)
    assert method is SignificanceMethod.FISHER_EXACT and p.value == pytest.approx(1.0)
    assert statistic.value is None and statistic.reason


def test_selection_rate_tests_on_engine_results() -> None:
    rng = np.random.default_rng(0)
    race = rng.choice(["a", "b", "c"], 3000, p=[0.7, 0.28, 0.02])
    y_pred = rng.random(3000) < np.where(race == "b", 0.2, 0.35)
    y_true = rng.random(3000) < 0.5
    results = compute_binary_metrics(count_binary(y_true, y_pred, [encode_column("race", race)]))
    (feature,) = selection_rate_tests(results)
    assert feature.reference == ("a",)
    by_group = {test.group: test for test in feature.tests}
    assert set(by_group) == {("b",), ("c",)}
    a = race == "a"
    for name, test in by_group.items():
        rows = race == name[0]
        expected = compare_selection(
            int(y_pred[rows].sum()), int(rows.sum()), int(y_pred[a].sum()), int(a.sum())
        )
        assert (test.method, test.statistic, test.p_value) == expected[:3]
    assert by_group[("b",)].p_value.value is not None and by_group[("b",)].p_value.value < 1e-6
    assert feature.to_json()["tests"][0]["method"] == by_group[("b",)].method.value


def test_bad_counts_are_input_errors() -> None:
    with pytest.raises(InputError, match="selected <= count"):
        two_proportion_z(5, 3, 1, 10)


def test_holm_adjustment_matches_its_definition() -> None:
    """Holm-Bonferroni by its textbook definition: the adjusted p of the k-th smallest raw p
    is max over j <= k of min(1, (m - j + 1) p_(j))."""
    from bias_ledger.metrics.model import Value
    from bias_ledger.metrics.significance import SelectionRateTest, SignificanceMethod, holm

    raw = [0.04, 0.001, 0.3, 0.02, 0.5, 0.0101]
    tests = [
        SelectionRateTest(
            (f"g{i}",), 1, 10, SignificanceMethod.TWO_PROPORTION_Z, Value(0.0), Value(p), 5.0
        )
        for i, p in enumerate(raw)
    ]
    adjusted: list[float] = []
    for adjusted_test in holm(tests):
        assert adjusted_test.p_value_holm.value is not None
        adjusted.append(adjusted_test.p_value_holm.value)
    ranked = sorted(raw)
    m = len(raw)
    expected = {}
    for k, p in enumerate(ranked):
        expected[p] = max(min(1.0, (m - j) * ranked[j]) for j in range(k + 1))
    assert adjusted == [expected[p] for p in raw]
    assert all(a >= p for a, p in zip(adjusted, raw, strict=True))
