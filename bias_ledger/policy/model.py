"""The parsed, validated form of a fairness policy file: a policy is a list of rules.

Built by :mod:`bias_ledger.policy.load`; judged against metric results by
:mod:`bias_ledger.policy.evaluate`. Every field here is already checked, so evaluation never
re-validates.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

POLICY_FORMAT_VERSION = 1
"""The only policy file format version this release reads (``version = 1``)."""


class Severity(StrEnum):
    """What a violated rule does to the gate."""

    ERROR = "error"
    """A violation fails the gate."""
    WARN = "warn"
    """A violation is reported; the gate still passes."""


class InsufficientMode(StrEnum):
    """What "insufficient data" (small group, undefined value) does to a rule."""

    WARN = "warn"
    """Reported, the rule neither passes nor fails."""
    FAIL = "fail"
    """Counted as a violation of the rule (so an error-severity rule fails the gate)."""


class TargetKind(StrEnum):
    """Which part of the metric results a rule measures."""

    SUMMARY = "summary"
    """A summary metric of a feature, e.g. ``demographic_parity_ratio``."""
    DISPARITY = "disparity"
    """A disparity of a per-group metric across the groups of a feature."""
    GROUP_METRIC = "group_metric"
    """A per-group metric, judged group by group."""
    IMPACT_RATIO = "impact_ratio"
    """Each group's selection rate over the most-selected group's (four-fifths rule)."""
    AUDIT_AGE = "audit_age"
    """Days since the latest audit of the model (``max_age_days``): judged on the ledger."""


class DisparityKind(StrEnum):
    """Which disparity of a metric a rule measures (fields of ``metrics.model.Disparity``)."""

    BETWEEN_GROUPS_DIFFERENCE = "between_groups_difference"
    BETWEEN_GROUPS_RATIO = "between_groups_ratio"
    TO_OVERALL_DIFFERENCE = "to_overall_difference"
    TO_OVERALL_RATIO = "to_overall_ratio"
    TO_REFERENCE_DIFFERENCE = "to_reference_difference"
    """Each group's difference to the reference group: judged group by group."""
    TO_REFERENCE_RATIO = "to_reference_ratio"
    """Each group's ratio to the reference group: judged group by group."""

    @property
    def per_group(self) -> bool:
        return self in (DisparityKind.TO_REFERENCE_DIFFERENCE, DisparityKind.TO_REFERENCE_RATIO)

    @property
    def is_ratio(self) -> bool:
        return self.value.endswith("_ratio")


class Direction(StrEnum):
    """Which way a metric gets worse, for regression rules."""

    HIGHER = "higher"
    """An increase is a worsening (differences, error rates)."""
    LOWER = "lower"
    """A decrease is a worsening (ratios, accuracy, true positive rate)."""


class ScopeKind(StrEnum):
    """Which features (or intersections) of the results a rule looks at."""

    ALL = "all"
    """Every feature result: each sensitive feature and each intersection."""
    FEATURES = "features"
    """The named sensitive features, each on its own."""
    INTERSECTION = "intersection"
    """The intersection of the named sensitive features."""


@dataclass(frozen=True)
class Scope:
    """The feature results a rule applies to."""

    kind: ScopeKind
    """All results, named single features, or one intersection."""
    features: tuple[str, ...] = ()
    """Feature names; empty for :attr:`ScopeKind.ALL`."""

    def describe(self) -> str:
        if self.kind is ScopeKind.ALL:
            return "all features"
        if self.kind is ScopeKind.INTERSECTION:
            return "intersection " + " x ".join(self.features)
        return ", ".join(self.features)


@dataclass(frozen=True)
class Bounds:
    """Inclusive limits on a measured value; either may be absent."""

    min: float | None = None
    """The value must be at least this."""
    max: float | None = None
    """The value must be at most this."""

    @property
    def present(self) -> bool:
        return self.min is not None or self.max is not None

    def describe(self) -> str:
        if self.min is not None and self.max is not None:
            return f"between {self.min:g} and {self.max:g}"
        if self.min is not None:
            return f">= {self.min:g}"
        if self.max is not None:
            return f"<= {self.max:g}"
        return "no bound"


@dataclass(frozen=True)
class Regression:
    """A limit on how much worse a metric may get than in the baseline."""

    max_worsening: float
    """The largest allowed change in the worse direction (absolute, in the metric's units)."""
    worse: Direction | None
    """Which way is worse; ``None`` means the default for the metric (see :func:`default_worse`)."""
    required: bool = False
    """When true, evaluating without a baseline is a failure of the rule, not "not applicable"."""


@dataclass(frozen=True)
class Rule:
    """One rule of a policy, already validated."""

    id: str
    """The rule's ``name``, or ``rule-N`` (1-based position) when it has none."""
    index: int
    """0-based position in the policy file's ``[[rules]]`` array."""
    target: TargetKind
    """What the rule measures."""
    metrics: tuple[str, ...]
    """Summary or per-group metric names; ``("*",)`` means every one the results have.

    Empty for impact-ratio rules."""
    disparity_kind: DisparityKind | None
    """For disparity rules: which disparity; otherwise None."""
    scope: Scope
    """Which features or intersection the rule looks at."""
    bounds: Bounds
    """Absolute limits (may be empty when the rule only checks regression)."""
    regression: Regression | None
    """Limit against the baseline, if any."""
    severity: Severity
    """What a violation does to the gate."""
    min_group_size: int | None
    """Groups with fewer rows give "insufficient data"; None relies on the engine's flag only."""
    insufficient: InsufficientMode
    """Whether "insufficient data" is a warning or a violation."""
    inconclusive: bool
    """When true, a value whose confidence interval straddles a bound is "inconclusive"."""
    description: str = ""
    """Free text from the policy file, shown in reports."""


@dataclass(frozen=True)
class Policy:
    """A fairness policy: a named list of rules and where it came from."""

    name: str
    """The policy's ``name``, or the file's stem."""
    version: int
    """The policy file format version (:data:`POLICY_FORMAT_VERSION`)."""
    rules: tuple[Rule, ...]
    """At least one rule, in file order."""
    source: str
    """The file path (or ``"<string>"``) the policy was read from, for messages."""
    digest: str
    """BLAKE3 hex digest of the policy file's bytes, recorded in the ledger with the verdict."""
    description: str = ""
    """Free text from the policy file."""
    standard: str | None = None
    """An audit standard (``nyc-ll144``): ``audit --policy`` then audits by its rules."""


@dataclass(frozen=True)
class AuditAge:
    """How old the latest audit of the judged model is, for ``max_age_days`` rules."""

    days: float
    """Days from the audit's date to the time of judging."""
    audit_date: str
    """The declared audit date (LL144), else the date the record was written."""
    record: int | None
    """The ledger index of that audit; None for the audit being made now."""


def default_worse(
    target: TargetKind, metric: str, disparity_kind: DisparityKind | None
) -> Direction | None:
    """Which way is worse for a measured quantity, or None when no default makes sense.

    Ratios (1 is parity) get worse downwards; differences (0 is parity) upwards. Per-group rates
    follow their meaning; selection rate, base rate, count and the signed comparisons to a
    reference group have no better direction.
    """
    if target is TargetKind.IMPACT_RATIO:
        return Direction.LOWER
    if target is TargetKind.AUDIT_AGE:
        return Direction.HIGHER
    if target is TargetKind.SUMMARY:
        return Direction.LOWER if metric.endswith("_ratio") else Direction.HIGHER
    if target is TargetKind.DISPARITY:
        assert disparity_kind is not None
        if disparity_kind.per_group:
            # Signed comparisons to a reference group: moving either way can be a worsening.
            return None
        return Direction.LOWER if disparity_kind.is_ratio else Direction.HIGHER
    from bias_ledger.metrics import registry

    try:
        worse = registry.binary_metric(metric).worse
    except KeyError:
        return None
    if worse is registry.Worse.LOWER:
        return Direction.LOWER
    if worse is registry.Worse.HIGHER:
        return Direction.HIGHER
    return None
