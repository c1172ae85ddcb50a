"""Rebuild metric result objects from their recorded JSON (for baselines and reports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bias_ledger.metrics.model import (
    ConfusionCounts,
    Disparity,
    FeatureResult,
    GroupMetrics,
    ImpactDenominator,
    ImpactRatio,
    MetricResults,
    ReferenceComparison,
    Task,
    Value,
)
from bias_ledger.results_layout import expanded


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
    groups = tuple(_group(item) for item in data["groups"])
    sufficient = {item.group: item.sufficient for item in groups}
    denominator = data.get("impact_ratio_denominator")
    return FeatureResult(
        features=tuple(data["features"]),
        reference=tuple(data["reference"]),
        groups=groups,
        disparities=tuple(_disparity(item) for item in data["disparities"]),
        summaries=_values(data["summaries"]),
        impact_ratios=tuple(
            ImpactRatio(
                group=tuple(item["group"]),
                selection_rate=Value.from_json(item["selection_rate"]),
                impact_ratio=Value.from_json(item["impact_ratio"]),
                below_four_fifths=item["below_four_fifths"],
                # Records before 0.2 do not say; their groups do.
                sufficient=item.get("sufficient", sufficient.get(tuple(item["group"]), True)),
            )
            for item in data["impact_ratios"]
        ),
        impact_ratio_denominator=tuple(denominator) if denominator is not None else None,
        # Whatever rule made them, these are the numbers recorded; the rule only matters when
        # computing, and a record before 0.2 names no denominator.
        impact_ratio_rule=(
            ImpactDenominator.MOST_SELECTED_SUFFICIENT
            if "impact_ratio_denominator" in data
            else ImpactDenominator.MOST_SELECTED
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


def record_results(payload: Mapping[str, Any]) -> MetricResults:
    """The binary results of an audit payload of any results schema (1 to 3)."""
    return results_from_json(expanded(payload)["results"])
