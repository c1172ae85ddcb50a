"""Regression fairness metrics per group, from per-group sufficient statistics.

One weighted ``np.bincount`` per statistic (n, sum |e|, sum e^2, sum prediction, sum e, with
the residual e = prediction - label), then every metric and disparity from those sums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics import registry
from bias_ledger.metrics._rowgroups import RowGrouping, check_sensitive, feature_groupings
from bias_ledger.metrics.disparity import between_groups, to_overall
from bias_ledger.metrics.model import Disparity, ReferenceComparison, SensitiveColumn, Value
from bias_ledger.metrics.regression_results import (
    REGRESSION_GROUP_METRICS,
    RegressionFeatureResult,
    RegressionGroup,
    RegressionResults,
)

Group = tuple[str, ...]
Stats = npt.NDArray[np.float64]
"""Shape ``(G, 5)``: n, sum |e|, sum e^2, sum prediction, sum e."""


def _sums(codes: npt.NDArray[np.int64], n_groups: int, y_pred: Stats, error: Stats) -> Stats:
    columns = [
        np.bincount(codes, minlength=n_groups).astype(np.float64),
        np.bincount(codes, weights=np.abs(error), minlength=n_groups),
        np.bincount(codes, weights=error * error, minlength=n_groups),
        np.bincount(codes, weights=y_pred, minlength=n_groups),
        np.bincount(codes, weights=error, minlength=n_groups),
    ]
    return np.column_stack(columns)


def _group(group: Group, row: Stats, min_size: int) -> RegressionGroup:
    sums = dict(zip(registry.REGRESSION_SUMS, (float(v) for v in row), strict=True))
    metrics = {
        item.key: Value(int(sums["n"]) if item.key == "count" else item.sums(sums))
        for item in registry.REGRESSION
        if item.sums is not None
    }
    return RegressionGroup(group, int(sums["n"]), metrics, sufficient=sums["n"] >= min_size)


def _comparisons(
    metric: str, groups: Sequence[RegressionGroup], reference: RegressionGroup
) -> tuple[ReferenceComparison, ...]:
    base = float(reference.metrics[metric].value or 0.0)
    out = []
    for item in groups:
        value = float(item.metrics[metric].value or 0.0)
        ratio = (
            Value(value / base)
            if base != 0
            else Value(None, reason=f"{metric} of reference {reference.label} is 0")
        )
        out.append(ReferenceComparison(item.group, Value(value - base), ratio))
    return tuple(out)


def _disparity(
    metric: str,
    groups: Sequence[RegressionGroup],
    overall: RegressionGroup,
    reference: RegressionGroup,
) -> Disparity:
    # Every regression metric is defined for a non-empty group; only small groups are left out
    # (as the binary engine does: they keep their comparison with the reference).
    used = [item for item in groups if item.sufficient]
    values = [float(item.metrics[metric].value or 0.0) for item in used]
    empty = f"no group has enough rows for {metric}"
    bg_difference, bg_ratio = between_groups(metric, values, empty)
    to_difference, to_ratio = to_overall(metric, values, overall.metrics[metric], empty)
    return Disparity(
        metric=metric,
        between_groups_difference=bg_difference,
        between_groups_ratio=bg_ratio,
        to_overall_difference=to_difference,
        to_overall_ratio=to_ratio,
        to_reference=_comparisons(metric, groups, reference),
    )


def _reference(
    grouping: RowGrouping, groups: Sequence[RegressionGroup], wanted: Group | None, explicit: bool
) -> RegressionGroup:
    for item in groups:
        if item.group == wanted:
            return item
    if explicit:
        names = "; ".join(item.label for item in groups[:20])
        raise InputError(
            f"reference group {wanted[0] if wanted else wanted!r} of sensitive feature "
            f"{grouping.features[0]!r} was not found; groups available: {names}"
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
) -> RegressionResults:
    """Per-group count, MAE, RMSE, mean prediction and mean residual, with their disparities.

    Each feature on its own, then the intersection of all of them (two or more). ``references``
    maps a feature to its reference group (default: its largest group); the intersection's is
    the combination of those when observed, else its largest group. Groups with fewer than
    ``min_group_size`` rows are marked insufficient and left out of between-groups and
    to-overall disparities (they keep their comparison with the reference).
    """
    labels = np.asarray(y_true, dtype=np.float64)
    predictions = np.asarray(y_pred, dtype=np.float64)
    _check(labels, predictions, min_group_size)
    check_sensitive(sensitive, len(labels))
    references = dict(references or {})
    names = [column.name for column in sensitive]
    unknown = [name for name in references if name not in names]
    if unknown:
        raise InputError(
            f"reference given for {unknown[0]!r}, which is not a sensitive feature "
            f"(sensitive features: {', '.join(names)})"
        )
    error = predictions - labels
    overall = _group((), _sums(np.zeros(len(labels), np.int64), 1, predictions, error)[0], 0)
    features: list[RegressionFeatureResult] = []
    notes: list[str] = []
    chosen: list[str] = []
    for grouping in feature_groupings(sensitive):
        stats = _sums(grouping.codes, len(grouping.groups), predictions, error)
        groups = [
            _group(g, row, min_group_size) for g, row in zip(grouping.groups, stats, strict=True)
        ]
        single = len(grouping.features) == 1
        explicit = single and grouping.features[0] in references
        wanted = (
            (references[grouping.features[0]],) if explicit else None if single else tuple(chosen)
        )
        reference = _reference(grouping, groups, wanted, explicit)
        if single:
            chosen.append(reference.group[0])
        result = RegressionFeatureResult(
            features=grouping.features,
            reference=reference.group,
            groups=tuple(groups),
            disparities=tuple(
                _disparity(metric, groups, overall, reference)
                for metric in REGRESSION_GROUP_METRICS
            ),
        )
        features.append(result)
        small = [item.label for item in groups if not item.sufficient]
        if small:
            notes.append(
                f"{result.name}: {len(small)} group(s) with fewer than {min_group_size} rows "
                f"({'; '.join(small[:20])}) are insufficient data, left out of the "
                f"between-groups and to-overall disparities (kept in the comparisons to the "
                f"reference group)"
            )
    return RegressionResults(overall=overall, features=tuple(features), notes=tuple(notes))
