"""Result objects of the metric engine: frozen, typed, and convertible to plain JSON values.

These are the contract between the engine, the renderers, the policy evaluator and the ledger
record. A metric whose value is undefined (0/0) is a :class:`Value` with ``value=None`` and a
``reason``; NaN never appears.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from bias_ledger.metrics import registry


class Task(StrEnum):
    """The kind of prediction problem audited."""

    BINARY_CLASSIFICATION = "binary_classification"
    REGRESSION = "regression"
    MULTICLASS_CLASSIFICATION = "multiclass_classification"


# The metric keys, in display order, as the registry declares them (bias_ledger.metrics.registry).
BINARY_GROUP_METRICS: tuple[str, ...] = registry.binary_keys()
BINARY_SUMMARIES: tuple[str, ...] = registry.summary_keys()

FOUR_FIFTHS = 0.8


class ImpactDenominator(StrEnum):
    """Which group's selection rate impact ratios divide by."""

    MOST_SELECTED_SUFFICIENT = "most_selected_sufficient"
    """The most-selected group among those with at least the minimum group size (since 0.2)."""
    MOST_SELECTED = "most_selected"
    """The most-selected group however small: how records made before 0.2 were computed, kept
    so that they recompute to the numbers they hold."""


@dataclass(frozen=True, eq=False)
class SensitiveColumn:
    """One sensitive feature, dictionary-encoded: the engine's input for grouping."""

    name: str
    """The column name in the input data."""
    codes: npt.NDArray[np.integer[Any]]
    """One code per row, ``0 <= code < len(categories)``: any integer type (readers use the
    narrowest that holds the codes; the engine widens what it combines)."""
    categories: tuple[str, ...]
    """Group names as text, indexed by code, in the order of the original values (numbers
    numerically, text by code point: fairlearn's group order), ``"<missing>"`` last."""


@dataclass(frozen=True)
class Interval:
    """A confidence interval around a metric value."""

    low: float
    high: float
    level: float
    """Nominal coverage, e.g. 0.95."""
    method: str
    """How it was computed: ``"wilson"`` or ``"bootstrap"`` (seed and resamples in the results)."""

    def to_json(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "level": self.level, "method": self.method}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Interval:
        return cls(low=data["low"], high=data["high"], level=data["level"], method=data["method"])


@dataclass(frozen=True)
class Value:
    """A metric value, or the reason it is undefined."""

    value: float | None
    """The number; ``None`` when undefined."""
    reason: str | None = None
    """Why the value is undefined (for example ``"0/0: group has no actual positives"``)."""
    interval: Interval | None = None
    """Confidence interval, when one was asked for and the value is defined."""

    def __post_init__(self) -> None:
        if self.value is None and not self.reason:
            raise ValueError("an undefined Value needs a reason")
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"metric values must be finite, got {self.value!r}")

    @property
    def defined(self) -> bool:
        return self.value is not None

    def to_json(self) -> dict[str, Any]:
        if self.value is None:
            return {"value": None, "reason": self.reason}
        if self.interval is not None:
            return {"value": self.value, "interval": self.interval.to_json()}
        return {"value": self.value}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Value:
        interval = data.get("interval")
        return cls(
            value=data["value"],
            reason=data.get("reason"),
            interval=Interval.from_json(interval) if interval is not None else None,
        )


@dataclass(frozen=True)
class ConfusionCounts:
    """The four confusion-matrix cells of one group (binary classification): row counts, or
    sums of sample weights (floats) in a weighted audit."""

    true_positives: int | float
    false_positives: int | float
    true_negatives: int | float
    false_negatives: int | float

    @property
    def total(self) -> int | float:
        return (
            self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
        )

    def to_json(self) -> dict[str, int | float]:
        return {
            "true_positives": self.true_positives,
            "false_positives": self.false_positives,
            "true_negatives": self.true_negatives,
            "false_negatives": self.false_negatives,
        }


@dataclass(frozen=True)
class GroupMetrics:
    """Metrics of one group (or of the whole population, for ``overall``)."""

    group: tuple[str, ...]
    """One value per feature of the enclosing :class:`FeatureResult`; empty for overall."""
    counts: ConfusionCounts
    """Confusion counts: the sufficient statistics every metric was derived from."""
    metrics: Mapping[str, Value]
    """Metric name to value, in :data:`BINARY_GROUP_METRICS` order."""
    sufficient: bool = True
    """False when the group is smaller than the minimum group size: "insufficient data"."""

    @property
    def label(self) -> str:
        return ", ".join(self.group) if self.group else "overall"

    @property
    def rows(self) -> int:
        """The group's rows: its ``count`` (in a weighted audit ``counts`` sums weights)."""
        count = self.metrics.get("count")
        if count is None or count.value is None:
            return int(self.counts.total)
        return int(count.value)

    def to_json(self) -> dict[str, Any]:
        return {
            "group": list(self.group),
            "counts": self.counts.to_json(),
            "metrics": {name: value.to_json() for name, value in self.metrics.items()},
            "sufficient": self.sufficient,
        }


@dataclass(frozen=True)
class ReferenceComparison:
    """One group's metric against the reference group's."""

    group: tuple[str, ...]
    difference: Value
    """group value minus reference value."""
    ratio: Value
    """group value divided by reference value."""

    def to_json(self) -> dict[str, Any]:
        return {
            "group": list(self.group),
            "difference": self.difference.to_json(),
            "ratio": self.ratio.to_json(),
        }


@dataclass(frozen=True)
class Disparity:
    """Disparities of one metric across the groups of one feature (or intersection)."""

    metric: str
    between_groups_difference: Value
    """max - min over groups (fairlearn ``difference(method="between_groups")``)."""
    between_groups_ratio: Value
    """min / max over groups (fairlearn ``ratio(method="between_groups")``)."""
    to_overall_difference: Value
    """max |group - overall| (fairlearn ``difference(method="to_overall")``)."""
    to_overall_ratio: Value
    """min over groups of min(group/overall, overall/group) (fairlearn ``method="to_overall"``)."""
    to_reference: tuple[ReferenceComparison, ...]
    """Each group's difference and ratio to the reference group."""
    excluded_groups: tuple[tuple[str, ...], ...] = ()
    """Groups left out because the metric is undefined for them (each named in its Value)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "between_groups_difference": self.between_groups_difference.to_json(),
            "between_groups_ratio": self.between_groups_ratio.to_json(),
            "to_overall_difference": self.to_overall_difference.to_json(),
            "to_overall_ratio": self.to_overall_ratio.to_json(),
            "to_reference": [item.to_json() for item in self.to_reference],
            "excluded_groups": [list(group) for group in self.excluded_groups],
        }


@dataclass(frozen=True)
class ImpactRatio:
    """A group's selection rate relative to the most-selected group (EEOC / NYC LL 144)."""

    group: tuple[str, ...]
    selection_rate: Value
    impact_ratio: Value
    below_four_fifths: bool | None
    """True when the impact ratio is below 0.8; None when it is undefined or the group is too
    small to judge (``sufficient`` False)."""
    sufficient: bool = True
    """False when the group is smaller than the minimum group size: shown, judged
    "insufficient data", never the denominator."""

    def to_json(self) -> dict[str, Any]:
        return {
            "group": list(self.group),
            "selection_rate": self.selection_rate.to_json(),
            "impact_ratio": self.impact_ratio.to_json(),
            "below_four_fifths": self.below_four_fifths,
            "sufficient": self.sufficient,
        }


class _Grouped(Protocol):
    @property
    def group(self) -> tuple[str, ...]: ...


G = TypeVar("G", bound=_Grouped)


def find_group(groups: Sequence[G], key: tuple[str, ...]) -> G:
    """The group named ``key``; KeyError when there is none."""
    for item in groups:
        if item.group == key:
            return item
    raise KeyError(key)


def find_disparity(disparities: Sequence[Disparity], metric: str) -> Disparity:
    """The disparity of ``metric``; KeyError when there is none."""
    for item in disparities:
        if item.metric == metric:
            return item
    raise KeyError(metric)


@dataclass(frozen=True)
class FeatureResult:
    """All results for one sensitive feature, or for an intersection of several."""

    features: tuple[str, ...]
    """Sensitive feature names; more than one for an intersection."""
    reference: tuple[str, ...]
    """The reference group, one value per feature."""
    groups: tuple[GroupMetrics, ...]
    disparities: tuple[Disparity, ...]
    summaries: Mapping[str, Value]
    """fairlearn's summary metrics (demographic_parity_difference, ...)."""
    impact_ratios: tuple[ImpactRatio, ...]
    impact_ratio_denominator: tuple[str, ...] | None = None
    """The group impact ratios divide by (the most-selected one with enough rows); None when
    no group qualifies."""
    impact_ratio_rule: ImpactDenominator = ImpactDenominator.MOST_SELECTED_SUFFICIENT
    """How the denominator was chosen (recorded in the audit's parameters, not here)."""

    @property
    def name(self) -> str:
        return " x ".join(self.features)

    def group(self, key: tuple[str, ...]) -> GroupMetrics:
        return find_group(self.groups, key)

    def disparity(self, metric: str) -> Disparity:
        return find_disparity(self.disparities, metric)

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "reference": list(self.reference),
            "groups": [item.to_json() for item in self.groups],
            "disparities": [item.to_json() for item in self.disparities],
            "summaries": {name: value.to_json() for name, value in self.summaries.items()},
            "impact_ratios": [item.to_json() for item in self.impact_ratios],
            "impact_ratio_denominator": (
                list(self.impact_ratio_denominator)
                if self.impact_ratio_denominator is not None
                else None
            ),
        }


@dataclass(frozen=True)
class MetricResults:
    """Everything the engine computed for one audit."""

    task: Task
    overall: GroupMetrics
    features: tuple[FeatureResult, ...]
    """Each sensitive feature on its own, then their intersection (when there are several)."""
    notes: tuple[str, ...] = field(default=())
    """Human-readable notes (excluded groups, undefined values) for reports."""

    def feature(self, *names: str) -> FeatureResult:
        for item in self.features:
            if item.features == tuple(names):
                return item
        raise KeyError(names)

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task.value,
            "overall": self.overall.to_json(),
            "features": [item.to_json() for item in self.features],
            "notes": list(self.notes),
        }
