"""Wilson score intervals equal statsmodels' and always contain their estimate.

At k = 0 and k = n the closed form is a rounding error away from 0 (or 1): recorded bounds such
as 2.8e-17 used to exclude a rate of exactly 0, and the report's error bars refused them.
"""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint

from bias_ledger.metrics.wilson import wilson_bounds, wilson_interval


@pytest.mark.parametrize("level", [0.8, 0.9, 0.95, 0.99])
def test_bounds_equal_statsmodels_and_contain_the_rate(level: float) -> None:
    rng = np.random.default_rng(7)
    trials = np.concatenate([np.arange(1, 80), rng.integers(80, 100_000, 300)])
    successes = np.array([rng.integers(0, n + 1) for n in trials])
    successes[:40] = 0
    successes[40:79] = trials[40:79]
    low, high = wilson_bounds(successes, trials, level=level)
    expected_low, expected_high = proportion_confint(successes, trials, 1 - level, "wilson")
    np.testing.assert_allclose(low, expected_low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(high, expected_high, rtol=0, atol=1e-12)
    rate = successes / trials
    assert np.all(low <= rate) and np.all(rate <= high)
    assert np.all(low[successes == 0] == 0.0)
    assert np.all(high[successes == trials] == 1.0)


def test_no_trials_has_no_interval() -> None:
    low, high = wilson_bounds([0], [0])
    assert np.isnan(low[0]) and np.isnan(high[0])
    assert wilson_interval(0, 0) is None
    interval = wilson_interval(0, 12)
    assert interval is not None and interval.low == 0.0
