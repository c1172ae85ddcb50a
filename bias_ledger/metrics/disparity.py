"""Disparities of one metric across groups, computed exactly as fairlearn's MetricFrame does.

Only groups where the metric is defined take part; the others are listed as excluded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bias_ledger.metrics.model import (
    FOUR_FIFTHS,
    Disparity,
    GroupMetrics,
    ImpactDenominator,
    ImpactRatio,
    ReferenceComparison,
    Value,
)

Group = tuple[str, ...]


def finite_value(value: float, what: str) -> Value:
    """``value``, or undefined when it is no float64 (a difference of regression values beyond
    the largest one: inf, never written)."""
    if math.isfinite(value):
        return Value(value)
    return Value(None, reason=f"{what} overflows a 64-bit float")


def _empty(metric: str, reason: str | None) -> tuple[Value, Value]:
    reason = reason or f"{metric} is undefined for every group"
    return Value(None, reason=reason), Value(None, reason=reason)


def between_groups(
    metric: str, values: Sequence[float], empty: str | None = None
) -> tuple[Value, Value]:
    """(max - min, min / max), fairlearn's ``method="between_groups"``; ``empty``: why no values."""
    if not values:
        return _empty(metric, empty)
    low, high = min(values), max(values)
    # fairlearn takes max(|x - min|); x - min is monotone in x, so this is max - min exactly.
    difference = finite_value(high - low, f"the difference of {metric}")
    if high == 0:
        return difference, Value(None, reason=f"0/0: {metric} is 0 for every group")
    return difference, finite_value(low / high, f"the ratio of {metric}")


def to_overall(
    metric: str, values: Sequence[float], overall: Value, empty: str | None = None
) -> tuple[Value, Value]:
    """(max |x - overall|, min over x of x/overall folded below 1), ``method="to_overall"``."""
    if not values:
        return _empty(metric, empty)
    if overall.value is None:
        reason = f"overall {metric} is undefined ({overall.reason})"
        return Value(None, reason=reason), Value(None, reason=reason)
    base = overall.value
    difference = finite_value(
        max(abs(value - base) for value in values), f"the difference of {metric} to overall"
    )
    ratios = []
    for value in values:
        if base == 0:
            # x/0 is inf (folded to 1/inf = 0) unless x is 0 too: NaN, which pandas' min skips.
            if value != 0:
                ratios.append(0.0)
            continue
        ratio = value / base
        if math.isinf(ratio):
            ratios.append(0.0)  # 1/inf, as a ratio beyond any float64 folds
            continue
        # fairlearn folds with 1/ratio, not base/value: the two can differ in the last bit.
        ratios.append(1 / ratio if ratio > 1 else ratio)
    if not ratios:
        return difference, Value(None, reason=f"0/0: overall {metric} and every group's are 0")
    return difference, Value(min(ratios))


def to_reference(
    metric: str, groups: Sequence[GroupMetrics], reference: GroupMetrics
) -> tuple[ReferenceComparison, ...]:
    """Each group's difference and ratio to the reference group's value."""
    base = reference.metrics[metric]
    comparisons = []
    for item in groups:
        value = item.metrics[metric]
        if value.value is None or base.value is None:
            who = item.label if value.value is None else f"reference {reference.label}"
            reason = f"{metric} of {who} is undefined"
            difference = ratio = Value(None, reason=reason)
        else:
            difference = finite_value(value.value - base.value, f"the difference of {metric}")
            ratio = (
                finite_value(value.value / base.value, f"the ratio of {metric}")
                if base.value != 0
                else Value(None, reason=f"{metric} of reference {reference.label} is 0")
            )
        comparisons.append(ReferenceComparison(item.group, difference, ratio))
    return tuple(comparisons)


def disparity(
    metric: str, groups: Sequence[GroupMetrics], overall: GroupMetrics, reference: GroupMetrics
) -> Disparity:
    """All disparities of one metric.

    Between groups and to overall use the groups where the metric is defined (the others are
    listed as excluded) and that are large enough (``sufficient``); every group keeps its
    comparison with the reference group.
    """
    defined = [item for item in groups if item.metrics[metric].value is not None]
    used = [item for item in defined if item.sufficient]
    values = [float(item.metrics[metric].value or 0.0) for item in used]
    empty = f"no group with a defined {metric} has enough rows" if defined else None
    bg_difference, bg_ratio = between_groups(metric, values, empty)
    to_difference, to_ratio = to_overall(metric, values, overall.metrics[metric], empty)
    return Disparity(
        metric=metric,
        between_groups_difference=bg_difference,
        between_groups_ratio=bg_ratio,
        to_overall_difference=to_difference,
        to_overall_ratio=to_ratio,
        to_reference=to_reference(metric, groups, reference),
        excluded_groups=tuple(item.group for item in groups if item.metrics[metric].value is None),
    )


def impact_ratios(
    groups: Sequence[GroupMetrics],
    rule: ImpactDenominator = ImpactDenominator.MOST_SELECTED_SUFFICIENT,
) -> tuple[tuple[ImpactRatio, ...], Group | None]:
    """Each group's selection rate over the denominator group's, flagged below four fifths;
    and the denominator group.

    The denominator is the most-selected group with enough rows (the first of equal rates):
    a group of a handful of rows would otherwise set the bar for everyone, and one extra row
    could flip every verdict. Groups without enough rows are shown with their ratio but not
    judged (``below_four_fifths`` None). ``MOST_SELECTED`` is the rule of records before 0.2.
    """
    legacy = rule is ImpactDenominator.MOST_SELECTED
    candidates = [
        item
        for item in groups
        if item.metrics["selection_rate"].value is not None and (legacy or item.sufficient)
    ]
    denominator = max(
        candidates, key=lambda item: item.metrics["selection_rate"].value or 0.0, default=None
    )
    highest = None if denominator is None else denominator.metrics["selection_rate"].value
    results = []
    for item in groups:
        rate = item.metrics["selection_rate"]
        flag: bool | None = None
        if denominator is None and any(g.metrics["selection_rate"].defined for g in groups):
            ratio = Value(None, reason="no group with enough rows to be the denominator")
        elif rate.value is None or not highest:
            why = "no group was selected" if highest == 0 else "selection rate undefined"
            ratio = Value(None, reason=f"0/0: {why}")
        else:
            ratio = Value(rate.value / highest)
            if legacy or item.sufficient:
                flag = ratio.value is not None and ratio.value < FOUR_FIFTHS
        results.append(ImpactRatio(item.group, rate, ratio, flag, sufficient=item.sufficient))
    return tuple(results), (denominator.group if denominator is not None and highest else None)
