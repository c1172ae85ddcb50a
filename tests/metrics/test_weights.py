"""Sample weights (``--weight``): exact sums, and metrics equal to fairlearn's and sklearn's
``sample_weight`` on varied data."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn import metrics as flm
from hypothesis import given, settings
from hypothesis import strategies as st

from bias_ledger.errors import InputError
from bias_ledger.metrics.counts import count_binary, encode_column
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.multiclass import multiclass_from_codes
from bias_ledger.metrics.significance import selection_rate_tests
from bias_ledger.metrics.weights import (
    WeightParts,
    WeightSums,
    bad_weights,
    exact_bincount,
    to_float,
)
from bias_ledger.metrics.wilson import with_wilson_intervals

RATES: dict[str, Any] = {
    "selection_rate": flm.selection_rate,
    "true_positive_rate": flm.true_positive_rate,
    "false_positive_rate": flm.false_positive_rate,
    "true_negative_rate": flm.true_negative_rate,
    "false_negative_rate": flm.false_negative_rate,
    "accuracy_score": skm.accuracy_score,
    "precision_score": lambda t, p, sample_weight: skm.precision_score(
        t, p, sample_weight=sample_weight, zero_division=np.nan
    ),
}
SUMMARIES: dict[str, Any] = {
    "demographic_parity_difference": flm.demographic_parity_difference,
    "demographic_parity_ratio": flm.demographic_parity_ratio,
    "equalized_odds_difference": flm.equalized_odds_difference,
    "equalized_odds_ratio": flm.equalized_odds_ratio,
}


def _weights(kind: str, n: int, rng: np.random.Generator) -> npt.NDArray[np.float64]:
    if kind == "gamma":
        return rng.gamma(2.0, 1.5, n)
    if kind == "integers":
        return rng.integers(0, 5, n).astype(np.float64)
    if kind == "wide":  # twelve orders of magnitude, and zeros
        values = 10.0 ** rng.uniform(-6, 6, n)
        values[rng.random(n) < 0.05] = 0.0
        return values
    if kind == "tiny":
        return rng.uniform(1e-140, 1e-139, n)
    raise ValueError(kind)


def _close(ours: float | None, theirs: float) -> bool:
    if ours is None:
        return math.isnan(theirs)
    return ours == pytest.approx(theirs, rel=1e-11, abs=1e-13)


def _dataset(seed: int, n: int) -> tuple[Any, Any, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m", "x"], n, p=[0.47, 0.47, 0.06])
    region = rng.choice(["north", "south", "east", "west"], n)
    y_true = rng.random(n) < np.where(sex == "m", 0.55, 0.35)
    y_pred = rng.random(n) < np.where(y_true, 0.7, 0.3)
    return y_true, y_pred, {"sex": sex, "region": region}


@pytest.mark.parametrize("kind", ["gamma", "integers", "wide", "tiny"])
def test_binary_metrics_equal_fairlearn_with_sample_weight(kind: str) -> None:
    y_true, y_pred, sensitive = _dataset(len(kind), 3_000)
    weights = _weights(kind, len(y_true), np.random.default_rng(5))
    columns = [encode_column(name, values) for name, values in sensitive.items()]
    table = count_binary(y_true, y_pred, columns, sample_weight=WeightParts(values=weights))
    results = compute_binary_metrics(table, min_group_size=0)
    params = {name: {"sample_weight": weights} for name in RATES}
    for feature in results.features:
        names = feature.features
        features = (
            pd.Series(sensitive[names[0]], name=names[0])
            if len(names) == 1
            else pd.DataFrame({name: sensitive[name] for name in names})
        )
        frame = flm.MetricFrame(
            metrics=RATES,
            y_true=y_true,
            y_pred=y_pred,
            sensitive_features=features,
            sample_params=params,
        )
        for group in feature.groups:
            key = group.group[0] if len(names) == 1 else group.group
            row = frame.by_group.loc[key]
            mask = np.logical_and.reduce(
                [sensitive[n] == v for n, v in zip(names, group.group, strict=True)]
            )
            assert group.metrics["count"].value == int(mask.sum())  # fairlearn's count: rows
            assert group.counts.true_positives == pytest.approx(
                float(weights[mask & y_true & y_pred].sum()), rel=1e-12
            )
            for metric in RATES:
                assert _close(group.metrics[metric].value, float(row[metric])), (group, metric)
        if len(names) == 1:
            for name, function in SUMMARIES.items():
                expected = function(
                    y_true, y_pred, sensitive_features=features, sample_weight=weights
                )
                assert _close(feature.summaries[name].value, float(expected)), name


def test_multiclass_equals_sklearn_one_vs_rest_with_sample_weight() -> None:
    rng = np.random.default_rng(8)
    n = 2_500
    classes = ("cat", "dog", "eel", "fox")
    true_codes = rng.integers(0, 4, n)
    pred_codes = np.where(rng.random(n) < 0.5, true_codes, rng.integers(0, 4, n))
    group = rng.choice(["a", "b", "c"], n)
    weights = rng.gamma(1.5, 2.0, n)
    results = multiclass_from_codes(
        true_codes,
        pred_codes,
        classes,
        [encode_column("g", group)],
        sample_weight=WeightParts(values=weights),
    )
    for code, per_class in enumerate(results.per_class):
        assert per_class.label == classes[code]
        for item in per_class.results.features[0].groups:
            mask = group == item.group[0]
            t, p, w = true_codes[mask] == code, pred_codes[mask] == code, weights[mask]
            tn, fp, fn, tp = skm.confusion_matrix(
                t, p, labels=[False, True], sample_weight=w
            ).ravel()
            assert item.counts.true_negatives == pytest.approx(tn, rel=1e-12)
            assert item.counts.false_positives == pytest.approx(fp, rel=1e-12)
            recall = skm.recall_score(t, p, sample_weight=w)
            assert _close(item.metrics["true_positive_rate"].value, recall)
            assert _close(
                item.metrics["accuracy_score"].value, skm.accuracy_score(t, p, sample_weight=w)
            )
            assert item.metrics["count"].value == int(mask.sum())


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.one_of(
                st.just(0.0),
                st.floats(2.0**-500, 2.0**500, allow_nan=False, allow_infinity=False),
            ),
        ),
        min_size=1,
        max_size=80,
    ),
    st.randoms(use_true_random=False),
)
def test_exact_sums_are_exact_and_independent_of_order(
    rows: list[tuple[int, float]], random: Any
) -> None:
    codes = np.array([code for code, _ in rows], dtype=np.int64)
    values = np.array([value for _, value in rows], dtype=np.float64)
    sums = exact_bincount(codes, WeightParts(values=values), 6)
    for code in range(6):
        expected = sum((Fraction(v) for c, v in rows if c == code), Fraction(0))
        got = Fraction(int(sums.numerators[code])) * Fraction(2) ** sums.scale
        assert got == expected
    order = np.array(random.sample(range(len(rows)), len(rows)), dtype=np.int64)
    shuffled = exact_bincount(codes[order], WeightParts(values=values[order]), 6)
    assert list(shuffled.rounded()) == list(sums.rounded())


def test_merged_batches_equal_one_table_bit_for_bit() -> None:
    y_true, y_pred, sensitive = _dataset(3, 4_000)
    weights = _weights("wide", 4_000, np.random.default_rng(1))
    column = encode_column("sex", sensitive["sex"])
    whole = count_binary(y_true, y_pred, [column], sample_weight=WeightParts(values=weights))
    halves = [
        count_binary(
            y_true[rows],
            y_pred[rows],
            [encode_column("sex", sensitive["sex"][rows])],
            sample_weight=WeightParts(values=weights[rows]),
        )
        for rows in (slice(0, 1_234), slice(1_234, None))
    ]
    merged = halves[0].merge(halves[1])
    assert merged.weighted is not None and whole.weighted is not None
    assert merged.groups == whole.groups
    assert np.array_equal(merged.weighted.rounded(), whole.weighted.rounded())
    assert np.array_equal(merged.cells, whole.cells)


def test_rounding_happens_once() -> None:
    # 0.1 added ten times in float64 is 0.9999999999999999; the exact sum of those ten
    # doubles rounds to 1.0000000000000000555..., i.e. 1.0.
    sums = exact_bincount(np.zeros(10, dtype=np.int64), WeightParts(values=np.full(10, 0.1)), 1)
    assert sums.rounded()[0] == float(sum(Fraction(0.1) for _ in range(10)))
    assert sum([0.1] * 10) != sums.rounded()[0]
    assert to_float(3, -1) == 1.5
    assert WeightSums(np.array([5], dtype=object), 2).rescaled(0).numerators[0] == 20


def test_bad_weights_and_statistics_that_need_rows() -> None:
    values = np.array([1.0, -1.0, np.nan, np.inf, 0.0, 1e-300, 2.0**500, 2.0**501])
    assert bad_weights(values).tolist() == [False, True, True, True, False, True, False, True]
    y_true, y_pred, sensitive = _dataset(4, 500)
    weighted = compute_binary_metrics(
        count_binary(
            y_true,
            y_pred,
            [encode_column("sex", sensitive["sex"])],
            sample_weight=WeightParts(values=np.full(500, 0.5)),
        )
    )
    with pytest.raises(InputError, match="need row counts"):
        selection_rate_tests(weighted)
    with pytest.raises(InputError, match="need row counts"):
        with_wilson_intervals(weighted)


def test_weighted_regression_equals_sklearn_with_sample_weight() -> None:
    import pyarrow as pa

    import bias_ledger

    rng = np.random.default_rng(12)
    n = 2_000
    group = rng.choice(["a", "b", "c"], n)
    y_true = rng.normal(3.0, 2.0, n)
    y_pred = y_true + rng.normal(0.2, 1.0, n) * np.where(group == "a", 2.0, 1.0)
    weights = rng.gamma(2.0, 1.0, n) * 10.0 ** rng.integers(-3, 4, n)
    table = pa.table({"y": y_true, "p": y_pred, "g": group, "w": weights})
    args: dict[str, Any] = {"label": "y", "prediction": "p", "sensitive": "g"}
    result = bias_ledger.audit(table, **args, task="regression", weight="w", min_group_size=0)
    plain = bias_ledger.audit(table, **args, task="regression", min_group_size=0)
    feature = result.to_json()["results"]["features"][0]
    for item in feature["groups"]:
        mask = group == item["group"][0]
        t, p, w = y_true[mask], y_pred[mask], weights[mask]
        metrics = {name: value["value"] for name, value in item["metrics"].items()}
        assert metrics["count"] == int(mask.sum())
        expected = {
            "mean_absolute_error": skm.mean_absolute_error(t, p, sample_weight=w),
            "root_mean_squared_error": skm.root_mean_squared_error(t, p, sample_weight=w),
            "mean_prediction": np.average(p, weights=w),
            "mean_residual": np.average(p - t, weights=w),
        }
        for name, value in expected.items():
            assert _close(metrics[name], float(value)), name
    assert result.parameters["weight"] == "w"
    assert result.to_json()["results"] != plain.to_json()["results"]
    zero = pa.table({"y": y_true, "p": y_pred, "g": group, "w": np.where(group == "b", 0.0, 1.0)})
    with pytest.raises(InputError, match=r"group 'b' has sample weights that sum to 0"):
        bias_ledger.audit(zero, **args, task="regression", weight="w")
