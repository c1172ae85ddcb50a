"""Independent recomputation of our results with fairlearn's MetricFrame (slow: small data only).

fairlearn and pandas are imported inside :func:`cross_check`, so importing this module is cheap.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import VerificationError
from bias_ledger.metrics import registry
from bias_ledger.metrics.model import FeatureResult, MetricResults, Value

_DISPARITIES = (
    ("between_groups_difference", "difference", "between_groups"),
    ("between_groups_ratio", "ratio", "between_groups"),
    ("to_overall_difference", "difference", "to_overall"),
    ("to_overall_ratio", "ratio", "to_overall"),
)
_MAX_REPORTED = 20

Group = tuple[str, ...]


def _function(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    found: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return found


def _reference(counterpart: registry.Counterpart) -> Callable[..., Any]:
    function = _function(counterpart.function)
    if counterpart.on_labels:
        return lambda y_true, y_pred: float(function(y_true, y_true, **counterpart.keywords))
    return functools.partial(function, **counterpart.keywords)


def _reference_metrics() -> dict[str, Callable[..., Any]]:
    """fairlearn's (and scikit-learn's, as fairlearn uses them) definition of each binary metric
    of the registry that has one."""
    return {
        item.key: _reference(item.counterpart)
        for item in registry.BINARY
        if item.counterpart is not None
    }


class _Comparer:
    """Collects differences between our numbers and fairlearn's."""

    def __init__(self, tolerance: float) -> None:
        self.tolerance = tolerance
        self.problems: list[str] = []

    def check(self, where: str, ours: Value, theirs: Any) -> None:
        expected = float(theirs)
        if ours.value is None:
            # The documented divergence: fairlearn turns 0/0 into 0 (or NaN); we say undefined.
            if math.isnan(expected) or expected == 0:
                return
        elif not math.isnan(expected) and abs(ours.value - expected) <= self.tolerance:
            return
        self.problems.append(f"{where}: ours {ours.value}, fairlearn's {expected}")


def _features(sensitive: Mapping[str, npt.NDArray[Any]], result: FeatureResult) -> Any:
    import pandas as pd

    columns = {name: np.asarray(sensitive[name]) for name in result.features}
    if len(columns) == 1:
        return pd.Series(columns[result.features[0]], name=result.features[0])
    return pd.DataFrame(columns)


def _frame(
    y_true: npt.NDArray[Any],
    y_pred: npt.NDArray[Any],
    sensitive: Mapping[str, npt.NDArray[Any]],
    result: FeatureResult,
) -> Any:
    from fairlearn.metrics import MetricFrame

    return MetricFrame(
        metrics=_reference_metrics(),
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=_features(sensitive, result),
    )


def _check_feature(
    comparer: _Comparer,
    y_true: npt.NDArray[Any],
    y_pred: npt.NDArray[Any],
    sensitive: Mapping[str, npt.NDArray[Any]],
    result: FeatureResult,
) -> None:
    frame = _frame(y_true, y_pred, sensitive, result)
    by_group = frame.by_group.dropna(how="all")
    keys = {
        tuple(str(v) for v in (key if isinstance(key, tuple) else (key,))): key
        for key in by_group.index
    }
    ours = {item.group: item for item in result.groups}
    if set(keys) != set(ours):
        missing = sorted(set(keys) ^ set(ours))[:_MAX_REPORTED]
        comparer.problems.append(f"{result.name}: groups differ from fairlearn's: {missing}")
        return
    for group, item in ours.items():
        for metric in frame.overall.index:
            comparer.check(
                f"{metric} {result.name}={item.label}",
                item.metrics[metric],
                by_group.loc[keys[group], metric],
            )
    small = [item.group for item in result.groups if not item.sufficient]
    if not small:
        _check_disparities(comparer, frame, frame, result)
        _check_summaries(comparer, y_true, y_pred, sensitive, result)
        return
    # Disparities and summaries cover the sufficient groups only: fairlearn's between-groups
    # numbers on those groups' rows are the same quantities (its to-overall ones are not).
    rows = _rows_of(sensitive, result, {item.group for item in result.groups if item.sufficient})
    if rows.any():
        subset = {name: np.asarray(sensitive[name])[rows] for name in result.features}
        sub_frame = _frame(y_true[rows], y_pred[rows], subset, result)
        _check_disparities(comparer, frame, sub_frame, result, to_overall=False)
        _check_summaries(comparer, y_true[rows], y_pred[rows], subset, result)


def _rows_of(
    sensitive: Mapping[str, npt.NDArray[Any]], result: FeatureResult, groups: set[Group]
) -> npt.NDArray[np.bool_]:
    import pandas as pd

    arrays = [np.asarray(sensitive[name]).astype(str) for name in result.features]
    index = pd.MultiIndex.from_arrays(arrays)
    return np.asarray(index.isin(list(groups)), dtype=bool)


def _check_disparities(
    comparer: _Comparer, frame: Any, between: Any, result: FeatureResult, *, to_overall: bool = True
) -> None:
    for metric in frame.overall.index:
        disparity = result.disparity(metric)
        if disparity.excluded_groups:
            continue  # fairlearn counts the 0/0 groups as 0: a different quantity
        for field, method_name, method in _DISPARITIES:
            if method == "to_overall" and not to_overall:
                continue
            source = between if method == "between_groups" else frame
            theirs = getattr(source, method_name)(method=method)[metric]
            comparer.check(f"{metric} {field} {result.name}", getattr(disparity, field), theirs)


def _check_summaries(
    comparer: _Comparer,
    y_true: npt.NDArray[Any],
    y_pred: npt.NDArray[Any],
    sensitive: Mapping[str, npt.NDArray[Any]],
    result: FeatureResult,
) -> None:
    features = _features(sensitive, result)
    for summary in registry.SUMMARIES:
        name = summary.key
        if any(result.disparity(metric).excluded_groups for metric in summary.parts):
            continue
        if result.summaries[name].value is None:
            continue  # a part is 0/0; fairlearn's min/max over NaN depends on part order
        theirs = _function(summary.counterpart)(y_true, y_pred, sensitive_features=features)
        comparer.check(f"{name} {result.name}", result.summaries[name], theirs)


def cross_check(
    y_true: npt.NDArray[Any],
    y_pred: npt.NDArray[Any],
    sensitive: Mapping[str, npt.NDArray[Any]],
    results: MetricResults,
    *,
    tolerance: float = 1e-12,
) -> None:
    """Recompute every metric, disparity and summary fairlearn defines; raise on any difference.

    ``sensitive`` maps each feature to its raw values; groups are matched by ``str(value)``.
    Not compared, because fairlearn does not define them: the metrics the registry declares
    without a counterpart (false discovery and omission rates),
    comparisons to the reference group, impact ratios, and disparities over groups where a
    metric is undefined (fairlearn counts those groups as 0), to-overall disparities when some
    groups are insufficient (below ``min_group_size``; between-groups ones and summaries are
    then compared with fairlearn on the sufficient groups' rows), and summaries we report undefined
    because a part is 0/0 (fairlearn's builtin ``min``/``max`` over NaN depends on part order).
    """
    import warnings

    if not results.features:
        raise VerificationError("nothing to cross-check: the results have no sensitive feature")
    y_true = np.asarray(y_true).astype(np.int64)
    y_pred = np.asarray(y_pred).astype(np.int64)
    comparer = _Comparer(tolerance)
    with warnings.catch_warnings():
        # scikit-learn warns about single-class groups; those are expected here.
        warnings.simplefilter("ignore")
        overall = _frame(y_true, y_pred, sensitive, results.features[0]).overall
        for metric in overall.index:
            comparer.check(f"{metric} overall", results.overall.metrics[metric], overall[metric])
        for result in results.features:
            _check_feature(comparer, y_true, y_pred, sensitive, result)
    if comparer.problems:
        shown = "; ".join(comparer.problems[:_MAX_REPORTED])
        more = len(comparer.problems) - _MAX_REPORTED
        suffix = f"; and {more} more" if more > 0 else ""
        raise VerificationError(
            f"{len(comparer.problems)} result(s) differ from fairlearn's: {shown}{suffix}"
        )
