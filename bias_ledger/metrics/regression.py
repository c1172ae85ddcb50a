"""Regression fairness metrics per group, from per-group sufficient statistics.

Exact per-group sums (:mod:`bias_ledger.metrics.regression_sums`: n, sum prediction, sum label,
sum e, sum |e|, sum e^2, with the residual e = prediction - label), built batch by batch and
merged by addition, then every metric and disparity from those sums.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics import registry
from bias_ledger.metrics._cells import intersection, overall, regroupings
from bias_ledger.metrics._rowgroups import check_sensitive
from bias_ledger.metrics.disparity import between_groups, finite_value, to_overall
from bias_ledger.metrics.model import Disparity, ReferenceComparison, SensitiveColumn, Value
from bias_ledger.metrics.regression_results import (
    REGRESSION_GROUP_METRICS,
    RegressionFeatureResult,
    RegressionGroup,
    RegressionResults,
)
from bias_ledger.metrics.regression_sums import QUANTITIES, Overflow, RegressionSums

Group = tuple[str, ...]
Stats = npt.NDArray[np.float64]
BATCH_ROWS = 1 << 20
"""Rows per batch when the rows are in memory."""


def _formula(item: registry.Metric) -> Callable[[Mapping[str, float]], float]:
    assert item.sums is not None, item.key  # every regression metric has one (test_registry)
    return item.sums


def _group(group: Group, sums: RegressionSums, g: int, min_size: int) -> RegressionGroup:
    n = int(sums.rows[g])
    if sums.weights is not None and sums.weights.units(g) == 0:
        # Its weighted means are 0/0, and regression disparities need every group's value.
        label = ", ".join(group) if group else "overall"
        raise InputError(
            f"group {label!r} has sample weights that sum to 0 ({n} rows): its weighted "
            "regression metrics are undefined; give it a positive weight or leave it out"
        )
    # The formulas are the registry's, over the group's means of the summed quantities; a
    # metric reading a mean that is no float (an overflowed squared error) is undefined.
    means: dict[str, float | Overflow] = {"n": n}
    for quantity in QUANTITIES:
        try:
            means[quantity] = sums.mean(g, quantity)
        except Overflow as overflow:
            means[quantity] = overflow
    metrics = {item.key: _value(_formula(item), means) for item in registry.REGRESSION}
    return RegressionGroup(group, n, metrics, sufficient=n >= min_size)


class _Means(Mapping[str, float]):
    """A group's means as a formula reads them: reading one that overflowed raises it."""

    def __init__(self, means: Mapping[str, float | Overflow]) -> None:
        self._means = means

    def __getitem__(self, key: str) -> float:
        mean = self._means[key]
        if isinstance(mean, Overflow):
            raise mean
        return mean

    def __iter__(self) -> Iterator[str]:
        return iter(self._means)

    def __len__(self) -> int:
        return len(self._means)


def _value(
    formula: Callable[[Mapping[str, float]], float], means: Mapping[str, float | Overflow]
) -> Value:
    try:
        return finite_value(formula(_Means(means)), "the metric")
    except Overflow as overflow:
        return Value(None, reason=overflow.reason)


def _comparisons(
    metric: str, groups: Sequence[RegressionGroup], reference: RegressionGroup
) -> tuple[ReferenceComparison, ...]:
    # As :func:`disparity.to_reference`, with the values as floats (``count`` is an integer).
    base = reference.metrics[metric].value
    out = []
    for item in groups:
        value = item.metrics[metric].value
        if value is None or base is None:
            who = item.label if value is None else f"reference {reference.label}"
            difference = ratio = Value(None, reason=f"{metric} of {who} is undefined")
        else:
            difference = finite_value(float(value) - float(base), f"the difference of {metric}")
            ratio = (
                finite_value(float(value) / float(base), f"the ratio of {metric}")
                if base != 0
                else Value(None, reason=f"{metric} of reference {reference.label} is 0")
            )
        out.append(ReferenceComparison(item.group, difference, ratio))
    return tuple(out)


def _disparity(
    metric: str,
    groups: Sequence[RegressionGroup],
    overall: RegressionGroup,
    reference: RegressionGroup,
) -> Disparity:
    # A regression metric is undefined only where a row's value overflowed a float64: such
    # groups are excluded, and so are small groups (as the binary engine does: they keep their
    # comparison with the reference).
    defined = [item for item in groups if item.metrics[metric].value is not None]
    values = [
        value
        for item in defined
        if item.sufficient and (value := item.metrics[metric].value) is not None
    ]
    empty = f"no group has enough rows for {metric}" if defined else None
    bg_difference, bg_ratio = between_groups(metric, values, empty)
    to_difference, to_ratio = to_overall(metric, values, overall.metrics[metric], empty)
    return Disparity(
        metric=metric,
        between_groups_difference=bg_difference,
        between_groups_ratio=bg_ratio,
        to_overall_difference=to_difference,
        to_overall_ratio=to_ratio,
        to_reference=_comparisons(metric, groups, reference),
        excluded_groups=tuple(item.group for item in groups if item.metrics[metric].value is None),
    )


def _reference(
    features: tuple[str, ...],
    groups: Sequence[RegressionGroup],
    wanted: Group | None,
    explicit: bool,
) -> RegressionGroup:
    for item in groups:
        if item.group == wanted:
            return item
    if explicit:
        names = "; ".join(item.label for item in groups[:20])
        raise InputError(
            f"reference group {wanted[0] if wanted else wanted!r} of sensitive feature "
            f"{features[0]!r} was not found; groups available: {names}"
        )
    # The largest group; the first in sorted order on ties.
    return max(groups, key=lambda item: item.count)


def _check(y_true: Stats, y_pred: Stats, min_group_size: int) -> None:
    for name, array in (("label", y_true), ("prediction", y_pred)):
        if array.ndim != 1 or not np.issubdtype(array.dtype, np.number):
            raise InputError(f"{name} must be a 1-d numeric array, got {array.dtype} {array.shape}")
        if not np.isfinite(array).all():
            bad = np.flatnonzero(~np.isfinite(array))
            raise InputError(
                f"{name} must be finite; {len(bad)} rows are not (first rows: {bad[:5].tolist()})"
            )
    if len(y_true) != len(y_pred):
        raise InputError(f"prediction has {len(y_pred)} rows, expected {len(y_true)}")
    if len(y_true) == 0:
        raise InputError("no rows to audit")
    if min_group_size < 0:
        raise InputError(f"the minimum group size must be >= 0, got {min_group_size}")


def regression_metrics(
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    sensitive: Sequence[SensitiveColumn],
    *,
    references: Mapping[str, str] | None = None,
    min_group_size: int = 0,
    batch_rows: int = BATCH_ROWS,
    sample_weight: npt.NDArray[np.float64] | None = None,
) -> RegressionResults:
    """Per-group count, MAE, RMSE, mean prediction and mean residual, with their disparities.

    The rows are summed per intersection group ``batch_rows`` at a time
    (:class:`RegressionSums`), then :func:`regression_results`. With ``sample_weight`` the
    means are weighted (sklearn's ``sample_weight``); ``count`` stays the rows.
    """
    labels = np.asarray(y_true, dtype=np.float64)
    predictions = np.asarray(y_pred, dtype=np.float64)
    _check(labels, predictions, min_group_size)
    check_sensitive(sensitive, len(labels))
    grouping = intersection(sensitive)
    sums = RegressionSums()
    for start in range(0, len(labels), batch_rows):
        part = slice(start, start + batch_rows)
        weights = sample_weight[part] if sample_weight is not None else None
        sums.add(grouping.codes[part], labels[part], predictions[part], weights)
    return regression_results(
        sums,
        sensitive,
        grouping.groups,
        references=references,
        min_group_size=min_group_size,
    )


def regression_results(
    sums: RegressionSums,
    sensitive: Sequence[SensitiveColumn],
    groups: Sequence[Group],
    *,
    references: Mapping[str, str] | None = None,
    min_group_size: int = 0,
) -> RegressionResults:
    """Regression metrics and disparities from sums keyed by the intersection ``groups``.

    Each feature on its own, then the intersection of all of them (two or more). ``references``
    maps a feature to its reference group (default: its largest group); the intersection's is
    the combination of those when observed, else its largest group. Groups with fewer than
    ``min_group_size`` rows are marked insufficient and left out of between-groups and
    to-overall disparities (they keep their comparison with the reference).
    """
    if min_group_size < 0:
        raise InputError(f"the minimum group size must be >= 0, got {min_group_size}")
    references = dict(references or {})
    names = [column.name for column in sensitive]
    unknown = [name for name in references if name not in names]
    if unknown:
        raise InputError(
            f"reference given for {unknown[0]!r}, which is not a sensitive feature "
            f"(sensitive features: {', '.join(names)})"
        )
    everyone = overall(groups)
    overall_group = _group((), sums.regrouped(everyone.members.tolist(), 1), 0, 0)
    features: list[RegressionFeatureResult] = []
    notes: list[str] = []
    chosen: list[str] = []
    for grouping in regroupings(sensitive, groups):
        summed = sums.regrouped(grouping.members.tolist(), len(grouping.groups))
        items = [_group(g, summed, i, min_group_size) for i, g in enumerate(grouping.groups)]
        single = len(grouping.features) == 1
        explicit = single and grouping.features[0] in references
        wanted = (
            (references[grouping.features[0]],) if explicit else None if single else tuple(chosen)
        )
        reference = _reference(grouping.features, items, wanted, explicit)
        if single:
            chosen.append(reference.group[0])
        result = RegressionFeatureResult(
            features=grouping.features,
            reference=reference.group,
            groups=tuple(items),
            disparities=tuple(
                _disparity(metric, items, overall_group, reference)
                for metric in REGRESSION_GROUP_METRICS
            ),
        )
        features.append(result)
        small = [item.label for item in items if not item.sufficient]
        if small:
            notes.append(
                f"{result.name}: {len(small)} group(s) with fewer than {min_group_size} rows "
                f"({'; '.join(small[:20])}) are insufficient data, left out of the "
                f"between-groups and to-overall disparities (kept in the comparisons to the "
                f"reference group)"
            )
    return RegressionResults(overall=overall_group, features=tuple(features), notes=tuple(notes))
