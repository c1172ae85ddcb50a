"""cross_check: silent on our real results, loud on any altered number."""

from __future__ import annotations

import dataclasses

import pytest

from bias_ledger.errors import VerificationError
from bias_ledger.metrics.crosscheck import cross_check
from bias_ledger.metrics.model import MetricResults, Value

from .reference import audit, dataset


@pytest.mark.parametrize("kind", ["random", "group_without_positives"])
def test_passes_on_our_results(kind: str) -> None:
    y_true, y_pred, sensitive = dataset(kind, 1500, seed=8)
    cross_check(y_true, y_pred, sensitive, audit(y_true, y_pred, sensitive))


def _alter_group_metric(results: MetricResults, metric: str) -> MetricResults:
    feature = results.features[0]
    first = feature.groups[0]
    value = first.metrics[metric].value
    assert value is not None
    metrics = {**first.metrics, metric: Value(value + 1e-9)}
    groups = (dataclasses.replace(first, metrics=metrics), *feature.groups[1:])
    altered = dataclasses.replace(feature, groups=groups)
    return dataclasses.replace(results, features=(altered, *results.features[1:]))


def test_raises_on_an_altered_group_value() -> None:
    y_true, y_pred, sensitive = dataset("random", 1000, seed=9)
    results = _alter_group_metric(audit(y_true, y_pred, sensitive), "false_positive_rate")
    with pytest.raises(VerificationError) as caught:
        cross_check(y_true, y_pred, sensitive, results)
    message = caught.value.diagnostics()
    group = results.features[0].groups[0].label
    assert f"false_positive_rate sex={group}" in message
    assert "ours" in message and "fairlearn's" in message


def test_raises_on_an_altered_disparity_and_summary() -> None:
    y_true, y_pred, sensitive = dataset("random", 1000, seed=10)
    results = audit(y_true, y_pred, sensitive)
    feature = results.features[-1]
    disparities = tuple(
        dataclasses.replace(item, to_overall_ratio=Value(0.5))
        if item.metric == "accuracy_score"
        else item
        for item in feature.disparities
    )
    summaries = {**feature.summaries, "equalized_odds_difference": Value(0.0)}
    altered = dataclasses.replace(feature, disparities=disparities, summaries=summaries)
    results = dataclasses.replace(results, features=(*results.features[:-1], altered))
    with pytest.raises(VerificationError) as caught:
        cross_check(y_true, y_pred, sensitive, results)
    message = caught.value.diagnostics()
    assert "2 result(s) differ" in message
    assert "accuracy_score to_overall_ratio sex x race: ours 0.5" in message
    assert "equalized_odds_difference sex x race: ours 0.0" in message


def test_raises_when_a_value_we_call_undefined_is_defined() -> None:
    y_true, y_pred, sensitive = dataset("random", 800, seed=11)
    results = audit(y_true, y_pred, sensitive)
    feature = results.features[0]
    first = feature.groups[0]
    metrics = {**first.metrics, "accuracy_score": Value(None, reason="0/0: made up")}
    groups = (dataclasses.replace(first, metrics=metrics), *feature.groups[1:])
    results = dataclasses.replace(
        results, features=(dataclasses.replace(feature, groups=groups), *results.features[1:])
    )
    with pytest.raises(VerificationError, match="accuracy_score sex=female: ours None"):
        cross_check(y_true, y_pred, sensitive, results)


def test_small_groups_are_checked_on_the_sufficient_rows() -> None:
    y_true, y_pred, sensitive = dataset("tiny_groups", 1200, seed=12)
    results = audit(y_true, y_pred, sensitive, min_group_size=40)
    assert any(not item.sufficient for item in results.feature("race").groups)
    cross_check(y_true, y_pred, sensitive, results)
    race = results.feature("race")
    disparities = tuple(
        dataclasses.replace(item, between_groups_ratio=Value(0.25))
        if item.metric == "selection_rate"
        else item
        for item in race.disparities
    )
    altered = dataclasses.replace(race, disparities=disparities)
    features = tuple(altered if item is race else item for item in results.features)
    with pytest.raises(VerificationError, match="selection_rate between_groups_ratio race: ours"):
        cross_check(y_true, y_pred, sensitive, dataclasses.replace(results, features=features))
