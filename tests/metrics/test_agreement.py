"""Our engine against fairlearn's MetricFrame on varied data: every number must be identical."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .reference import assert_agrees_with_fairlearn, dataset

KINDS = [
    "random",
    "skewed",
    "tiny_groups",
    "all_positive_predictions",
    "group_without_positives",
    "integer_groups",
]


@pytest.mark.parametrize("kind", KINDS)
def test_agrees_with_fairlearn(kind: str) -> None:
    y_true, y_pred, sensitive = dataset(kind, 2000, seed=len(kind))
    results = assert_agrees_with_fairlearn(y_true, y_pred, sensitive)
    # Two or three features: each on its own, then their intersection.
    assert results.features[-1].features == tuple(sensitive)


def test_one_row_groups_and_all_negative_labels_in_a_group() -> None:
    rng = np.random.default_rng(7)
    n = 400
    group = rng.choice(np.array(["a", "b", "c"]), n).astype("<U12")
    group[:2] = ["solo", "other solo"]
    y_true = rng.random(n) < 0.4
    y_true[group == "b"] = False
    y_pred = rng.random(n) < 0.5
    results = assert_agrees_with_fairlearn(y_true, y_pred, {"group": group})
    feature = results.feature("group")
    assert feature.group(("solo",)).counts.total == 1
    assert ("b",) in feature.disparity("true_positive_rate").excluded_groups


def test_all_negative_predictions_and_labels() -> None:
    rng = np.random.default_rng(11)
    n = 300
    group = rng.integers(0, 4, n)
    zeros = np.zeros(n, dtype=bool)
    results = assert_agrees_with_fairlearn(zeros, zeros, {"g": group})
    assert results.feature("g").summaries["demographic_parity_ratio"].value is None


@st.composite
def _data(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    n = draw(st.integers(1, 60))
    bools = st.lists(st.booleans(), min_size=n, max_size=n)
    y_true = np.array(draw(bools), dtype=bool)
    y_pred = np.array(draw(bools), dtype=bool)
    n_features = draw(st.integers(1, 2))
    sensitive: dict[str, np.ndarray] = {}
    for index in range(n_features):
        if draw(st.booleans()):
            values = draw(st.lists(st.integers(-2, 4), min_size=n, max_size=n))
            sensitive[f"f{index}"] = np.array(values, dtype=np.int64)
        else:
            values = draw(
                st.lists(st.sampled_from(["a", "B", "é", "10", "9"]), min_size=n, max_size=n)
            )
            sensitive[f"f{index}"] = np.array(values)
    return y_true, y_pred, sensitive


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_data())
def test_property_agrees_with_fairlearn(
    data: tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]],
) -> None:
    y_true, y_pred, sensitive = data
    assert_agrees_with_fairlearn(y_true, y_pred, sensitive)
