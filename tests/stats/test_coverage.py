"""Coverage by simulation: nominal 95% intervals cover the true value 93-97% of the time.

Each repetition draws a fresh sample from a known population (fixed seeds, so the test is
deterministic) and checks whether the interval computed from it contains the true value.
"""

from __future__ import annotations

import numpy as np
import pytest

from bias_ledger.metrics._batch import MetricPath, PathKind
from bias_ledger.metrics.bootstrap import bootstrap_intervals
from bias_ledger.metrics.counts import CountTable
from bias_ledger.metrics.wilson import wilson_bounds, wilson_interval

LOW, HIGH = 0.93, 0.97


@pytest.mark.parametrize(("trials", "rate"), [(200, 0.3), (60, 0.5), (1000, 0.05)])
def test_wilson_coverage(trials: int, rate: float) -> None:
    rng = np.random.default_rng(trials)
    successes = rng.binomial(trials, rate, size=20_000)
    low, high = wilson_bounds(successes, np.full(successes.shape, trials), level=0.95)
    coverage = float(np.mean((low <= rate) & (rate <= high)))
    assert LOW <= coverage <= HIGH, coverage


def test_wilson_interval_matches_textbook_formula() -> None:
    # Wilson (1927): (p + z^2/2n +- z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n).
    z = 1.959963984540054
    for k, n in [(0, 10), (3, 10), (10, 10), (57, 203)]:
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        interval = wilson_interval(k, n, level=0.95)
        assert interval is not None
        assert interval.low == pytest.approx(max(centre - half, 0.0), abs=1e-12)
        assert interval.high == pytest.approx(min(centre + half, 1.0), abs=1e-12)
    assert wilson_interval(0, 0) is None


def test_bootstrap_coverage() -> None:
    # Population: two groups; cells TN, FP, FN, TP with known selection rates 0.30 and 0.45.
    shares = np.array([[0.35, 0.10, 0.07, 0.08], [0.15, 0.10, 0.07, 0.08]])
    rates = (shares[:, 1] + shares[:, 3]) / shares.sum(axis=1)
    truth = {
        MetricPath(PathKind.GROUP, ("g",), "selection_rate", ("a",)): rates[0],
        MetricPath(PathKind.GROUP, ("g",), "selection_rate", ("b",)): rates[1],
        MetricPath(PathKind.SUMMARY, ("g",), "demographic_parity_difference"): rates[1] - rates[0],
    }
    rng = np.random.default_rng(2024)
    repetitions = 500
    covered = dict.fromkeys(truth, 0)
    for repetition in range(repetitions):
        cells = rng.multinomial(1000, shares.ravel()).reshape(2, 4)
        table = CountTable.from_counts(("g",), [("a",), ("b",)], cells)
        found = bootstrap_intervals(table, resamples=400, seed=repetition).intervals()
        for path, value in truth.items():
            covered[path] += found[path].low <= value <= found[path].high
    for path, hits in covered.items():
        assert LOW <= hits / repetitions <= HIGH, (path, hits / repetitions)
