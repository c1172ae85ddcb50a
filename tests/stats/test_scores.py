"""Score metrics against scikit-learn (roc_auc_score, calibration_curve) and naive loops."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from bias_ledger.errors import InputError
from bias_ledger.metrics.counts import encode_column
from bias_ledger.metrics.score_results import GroupScores
from bias_ledger.metrics.scores import score_metrics

THRESHOLDS = (0.9, 0.1, 0.5, 0.5, 0.3, 0.0, 1.0)


def _data(kind: str, seed: int = 0) -> tuple[Any, Any, dict[str, Any]]:
    rng = np.random.default_rng(seed)
    n = 3000
    sex = rng.choice(["f", "m"], n)
    race = rng.choice(["a", "b", "c", "d"], n, p=[0.6, 0.3, 0.09, 0.01])
    y_true = rng.random(n) < 0.3
    scores = np.clip(0.3 + 0.3 * y_true + rng.normal(0, 0.2, n), 0, 1)
    if kind == "ties":
        scores = np.round(scores, 1)  # many ties, and scores exactly on bin edges
    if kind == "one class":
        y_true[race == "d"] = False
    return y_true, scores, {"sex": sex, "race": race}


def _masks(feature: tuple[str, ...], sensitive: dict[str, Any], group: tuple[str, ...]) -> Any:
    mask = np.ones(len(sensitive["sex"]), dtype=bool)
    for name, value in zip(feature, group, strict=True):
        mask &= sensitive[name] == value
    return mask


def _check_group(item: GroupScores, y_true: Any, scores: Any) -> None:
    assert item.count == len(y_true) and item.positives == int(y_true.sum())
    if y_true.all() or not y_true.any():
        assert item.roc_auc.value is None and item.roc_auc.reason
    else:
        assert item.roc_auc.value == pytest.approx(roc_auc_score(y_true, scores), abs=1e-12)
    prob_true, prob_pred = calibration_curve(y_true, scores, n_bins=10)
    full = [b for b in item.calibration if b.count]
    assert [b.observed_rate.value for b in full] == pytest.approx(prob_true, abs=1e-12)
    assert [b.mean_predicted.value for b in full] == pytest.approx(prob_pred, abs=1e-12)
    counts = np.array([b.count for b in full])
    ece = float(np.sum(counts / len(y_true) * np.abs(prob_true - prob_pred)))
    assert item.expected_calibration_error.value == pytest.approx(ece, abs=1e-12)
    for i, threshold in enumerate(THRESHOLDS):
        chosen = scores >= threshold
        assert item.sweep.selection_rate[i].value == chosen.mean()
        positives, negatives = y_true.sum(), (~y_true).sum()
        tpr = item.sweep.true_positive_rate[i].value
        fpr = item.sweep.false_positive_rate[i].value
        assert tpr == ((chosen & y_true).sum() / positives if positives else None)
        assert fpr == ((chosen & ~y_true).sum() / negatives if negatives else None)


@pytest.mark.parametrize("kind", ["random", "ties", "one class"])
def test_equal_to_sklearn_and_naive(kind: str) -> None:
    y_true, scores, sensitive = _data(kind)
    columns = [encode_column(name, values) for name, values in sensitive.items()]
    results = score_metrics(y_true, scores, columns, thresholds=THRESHOLDS)
    _check_group(results.overall, y_true, scores)
    assert [f.features for f in results.features] == [("sex",), ("race",), ("sex", "race")]
    for feature in results.features:
        for item in feature.groups:
            mask = _masks(feature.features, sensitive, item.group)
            _check_group(item, y_true[mask], scores[mask])
    assert results.to_json()["overall"]["sweep"]["thresholds"] == list(THRESHOLDS)


def test_scores_that_are_not_probabilities_skip_calibration() -> None:
    y_true, scores, sensitive = _data("random")
    logits = np.log(scores + 1e-3) * 3
    results = score_metrics(y_true, logits, [encode_column("sex", sensitive["sex"])])
    assert results.overall.calibration == ()
    assert results.overall.expected_calibration_error.value is None
    assert results.notes
    assert results.overall.roc_auc.value == pytest.approx(roc_auc_score(y_true, logits), abs=1e-12)


def test_bad_input() -> None:
    sex = encode_column("sex", np.array(["f", "m"]))
    with pytest.raises(InputError, match="score must be finite"):
        score_metrics(np.array([True, False]), [0.5, float("nan")], [sex])
    with pytest.raises(InputError, match="boolean"):
        score_metrics(np.array([1, 0]), [0.5, 0.2], [sex])


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 1.0]), st.booleans(), st.integers(0, 2)
        ),
        min_size=1,
        max_size=40,
    )
)
def test_auc_and_sweep_on_small_tied_inputs(rows: list[tuple[float, bool, int]]) -> None:
    scores = np.array([r[0] for r in rows])
    y_true = np.array([r[1] for r in rows])
    groups = np.array([f"g{r[2]}" for r in rows])
    results = score_metrics(y_true, scores, [encode_column("g", groups)], thresholds=THRESHOLDS)
    for item in results.features[0].groups:
        mask = groups == item.group[0]
        _check_group(item, y_true[mask], scores[mask])
