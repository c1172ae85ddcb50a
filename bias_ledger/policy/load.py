"""Read a TOML policy file and validate it into a :class:`~bias_ledger.policy.model.Policy`.

Every mistake is a one-line :class:`~bias_ledger.errors.PolicyError` naming the file, the rule
and what was expected; unknown names come with the closest known ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import blake3

from bias_ledger.errors import PolicyError
from bias_ledger.ledger.files import read_regular
from bias_ledger.metrics import registry
from bias_ledger.metrics.model import FOUR_FIFTHS
from bias_ledger.policy import _fields as f
from bias_ledger.policy.model import (
    POLICY_FORMAT_VERSION,
    Bounds,
    Direction,
    DisparityKind,
    InsufficientMode,
    Policy,
    Regression,
    Rule,
    Scope,
    ScopeKind,
    Severity,
    TargetKind,
    default_worse,
)
from bias_ledger.toml_text import parse_toml
from bias_ledger.wording import with_article

_TOP_KEYS = ("version", "name", "description", "defaults", "rules", "standard")
_DEFAULT_KEYS = ("severity", "min_group_size", "insufficient", "inconclusive")
_TARGET_KEYS = (
    "summary",
    "disparity",
    "group_metric",
    "impact_ratio",
    "four_fifths",
    "max_age_days",
)
_RULE_KEYS = (
    "name",
    "description",
    *_TARGET_KEYS,
    "kind",
    "threshold",
    "feature",
    "features",
    "intersection",
    "min",
    "max",
    "max_worsening",
    "worse",
    "baseline_required",
    *_DEFAULT_KEYS,
)
# Disparities compare rates across groups; a disparity of raw counts is not a fairness metric.
DISPARITY_METRICS: tuple[str, ...] = tuple(m for m in registry.binary_keys() if m != "count")
ALL = "*"


def load_policy(path: str | Path) -> Policy:
    """Read and validate the policy file at ``path``."""
    try:
        data = read_regular(path, error=PolicyError)
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {str(path)!r}: {exc.strerror}") from exc
    return parse_policy(data, source=str(path))


def parse_policy(data: bytes | str, *, source: str = "<string>") -> Policy:
    """Validate policy TOML text; ``source`` names it in error messages."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    where = f.Where(source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise where.error(f"not UTF-8 text (byte {exc.start})") from exc
    document = parse_toml(text, source=source, error=PolicyError)
    f.check_keys(document, _TOP_KEYS, where, "the policy's top level")
    version = document.get("version")
    if version is None:
        raise where.error(f"missing 'version'; expected version = {POLICY_FORMAT_VERSION}")
    if isinstance(version, bool) or version != POLICY_FORMAT_VERSION:
        raise where.error(
            f"unknown policy format version {version!r}; this release reads version = "
            f"{POLICY_FORMAT_VERSION}"
        )
    defaults = document.get("defaults", {})
    if not isinstance(defaults, dict):
        raise where.error("'defaults' must be a table ([defaults])")
    f.check_keys(defaults, _DEFAULT_KEYS, where, "[defaults]")
    rules_data = document.get("rules")
    if not isinstance(rules_data, list) or not rules_data:
        raise where.error("a policy needs at least one [[rules]] table")
    rules = tuple(
        _parse_rule(item, index, defaults, source) for index, item in enumerate(rules_data)
    )
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise f.Where(source, _label(rule.index, rule.id)).error(
                f"rule name {rule.id!r} is used twice; rule names must be unique"
            )
        seen.add(rule.id)
    return Policy(
        standard=_standard(document, where),
        name=f.get_str(document, "name", where) or Path(source).stem,
        version=POLICY_FORMAT_VERSION,
        rules=rules,
        source=source,
        digest=blake3.blake3(raw).hexdigest(),
        description=f.get_str(document, "description", where) or "",
    )


def _standard(document: Mapping[str, Any], where: f.Where) -> str | None:
    from bias_ledger.errors import InputError
    from bias_ledger.policy.standard import parse_standard

    name = f.get_str(document, "standard", where)
    if name is None:
        return None
    try:
        return parse_standard(name, where="standard").value
    except InputError as exc:
        raise where.error(exc.message) from None


def _label(index: int, name: str | None) -> str:
    return f"rule #{index + 1} ({name!r})" if name else f"rule #{index + 1}"


def _parse_rule(item: object, index: int, defaults: Mapping[str, Any], source: str) -> Rule:
    if not isinstance(item, dict):
        raise f.Where(source, _label(index, None)).error("each [[rules]] entry must be a table")
    name = item.get("name") if isinstance(item.get("name"), str) else None
    where = f.Where(source, _label(index, name))
    f.check_keys(item, _RULE_KEYS, where, "a rule")
    name = f.get_str(item, "name", where)
    target, metrics, kind = _parse_target(item, where)
    bounds = _parse_bounds(item, target, where)
    regression = _parse_regression(item, target, metrics, kind, where)
    if not bounds.present and regression is None:
        raise where.error("nothing to check: give min, max or max_worsening")
    default_where = f.Where(source, "[defaults]")
    severity = f.get_enum(item, "severity", Severity, where)
    insufficient = f.get_enum(item, "insufficient", InsufficientMode, where)
    inconclusive = f.get_bool(item, "inconclusive", where)
    min_group_size = f.get_count(item, "min_group_size", where)
    return Rule(
        id=name or f"rule-{index + 1}",
        index=index,
        target=target,
        metrics=metrics,
        disparity_kind=kind,
        scope=_parse_scope(item, where),
        bounds=bounds,
        regression=regression,
        severity=severity
        or f.get_enum(defaults, "severity", Severity, default_where)
        or Severity.ERROR,
        min_group_size=(
            min_group_size
            if min_group_size is not None
            else f.get_count(defaults, "min_group_size", default_where)
        ),
        insufficient=insufficient
        or f.get_enum(defaults, "insufficient", InsufficientMode, default_where)
        or InsufficientMode.WARN,
        inconclusive=(
            inconclusive
            if inconclusive is not None
            else bool(f.get_bool(defaults, "inconclusive", default_where))
        ),
        description=f.get_str(item, "description", where) or "",
    )


def _parse_target(
    item: Mapping[str, Any], where: f.Where
) -> tuple[TargetKind, tuple[str, ...], DisparityKind | None]:
    given = [key for key in _TARGET_KEYS if key in item]
    if len(given) != 1:
        found = f"found {', '.join(given)}" if given else "found none"
        raise where.error(f"a rule needs exactly one of {', '.join(_TARGET_KEYS)}; {found}")
    key = given[0]
    if key != "disparity" and "kind" in item:
        raise where.error("'kind' only applies to disparity rules")
    if key != "four_fifths" and "threshold" in item:
        raise where.error("'threshold' only applies to four_fifths rules")
    if key == "max_age_days":
        return TargetKind.AUDIT_AGE, (), None
    if key in ("impact_ratio", "four_fifths"):
        if f.get_bool(item, key, where) is not True:
            raise where.error(f"{key} must be true (leave the key out otherwise)")
        return TargetKind.IMPACT_RATIO, (), None
    names = f.get_names(item, key, where)
    assert names is not None
    if key == "summary":
        _check_metric_names(names, registry.summary_keys(), "summary", where, allow_all=True)
        return TargetKind.SUMMARY, names, None
    if key == "disparity":
        _check_metric_names(names, DISPARITY_METRICS, "disparity metric", where, allow_all=True)
        kind = f.get_enum(item, "kind", DisparityKind, where)
        return TargetKind.DISPARITY, names, kind or DisparityKind.BETWEEN_GROUPS_DIFFERENCE
    _check_metric_names(names, registry.binary_keys(), "group metric", where, allow_all=False)
    return TargetKind.GROUP_METRIC, names, None


def _check_metric_names(
    names: tuple[str, ...], known: tuple[str, ...], what: str, where: f.Where, *, allow_all: bool
) -> None:
    if ALL in names:
        if not allow_all:
            raise where.error(f"'*' is not allowed for {with_article(what)}: name the metrics")
        if len(names) > 1:
            raise where.error(f"'*' already means every {what}; give it alone")
        return
    for name in names:
        if name in known:
            continue
        hint = ""
        if what == "summary" and name in registry.binary_keys():
            hint = f"; {name!r} is a per-group metric: use group_metric or disparity"
        elif what != "summary" and name in registry.summary_keys():
            hint = f"; {name!r} is a summary metric: use summary = {name!r}"
        raise where.error(
            f"unknown {what} {name!r}{hint or f.suggest(name, known)}"
            f" (expected one of: {', '.join(known)})"
        )


def _parse_bounds(item: Mapping[str, Any], target: TargetKind, where: f.Where) -> Bounds:
    low = f.get_number(item, "min", where)
    high = f.get_number(item, "max", where)
    if target is TargetKind.AUDIT_AGE:
        if low is not None or high is not None or "max_worsening" in item:
            raise where.error(
                "max_age_days is the rule's bound itself; give no min, max or max_worsening with it"
            )
        days = f.get_count(item, "max_age_days", where)
        if not days:
            raise where.error("max_age_days must be a positive whole number of days")
        return Bounds(max=float(days))
    if "four_fifths" in item:
        if low is not None:
            raise where.error("four_fifths sets the minimum itself; use threshold, not min")
        threshold = f.get_number(item, "threshold", where)
        low = FOUR_FIFTHS if threshold is None else threshold
        if not 0.0 < low <= 1.0:
            raise where.error(f"threshold must be in (0, 1], found {low!r}")
    if low is not None and high is not None and low > high:
        raise where.error(f"contradictory bounds: min {low!r} is greater than max {high!r}")
    return Bounds(min=low, max=high)


def _parse_regression(
    item: Mapping[str, Any],
    target: TargetKind,
    metrics: tuple[str, ...],
    kind: DisparityKind | None,
    where: f.Where,
) -> Regression | None:
    delta = f.get_number(item, "max_worsening", where)
    worse = f.get_enum(item, "worse", Direction, where)
    required = f.get_bool(item, "baseline_required", where)
    if delta is None:
        if worse is not None or required is not None:
            given = "worse" if worse is not None else "baseline_required"
            raise where.error(f"{given} only applies with max_worsening")
        return None
    if delta < 0:
        raise where.error(f"max_worsening must be >= 0, found {delta!r}")
    if worse is None:
        # Disparity and impact-ratio directions depend on the kind only, not on the metric.
        probes = metrics if target in (TargetKind.SUMMARY, TargetKind.GROUP_METRIC) else ("",)
        for metric in probes:
            if metric != ALL and default_worse(target, metric, kind) is None:
                what = repr(metric) if metric else f"{kind} disparities"
                raise where.error(
                    f'no default direction for {what}: set worse = "higher" or "lower"'
                )
    return Regression(max_worsening=delta, worse=worse, required=bool(required))


def _parse_scope(item: Mapping[str, Any], where: f.Where) -> Scope:
    given = [key for key in ("feature", "features", "intersection") if key in item]
    if len(given) > 1:
        raise where.error(f"give at most one of feature, features, intersection; found {given}")
    if not given:
        return Scope(ScopeKind.ALL)
    names = f.get_names(item, given[0], where)
    assert names is not None
    if given[0] == "feature":
        if len(names) != 1:
            raise where.error("feature takes one name; use features = [...] for several")
        return Scope(ScopeKind.FEATURES, names)
    if given[0] == "features":
        return Scope(ScopeKind.FEATURES, names)
    if len(names) < 2:
        raise where.error("intersection needs at least two feature names")
    return Scope(ScopeKind.INTERSECTION, names)
