"""Result objects of a regression audit: frozen, typed, JSON-able.

They extend the contract of :mod:`bias_ledger.metrics.model` (same :class:`Value`, no NaN).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bias_ledger.metrics import registry
from bias_ledger.metrics.model import Disparity, Task, Value, find_disparity, find_group

REGRESSION_GROUP_METRICS: tuple[str, ...] = registry.regression_keys()
"""Per-group regression metrics, in display order (the registry's)."""


def values_json(values: Mapping[str, Value]) -> dict[str, Any]:
    return {name: value.to_json() for name, value in values.items()}


@dataclass(frozen=True)
class RegressionGroup:
    """Regression metrics of one group (or of the whole population, for ``overall``)."""

    group: tuple[str, ...]
    """One value per feature of the enclosing result; empty for overall."""
    count: int
    """Number of rows in the group."""
    metrics: Mapping[str, Value]
    """Metric name to value, in :data:`REGRESSION_GROUP_METRICS` order."""
    sufficient: bool = True
    """False when the group is smaller than the minimum group size: "insufficient data"."""

    @property
    def label(self) -> str:
        return ", ".join(self.group) if self.group else "overall"

    def to_json(self) -> dict[str, Any]:
        return {
            "group": list(self.group),
            "count": self.count,
            "metrics": values_json(self.metrics),
            "sufficient": self.sufficient,
        }


@dataclass(frozen=True)
class RegressionFeatureResult:
    """Regression metrics and disparities for one sensitive feature or an intersection."""

    features: tuple[str, ...]
    """Sensitive feature names; more than one for an intersection."""
    reference: tuple[str, ...]
    """The reference group, one value per feature."""
    groups: tuple[RegressionGroup, ...]
    """Every observed group, in category order."""
    disparities: tuple[Disparity, ...]
    """One per metric of :data:`REGRESSION_GROUP_METRICS` except ``count``."""

    @property
    def name(self) -> str:
        return " x ".join(self.features)

    def group(self, key: tuple[str, ...]) -> RegressionGroup:
        return find_group(self.groups, key)

    def disparity(self, metric: str) -> Disparity:
        return find_disparity(self.disparities, metric)

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "reference": list(self.reference),
            "groups": [item.to_json() for item in self.groups],
            "disparities": [item.to_json() for item in self.disparities],
        }


@dataclass(frozen=True)
class RegressionResults:
    """Everything computed for a regression audit."""

    overall: RegressionGroup
    """Metrics over all rows."""
    features: tuple[RegressionFeatureResult, ...]
    """Each sensitive feature on its own, then their intersection (when there are several)."""
    notes: tuple[str, ...] = field(default=())
    """Human-readable notes (excluded groups, undefined values) for reports."""
    task: Task = Task.REGRESSION
    """Always :attr:`Task.REGRESSION`."""

    def feature(self, *names: str) -> RegressionFeatureResult:
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
