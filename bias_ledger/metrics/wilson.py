"""Wilson score intervals for rates (k successes out of n): the fast default, no resampling."""

from __future__ import annotations

import dataclasses
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics.binary import RATES
from bias_ledger.metrics.model import GroupMetrics, Interval, MetricResults

METHOD = "wilson"
"""The :attr:`Interval.method` of Wilson score intervals."""


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise InputError(f"the confidence level must lie strictly between 0 and 1, got {level}")
    return NormalDist().inv_cdf((1 + level) / 2)


def wilson_bounds(
    successes: npt.ArrayLike, trials: npt.ArrayLike, *, level: float = 0.95
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Wilson score bounds, elementwise; NaN where ``trials`` is 0."""
    z = _z(level)
    k = np.asarray(successes, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (k + z2 / 2) / (n + z2)
        half = z / (n + z2) * np.sqrt(k * (n - k) / n + z2 / 4)
        # The interval contains its estimate k/n, and is exactly [0, ...] at k = 0 and [..., 1] at
        # k = n: in floating point centre - half is a rounding error away from 0 there.
        rate = np.where(n > 0, k / np.where(n > 0, n, 1.0), np.nan)
        low = np.where(k == 0, 0.0, np.minimum(np.clip(centre - half, 0.0, 1.0), rate))
        high = np.where(k == n, 1.0, np.maximum(np.clip(centre + half, 0.0, 1.0), rate))
        low = np.where(n > 0, low, np.nan)
        high = np.where(n > 0, high, np.nan)
    return low, high


def wilson_interval(successes: int, trials: int, *, level: float = 0.95) -> Interval | None:
    """The Wilson score interval of ``successes / trials``; None when ``trials`` is 0."""
    if trials < 0 or not 0 <= successes <= trials:
        raise InputError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    if trials == 0:
        return None
    low, high = wilson_bounds(successes, trials, level=level)
    return Interval(float(low), float(high), level, METHOD)


def _group(item: GroupMetrics, level: float) -> GroupMetrics:
    counts = item.counts
    cells = (
        counts.true_negatives,
        counts.false_positives,
        counts.false_negatives,
        counts.true_positives,
    )
    metrics = dict(item.metrics)
    for name, rate in RATES.items():
        value = metrics.get(name)
        if value is None or value.value is None:
            continue
        successes = sum(cells[i] for i in rate.numerator)
        trials = sum(cells[i] for i in rate.denominator)
        interval = wilson_interval(successes, trials, level=level)
        metrics[name] = dataclasses.replace(value, interval=interval)
    return dataclasses.replace(item, metrics=metrics)


def with_wilson_intervals(results: MetricResults, *, level: float = 0.95) -> MetricResults:
    """A copy of the results where every defined per-group rate carries its Wilson interval.

    Counts, disparities and summaries are not single rates; use the bootstrap for them.
    """
    _z(level)
    features = []
    for result in results.features:
        groups = tuple(_group(item, level) for item in result.groups)
        by_group = {item.group: item for item in groups}
        impacts = tuple(
            dataclasses.replace(
                impact, selection_rate=by_group[impact.group].metrics["selection_rate"]
            )
            for impact in result.impact_ratios
        )
        features.append(dataclasses.replace(result, groups=groups, impact_ratios=impacts))
    return dataclasses.replace(
        results, overall=_group(results.overall, level), features=tuple(features)
    )
