"""Result objects of a multiclass audit (one-vs-rest per class): frozen, typed, JSON-able."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bias_ledger.metrics.model import MetricResults, Task, Value
from bias_ledger.metrics.regression_results import values_json


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
        return {"features": list(self.features), "summaries": values_json(self.summaries)}


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
