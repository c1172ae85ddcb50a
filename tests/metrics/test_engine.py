"""The engine's own choices: reference groups, undefined values, notes, impact ratios, JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bias_ledger.errors import InputError
from bias_ledger.ledger.canonical import decode, encode
from bias_ledger.metrics.counts import CountTable, count_binary, encode_column
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.model import BINARY_GROUP_METRICS, BINARY_SUMMARIES

from .reference import audit, dataset


def test_default_reference_is_the_largest_group() -> None:
    y_true, y_pred, sensitive = dataset("random", 2000, seed=1)
    results = audit(y_true, y_pred, sensitive)
    for feature in results.features[:2]:
        largest = max(item.counts.total for item in feature.groups)
        assert feature.group(feature.reference).counts.total == largest
    # The intersection's is the combination of the per-feature ones (observed here).
    chosen = tuple(feature.reference[0] for feature in results.features[:2])
    assert results.features[2].reference == chosen


def test_reference_ties_go_to_the_first_group_in_sorted_order() -> None:
    group = np.array(["b", "a", "c", "c", "a", "b"])
    flags = np.array([True, False, True, False, True, False])
    results = audit(flags, flags, {"g": group})
    assert results.feature("g").reference == ("a",)


def test_explicit_reference_and_its_comparisons() -> None:
    y_true, y_pred, sensitive = dataset("random", 2000, seed=2)
    results = audit(y_true, y_pred, sensitive, references={"race": "Black"})
    race = results.feature("race")
    assert race.reference == ("Black",)
    base = race.group(("Black",)).metrics["selection_rate"].value
    comparisons = race.disparity("selection_rate").to_reference
    assert [item.group for item in comparisons] == [item.group for item in race.groups]
    for item in comparisons:
        value = race.group(item.group).metrics["selection_rate"].value
        assert value is not None and base is not None
        assert item.difference.value == value - base
        assert item.ratio.value == value / base
    # The intersection's reference combines the per-feature ones when it was observed.
    assert results.feature("sex", "race").reference == (
        results.feature("sex").reference[0],
        "Black",
    )


def test_intersection_reference_falls_back_to_the_largest_observed_group() -> None:
    a = np.array(["x", "x", "x", "y", "y", "y", "y"])
    b = np.array(["p", "p", "p", "q", "q", "r", "r"])
    flags = np.array([True, False, True, False, True, True, False])
    # Largest groups: a=y, b=p; (y, p) never occurs.
    results = audit(flags, flags, {"a": a, "b": b})
    assert results.feature("a").reference == ("y",)
    assert results.feature("b").reference == ("p",)
    assert results.feature("a", "b").reference == ("x", "p")


def test_unknown_reference_group_names_feature_group_and_choices() -> None:
    y_true, y_pred, sensitive = dataset("random", 500, seed=3)
    with pytest.raises(InputError) as caught:
        audit(y_true, y_pred, sensitive, references={"race": "Martian"})
    message = caught.value.diagnostics()
    assert "'race'" in message and "'Martian'" in message
    assert "Asian" in message and "White" in message


def test_reference_for_an_unknown_feature_is_refused() -> None:
    y_true, y_pred, sensitive = dataset("random", 500, seed=3)
    with pytest.raises(InputError, match="'income'.*not a sensitive feature"):
        audit(y_true, y_pred, sensitive, references={"income": "high"})


def test_undefined_rates_are_null_with_reason_and_noted() -> None:
    y_true, y_pred, sensitive = dataset("group_without_positives", 2000, seed=4)
    results = audit(y_true, y_pred, sensitive)
    race = results.feature("race")
    tpr = race.group(("Asian",)).metrics["true_positive_rate"]
    assert tpr.value is None and "0/0" in str(tpr.reason) and "positives" in str(tpr.reason)
    assert race.disparity("true_positive_rate").excluded_groups == (("Asian",),)
    assert race.disparity("false_positive_rate").excluded_groups == ()
    assert any("race" in note and "true_positive_rate" in note for note in results.notes)
    # No NaN anywhere: strict JSON and the canonical encoder accept the whole result.
    json.dumps(results.to_json(), allow_nan=False)
    assert decode(encode(results.to_json())) == results.to_json()


def test_every_metric_and_summary_is_reported() -> None:
    y_true, y_pred, sensitive = dataset("random", 1000, seed=5)
    results = audit(y_true, y_pred, sensitive)
    assert tuple(results.overall.metrics) == BINARY_GROUP_METRICS
    for feature in results.features:
        assert tuple(item.metric for item in feature.disparities) == BINARY_GROUP_METRICS
        assert set(feature.summaries) == set(BINARY_SUMMARIES)
        for item in feature.groups:
            assert tuple(item.metrics) == BINARY_GROUP_METRICS
            assert item.metrics["count"].value == item.counts.total


def test_impact_ratios_and_four_fifths_flag() -> None:
    y_true, y_pred, sensitive = dataset("random", 3000, seed=6)
    results = audit(y_true, y_pred, sensitive)
    for feature in results.features:
        rates = [item.selection_rate.value for item in feature.impact_ratios]
        highest = max(rate for rate in rates if rate is not None)
        for item in feature.impact_ratios:
            assert item.selection_rate == feature.group(item.group).metrics["selection_rate"]
            assert item.selection_rate.value is not None
            assert item.impact_ratio.value == item.selection_rate.value / highest
            assert item.below_four_fifths == (item.impact_ratio.value < 0.8)
        lowest = min(item.impact_ratio.value or 0.0 for item in feature.impact_ratios)
        assert lowest == feature.summaries["demographic_parity_ratio"].value
    # The data select men at 0.5 and women at 0.3: women fail the four-fifths rule.
    assert results.feature("sex").impact_ratios[0].below_four_fifths is True


def test_nobody_selected_gives_undefined_impact_ratios() -> None:
    group = np.array(["a", "b", "a"])
    results = audit(np.array([True, False, True]), np.zeros(3, dtype=bool), {"g": group})
    for item in results.feature("g").impact_ratios:
        assert item.impact_ratio.value is None and item.below_four_fifths is None


def test_counts_from_any_source_give_the_same_results() -> None:
    y_true, y_pred, sensitive = dataset("random", 1500, seed=7)
    columns = [encode_column(name, values) for name, values in sensitive.items()]
    table = count_binary(y_true, y_pred, columns)
    rebuilt = CountTable.from_counts(table.features, reversed(table.groups), table.cells[::-1])
    assert compute_binary_metrics(rebuilt).to_json() == compute_binary_metrics(table).to_json()


def test_no_rows_is_refused() -> None:
    empty = np.zeros(0, dtype=bool)
    table = count_binary(empty, empty, [encode_column("g", np.array([], dtype=str))])
    assert table.groups == ()
    with pytest.raises(InputError, match="no rows to audit"):
        compute_binary_metrics(table)
