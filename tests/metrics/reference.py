"""fairlearn as the reference for the metric tests: data generators and strict comparisons."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import sklearn.metrics as skm
from fairlearn import metrics as flm

from bias_ledger.metrics.counts import count_binary, encode_column
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.model import FeatureResult, MetricResults, Value

Arrays = dict[str, npt.NDArray[Any]]

# The per-group metrics fairlearn (or scikit-learn, as fairlearn uses it) defines.
FAIRLEARN_METRICS: dict[str, Any] = {
    "count": flm.count,
    "selection_rate": flm.selection_rate,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "true_negative_rate": flm.true_negative_rate,
    "false_negative_rate": flm.false_negative_rate,
    "accuracy_score": skm.accuracy_score,
}
SUMMARIES = {
    "demographic_parity": ("selection_rate",),
    "equalized_odds": ("true_positive_rate", "false_positive_rate"),
    "equal_opportunity": ("true_positive_rate",),
}


def audit(
    y_true: npt.NDArray[np.bool_], y_pred: npt.NDArray[np.bool_], sensitive: Arrays, **kwargs: Any
) -> MetricResults:
    columns = [encode_column(name, values) for name, values in sensitive.items()]
    return compute_binary_metrics(count_binary(y_true, y_pred, columns), **kwargs)


def _features(sensitive: Arrays, names: tuple[str, ...]) -> Any:
    if len(names) == 1:
        return pd.Series(sensitive[names[0]], name=names[0])
    return pd.DataFrame({name: sensitive[name] for name in names})


def _frame(y_true: Any, y_pred: Any, features: Any) -> flm.MetricFrame:
    return flm.MetricFrame(
        metrics=FAIRLEARN_METRICS, y_true=y_true, y_pred=y_pred, sensitive_features=features
    )


def _same(ours: Value, theirs: Any) -> bool:
    """Bit-identical, or both undefined (fairlearn's NaN)."""
    expected = float(theirs)
    if ours.value is None:
        return math.isnan(expected)
    return ours.value == expected


def assert_feature_agrees(
    y_true: npt.NDArray[np.int64],
    y_pred: npt.NDArray[np.int64],
    sensitive: Arrays,
    result: FeatureResult,
) -> None:
    frame = _frame(y_true, y_pred, _features(sensitive, result.features))
    by_group = frame.by_group.dropna(how="all")
    labels = [tuple(str(v) for v in (k if isinstance(k, tuple) else (k,))) for k in by_group.index]
    # Same observed groups, in the same order as fairlearn's by_group.
    assert [item.group for item in result.groups] == labels
    for item, (_, row) in zip(result.groups, by_group.iterrows(), strict=True):
        for metric in FAIRLEARN_METRICS:
            ours = item.metrics[metric]
            if ours.value is None:
                # Our undefined is fairlearn's silent 0, and only where a denominator is empty.
                assert row[metric] == 0, (metric, item.group)
                assert "0/0" in str(ours.reason)
            else:
                assert ours.value == row[metric], (metric, item.group, ours, row[metric])
    for metric in FAIRLEARN_METRICS:
        disparity = result.disparity(metric)
        if disparity.excluded_groups:
            _assert_between_groups_on_defined(y_true, y_pred, sensitive, result, metric)
            continue
        for method in ("between_groups", "to_overall"):
            assert _same(
                getattr(disparity, f"{method}_difference"), frame.difference(method=method)[metric]
            ), (metric, method)
            assert _same(
                getattr(disparity, f"{method}_ratio"), frame.ratio(method=method)[metric]
            ), (metric, method)
    features = _features(sensitive, result.features)
    for prefix, metrics in SUMMARIES.items():
        if any(result.disparity(metric).excluded_groups for metric in metrics):
            continue
        for suffix in ("difference", "ratio"):
            name = f"{prefix}_{suffix}"
            theirs = getattr(flm, name)(y_true, y_pred, sensitive_features=features)
            if result.summaries[name].value is None:
                # A part is 0/0 (every group at 0); fairlearn's builtin min/max over its NaN
                # depends on the order of the parts, so we say undefined instead.
                field = f"between_groups_{suffix}"
                assert any(getattr(result.disparity(m), field).value is None for m in metrics)
                continue
            assert _same(result.summaries[name], theirs), (name, result.summaries[name], theirs)


def _assert_between_groups_on_defined(
    y_true: npt.NDArray[np.int64],
    y_pred: npt.NDArray[np.int64],
    sensitive: Arrays,
    result: FeatureResult,
    metric: str,
) -> None:
    """Our disparity over defined groups equals fairlearn's on the rows of those groups."""
    disparity = result.disparity(metric)
    defined = {item.group for item in result.groups} - set(disparity.excluded_groups)
    keys = zip(*(sensitive[name].astype(str) for name in result.features), strict=True)
    rows = np.array([key in defined for key in keys], dtype=bool)
    if not rows.any():
        assert disparity.between_groups_difference.value is None
        return
    subset = {name: values[rows] for name, values in sensitive.items()}
    frame = _frame(y_true[rows], y_pred[rows], _features(subset, result.features))
    assert _same(disparity.between_groups_difference, frame.difference()[metric])
    assert _same(disparity.between_groups_ratio, frame.ratio()[metric])


def assert_agrees_with_fairlearn(
    y_true: npt.NDArray[np.bool_],
    y_pred: npt.NDArray[np.bool_],
    sensitive: Arrays,
    results: MetricResults | None = None,
) -> MetricResults:
    """Compute our results (unless given) and compare everything fairlearn defines, exactly."""
    results = results or audit(y_true, y_pred, sensitive)
    truth, pred = y_true.astype(np.int64), y_pred.astype(np.int64)
    frame = _frame(truth, pred, _features(sensitive, (next(iter(sensitive)),)))
    for metric in FAIRLEARN_METRICS:
        ours = results.overall.metrics[metric]
        assert ours.value == frame.overall[metric] or (
            ours.value is None and frame.overall[metric] == 0
        ), (metric, ours)
    names = tuple(sensitive)
    expected = [(name,) for name in names] + ([names] if len(names) > 1 else [])
    assert [item.features for item in results.features] == expected
    for result in results.features:
        assert_feature_agrees(truth, pred, sensitive, result)
    return results


def dataset(kind: str, n: int, seed: int) -> tuple[Any, Any, Arrays]:
    """Synthetic labels, predictions and sensitive features of a named shape."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["female", "male"]), n)
    race = rng.choice(
        np.array(["Asian", "Black", "Hispanic", "White", "Other"]), n, p=[0.1, 0.2, 0.15, 0.5, 0.05]
    )
    age = rng.choice(np.array([18, 25, 35, 45, 65]), n)
    y_true = rng.random(n) < 0.3
    y_pred = rng.random(n) < np.where(sex == "male", 0.5, 0.3)
    sensitive: Arrays = {"sex": sex, "race": race}
    if kind == "skewed":
        race = np.where(rng.random(n) < 0.97, "White", race)
        sensitive = {"race": race, "age": age}
        y_true = rng.random(n) < 0.05
    elif kind == "tiny_groups":
        race[:3] = "Pacific"
        race[3] = "Unlisted"
        sensitive = {"race": race, "sex": sex, "age": age}
    elif kind == "all_positive_predictions":
        y_pred = np.ones(n, dtype=bool)
    elif kind == "group_without_positives":
        y_true &= race != "Asian"
        sensitive = {"race": race, "age": age}
    elif kind == "integer_groups":
        sensitive = {"age": age, "band": rng.integers(0, 12, n)}
    return y_true, y_pred, sensitive
