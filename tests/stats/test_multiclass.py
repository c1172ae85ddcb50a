"""Multiclass one-vs-rest metrics against fairlearn and scikit-learn on the same inputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn import metrics as flm

from bias_ledger.errors import InputError
from bias_ledger.metrics.counts import encode_column
from bias_ledger.metrics.multiclass import multiclass_metrics


def _data(seed: int = 0) -> tuple[Any, Any, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    n = 2000
    sex = rng.choice(["f", "m"], n)
    race = rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1])
    y_true = rng.choice([0, 1, 2, 10], n, p=[0.4, 0.3, 0.2, 0.1])
    keep = rng.random(n) < np.where(race == "b", 0.5, 0.75)
    y_pred = np.where(keep, y_true, rng.choice([0, 1, 2, 10], n))
    return y_true, y_pred, {"sex": sex, "race": race}


def test_per_class_metrics_equal_sklearn_and_fairlearn() -> None:
    y_true, y_pred, sensitive = _data()
    columns = [encode_column(name, values) for name, values in sensitive.items()]
    results = multiclass_metrics(y_true, y_pred, columns)
    assert results.classes == ("0", "1", "2", "10")  # numeric order, as np.unique
    for label in results.classes:
        c = int(label)
        per = results.for_class(label)
        overall = per.overall.metrics
        recall = skm.recall_score(y_true, y_pred, labels=[c], average=None)[0]
        precision = skm.precision_score(y_true, y_pred, labels=[c], average=None)[0]
        assert overall["true_positive_rate"].value == recall
        assert overall["precision_score"].value == precision
        assert overall["selection_rate"].value == np.mean(y_pred == c)
        for feature in per.features:
            frame = flm.MetricFrame(
                metrics={"selection_rate": flm.selection_rate, "recall": skm.recall_score},
                y_true=y_true == c,
                y_pred=y_pred == c,
                sensitive_features=pd.DataFrame({f: sensitive[f] for f in feature.features}),
            )
            by_group = frame.by_group.dropna(how="all")
            for item in feature.groups:
                key = item.group[0] if len(item.group) == 1 else item.group
                assert item.metrics["selection_rate"].value == by_group.loc[key, "selection_rate"]
                mask = np.ones(len(y_true), dtype=bool)
                for name, value in zip(feature.features, item.group, strict=True):
                    mask &= sensitive[name] == value
                per_group_recall = skm.recall_score(
                    y_true[mask], y_pred[mask], labels=[c], average=None
                )[0]
                assert item.metrics["true_positive_rate"].value == per_group_recall
            features = pd.DataFrame({f: sensitive[f] for f in feature.features})
            dpd = flm.demographic_parity_difference(
                y_true == c, y_pred == c, sensitive_features=features
            )
            eod = flm.equalized_odds_difference(
                y_true == c, y_pred == c, sensitive_features=features
            )
            assert feature.summaries["demographic_parity_difference"].value == pytest.approx(
                dpd, abs=1e-15
            )
            assert feature.summaries["equalized_odds_difference"].value == pytest.approx(
                eod, abs=1e-15
            )
    for i, macro in enumerate(results.macro):
        for summary, mean in macro.summaries.items():
            per_class = [
                float(results.for_class(label).features[i].summaries[summary].value or 0.0)
                for label in results.classes
            ]
            assert mean.value == pytest.approx(float(np.mean(per_class)), abs=1e-15)
    assert results.to_json()["task"] == "multiclass_classification"
    small = multiclass_metrics(y_true, y_pred, columns, min_group_size=250)
    flags = [g.sufficient for g in small.per_class[0].results.features[-1].groups]
    assert False in flags and True in flags


def test_macro_is_undefined_when_a_class_summary_is() -> None:
    sex = encode_column("sex", np.array(["f", "f", "m", "m"]))
    # Class "c" has no actual positives in any group: its TPR, so equal opportunity, is undefined.
    results = multiclass_metrics(
        np.array(["a", "b", "a", "b"]), np.array(["a", "c", "b", "b"]), [sex]
    )
    macro = results.macro[0].summaries["equal_opportunity_difference"]
    assert macro.value is None and macro.reason and "'c'" in macro.reason
    assert results.macro[0].summaries["demographic_parity_difference"].value is not None


def test_bad_input() -> None:
    sex = encode_column("sex", np.array(["f", "m"]))
    with pytest.raises(InputError, match="equal length"):
        multiclass_metrics(np.array([1, 2]), np.array([1, 2, 3]), [sex])
