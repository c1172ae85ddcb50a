"""Pick the values a rule measures out of metric results, with the groups each depends on."""

from __future__ import annotations

from dataclasses import dataclass

from bias_ledger.errors import PolicyError
from bias_ledger.metrics import registry
from bias_ledger.metrics.model import (
    FeatureResult,
    GroupMetrics,
    MetricResults,
    Value,
)
from bias_ledger.policy.model import Policy, Rule, ScopeKind, TargetKind

ALL = "*"


@dataclass(frozen=True)
class Measurement:
    """One value a rule judges."""

    metric: str
    """Summary or per-group metric name, or ``"impact_ratio"``."""
    group: tuple[str, ...] | None
    """The group, for per-group quantities."""
    value: Value
    """The measured value (possibly undefined)."""
    depends_on: tuple[GroupMetrics, ...]
    """Groups whose size decides whether the value is trustworthy."""
    aggregate: bool
    """True for summaries and between-group disparities (computed over several groups)."""

    @property
    def key(self) -> tuple[str, tuple[str, ...] | None]:
        return self.metric, self.group


def scoped_features(rule: Rule, results: MetricResults, policy: Policy) -> list[FeatureResult]:
    """The feature results a rule applies to; naming a feature the results lack is an error."""
    if rule.scope.kind is ScopeKind.ALL:
        return list(results.features)
    available = ", ".join(item.name for item in results.features) or "none"
    if rule.scope.kind is ScopeKind.INTERSECTION:
        found = find_feature(results, rule.scope.features)
        if found is None:
            raise PolicyError(
                f"{policy.source}: rule {rule.id!r} names the intersection "
                f"{' x '.join(rule.scope.features)}, which the results do not have "
                f"(they have: {available})"
            )
        return [found]
    selected = []
    for name in rule.scope.features:
        found = find_feature(results, (name,))
        if found is None:
            raise PolicyError(
                f"{policy.source}: rule {rule.id!r} names sensitive feature {name!r}, which the "
                f"results do not have (they have: {available})"
            )
        selected.append(found)
    return selected


def find_feature(results: MetricResults, names: tuple[str, ...]) -> FeatureResult | None:
    """The feature result over exactly these features, in any order."""
    for item in results.features:
        if item.features == names:
            return item
    for item in results.features:
        if len(item.features) == len(names) and set(item.features) == set(names):
            return item
    return None


def measurements(rule: Rule, feature: FeatureResult, source: str) -> list[Measurement]:
    """Every value ``rule`` measures in ``feature``, in a stable order."""
    if rule.target is TargetKind.IMPACT_RATIO:
        # A ratio rests on its own group and on the denominator group: too few rows in either
        # and the ratio is "insufficient data" (the engine picks a sufficient denominator).
        denominator = feature.impact_ratio_denominator
        return [
            Measurement(
                "impact_ratio",
                item.group,
                item.impact_ratio,
                _groups(feature, item.group)
                + (_groups(feature, denominator) if denominator not in (None, item.group) else ()),
                False,
            )
            for item in feature.impact_ratios
        ]
    if rule.target is TargetKind.SUMMARY:
        return [
            Measurement(name, None, feature.summaries[name], _contributors(feature, ()), True)
            for name in _summary_names(rule, feature, source)
        ]
    if rule.target is TargetKind.GROUP_METRIC:
        found = []
        for name in rule.metrics:
            for group in feature.groups:
                if name not in group.metrics:
                    raise _missing(rule, feature, source, f"per-group metric {name!r}")
                found.append(Measurement(name, group.group, group.metrics[name], (group,), False))
        return found
    kind = rule.disparity_kind
    assert kind is not None
    names = (
        [item.metric for item in feature.disparities] if rule.metrics == (ALL,) else rule.metrics
    )
    found = []
    for name in names:
        try:
            disparity = feature.disparity(name)
        except KeyError:
            raise _missing(rule, feature, source, f"disparity of {name!r}") from None
        if not kind.per_group:
            value = getattr(disparity, kind.value)
            assert isinstance(value, Value)
            depends = _contributors(feature, disparity.excluded_groups)
            found.append(Measurement(name, None, value, depends, True))
            continue
        for item in disparity.to_reference:
            if item.group == feature.reference:
                continue
            value = item.difference if kind.value.endswith("difference") else item.ratio
            depends = _groups(feature, item.group) + _groups(feature, feature.reference)
            found.append(Measurement(name, item.group, value, depends, False))
    return found


def _summary_names(rule: Rule, feature: FeatureResult, source: str) -> list[str]:
    if rule.metrics == (ALL,):
        declared = registry.summary_keys()
        known = [name for name in declared if name in feature.summaries]
        return known + [name for name in feature.summaries if name not in declared]
    for name in rule.metrics:
        if name not in feature.summaries:
            raise _missing(rule, feature, source, f"summary {name!r}")
    return list(rule.metrics)


def _groups(feature: FeatureResult, key: tuple[str, ...]) -> tuple[GroupMetrics, ...]:
    try:
        return (feature.group(key),)
    except KeyError:
        # A group named by an impact ratio or comparison but absent from the group list: nothing
        # to size it by, so it cannot block the rule.
        return ()


def _contributors(
    feature: FeatureResult, excluded: tuple[tuple[str, ...], ...]
) -> tuple[GroupMetrics, ...]:
    # The engine leaves groups it flags as insufficient out of summaries and disparities, so only
    # the remaining groups decide whether the summary can be trusted.
    return tuple(g for g in feature.groups if g.sufficient and g.group not in excluded)


def _missing(rule: Rule, feature: FeatureResult, source: str, what: str) -> PolicyError:
    return PolicyError(
        f"{source}: rule {rule.id!r} measures the {what}, which the results for "
        f"{feature.name} do not have"
    )
