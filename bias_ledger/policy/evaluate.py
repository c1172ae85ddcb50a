"""Judge metric results (and optionally a baseline's) against a policy: a pure function."""

from __future__ import annotations

from dataclasses import dataclass

from bias_ledger.errors import PolicyError
from bias_ledger.metrics.model import FeatureResult, MetricResults, Task, Value
from bias_ledger.policy._select import Measurement, find_feature, measurements, scoped_features
from bias_ledger.policy.model import (
    AuditAge,
    Bounds,
    Direction,
    InsufficientMode,
    Policy,
    Rule,
    Severity,
    TargetKind,
    default_worse,
)
from bias_ledger.policy.report import Check, PolicyReport, RuleOutcome, Status, Verdict

# Values at a bound are compliant; this slack keeps float rounding (0.7999999999999999 for a
# true 0.8) from flipping a verdict.
TOLERANCE = 1e-12


def evaluate_policy(
    policy: Policy,
    results: MetricResults | None,
    *,
    baseline: MetricResults | None = None,
    audit_age: AuditAge | None = None,
) -> PolicyReport:
    """Judge ``results`` against every rule of ``policy``.

    ``audit_age`` (from the ledger) is what ``max_age_days`` rules judge; ``results`` may be
    None (an audit without binary metrics, such as an LL144 audit without a label) when every
    rule is such a rule. Raises :class:`PolicyError` when the policy names a feature or metric
    the results lack, or when the results are not of binary classification.
    """
    metric_rules = [rule for rule in policy.rules if rule.target is not TargetKind.AUDIT_AGE]
    if results is None and metric_rules:
        raise PolicyError(
            f"{policy.source}: rule {metric_rules[0].id!r} judges binary classification "
            "metrics, which this audit does not have (audit with --label for them)"
        )
    for which, item in (("results", results), ("baseline", baseline)):
        if item is not None and item.task is not Task.BINARY_CLASSIFICATION:
            raise PolicyError(
                f"{policy.source}: policies judge binary classification metrics; the {which} "
                f"are of task {item.task.value!r}"
            )
    outcomes: list[RuleOutcome] = []
    for rule in policy.rules:
        if rule.target is TargetKind.AUDIT_AGE:
            outcomes.append(judge_audit_age(rule, audit_age))
            continue
        assert results is not None
        for feature in scoped_features(rule, results, policy):
            outcomes.extend(_judge_feature(rule, feature, baseline, policy.source))
    counts = {status.value: 0 for status in Status}
    for outcome in outcomes:
        counts[outcome.status.value] += 1
    failed = any(outcome.fails_gate for outcome in outcomes)
    return PolicyReport(
        policy_name=policy.name,
        policy_version=policy.version,
        policy_digest=policy.digest,
        outcomes=tuple(outcomes),
        verdict=Verdict.FAIL if failed else Verdict.PASS,
        counts=counts,
        baseline_given=baseline is not None,
    )


@dataclass(frozen=True)
class _Judged:
    status: Status
    fails_gate: bool
    message: str


def _judge_feature(
    rule: Rule, feature: FeatureResult, baseline: MetricResults | None, source: str
) -> list[RuleOutcome]:
    current = measurements(rule, feature, source)
    base_feature = find_feature(baseline, feature.features) if baseline is not None else None
    base_items = (
        {item.key: item for item in measurements(rule, base_feature, source)}
        if base_feature is not None
        else {}
    )
    outcomes = []
    for item in current:
        if rule.bounds.present:
            judged = _judge_bounds(rule, item)
            outcomes.append(_outcome(rule, feature, item, Check.BOUNDS, judged))
        if rule.regression is not None:
            base = base_items.get(item.key)
            judged, worse = _judge_regression(rule, item, base, baseline, base_feature)
            outcomes.append(
                _outcome(rule, feature, item, Check.REGRESSION, judged, base=base, worse=worse)
            )
    return outcomes


def _outcome(
    rule: Rule,
    feature: FeatureResult,
    item: Measurement,
    check: Check,
    judged: _Judged,
    *,
    base: Measurement | None = None,
    worse: Direction | None = None,
) -> RuleOutcome:
    regression = rule.regression if check is Check.REGRESSION else None
    where = feature.name if item.group is None else f"{feature.name} = {', '.join(item.group)}"
    quantity = item.metric
    if rule.disparity_kind is not None:
        quantity = f"{item.metric} {rule.disparity_kind.value}"
    return RuleOutcome(
        rule=rule.id,
        severity=rule.severity,
        check=check,
        features=feature.features,
        group=item.group,
        target=rule.target,
        metric=item.metric,
        disparity_kind=rule.disparity_kind,
        measured=item.value,
        bounds=rule.bounds if check is Check.BOUNDS else Bounds(),
        baseline=base.value if base is not None else None,
        max_worsening=regression.max_worsening if regression is not None else None,
        worse=worse,
        status=judged.status,
        fails_gate=judged.fails_gate,
        message=f"{rule.id}: {where}: {quantity} {judged.message}",
    )


def _fmt(value: Value) -> str:
    if value.value is None:
        return f"undefined ({value.reason})"
    text = f"{value.value:.4g}"
    if value.interval is not None:
        text += f" [{value.interval.low:.4g}, {value.interval.high:.4g}]"
    return text


def _violation(rule: Rule, message: str) -> _Judged:
    if rule.severity is Severity.ERROR:
        return _Judged(Status.FAIL, True, message)
    return _Judged(Status.WARN, False, message)


def _insufficiency(rule: Rule, item: Measurement) -> _Judged | None:
    """Why ``item`` cannot be judged (small groups, undefined value), or None when it can."""
    reason = None
    minimum = rule.min_group_size
    for group in item.depends_on:
        if not group.sufficient:
            reason = f"group {group.label!r} is flagged insufficient data by the audit"
        elif minimum is not None and group.rows < minimum:
            reason = (
                f"group {group.label!r} has {group.rows} rows, fewer than min_group_size {minimum}"
            )
        if reason is not None:
            break
    if reason is None and item.aggregate and len(item.depends_on) < 2:
        reason = "fewer than two groups are large enough to compare"
    if reason is None and item.value.value is None:
        reason = f"undefined: {item.value.reason}"
    if reason is None:
        return None
    fails = rule.insufficient is InsufficientMode.FAIL and rule.severity is Severity.ERROR
    return _Judged(Status.INSUFFICIENT_DATA, fails, f"has insufficient data: {reason}")


def _judge_bounds(rule: Rule, item: Measurement) -> _Judged:
    blocked = _insufficiency(rule, item)
    if blocked is not None:
        return blocked
    value = item.value.value
    assert value is not None
    low, high = rule.bounds.min, rule.bounds.max
    below = low is not None and value < low - TOLERANCE
    above = high is not None and value > high + TOLERANCE
    shown = f"= {_fmt(item.value)}, expected {rule.bounds.describe()}"
    interval = item.value.interval
    if rule.inconclusive and interval is not None:
        straddles = (low is not None and interval.low < low <= interval.high) or (
            high is not None and interval.low <= high < interval.high
        )
        surely_out = (low is not None and interval.high < low) or (
            high is not None and interval.low > high
        )
        if straddles and not surely_out:
            return _Judged(
                Status.INCONCLUSIVE,
                False,
                f"{shown}: inconclusive, the {interval.level:.0%} interval straddles the bound",
            )
    if rule.inconclusive and interval is None:
        shown += " (judged on the point value: the results carry no interval)"
    if below or above:
        return _violation(rule, shown)
    return _Judged(Status.PASS, False, shown)


def _judge_regression(
    rule: Rule,
    item: Measurement,
    base: Measurement | None,
    baseline: MetricResults | None,
    base_feature: FeatureResult | None,
) -> tuple[_Judged, Direction | None]:
    regression = rule.regression
    assert regression is not None
    worse = regression.worse or default_worse(rule.target, item.metric, rule.disparity_kind)
    if worse is None:
        # Only reachable through '*' on a metric without a natural direction.
        return _Judged(Status.NOT_APPLICABLE, False, "has no worse direction; set worse"), None
    if baseline is None:
        if regression.required:
            return _violation(
                rule, "cannot be compared: no baseline given, rule requires one"
            ), worse
        return _Judged(Status.NOT_APPLICABLE, False, "not compared: no baseline given"), worse
    if base_feature is None or base is None:
        what = "feature" if base_feature is None else "value"
        return _Judged(
            Status.NOT_APPLICABLE, False, f"not compared: baseline has no such {what}"
        ), worse
    blocked = _insufficiency(rule, item)
    if blocked is not None:
        return blocked, worse
    if base.value.value is None:
        return (
            _Judged(
                Status.NOT_APPLICABLE,
                False,
                f"not compared: baseline value undefined ({base.value.reason})",
            ),
            worse,
        )
    now, before = item.value.value, base.value.value
    assert now is not None
    change = now - before if worse is Direction.HIGHER else before - now
    shown = (
        f"= {now:.4g}, baseline {before:.4g}: change toward worse {change:+.4g}, "
        f"allowed {regression.max_worsening:g} ({worse.value} is worse)"
    )
    if change > regression.max_worsening + TOLERANCE:
        return _violation(rule, shown), worse
    return _Judged(Status.PASS, False, shown), worse


def judge_audit_age(rule: Rule, age: AuditAge | None) -> RuleOutcome:
    """``max_age_days``: the latest audit of the model may be at most that many days old."""
    limit = rule.bounds.max
    assert limit is not None
    if age is None:
        judged = _Judged(Status.NOT_APPLICABLE, False, "not judged: no ledger history given")
        measured = None
    else:
        measured = Value(age.days)
        where = "the audit being made" if age.record is None else f"record {age.record}"
        text = f"{age.days:.1f} days since {age.audit_date} ({where}), expected <= {limit:g}"
        if age.days <= limit + TOLERANCE:
            judged = _Judged(Status.PASS, False, text)
        elif rule.severity is Severity.ERROR:
            judged = _Judged(Status.FAIL, True, text)
        else:
            judged = _Judged(Status.WARN, False, text)
    return RuleOutcome(
        rule=rule.id,
        severity=rule.severity,
        check=Check.BOUNDS,
        features=(),
        group=None,
        target=rule.target,
        metric="audit_age_days",
        disparity_kind=None,
        measured=measured,
        bounds=rule.bounds,
        baseline=None,
        max_worsening=None,
        worse=None,
        status=judged.status,
        fails_gate=judged.fails_gate,
        message=f"{rule.id}: latest audit of the model: {judged.message}",
    )
