"""Rebuild metric result objects from their recorded JSON (for baselines and reports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bias_ledger.metrics.model import (
    ConfusionCounts,
    Disparity,
    FeatureResult,
    GroupMetrics,
    ImpactRatio,
    MetricResults,
    ReferenceComparison,
    Task,
    Value,
)


def _values(data: Mapping[str, Any]) -> dict[str, Value]:
    return {name: Value.from_json(item) for name, item in data.items()}


def _group(data: Mapping[str, Any]) -> GroupMetrics:
    return GroupMetrics(
        group=tuple(data["group"]),
        counts=ConfusionCounts(**data["counts"]),
        metrics=_values(data["metrics"]),
        sufficient=bool(data.get("sufficient", True)),
    )


def _disparity(data: Mapping[str, Any]) -> Disparity:
    return Disparity(
        metric=data["metric"],
        between_groups_difference=Value.from_json(data["between_groups_difference"]),
        between_groups_ratio=Value.from_json(data["between_groups_ratio"]),
        to_overall_difference=Value.from_json(data["to_overall_difference"]),
        to_overall_ratio=Value.from_json(data["to_overall_ratio"]),
        to_reference=tuple(
            ReferenceComparison(
                group=tuple(item["group"]),
                difference=Value.from_json(item["difference"]),
                ratio=Value.from_json(item["ratio"]),
            )
            for item in data["to_reference"]
        ),
        excluded_groups=tuple(tuple(group) for group in data.get("excluded_groups", ())),
    )


def _feature(data: Mapping[str, Any]) -> FeatureResult:
    return FeatureResult(
        features=tuple(data["features"]),
        reference=tuple(data["reference"]),
        groups=tuple(_group(item) for item in data["groups"]),
        disparities=tuple(_disparity(item) for item in data["disparities"]),
        summaries=_values(data["summaries"]),
        impact_ratios=tuple(
            ImpactRatio(
                group=tuple(item["group"]),
                selection_rate=Value.from_json(item["selection_rate"]),
                impact_ratio=Value.from_json(item["impact_ratio"]),
                below_four_fifths=item["below_four_fifths"],
            )
            for item in data["impact_ratios"]
        ),
    )


def results_from_json(data: Mapping[str, Any]) -> MetricResults:
    """The inverse of :meth:`MetricResults.to_json` (binary classification)."""
    return MetricResults(
        task=Task(data["task"]),
        overall=_group(data["overall"]),
        features=tuple(_feature(item) for item in data["features"]),
        notes=tuple(data.get("notes", ())),
    )
