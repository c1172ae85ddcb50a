"""The binary-classification metric engine: a CountTable in, MetricResults out."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from bias_ledger.errors import InputError
from bias_ledger.metrics import registry
from bias_ledger.metrics.binary import group_metrics
from bias_ledger.metrics.counts import CountTable
from bias_ledger.metrics.disparity import disparity, impact_ratios
from bias_ledger.metrics.model import (
    Disparity,
    FeatureResult,
    GroupMetrics,
    ImpactDenominator,
    MetricResults,
    Task,
    Value,
)

Group = tuple[str, ...]

_MAX_LISTED = 20


def _summaries(disparities: Mapping[str, Disparity]) -> dict[str, Value]:
    """The registry's summaries. As fairlearn defines them, equalized odds takes the worst case
    (its default ``agg="worst_case"``) of the TPR and FPR disparities."""
    summaries: dict[str, Value] = {}
    for summary in registry.SUMMARIES:
        name = summary.key
        parts: list[Value] = [
            getattr(disparities[metric], summary.disparity) for metric in summary.parts
        ]
        undefined = [part for part in parts if part.value is None]
        if undefined:
            summaries[name] = Value(None, reason=f"{name} is undefined: {undefined[0].reason}")
            continue
        numbers = [float(part.value or 0.0) for part in parts]
        summaries[name] = Value(max(numbers) if summary.difference else min(numbers))
    return summaries


def _largest(groups: Sequence[GroupMetrics]) -> GroupMetrics:
    # max() keeps the first of equal counts: ties go to the first group in sorted order.
    return max(groups, key=lambda item: item.counts.total)


def _listing(groups: Sequence[Group]) -> str:
    names = [", ".join(group) for group in groups[:_MAX_LISTED]]
    more = f" and {len(groups) - _MAX_LISTED} more" if len(groups) > _MAX_LISTED else ""
    return "; ".join(names) + more


def _explicit_reference(feature: str, wanted: str, groups: Sequence[GroupMetrics]) -> GroupMetrics:
    for item in groups:
        if item.group == (wanted,):
            return item
    available = _listing([item.group for item in groups])
    raise InputError(
        f"reference group {wanted!r} of sensitive feature {feature!r} was not found; "
        f"groups available: {available}"
    )


def _groups(table: CountTable, min_group_size: int) -> tuple[GroupMetrics, ...]:
    return tuple(
        item if item.rows >= min_group_size else dataclasses.replace(item, sufficient=False)
        for item in group_metrics(table)
    )


def _feature_result(
    table: CountTable,
    overall: GroupMetrics,
    reference: GroupMetrics | Group | None,
    min_group_size: int,
    impact_rule: ImpactDenominator,
) -> tuple[FeatureResult, list[str]]:
    groups = _groups(table, min_group_size)
    if not isinstance(reference, GroupMetrics):
        matches = [item for item in groups if item.group == reference]
        reference = matches[0] if matches else _largest(groups)
    disparities = {
        item.key: disparity(item.key, groups, overall, reference) for item in registry.BINARY
    }
    impacts, denominator = impact_ratios(groups, impact_rule)
    result = FeatureResult(
        features=table.features,
        reference=reference.group,
        groups=groups,
        disparities=tuple(disparities.values()),
        summaries=_summaries(disparities),
        impact_ratios=impacts,
        impact_ratio_denominator=denominator,
        impact_ratio_rule=impact_rule,
    )
    return result, _notes(result, min_group_size)


def _notes(result: FeatureResult, min_group_size: int) -> list[str]:
    notes = []
    small = [item.group for item in result.groups if not item.sufficient]
    if small:
        # Records made before 0.2 hold the older wording: it recomputes as it was.
        kept = (
            "(kept in the comparisons to the reference group and the impact ratios)"
            if result.impact_ratio_rule is ImpactDenominator.MOST_SELECTED
            else "and never the impact ratios' denominator (kept in the comparisons to the "
            "reference group, and in the impact ratios, not judged)"
        )
        notes.append(
            f"{result.name}: {len(small)} group(s) with fewer than {min_group_size} rows "
            f"({_listing(small)}) are insufficient data, left out of the between-groups and "
            f"to-overall disparities and the summaries {kept}"
        )
    by_group = {item.group: item for item in result.groups}
    for item in result.disparities:
        if not item.excluded_groups:
            continue
        reasons = sorted(
            {str(by_group[group].metrics[item.metric].reason) for group in item.excluded_groups}
        )
        notes.append(
            f"{result.name}: {item.metric} is undefined for {len(item.excluded_groups)} "
            f"group(s) ({_listing(item.excluded_groups)}; {' / '.join(reasons)}); its "
            f"disparities and the summaries using it cover the other "
            f"{len(result.groups) - len(item.excluded_groups)} group(s) only"
        )
    return notes


def compute_binary_metrics(
    table: CountTable,
    *,
    references: Mapping[str, str] | None = None,
    min_group_size: int = 0,
    impact_rule: ImpactDenominator = ImpactDenominator.MOST_SELECTED_SUFFICIENT,
) -> MetricResults:
    """Metrics, disparities, summaries and impact ratios of every feature and their intersection.

    Each feature is taken on its own (its marginal counts), then the intersection of all of
    them when there are two or more. ``references`` maps a feature to its reference group;
    by default a feature's largest group (the first in sorted order on ties). The intersection's
    reference is the combination of the per-feature references when it was observed, else the
    largest intersectional group. Groups of fewer than ``min_group_size`` rows are marked
    ``sufficient=False`` and left out of the between-groups and to-overall disparities and the
    summaries, with a note; impact ratios divide by the most-selected sufficient group
    (``impact_rule``). Every binary metric of the registry gets disparities,
    ``count`` included: its between-groups ratio is the smallest group's size relative to the
    largest, its to-overall ratio the smallest group's share of the rows.
    """
    if min_group_size < 0:
        raise InputError(f"the minimum group size must be >= 0, got {min_group_size}")
    if table.n_rows == 0:
        raise InputError(f"no rows to audit: the counts by {table.features} are all zero")
    references = dict(references or {})
    unknown = [name for name in references if name not in table.features]
    if unknown:
        raise InputError(
            f"reference given for {unknown[0]!r}, which is not a sensitive feature "
            f"(sensitive features: {', '.join(table.features)})"
        )
    overall = group_metrics(table.overall())[0]
    features: list[FeatureResult] = []
    notes: list[str] = []
    chosen: list[str] = []
    for name in table.features:
        marginal = table.marginal((name,))
        reference: GroupMetrics | Group | None = None
        if name in references:
            reference = _explicit_reference(
                name, references[name], _groups(marginal, min_group_size)
            )
        result, feature_notes = _feature_result(
            marginal, overall, reference, min_group_size, impact_rule
        )
        chosen.append(result.reference[0])
        features.append(result)
        notes.extend(feature_notes)
    if len(table.features) >= 2:
        result, feature_notes = _feature_result(
            table, overall, tuple(chosen), min_group_size, impact_rule
        )
        features.append(result)
        notes.extend(feature_notes)
    return MetricResults(
        task=Task.BINARY_CLASSIFICATION,
        overall=overall,
        features=tuple(features),
        notes=tuple(notes),
    )
