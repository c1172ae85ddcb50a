"""Result objects of the metrics of a score column: ROC AUC, calibration, a threshold sweep."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bias_ledger.metrics.model import Value


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
