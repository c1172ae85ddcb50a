"""``result.by_group`` equals fairlearn's ``MetricFrame.by_group``; notebook views stay short."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    count,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_negative_rate,
    true_positive_rate,
)
from sklearn.metrics import accuracy_score, precision_score

import bias_ledger

FAIRLEARN = {
    "count": count,
    "selection_rate": selection_rate,
    "true_positive_rate": true_positive_rate,
    "false_positive_rate": false_positive_rate,
    "true_negative_rate": true_negative_rate,
    "false_negative_rate": false_negative_rate,
    "accuracy_score": accuracy_score,
    "precision_score": precision_score,
}


def _frame(seed: int, rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["female", "male", "nonbinary"], size=rows, p=[0.45, 0.45, 0.1])
    region = rng.choice(["north", "south", "east", "west", "centre"], size=rows)
    label = rng.random(rows) < 0.3 + 0.4 * (sex == "male")
    prediction = rng.random(rows) < np.where(label, 0.8, 0.25)
    return pd.DataFrame(
        {"y": label.astype(int), "p": prediction.astype(int), "sex": sex, "region": region}
    )


@pytest.mark.parametrize(("seed", "rows"), [(0, 400), (1, 5_000), (2, 20_000)])
@pytest.mark.parametrize(
    "feature", [["sex"], ["region"], ["sex", "region"]], ids=["sex", "region", "intersection"]
)
def test_by_group_equals_metricframe(seed: int, rows: int, feature: list[str]) -> None:
    frame = _frame(seed, rows)
    result = bias_ledger.audit(
        frame, label="y", prediction="p", sensitive=["sex", "region"], min_group_size=0
    )
    sensitive: Any = frame[feature[0]] if len(feature) == 1 else frame[feature]
    expected = MetricFrame(
        metrics=FAIRLEARN, y_true=frame["y"], y_pred=frame["p"], sensitive_features=sensitive
    ).by_group
    ours = result.by_group(feature[0] if len(feature) == 1 else feature, metrics=list(FAIRLEARN))
    assert ours.index.equals(expected.index)
    assert list(ours.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(
        ours.astype("float64"), expected.astype("float64"), check_exact=False, rtol=1e-12
    )


def test_undefined_values_are_na_with_a_reason() -> None:
    frame = pd.DataFrame(
        {"y": [0, 0, 0, 1, 1, 0], "p": [0, 1, 0, 1, 0, 0], "g": ["a", "a", "a", "b", "b", "b"]}
    )
    result = bias_ledger.audit(frame, label="y", prediction="p", sensitive="g", min_group_size=0)
    table = result.by_group("g")
    assert table.loc["a", "true_positive_rate"] is pd.NA
    assert table.loc["b", "true_positive_rate"] == 0.5
    reasons = result.undefined("g")
    row = reasons[(reasons["group"] == "a") & (reasons["metric"] == "true_positive_rate")]
    assert row["reason"].iloc[0].startswith("0/0")


def test_summaries_match_fairlearn() -> None:
    from fairlearn.metrics import demographic_parity_ratio, equalized_odds_difference

    frame = _frame(3, 3_000)
    result = bias_ledger.audit(frame, label="y", prediction="p", sensitive=["sex"])
    row = result.summaries().loc["sex"]
    assert row["demographic_parity_ratio"] == pytest.approx(
        demographic_parity_ratio(frame["y"], frame["p"], sensitive_features=frame["sex"]),
        rel=1e-12,
    )
    assert row["equalized_odds_difference"] == pytest.approx(
        equalized_odds_difference(frame["y"], frame["p"], sensitive_features=frame["sex"]),
        rel=1e-12,
    )


def test_notebook_views_are_short_and_escaped() -> None:
    frame = _frame(4, 500)
    frame["sex"] = frame["sex"].replace("nonbinary", "<script>alert(1)</script>")
    result = bias_ledger.audit(
        frame, label="y", prediction="p", sensitive="sex", model_name="m<b>", min_group_size=0
    )
    text = repr(result)
    assert len(text) < 300
    assert text.startswith("<AuditResult binary_classification of m<b>: 500 rows")
    page = result._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" not in page  # groups are not listed
    assert "m&lt;b&gt;" in page
    assert "demographic_parity_ratio" in page


def test_regression_and_multiclass_views() -> None:
    rng = np.random.default_rng(5)
    rows = 2_000
    frame = pd.DataFrame(
        {
            "y": rng.normal(size=rows),
            "g": rng.choice(["a", "b"], size=rows),
            "c": rng.choice(["x", "y", "z"], size=rows),
            "k": rng.choice(["x", "y", "z"], size=rows),
        }
    )
    frame["p"] = frame["y"] + rng.normal(scale=0.5, size=rows)
    regression = bias_ledger.audit(
        frame, label="y", prediction="p", sensitive="g", task="regression"
    )
    table = regression.by_group("g")
    mae = (frame["p"] - frame["y"]).abs().groupby(frame["g"]).mean()
    assert table["mean_absolute_error"].astype(float).to_dict() == pytest.approx(mae.to_dict())
    multiclass = bias_ledger.audit(
        frame, label="c", prediction="k", sensitive="g", task="multiclass_classification"
    )
    with pytest.raises(bias_ledger.errors.InputError, match="positive_class"):
        multiclass.by_group("g")
    per_class = multiclass.by_group("g", positive_class="x", metrics=["selection_rate"])
    rate = (frame["k"] == "x").groupby(frame["g"]).mean()
    assert per_class["selection_rate"].astype(float).to_dict() == pytest.approx(rate.to_dict())
