"""Result objects for regression, multiclass and score audits: frozen, typed, JSON-able.

They extend the contract of :mod:`bias_ledger.metrics.model` (same :class:`Value`, no NaN).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bias_ledger.metrics.model import (
    Disparity,
    MetricResults,
    Task,
    Value,
    find_disparity,
    find_group,
)

# Per-group regression metrics, in display order. Names follow scikit-learn's functions where one
# exists; the residual is prediction - label, so a positive mean residual means over-prediction.
REGRESSION_GROUP_METRICS: tuple[str, ...] = (
    "count",
    "mean_absolute_error",
    "root_mean_squared_error",
    "mean_prediction",
    "mean_residual",
)


def _values_json(values: Mapping[str, Value]) -> dict[str, Any]:
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
            "metrics": _values_json(self.metrics),
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


@dataclass(frozen=True)
class ClassResult:
    """The one-vs-rest binary audit of one class: "is this class" against "is another class"."""

    label: str
    """The class, as text."""
    results: MetricResults
    """Binary metrics where the positive outcome is this class (in the label and the prediction)."""

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "results": self.results.to_json()}


@dataclass(frozen=True)
class MacroSummary:
    """Summaries of one feature (or intersection), averaged over classes with equal weight."""

    features: tuple[str, ...]
    """Sensitive feature names; more than one for an intersection."""
    summaries: Mapping[str, Value]
    """Summary name (fairlearn's) to the mean over classes; undefined if any class's is."""

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "summaries": _values_json(self.summaries)}


@dataclass(frozen=True)
class MulticlassResults:
    """Everything computed for a multiclass audit, one-vs-rest per class."""

    classes: tuple[str, ...]
    """The classes, in the order of :attr:`per_class`."""
    per_class: tuple[ClassResult, ...]
    """One binary audit per class."""
    macro: tuple[MacroSummary, ...]
    """Macro-averaged summaries, one per feature result of the per-class audits."""
    notes: tuple[str, ...] = field(default=())
    """Human-readable notes for reports."""
    task: Task = Task.MULTICLASS_CLASSIFICATION
    """Always :attr:`Task.MULTICLASS_CLASSIFICATION`."""

    def for_class(self, label: str) -> MetricResults:
        for item in self.per_class:
            if item.label == label:
                return item.results
        raise KeyError(label)

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task.value,
            "classes": list(self.classes),
            "per_class": [item.to_json() for item in self.per_class],
            "macro": [item.to_json() for item in self.macro],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class CalibrationBin:
    """One bin of a reliability diagram."""

    low: float
    """Lower edge, exclusive (the first bin also holds a score of exactly 0.0)."""
    high: float
    """Upper edge, inclusive (as ``sklearn.calibration.calibration_curve`` bins)."""
    count: int
    """Rows whose score falls in the bin."""
    mean_predicted: Value
    """Mean score of those rows; undefined for an empty bin."""
    observed_rate: Value
    """Share of those rows with a positive label; undefined for an empty bin."""

    def to_json(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "count": self.count,
            "mean_predicted": self.mean_predicted.to_json(),
            "observed_rate": self.observed_rate.to_json(),
        }


@dataclass(frozen=True)
class ThresholdSweep:
    """Rates of one group at each threshold, predicting positive when ``score >= threshold``."""

    thresholds: tuple[float, ...]
    """The thresholds, as given."""
    selection_rate: tuple[Value, ...]
    """Share predicted positive, one per threshold."""
    true_positive_rate: tuple[Value, ...]
    """Undefined (all thresholds) when the group has no actual positives."""
    false_positive_rate: tuple[Value, ...]
    """Undefined (all thresholds) when the group has no actual negatives."""

    def to_json(self) -> dict[str, Any]:
        return {
            "thresholds": list(self.thresholds),
            "selection_rate": [item.to_json() for item in self.selection_rate],
            "true_positive_rate": [item.to_json() for item in self.true_positive_rate],
            "false_positive_rate": [item.to_json() for item in self.false_positive_rate],
        }


@dataclass(frozen=True)
class GroupScores:
    """Score-based metrics of one group (or of the whole population, for ``overall``)."""

    group: tuple[str, ...]
    """One value per feature of the enclosing result; empty for overall."""
    count: int
    """Rows in the group."""
    positives: int
    """Rows with a positive label."""
    roc_auc: Value
    """Area under the ROC curve (``sklearn.metrics.roc_auc_score``); undefined with one class."""
    calibration: tuple[CalibrationBin, ...]
    """Reliability diagram, equal-width bins over [0, 1]."""
    expected_calibration_error: Value
    """Sum over bins of bin share times ``|observed_rate - mean_predicted|``."""
    sweep: ThresholdSweep
    """Selection rate, TPR and FPR at each threshold."""
    sufficient: bool = True
    """False when the group is smaller than the minimum group size: "insufficient data"."""
    roc_auc_error_bound: float = 0.0
    """How far ``roc_auc`` can be from the exact value (0: exact), from the score histogram."""

    @property
    def label(self) -> str:
        return ", ".join(self.group) if self.group else "overall"

    def to_json(self) -> dict[str, Any]:
        return {
            "group": list(self.group),
            "count": self.count,
            "positives": self.positives,
            "roc_auc": self.roc_auc.to_json(),
            "roc_auc_error_bound": self.roc_auc_error_bound,
            "roc_auc_exact": self.roc_auc_error_bound == 0,
            "calibration": [item.to_json() for item in self.calibration],
            "expected_calibration_error": self.expected_calibration_error.to_json(),
            "sweep": self.sweep.to_json(),
            "sufficient": self.sufficient,
        }


@dataclass(frozen=True)
class ScoreFeatureResult:
    """Score-based metrics for one sensitive feature or an intersection."""

    features: tuple[str, ...]
    """Sensitive feature names; more than one for an intersection."""
    groups: tuple[GroupScores, ...]
    """Every observed group, in category order."""

    def group(self, key: tuple[str, ...]) -> GroupScores:
        for item in self.groups:
            if item.group == key:
                return item
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.features), "groups": [g.to_json() for g in self.groups]}


@dataclass(frozen=True)
class ScoreResults:
    """Everything computed from a score column: ROC AUC, calibration and a threshold sweep."""

    overall: GroupScores
    """Over all rows."""
    features: tuple[ScoreFeatureResult, ...]
    """Each sensitive feature on its own, then their intersection (when there are several)."""
    notes: tuple[str, ...] = field(default=())
    """Human-readable notes for reports."""
    histogram: Mapping[str, Any] = field(default_factory=dict)
    """How the score histograms were binned, and whether every ROC AUC is exact."""

    def feature(self, *names: str) -> ScoreFeatureResult:
        for item in self.features:
            if item.features == tuple(names):
                return item
        raise KeyError(names)

    def to_json(self) -> dict[str, Any]:
        return {
            "overall": self.overall.to_json(),
            "features": [item.to_json() for item in self.features],
            "notes": list(self.notes),
            "histogram": dict(self.histogram),
        }
