"""min_group_size: small groups are flagged and kept out of disparities and summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn import metrics as flm

from bias_ledger.errors import InputError

from .reference import FAIRLEARN_METRICS, audit, dataset

MIN = 30


def _data() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    y_true, y_pred, sensitive = dataset("tiny_groups", 1500, seed=12)
    race = sensitive["race"].astype("<U12")
    race[4:24] = "Small"  # 20 rows: below MIN, but not tiny enough to be trivially odd
    return y_true, y_pred, {"race": race, "sex": sensitive["sex"]}


def test_small_groups_are_flagged_and_noted() -> None:
    y_true, y_pred, sensitive = _data()
    results = audit(y_true, y_pred, sensitive, min_group_size=MIN)
    race = results.feature("race")
    for item in race.groups:
        assert item.sufficient == (item.counts.total >= MIN)
    small = {item.label for item in race.groups if not item.sufficient}
    assert small == {"Pacific", "Unlisted", "Small"}
    assert any(
        note.startswith("race: 3 group(s) with fewer than 30 rows") for note in results.notes
    )
    # Every group keeps its comparison with the reference and its impact ratio.
    assert len(race.disparity("selection_rate").to_reference) == len(race.groups)
    assert len(race.impact_ratios) == len(race.groups)


def test_disparities_and_summaries_cover_sufficient_groups_only() -> None:
    y_true, y_pred, sensitive = _data()
    results = audit(y_true, y_pred, sensitive, min_group_size=MIN)
    truth, pred = y_true.astype(int), y_pred.astype(int)
    for feature in results.features:
        keep = {item.group for item in feature.groups if item.sufficient}
        keys = zip(*(sensitive[name] for name in feature.features), strict=True)
        rows = np.array([key in keep for key in keys])
        columns = pd.DataFrame({name: sensitive[name][rows] for name in feature.features})
        subset = flm.MetricFrame(
            metrics=FAIRLEARN_METRICS,
            y_true=truth[rows],
            y_pred=pred[rows],
            sensitive_features=columns,
        )
        full = flm.MetricFrame(
            metrics=FAIRLEARN_METRICS,
            y_true=truth,
            y_pred=pred,
            sensitive_features=pd.DataFrame({n: sensitive[n] for n in feature.features}),
        )
        for metric in FAIRLEARN_METRICS:
            disparity = feature.disparity(metric)
            if disparity.excluded_groups:
                continue
            assert disparity.between_groups_difference.value == subset.difference()[metric]
            assert disparity.between_groups_ratio.value == subset.ratio()[metric]
            # To overall compares the sufficient groups with the whole population.
            by_group = full.by_group.dropna(how="all")
            used = by_group[
                [tuple(str(v) for v in np.atleast_1d(k)) in keep for k in by_group.index]
            ]
            expected = (used[metric] - full.overall[metric]).abs().max()
            assert disparity.to_overall_difference.value == expected
        dp = flm.demographic_parity_difference(truth[rows], pred[rows], sensitive_features=columns)
        assert feature.summaries["demographic_parity_difference"].value == dp


def test_no_sufficient_group_gives_undefined_disparities() -> None:
    y_true, y_pred, sensitive = dataset("random", 200, seed=13)
    results = audit(y_true, y_pred, sensitive, min_group_size=10_000)
    disparity = results.feature("race").disparity("selection_rate")
    assert disparity.between_groups_difference.value is None
    assert "enough rows" in str(disparity.between_groups_difference.reason)
    assert results.feature("race").summaries["demographic_parity_ratio"].value is None


def test_zero_is_the_default_and_negative_is_refused() -> None:
    y_true, y_pred, sensitive = dataset("random", 300, seed=14)
    default = audit(y_true, y_pred, sensitive)
    assert audit(y_true, y_pred, sensitive, min_group_size=0).to_json() == default.to_json()
    assert all(item.sufficient for feature in default.features for item in feature.groups)
    with pytest.raises(InputError, match="minimum group size must be >= 0, got -1"):
        audit(y_true, y_pred, sensitive, min_group_size=-1)
