"""Regression metrics equal fairlearn's MetricFrame with scikit-learn's functions (1e-12)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn.metrics import MetricFrame

from bias_ledger.errors import InputError
from bias_ledger.metrics.counts import encode_column
from bias_ledger.metrics.model import Value
from bias_ledger.metrics.regression import regression_metrics

TOLERANCE = 1e-12


def _rmse(y_true: Any, y_pred: Any) -> float:
    return math.sqrt(skm.mean_squared_error(y_true, y_pred))


def _mean_prediction(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(y_pred))


def _mean_residual(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(np.asarray(y_pred) - np.asarray(y_true)))


REFERENCE = {
    "count": lambda y_true, y_pred: len(y_true),
    "mean_absolute_error": skm.mean_absolute_error,
    "root_mean_squared_error": _rmse,
    "mean_prediction": _mean_prediction,
    "mean_residual": _mean_residual,
}


def _close(value: Value, expected: float) -> None:
    assert value.value is not None, value
    assert value.value == pytest.approx(expected, rel=TOLERANCE, abs=TOLERANCE)


def _data(kind: str, seed: int = 0) -> tuple[Any, Any, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    n = 1500
    sex = rng.choice(["f", "m"], n)
    race = rng.choice(["a", "b", "c", "d"], n, p=[0.5, 0.3, 0.19, 0.01])
    y_true = rng.gamma(2.0, 20_000.0, n)
    y_pred = y_true * rng.normal(1.0, 0.2, n) + np.where(race == "b", 3000.0, 0.0)
    if kind == "one-row groups":
        race[:3] = ["x", "y", "z"]
    if kind == "exact":
        y_pred = y_true.copy()
    return y_true, y_pred, {"sex": sex, "race": race}


@pytest.mark.parametrize("kind", ["random", "one-row groups", "exact"])
def test_equal_to_fairlearn(kind: str) -> None:
    y_true, y_pred, sensitive = _data(kind)
    columns = [encode_column(name, values) for name, values in sensitive.items()]
    results = regression_metrics(y_true, y_pred, columns)
    for name, value in results.overall.metrics.items():
        _close(value, REFERENCE[name](y_true, y_pred))
    for feature in results.features:
        frame = MetricFrame(
            metrics=REFERENCE,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=pd.DataFrame({f: sensitive[f] for f in feature.features}),
        )
        # fairlearn lists unobserved combinations too (all NaN); we list observed groups only.
        by_group = frame.by_group.dropna(how="all")
        assert [g.group for g in feature.groups] == [
            (key,) if isinstance(key, str) else tuple(key) for key in by_group.index
        ]
        for group in feature.groups:
            key = group.group[0] if len(group.group) == 1 else group.group
            for name, value in group.metrics.items():
                _close(value, float(by_group.loc[key, name]))
        for disparity in feature.disparities:
            metric = disparity.metric
            pairs = [
                (disparity.between_groups_difference, frame.difference()[metric]),
                (disparity.between_groups_ratio, frame.ratio()[metric]),
                (disparity.to_overall_difference, frame.difference(method="to_overall")[metric]),
                (disparity.to_overall_ratio, frame.ratio(method="to_overall")[metric]),
            ]
            for ours, theirs in pairs:
                if math.isnan(theirs):
                    assert ours.value is None
                else:
                    _close(ours, float(theirs))
            reference = by_group.loc[
                feature.reference[0] if len(feature.reference) == 1 else feature.reference, metric
            ]
            for comparison in disparity.to_reference:
                key = comparison.group[0] if len(comparison.group) == 1 else comparison.group
                _close(comparison.difference, float(by_group.loc[key, metric] - reference))
                if reference != 0:
                    _close(comparison.ratio, float(by_group.loc[key, metric] / reference))
                else:
                    assert comparison.ratio.value is None


def test_sign_of_residual_and_references() -> None:
    sex = encode_column("sex", np.array(["f", "f", "m", "m", "m"]))
    results = regression_metrics([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 3.0, 3.0, 4.0, 5.0], [sex])
    feature = results.feature("sex")
    assert feature.reference == ("m",)  # the largest group by default
    _close(feature.group(("f",)).metrics["mean_residual"], 1.0)  # over-prediction is positive
    chosen = regression_metrics(
        [1.0, 2, 3, 4, 5], [2.0, 3, 3, 4, 5], [sex], references={"sex": "f"}
    )
    assert chosen.feature("sex").reference == ("f",)
    with pytest.raises(InputError, match="reference group 'x'"):
        regression_metrics([1.0, 2, 3, 4, 5], [1.0, 2, 3, 4, 5], [sex], references={"sex": "x"})


def test_small_groups_are_insufficient_and_left_out() -> None:
    y_true, y_pred, sensitive = _data("one-row groups")
    race = encode_column("race", sensitive["race"])
    results = regression_metrics(y_true, y_pred, [race], min_group_size=30)
    feature = results.feature("race")
    small = {g.group for g in feature.groups if not g.sufficient}
    assert small == {g.group for g in feature.groups if g.count < 30} and ("x",) in small
    mae = feature.disparity("mean_absolute_error")
    assert mae.excluded_groups == ()  # no value is undefined; small groups are flagged instead
    assert {c.group for c in mae.to_reference} == {g.group for g in feature.groups}
    kept = [
        float(g.metrics["mean_absolute_error"].value or 0.0) for g in feature.groups if g.sufficient
    ]
    _close(mae.between_groups_difference, max(kept) - min(kept))
    assert results.notes and "insufficient" in results.notes[0]
    assert results.to_json()["features"][0]["groups"][0]["sufficient"] is True


def test_bad_input() -> None:
    sex = encode_column("sex", np.array(["f", "m"]))
    with pytest.raises(InputError, match="label must be finite"):
        regression_metrics([1.0, float("nan")], [1.0, 2.0], [sex])
    with pytest.raises(InputError, match="prediction has 3 rows"):
        regression_metrics([1.0, 2.0], [1.0, 2.0, 3.0], [sex])
