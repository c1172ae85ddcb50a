"""The binary engine's metrics for a batch of count tables at once (one row per resample).

Mirrors :mod:`bias_ledger.metrics.engine` value for value, with NaN standing for "undefined"
inside the arrays; tests check every quantity against the engine run on single resamples.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from bias_ledger.metrics import registry
from bias_ledger.metrics.binary import RATES
from bias_ledger.metrics.model import GroupMetrics, MetricResults, Value

Array = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Group = tuple[str, ...]

DISPARITY_FIELDS: tuple[str, ...] = (
    "between_groups_difference",
    "between_groups_ratio",
    "to_overall_difference",
    "to_overall_ratio",
)


class PathKind(StrEnum):
    """Which part of a :class:`~bias_ledger.metrics.model.MetricResults` a path points into."""

    GROUP = "group"
    DISPARITY = "disparity"
    TO_REFERENCE = "to_reference"
    SUMMARY = "summary"
    IMPACT_RATIO = "impact_ratio"


@dataclass(frozen=True)
class MetricPath:
    """The address of one :class:`~bias_ledger.metrics.model.Value` in the engine's results."""

    kind: PathKind
    """Group metric, disparity field, comparison to the reference, summary or impact ratio."""
    features: tuple[str, ...]
    """The feature result (empty with ``kind=group`` for the overall metrics)."""
    metric: str
    """Metric or summary name (``"impact_ratio"`` for impact ratios)."""
    group: Group = ()
    """The group, for group metrics, comparisons to the reference and impact ratios."""
    part: str = ""
    """Disparity field name, or ``"difference"`` / ``"ratio"`` for comparisons."""

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind.value,
            "features": list(self.features),
            "metric": self.metric,
            "group": list(self.group),
            "part": self.part,
        }


def _divide(numerator: Array, denominator: Array) -> Array:
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def group_rates(cells: Array) -> dict[str, Array]:
    """Every metric of each group; ``cells`` is ``(..., 4)`` TN, FP, FN, TP; NaN where 0/0."""
    total = cells.sum(axis=-1)
    out = {"count": np.where(total > 0, total, np.nan)}
    for name, rate in RATES.items():
        numerator = cells[..., list(rate.numerator)].sum(axis=-1)
        out[name] = _divide(numerator, cells[..., list(rate.denominator)].sum(axis=-1))
    return out


def _max(values: Array, defined: npt.NDArray[np.bool_]) -> Array:
    out: Array = np.where(defined, values, -np.inf).max(axis=1)
    return out


def _min(values: Array, defined: npt.NDArray[np.bool_]) -> Array:
    out: Array = np.where(defined, values, np.inf).min(axis=1)
    return out


def disparities(values: Array, overall: Array, eligible: npt.NDArray[np.bool_]) -> dict[str, Array]:
    """fairlearn's between-groups and to-overall disparities of ``values`` ``(B, G)``."""
    defined = ~np.isnan(values) & eligible
    some = defined.any(axis=1)
    high, low = _max(values, defined), _min(values, defined)
    with np.errstate(invalid="ignore"):
        difference = np.where(some, high - low, np.nan)
    ratio = np.where(some, _divide(low, high), np.nan)
    base = overall[:, None]
    deviation = np.where(defined, np.abs(values - np.nan_to_num(base)), -np.inf).max(axis=1)
    to_difference = np.where(some & ~np.isnan(overall), deviation, np.nan)
    raw = _divide(values, base)
    with np.errstate(divide="ignore"):
        folded = np.where(raw > 1, 1 / raw, raw)
    # A group's x/0 is inf, folded to 0; 0/0 is NaN, which fairlearn (pandas min) skips.
    folded = np.where(base == 0, np.where(values != 0, 0.0, np.nan), folded)
    usable = defined & ~np.isnan(folded)
    to_ratio = np.where(usable.any(axis=1), _min(folded, usable), np.nan)
    return {
        "between_groups_difference": difference,
        "between_groups_ratio": ratio,
        "to_overall_difference": to_difference,
        "to_overall_ratio": np.where(np.isnan(overall), np.nan, to_ratio),
    }


@dataclass(frozen=True)
class FeatureBatch:
    """Counts of one feature result for every resample, with what the point estimate fixed."""

    features: tuple[str, ...]
    """The feature result's features."""
    groups: tuple[Group, ...]
    """Its groups, in the order of the second axis of :attr:`cells`."""
    cells: Array
    """Shape ``(B, G, 4)``: TN, FP, FN, TP of each group in each resample."""
    reference: int
    """Index of the reference group (fixed by the point estimate)."""
    eligible: npt.NDArray[np.bool_]
    """Groups that take part in disparities and summaries (the sufficient ones)."""
    denominators: npt.NDArray[np.bool_]
    """Groups that can be the impact ratios' denominator (fixed by the point estimate's rule)."""


def feature_quantities(
    batch: FeatureBatch, overall: Mapping[str, Array]
) -> Iterator[tuple[MetricPath, Array]]:
    """Every quantity of one feature result, as ``(path, values over resamples)``."""
    names = batch.features
    rates = group_rates(batch.cells)
    fields: dict[str, dict[str, Array]] = {}
    for metric in registry.binary_keys():
        values = rates[metric]
        for index, group in enumerate(batch.groups):
            yield MetricPath(PathKind.GROUP, names, metric, group), values[:, index]
        fields[metric] = disparities(values, overall[metric], batch.eligible[None, :])
        for part, array in fields[metric].items():
            yield MetricPath(PathKind.DISPARITY, names, metric, part=part), array
        base = values[:, batch.reference : batch.reference + 1]
        difference, ratio = values - base, _divide(values, base)
        for index, group in enumerate(batch.groups):
            yield (
                MetricPath(PathKind.TO_REFERENCE, names, metric, group, "difference"),
                difference[:, index],
            )
            yield MetricPath(PathKind.TO_REFERENCE, names, metric, group, "ratio"), ratio[:, index]
    for summary in registry.SUMMARIES:
        stacked = np.stack([fields[metric][summary.disparity] for metric in summary.parts])
        # NaN propagates through max/min: a summary is undefined when any part is.
        combined = stacked.max(axis=0) if summary.difference else stacked.min(axis=0)
        yield MetricPath(PathKind.SUMMARY, names, summary.key), combined
    selection = rates["selection_rate"]
    has_rate = ~np.isnan(selection) & batch.denominators[None, :]
    highest = np.where(has_rate.any(axis=1), _max(selection, has_rate), np.nan)
    impact = _divide(selection, highest[:, None])
    for index, group in enumerate(batch.groups):
        yield MetricPath(PathKind.IMPACT_RATIO, names, "impact_ratio", group), impact[:, index]


def _positions(top: npt.NDArray[np.int64], quantile: float) -> tuple[Ints, Ints, Array]:
    position = top * quantile
    below = np.floor(position).astype(np.int64)
    return below, np.minimum(below + 1, top), position - below


def percentile_bounds(
    samples: npt.NDArray[np.float64], level: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Lower and upper percentile of each column of ``(B, K)`` samples, ignoring NaN.

    Linear interpolation between order statistics, as ``np.quantile``'s default (and so
    fairlearn's); columns with no defined sample get NaN bounds. Returns (low, high, defined).
    """
    defined = (~np.isnan(samples)).sum(axis=0).astype(np.int64)
    top = np.maximum(defined - 1, 0)
    quantiles = ((1 - level) / 2, (1 + level) / 2)
    ordered = np.empty_like(samples)
    full = defined == samples.shape[0]
    if full.any():
        # Without NaN every column needs the same four order statistics: partition, not sort.
        kth = sorted({int(k[0]) for q in quantiles for k in _positions(top[full][:1], q)[:2]})
        ordered[:, full] = np.partition(samples[:, full], kth, axis=0)
    if not full.all():
        ordered[:, ~full] = np.sort(samples[:, ~full], axis=0)  # NaN sorts last
    columns = np.arange(samples.shape[1])
    bounds = []
    for quantile in quantiles:
        below, above, fraction = _positions(top, quantile)
        low_values, high_values = ordered[below, columns], ordered[above, columns]
        with np.errstate(invalid="ignore"):
            value = low_values + (high_values - low_values) * fraction
        # Equal neighbours (including +-0 spans) interpolate to themselves exactly.
        value = np.where(high_values == low_values, low_values, value)
        bounds.append(np.where(defined > 0, value, np.nan))
    return bounds[0], bounds[1], defined


def _group_paths(
    features: tuple[str, ...], item: GroupMetrics
) -> Iterator[tuple[MetricPath, Value]]:
    for metric, value in item.metrics.items():
        yield MetricPath(PathKind.GROUP, features, metric, item.group), value


def value_paths(results: MetricResults) -> Iterator[tuple[MetricPath, Value]]:
    """Every value of the results with its path (an impact ratio's selection rate is a group's)."""
    yield from _group_paths((), results.overall)
    for result in results.features:
        names = result.features
        for item in result.groups:
            yield from _group_paths(names, item)
        for disparity in result.disparities:
            for part in (f.name for f in dataclasses.fields(disparity)):
                value = getattr(disparity, part)
                if isinstance(value, Value):
                    yield MetricPath(PathKind.DISPARITY, names, disparity.metric, part=part), value
            for comparison in disparity.to_reference:
                for part in ("difference", "ratio"):
                    path = MetricPath(
                        PathKind.TO_REFERENCE, names, disparity.metric, comparison.group, part
                    )
                    yield path, getattr(comparison, part)
        for name, value in result.summaries.items():
            yield MetricPath(PathKind.SUMMARY, names, name), value
        for impact in result.impact_ratios:
            yield (
                MetricPath(PathKind.IMPACT_RATIO, names, "impact_ratio", impact.group),
                (impact.impact_ratio),
            )
