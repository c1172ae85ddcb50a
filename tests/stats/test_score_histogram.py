"""Score histograms against scikit-learn and numpy: exact with distinct-value bins, within the
stated bound with equal-width bins, and the same whatever the batching or merge order."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from bias_ledger.metrics.counts import encode_column
from bias_ledger.metrics.score_bins import bin_exponent
from bias_ledger.metrics.score_histogram import ScoreHistogram
from bias_ledger.metrics.score_median import median_split
from bias_ledger.metrics.score_results import GroupScores, ScoreResults
from bias_ledger.metrics.scores import score_metrics, score_results

THRESHOLDS = (0.5, 0.1, 0.93)


def _data(kind: str, n: int = 4000, seed: int = 5) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(seed)
    group = rng.choice(["a", "b", "c", "tiny"], n, p=[0.5, 0.3, 0.1995, 0.0005])
    y_true = rng.random(n) < 0.35
    scores = np.clip(0.35 + 0.25 * y_true + rng.normal(0, 0.2, n), 0, 1)
    if kind == "discrete":
        scores = np.round(scores * 20) / 20  # ties, and scores on calibration edges
    if kind == "logits":
        scores = np.log(scores + 1e-3) - np.log1p(1e-3 - scores)
    if kind == "one class":
        y_true[group == "c"] = True
    if kind == "two values":
        scores = np.where(rng.random(n) < 0.5, -0.0, 1.0)
    return y_true, scores, group


def _check(item: GroupScores, y_true: Any, scores: Any, *, exact: bool) -> None:
    assert item.count == len(y_true) and item.positives == int(y_true.sum())
    if y_true.all() or not y_true.any():
        assert item.roc_auc.value is None and item.roc_auc.reason
        return
    expected = roc_auc_score(y_true, scores)
    assert item.roc_auc.value is not None
    if exact:
        assert item.roc_auc_error_bound == 0
        assert item.roc_auc.value == pytest.approx(expected, abs=1e-15)
    else:
        assert abs(item.roc_auc.value - expected) <= item.roc_auc_error_bound
    if item.calibration:
        rate, predicted = calibration_curve(y_true, scores, n_bins=10)
        full = [b for b in item.calibration if b.count]
        assert [b.observed_rate.value for b in full] == pytest.approx(rate, abs=1e-15)
        assert [b.mean_predicted.value for b in full] == pytest.approx(
            predicted, abs=1e-13
        )  # sklearn sums in float
    for i, threshold in enumerate(THRESHOLDS):
        assert item.sweep.selection_rate[i].value == (scores >= threshold).mean()


def _check_all(results: ScoreResults, y_true: Any, scores: Any, group: Any, exact: bool) -> None:
    _check(results.overall, y_true, scores, exact=exact)
    for item in results.feature("g").groups:
        mask = group == item.group[0]
        _check(item, y_true[mask], scores[mask], exact=exact)


@pytest.mark.parametrize("kind", ["random", "discrete", "logits", "one class", "two values"])
def test_distinct_bins_are_exact(kind: str) -> None:
    y_true, scores, group = _data(kind)
    results = score_metrics(y_true, scores, [encode_column("g", group)], thresholds=THRESHOLDS)
    assert results.histogram["fine_bins"] == "distinct scores"
    assert results.histogram["roc_auc_exact"] is True
    assert results.to_json()["overall"]["roc_auc_exact"] is True
    _check_all(results, y_true, scores, group, exact=True)


@pytest.mark.parametrize("kind", ["random", "logits", "one class"])
def test_equal_width_bins_stay_within_their_bound(kind: str) -> None:
    y_true, scores, group = _data(kind, n=20_000)
    results = score_metrics(
        y_true, scores, [encode_column("g", group)], thresholds=THRESHOLDS, max_distinct=100
    )
    description = results.histogram
    assert description["fine_bins"].startswith("equal width")
    assert description["low"] <= scores.min() and scores.max() < description["high"]
    assert description["roc_auc_exact"] is False
    assert 0 < description["roc_auc_max_error_bound"] < 1e-3
    _check_all(results, y_true, scores, group, exact=False)


def test_discrete_scores_in_equal_width_bins_are_still_exact() -> None:
    """Scores that are multiples of the bin width never share a bin with another score."""
    rng = np.random.default_rng(2)
    scores = rng.integers(0, 4000, 10_000) / 4096
    y_true = rng.random(10_000) < 0.4
    group = np.array(["a"] * 10_000)
    results = score_metrics(y_true, scores, [encode_column("g", group)], max_distinct=10)
    assert results.histogram["fine_bins"].startswith("equal width")
    assert results.overall.roc_auc_error_bound > 0 or results.overall.roc_auc.value is not None
    assert results.overall.roc_auc.value == pytest.approx(roc_auc_score(y_true, scores), abs=1e-6)


@pytest.mark.parametrize("max_distinct", [100, 65536])
def test_batching_and_row_order_change_nothing(max_distinct: int) -> None:
    y_true, scores, group = _data("logits", n=6000)
    columns = [encode_column("g", group)]
    # Ascending scores make the range grow batch after batch (bins coarsen as it does).
    order = np.argsort(scores)
    documents = {
        json.dumps(
            score_metrics(
                y_true[rows],
                scores[rows],
                [encode_column("g", group[rows])],
                max_distinct=max_distinct,
                batch_rows=batch,
            ).to_json()
        )
        for rows, batch in ((np.arange(6000), 6000), (order, 97), (order[::-1], 1000))
    }
    assert len(documents) == 1
    del columns


def test_merged_histograms_equal_one_histogram() -> None:
    y_true, scores, group = _data("random", n=5000)
    column = encode_column("g", group)
    codes = column.codes.astype(np.int64)
    whole = ScoreHistogram(np.array(THRESHOLDS), max_distinct=300)
    whole.add(codes, y_true, scores)
    # One half stays distinct (few values), the other is binned: merging mixes both.
    first = ScoreHistogram(np.array(THRESHOLDS), max_distinct=300)
    first.add(codes[:200], y_true[:200], scores[:200])
    second = ScoreHistogram(np.array(THRESHOLDS), max_distinct=300)
    second.add(codes[200:], y_true[200:], scores[200:])
    assert first.binning.distinct and not second.binning.distinct
    first.merge(second)
    groups = [(name,) for name in column.categories]

    def document(histogram: ScoreHistogram) -> str:
        results = score_results(histogram, [column], groups, thresholds=THRESHOLDS)
        return json.dumps(results.to_json())

    assert document(first) == document(whole)


def test_bin_exponent_is_the_smallest_that_fits() -> None:
    for low, high in ((0.0, 1.0), (-3.5, 7.25), (0.1, 0.1000001), (1e6, 1e6 + 3)):
        e = bin_exponent(low, high, 1 << 16)
        span = np.floor(np.ldexp(high, -e)) - np.floor(np.ldexp(low, -e)) + 1
        finer = np.floor(np.ldexp(high, -(e - 1))) - np.floor(np.ldexp(low, -(e - 1))) + 1
        assert span <= 1 << 16 < finer


@pytest.mark.parametrize("n", [1, 2, 999, 1000])
def test_median_split_matches_numpy(n: int) -> None:
    rng = np.random.default_rng(n)
    scores = np.round(rng.random(n), 2)
    codes = rng.integers(0, 3, n)
    histogram = ScoreHistogram(np.array([0.5]))
    histogram.add(codes, rng.random(n) < 0.5, scores)
    split = median_split(histogram)
    median = float(np.median(scores))
    assert split.exact and split.median == median
    expected = np.bincount(codes[scores > median], minlength=histogram.groups)
    assert split.above.tolist() == expected.tolist()


def test_median_split_of_equal_width_bins_brackets_the_median() -> None:
    rng = np.random.default_rng(9)
    scores = rng.random(5001)
    codes = rng.integers(0, 2, 5001)
    histogram = ScoreHistogram(np.array([0.5]), max_distinct=50)
    histogram.add(codes, rng.random(5001) < 0.5, scores)
    split = median_split(histogram)
    truth = np.bincount(codes[scores > np.median(scores)], minlength=2)
    assert not split.exact
    assert (split.above <= truth).all() and (truth <= split.above + split.uncertain).all()
    assert split.uncertain.sum() < 10


def test_integer_weights_count_like_repeated_rows() -> None:
    y_true, scores, group = _data("random", n=3000)
    column = encode_column("g", group)
    codes = column.codes.astype(np.int64)
    # Powers of two: score * weight is exact, as the score added weight times is.
    weights = np.random.default_rng(4).choice([1, 2, 4], 3000)
    weighted = ScoreHistogram(np.array(THRESHOLDS), max_distinct=500)
    weighted.add(codes, y_true, scores, weights.astype(np.float64))
    repeated = ScoreHistogram(np.array(THRESHOLDS), max_distinct=500)
    rows = np.repeat(np.arange(3000), weights)
    repeated.add(codes[rows], y_true[rows], scores[rows])
    groups = [(name,) for name in column.categories]
    documents = [
        json.dumps(score_results(h, [column], groups, thresholds=THRESHOLDS).to_json())
        for h in (weighted, repeated)
    ]
    # Every rate and mean is the same; counts count rows (3000), not weights.
    assert documents[0] != documents[1]
    plain = [
        json.loads(re.sub(r'"(count|positives)": \d+', '"\\1": 0', text)) for text in documents
    ]
    # The weighted binning states how the weights were summed; nothing else differs.
    assert plain[0]["histogram"].pop("weight_sums") == "exact"
    assert "weight_sums" not in plain[1]["histogram"]
    assert plain[0] == plain[1]
    found = score_results(weighted, [column], groups, thresholds=THRESHOLDS)
    assert found.overall.count == 3000 and found.overall.positives == int(y_true.sum())
