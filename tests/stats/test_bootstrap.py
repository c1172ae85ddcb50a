"""Bootstrap intervals: the vectorised resample metrics equal the engine's, and seeds replay."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bias_ledger.errors import InputError
from bias_ledger.metrics._batch import PathKind, percentile_bounds, value_paths
from bias_ledger.metrics.bootstrap import bootstrap_intervals, resample_values, with_intervals
from bias_ledger.metrics.counts import CountTable, count_binary, encode_column
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.model import MetricResults


def _table(seed: int, n: int, skew: bool = False) -> CountTable:
    rng = np.random.default_rng(seed)
    weights = [0.6, 0.3, 0.07, 0.02, 0.01] if skew else None
    sex = encode_column("sex", rng.choice(["f", "m"], n))
    race = encode_column("race", rng.choice(list("abcde"), n, p=weights))
    y_true = rng.random(n) < 0.35
    y_pred = rng.random(n) < np.where(y_true, 0.7, 0.2)
    return count_binary(y_true, y_pred, [sex, race])


def _references(results: MetricResults) -> dict[str, str]:
    return {f.features[0]: f.reference[0] for f in results.features if len(f.features) == 1}


def _same_sufficiency(point: MetricResults, resampled: MetricResults) -> bool:
    # The bootstrap keeps each group's sufficiency from the point estimate; the engine run on
    # one resample recomputes it, so only resamples where no group crossed the bound compare.
    return all(
        group.sufficient == point.feature(*feature.features).group(group.group).sufficient
        for feature in resampled.features
        for group in feature.groups
    )


@pytest.mark.parametrize(("seed", "min_group_size"), [(0, 0), (1, 0), (2, 0), (0, 15), (3, 15)])
def test_resample_values_equal_engine_on_each_resample(seed: int, min_group_size: int) -> None:
    table = _table(seed, 300, skew=True)
    results = compute_binary_metrics(table, min_group_size=min_group_size)
    assert min_group_size == 0 or any(not g.sufficient for f in results.features for g in f.groups)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(table.n_rows, table.cells.ravel() / table.n_rows, size=16)
    draws = draws.reshape(16, -1, 4)
    # Edge cases: a group emptied, a group with only negatives predicted, one cell holding all.
    draws[0, -1] = 0
    draws[1, 1] = [5, 0, 3, 0]
    draws[2, 2] = [0, 0, 0, 4]
    paths, samples = resample_values(table, draws, results)
    references = _references(results)
    compared = 0
    for b in range(len(draws)):
        single = CountTable.from_counts(table.features, table.groups, draws[b])
        resampled = compute_binary_metrics(
            single, references=references, min_group_size=min_group_size
        )
        if not _same_sufficiency(results, resampled):
            continue
        compared += 1
        expected = dict(value_paths(resampled))
        for path, got in zip(paths, samples[b], strict=True):
            want = expected.get(path)
            intersection_reference_gone = (
                path.kind is PathKind.TO_REFERENCE
                and len(path.features) == 2
                and results.feature(*path.features).reference not in single.groups
            )
            if intersection_reference_gone:
                assert math.isnan(got), path
            elif want is None or want.value is None:
                # Absent from the resample, or undefined there.
                assert math.isnan(got), (path, got, want)
            else:
                assert got == want.value, (path, got, want)
    assert compared >= 6


def test_percentile_bounds_match_numpy_quantile() -> None:
    rng = np.random.default_rng(5)
    samples = rng.normal(size=(257, 6))
    samples[:40, 2] = np.nan
    samples[:, 3] = np.nan
    samples[:, 4] = 0.25
    low, high, defined = percentile_bounds(samples, 0.9)
    for k in range(samples.shape[1]):
        column = samples[:, k][~np.isnan(samples[:, k])]
        assert defined[k] == len(column)
        if len(column) == 0:
            assert math.isnan(low[k]) and math.isnan(high[k])
            continue
        want_low, want_high = np.quantile(column, [0.05, 0.95])
        assert low[k] == pytest.approx(want_low, abs=1e-12)
        assert high[k] == pytest.approx(want_high, abs=1e-12)


def test_seed_replays_and_is_recorded() -> None:
    table = _table(3, 500)
    first = bootstrap_intervals(table, resamples=200, seed=11)
    again = bootstrap_intervals(table, resamples=200, seed=11)
    other = bootstrap_intervals(table, resamples=200, seed=12)
    assert first == again
    assert first.intervals() != other.intervals()
    unseeded = bootstrap_intervals(table, resamples=50)
    assert unseeded == bootstrap_intervals(table, resamples=50, seed=unseeded.seed)
    summary = first.summary_json()
    assert (summary["seed"], summary["resamples"], summary["level"]) == (11, 200, 0.95)


def test_with_intervals_attaches_to_every_defined_value() -> None:
    table = _table(4, 2000, skew=True)
    results = compute_binary_metrics(table)
    boot = bootstrap_intervals(table, resamples=300, seed=1, results=results)
    found = boot.intervals()
    attached = with_intervals(results, boot)
    pairs = list(zip(value_paths(results), value_paths(attached), strict=True))
    assert pairs
    for (path, before), (same_path, after) in pairs:
        assert path == same_path
        assert after.value == before.value
        if before.value is None:
            assert after.interval is None
        else:
            assert after.interval == found[path], path
            assert after.interval is not None
            assert after.interval.low <= after.interval.high
    assert attached.to_json()["overall"]["metrics"]["selection_rate"]["interval"]["method"] == (
        "bootstrap"
    )


def test_undefined_resamples_are_counted() -> None:
    # One positive in a small group: resamples that miss it leave its TPR undefined.
    sex = encode_column("sex", np.array(["f"] * 8 + ["m"] * 400))
    y_true = np.zeros(408, dtype=bool)
    y_true[[0, 8, 9, 10, 11, 12]] = True
    y_pred = y_true.copy()
    table = count_binary(y_true, y_pred, [sex])
    boot = bootstrap_intervals(table, resamples=400, seed=2)
    estimates = {e.path: e for e in boot.estimates}
    tpr = estimates[
        next(p for p in estimates if p.group == ("f",) and p.metric == "true_positive_rate")
    ]
    # P(the one positive of 408 rows is never drawn) = (1 - 1/408) ** 408 ~ e^-1.
    expected_missing = 400 * (1 - 1 / 408) ** 408
    missing = 400 - tpr.defined_resamples
    assert abs(missing - expected_missing) < 4 * math.sqrt(expected_missing)
    assert tpr in boot.partially_defined()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resamples": 0}, "resamples must be >= 1"),
        ({"level": 1.0}, "strictly between 0 and 1"),
    ],
)
def test_bad_options_are_input_errors(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        bootstrap_intervals(_table(0, 50), **kwargs)  # type: ignore[arg-type]
