"""Bootstrap confidence intervals from a count table, and attaching intervals to results.

Resampling n rows with replacement only changes how many rows land in each (group x confusion
cell), and those counts follow a multinomial law with the observed cell shares; so a resample is
one multinomial draw over the cells, costing the same at 1e3 rows as at 1e8.
"""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bias_ledger.errors import InputError
from bias_ledger.metrics._batch import (
    FeatureBatch,
    MetricPath,
    PathKind,
    feature_quantities,
    group_rates,
    percentile_bounds,
    value_paths,
)
from bias_ledger.metrics.counts import CountTable
from bias_ledger.metrics.engine import compute_binary_metrics
from bias_ledger.metrics.model import (
    Disparity,
    FeatureResult,
    GroupMetrics,
    ImpactDenominator,
    ImpactRatio,
    Interval,
    MetricResults,
    ReferenceComparison,
    Value,
)

__all__ = [
    "METHOD",
    "BootstrapEstimate",
    "BootstrapResult",
    "MetricPath",
    "PathKind",
    "bootstrap_intervals",
    "percentile_bounds",
    "resample_values",
    "value_paths",
    "with_intervals",
]

_CHUNK = 512
METHOD = "bootstrap"
"""The :attr:`Interval.method` of bootstrap intervals."""
DESCRIPTION = (
    "percentile bootstrap; each resample is a multinomial draw of n rows over the "
    "(group x confusion cell) counts; resamples where a quantity is undefined are left out of "
    "its interval"
)


@dataclass(frozen=True)
class BootstrapEstimate:
    """The bootstrap interval of one quantity."""

    path: MetricPath
    """Which value of the results it belongs to."""
    interval: Interval | None
    """Percentile interval; None when the quantity is undefined in every resample."""
    defined_resamples: int
    """Resamples where the quantity was defined (the others are left out of the interval)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path.to_json(),
            "interval": self.interval.to_json() if self.interval is not None else None,
            "defined_resamples": self.defined_resamples,
        }


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap intervals of every quantity of a :class:`MetricResults`, and how they were made."""

    method: str
    """How the intervals were computed, in words."""
    resamples: int
    """Number of resamples drawn."""
    level: float
    """Nominal coverage, e.g. 0.95."""
    seed: int
    """Seed of ``numpy.random.default_rng`` that drew the resamples: rerunning reproduces them."""
    estimates: tuple[BootstrapEstimate, ...]
    """One per quantity, in the order of the engine's results."""

    def intervals(self) -> dict[MetricPath, Interval]:
        """Path to interval, for the quantities defined in at least one resample."""
        return {e.path: e.interval for e in self.estimates if e.interval is not None}

    def partially_defined(self) -> tuple[BootstrapEstimate, ...]:
        """Estimates that left some resamples out because the quantity was undefined there."""
        return tuple(e for e in self.estimates if e.defined_resamples < self.resamples)

    def summary_json(self) -> dict[str, Any]:
        """Method, seed, resamples and level, with the quantities that lost resamples."""
        return {
            "method": self.method,
            "resamples": self.resamples,
            "level": self.level,
            "seed": self.seed,
            "partially_defined": [item.to_json() for item in self.partially_defined()],
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **{
                key: value
                for key, value in self.summary_json().items()
                if key != "partially_defined"
            },
            "estimates": [item.to_json() for item in self.estimates],
        }


def _feature_batch(
    table: CountTable, draws: npt.NDArray[np.float64], result: FeatureResult
) -> FeatureBatch:
    positions = [table.features.index(name) for name in result.features]
    index = {group: i for i, group in enumerate(g.group for g in result.groups)}
    target = np.array([index[tuple(group[p] for p in positions)] for group in table.groups])
    # Sum the table's groups into the result's: sort by target group, add each run.
    order = np.argsort(target, kind="stable")
    starts = np.searchsorted(target[order], np.arange(len(index)))
    cells = np.add.reduceat(draws[:, order, :], starts, axis=1)
    return FeatureBatch(
        features=result.features,
        groups=tuple(index),
        cells=cells,
        reference=index[result.reference],
        eligible=np.array([g.sufficient for g in result.groups]),
        denominators=np.array(
            [
                g.sufficient or result.impact_ratio_rule is ImpactDenominator.MOST_SELECTED
                for g in result.groups
            ]
        ),
    )


def _quantities(
    table: CountTable, draws: npt.NDArray[np.int64], results: MetricResults
) -> Iterator[tuple[MetricPath, npt.NDArray[np.float64]]]:
    cells = draws.astype(np.float64)
    overall = group_rates(cells.sum(axis=1))
    for metric in results.overall.metrics:
        yield MetricPath(PathKind.GROUP, (), metric), overall[metric]
    for result in results.features:
        yield from feature_quantities(_feature_batch(table, cells, result), overall)


def resample_values(
    table: CountTable, draws: npt.NDArray[np.int64], results: MetricResults
) -> tuple[list[MetricPath], npt.NDArray[np.float64]]:
    """Every quantity of ``results`` recomputed on each resampled table, NaN where undefined.

    ``draws`` has shape ``(B, len(table.groups), 4)``: the cells of ``table`` in B resamples.
    Returns the paths and a ``(B, len(paths))`` matrix.
    """
    pairs = list(_quantities(table, draws, results))
    return [path for path, _ in pairs], np.column_stack([values for _, values in pairs])


def _estimates(
    pairs: Iterator[tuple[MetricPath, npt.NDArray[np.float64]]], level: float
) -> Iterator[BootstrapEstimate]:
    # Percentiles in chunks of columns: memory stays bounded with thousands of groups.
    while chunk := list(itertools.islice(pairs, _CHUNK)):
        low, high, defined = percentile_bounds(np.column_stack([v for _, v in chunk]), level)
        for (path, _), lo, hi, count in zip(chunk, low, high, defined, strict=True):
            interval = None if count == 0 else Interval(float(lo), float(hi), level, METHOD)
            yield BootstrapEstimate(path, interval, int(count))


def _check(table: CountTable, resamples: int, level: float) -> None:
    if resamples < 1:
        raise InputError(f"the number of bootstrap resamples must be >= 1, got {resamples}")
    if not 0 < level < 1:
        raise InputError(f"the confidence level must lie strictly between 0 and 1, got {level}")
    if table.n_rows == 0:
        raise InputError("cannot bootstrap a count table with no rows")


def bootstrap_intervals(
    table: CountTable,
    *,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int | None = None,
    references: Mapping[str, str] | None = None,
    min_group_size: int = 0,
    results: MetricResults | None = None,
) -> BootstrapResult:
    """Percentile bootstrap intervals of every per-group metric, disparity and summary.

    ``results`` is the point estimate (``compute_binary_metrics(table, references=...,
    min_group_size=...)`` when not given); its reference groups and its ``sufficient`` flags
    are kept fixed in every resample. ``seed`` defaults to a fresh random one, recorded.
    """
    _check(table, resamples, level)
    if results is None:
        results = compute_binary_metrics(
            table, references=references, min_group_size=min_group_size
        )
    if seed is None:
        seed = secrets.randbits(52)  # stays exact as a JSON number
    n_rows = table.n_rows
    rng = np.random.default_rng(seed)
    shares = table.cells.ravel() / n_rows
    draws = rng.multinomial(n_rows, shares, size=resamples).reshape(resamples, -1, 4)
    estimates = tuple(_estimates(_quantities(table, draws, results), level))
    return BootstrapResult(DESCRIPTION, resamples, level, seed, estimates)


def _attach(value: Value, interval: Interval | None) -> Value:
    if interval is None or value.value is None:
        return value
    return dataclasses.replace(value, interval=interval)


def with_intervals(
    results: MetricResults, intervals: BootstrapResult | Mapping[MetricPath, Interval]
) -> MetricResults:
    """A copy of the results with each defined value carrying its interval (when there is one)."""
    found = intervals.intervals() if isinstance(intervals, BootstrapResult) else intervals

    def put(value: Value, path: MetricPath) -> Value:
        return _attach(value, found.get(path))

    def group(names: tuple[str, ...], item: GroupMetrics) -> GroupMetrics:
        metrics = {
            metric: put(value, MetricPath(PathKind.GROUP, names, metric, item.group))
            for metric, value in item.metrics.items()
        }
        return dataclasses.replace(item, metrics=metrics)

    def disparity(names: tuple[str, ...], item: Disparity) -> Disparity:
        def part(name: str) -> Value:
            value: Value = getattr(item, name)
            return put(value, MetricPath(PathKind.DISPARITY, names, item.metric, part=name))

        def compare(c: ReferenceComparison) -> ReferenceComparison:
            path = MetricPath(PathKind.TO_REFERENCE, names, item.metric, c.group)
            return dataclasses.replace(
                c,
                difference=put(c.difference, dataclasses.replace(path, part="difference")),
                ratio=put(c.ratio, dataclasses.replace(path, part="ratio")),
            )

        return dataclasses.replace(
            item,
            between_groups_difference=part("between_groups_difference"),
            between_groups_ratio=part("between_groups_ratio"),
            to_overall_difference=part("to_overall_difference"),
            to_overall_ratio=part("to_overall_ratio"),
            to_reference=tuple(compare(c) for c in item.to_reference),
        )

    def impact(names: tuple[str, ...], item: ImpactRatio) -> ImpactRatio:
        return dataclasses.replace(
            item,
            selection_rate=put(
                item.selection_rate,
                MetricPath(PathKind.GROUP, names, "selection_rate", item.group),
            ),
            impact_ratio=put(
                item.impact_ratio,
                MetricPath(PathKind.IMPACT_RATIO, names, "impact_ratio", item.group),
            ),
        )

    def feature(result: FeatureResult) -> FeatureResult:
        names = result.features
        summaries = {
            name: put(value, MetricPath(PathKind.SUMMARY, names, name))
            for name, value in result.summaries.items()
        }
        return dataclasses.replace(
            result,
            groups=tuple(group(names, g) for g in result.groups),
            disparities=tuple(disparity(names, d) for d in result.disparities),
            summaries=summaries,
            impact_ratios=tuple(impact(names, i) for i in result.impact_ratios),
        )

    return dataclasses.replace(
        results,
        overall=group((), results.overall),
        features=tuple(feature(f) for f in results.features),
    )
