"""Significance of selection-rate disparities: each group's rate against the reference group's.

Each comparison is a 2x2 table (group / reference x selected / not selected). The two-proportion
z test (pooled variance, two-sided) is used when every expected cell count is at least
:data:`MIN_EXPECTED_COUNT` (Cochran's rule for the normal approximation); otherwise Fisher's
exact test (two-sided, as ``scipy.stats.fisher_exact`` computes it:
:mod:`bias_ledger.metrics.fisher`). No correction for multiple comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from bias_ledger.errors import InputError
from bias_ledger.metrics.fisher import fisher_two_sided
from bias_ledger.metrics.model import ConfusionCounts, FeatureResult, MetricResults, Value

MIN_EXPECTED_COUNT = 5.0
"""Below this expected count in any cell of the 2x2 table, Fisher's exact test is used."""


class SignificanceMethod(StrEnum):
    """The test used for one comparison."""

    TWO_PROPORTION_Z = "two_proportion_z"
    FISHER_EXACT = "fisher_exact"


@dataclass(frozen=True)
class SelectionRateTest:
    """One group's selection rate tested against the reference group's."""

    group: tuple[str, ...]
    """The group compared with the reference."""
    selected: int
    """Rows of the group predicted positive."""
    count: int
    """Rows of the group."""
    method: SignificanceMethod
    """z test, or Fisher's exact test when an expected count is small."""
    statistic: Value
    """z (group minus reference) for the z test; the sample odds ratio for Fisher's test."""
    p_value: Value
    """Two-sided p-value of "same selection rate as the reference"."""
    min_expected_count: float
    """Smallest expected cell count of the 2x2 table under equal rates (chose the method)."""
    p_value_holm: Value = Value(None, reason="not adjusted")
    """The p-value adjusted for testing every group of the feature (Holm-Bonferroni): the one
    to read when asking whether *any* group differs."""

    def to_json(self) -> dict[str, Any]:
        return {
            "group": list(self.group),
            "selected": self.selected,
            "count": self.count,
            "method": self.method.value,
            "statistic": self.statistic.to_json(),
            "p_value": self.p_value.to_json(),
            "p_value_holm": self.p_value_holm.to_json(),
            "min_expected_count": self.min_expected_count,
        }


@dataclass(frozen=True)
class FeatureSignificance:
    """Tests of every non-reference group of one feature (or intersection)."""

    features: tuple[str, ...]
    """Sensitive feature names; more than one for an intersection."""
    reference: tuple[str, ...]
    """The reference group."""
    reference_selected: int
    """Rows of the reference group predicted positive."""
    reference_count: int
    """Rows of the reference group."""
    tests: tuple[SelectionRateTest, ...]
    """One per other group, in the order of the feature result's groups."""

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "reference": list(self.reference),
            "reference_selected": self.reference_selected,
            "reference_count": self.reference_count,
            "tests": [item.to_json() for item in self.tests],
        }


def _check(selected: int, count: int) -> None:
    if count <= 0 or not 0 <= selected <= count:
        raise InputError(f"need 0 <= selected <= count and count > 0, got {selected} of {count}")


def min_expected_count(s1: int, n1: int, s2: int, n2: int) -> float:
    """Smallest expected count of the 2x2 table [[s1, n1 - s1], [s2, n2 - s2]] under equal rates."""
    total, selected = n1 + n2, s1 + s2
    return min(n1, n2) * min(selected, total - selected) / total


def two_proportion_z(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """(z, two-sided p) of the pooled two-proportion z test of s1/n1 against s2/n2."""
    _check(s1, n1)
    _check(s2, n2)
    pooled = (s1 + s2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance == 0:
        raise InputError("the z test needs some selected and some unselected rows, found none")
    z = (s1 / n1 - s2 / n2) / math.sqrt(variance)
    return z, math.erfc(abs(z) / math.sqrt(2))


def fisher_exact(s1: int, n1: int, s2: int, n2: int) -> tuple[float, float]:
    """(sample odds ratio, two-sided p) of Fisher's exact test; the ratio may be inf or NaN."""
    _check(s1, n1)
    _check(s2, n2)
    return fisher_two_sided(s1, n1 - s1, s2, n2 - s2)


def compare_selection(
    s1: int, n1: int, s2: int, n2: int, *, min_expected: float = MIN_EXPECTED_COUNT
) -> tuple[SignificanceMethod, Value, Value, float]:
    """Test s1/n1 against s2/n2 with the method the expected-count rule picks."""
    _check(s1, n1)
    _check(s2, n2)
    expected = min_expected_count(s1, n1, s2, n2)
    if expected >= min_expected and expected > 0:
        z, p = two_proportion_z(s1, n1, s2, n2)
        return SignificanceMethod.TWO_PROPORTION_Z, Value(z), Value(p), expected
    odds, p = fisher_exact(s1, n1, s2, n2)
    statistic = (
        Value(odds)
        if math.isfinite(odds)
        else Value(None, reason="odds ratio undefined: a cell of the 2x2 table is 0")
    )
    return SignificanceMethod.FISHER_EXACT, statistic, Value(p), expected


def _selected(counts: ConfusionCounts) -> int:
    return _whole(counts.true_positives + counts.false_positives)


def _whole(count: int | float) -> int:
    # The tests model row counts; weight sums (--weight) are not counts of independent rows.
    if not isinstance(count, int):
        raise InputError(
            "selection-rate tests need row counts; a weighted audit (--weight) has none"
        )
    return count


def feature_significance(
    result: FeatureResult, *, min_expected: float = MIN_EXPECTED_COUNT
) -> FeatureSignificance:
    """Every non-reference group of one feature result tested against its reference group."""
    reference = result.group(result.reference).counts
    s2, n2 = _selected(reference), _whole(reference.total)
    tests = []
    for item in result.groups:
        if item.group == result.reference:
            continue
        s1, n1 = _selected(item.counts), _whole(item.counts.total)
        method, statistic, p, expected = compare_selection(
            s1, n1, s2, n2, min_expected=min_expected
        )
        tests.append(SelectionRateTest(item.group, s1, n1, method, statistic, p, expected))
    return FeatureSignificance(result.features, result.reference, s2, n2, holm(tests))


def holm(tests: Sequence[SelectionRateTest]) -> tuple[SelectionRateTest, ...]:
    """The tests with Holm-Bonferroni adjusted p-values (step-down, kept monotone, at most 1)."""
    order = sorted(range(len(tests)), key=lambda i: float(tests[i].p_value.value or 0.0))
    adjusted = [0.0] * len(tests)
    running = 0.0
    for rank, index in enumerate(order):
        raw = float(tests[index].p_value.value or 0.0)
        running = max(running, min(1.0, (len(tests) - rank) * raw))
        adjusted[index] = running
    return tuple(
        replace(test, p_value_holm=Value(value))
        for test, value in zip(tests, adjusted, strict=True)
    )


def selection_rate_tests(
    results: MetricResults, *, min_expected: float = MIN_EXPECTED_COUNT
) -> tuple[FeatureSignificance, ...]:
    """Selection-rate tests against the reference group, for every feature result."""
    if min_expected < 0:
        raise InputError(f"the minimum expected count must be >= 0, got {min_expected}")
    return tuple(feature_significance(f, min_expected=min_expected) for f in results.features)
