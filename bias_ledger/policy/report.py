"""The outcome of judging metric results against a policy: one outcome per rule, group and check."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bias_ledger.metrics.model import Value
from bias_ledger.policy.model import Bounds, Direction, DisparityKind, Severity, TargetKind


class Status(StrEnum):
    """The result of one check of one rule."""

    PASS = "pass"
    FAIL = "fail"
    """An error-severity rule was violated."""
    WARN = "warn"
    """A warn-severity rule was violated."""
    INSUFFICIENT_DATA = "insufficient_data"
    """A group was too small, or the value is undefined (0/0): the rule cannot judge it."""
    INCONCLUSIVE = "inconclusive"
    """The value's confidence interval straddles a bound."""
    NOT_APPLICABLE = "not_applicable"
    """Nothing to judge (a regression check without a baseline, a group new since it)."""


class Verdict(StrEnum):
    """The gate's decision."""

    PASS = "pass"
    FAIL = "fail"


class Check(StrEnum):
    """Which part of a rule an outcome judges."""

    BOUNDS = "bounds"
    """The value against the rule's min and max."""
    REGRESSION = "regression"
    """The change from the baseline against ``max_worsening``."""


def _opt_value(value: Value | None) -> dict[str, Any] | None:
    return value.to_json() if value is not None else None


@dataclass(frozen=True)
class RuleOutcome:
    """One judgement: a rule's check on one feature's metric, for one group or the summary."""

    rule: str
    """The rule's id (its name, or ``rule-N``)."""
    severity: Severity
    """The rule's severity."""
    check: Check
    """Bounds or regression."""
    features: tuple[str, ...]
    """The feature (or the intersection's features) judged."""
    group: tuple[str, ...] | None
    """The group judged, for per-group checks; None for summaries and disparities."""
    target: TargetKind
    """What kind of quantity was measured."""
    metric: str
    """The summary or per-group metric name; ``"impact_ratio"`` for impact-ratio rules."""
    disparity_kind: DisparityKind | None
    """For disparity rules, which disparity of ``metric``."""
    measured: Value | None
    """The measured value (possibly undefined, with its reason); None when nothing was measured."""
    bounds: Bounds
    """The rule's min and max (empty for regression checks)."""
    baseline: Value | None
    """The baseline's value, for regression checks."""
    max_worsening: float | None
    """The allowed worsening, for regression checks."""
    worse: Direction | None
    """The direction counted as worse, for regression checks."""
    status: Status
    """The judgement."""
    fails_gate: bool
    """True when this outcome alone makes the gate's verdict ``fail``."""
    message: str
    """One line for people: what was measured, against what, and why this status."""

    @property
    def quantity(self) -> str:
        """A short name of the measured quantity, e.g. ``selection_rate between_groups_ratio``."""
        if self.disparity_kind is not None:
            return f"{self.metric} {self.disparity_kind.value}"
        return self.metric

    @property
    def scope(self) -> str:
        """Feature and group as text, e.g. ``sex`` or ``sex, race_ethnicity = F, Black``."""
        features = " x ".join(self.features)
        if self.group is None:
            return features
        return f"{features} = {', '.join(self.group)}"

    @property
    def bound_text(self) -> str:
        """The limit as text: ``>= 0.8`` or ``worsening <= 0.02 (lower is worse)``."""
        if self.check is Check.REGRESSION:
            worse = f" ({self.worse.value} is worse)" if self.worse is not None else ""
            return f"worsening <= {self.max_worsening:g}{worse}"
        return self.bounds.describe()

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "check": self.check.value,
            "features": list(self.features),
            "group": list(self.group) if self.group is not None else None,
            "target": self.target.value,
            "metric": self.metric,
            "disparity_kind": self.disparity_kind.value if self.disparity_kind else None,
            "measured": _opt_value(self.measured),
            "min": self.bounds.min,
            "max": self.bounds.max,
            "baseline": _opt_value(self.baseline),
            "max_worsening": self.max_worsening,
            "worse": self.worse.value if self.worse is not None else None,
            "status": self.status.value,
            "fails_gate": self.fails_gate,
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuleOutcome:
        def value(item: Mapping[str, Any] | None) -> Value | None:
            return Value.from_json(item) if item is not None else None

        kind = data["disparity_kind"]
        return cls(
            rule=data["rule"],
            severity=Severity(data["severity"]),
            check=Check(data["check"]),
            features=tuple(data["features"]),
            group=tuple(data["group"]) if data["group"] is not None else None,
            target=TargetKind(data["target"]),
            metric=data["metric"],
            disparity_kind=DisparityKind(kind) if kind is not None else None,
            measured=value(data["measured"]),
            bounds=Bounds(min=data["min"], max=data["max"]),
            baseline=value(data["baseline"]),
            max_worsening=data["max_worsening"],
            worse=Direction(data["worse"]) if data["worse"] is not None else None,
            status=Status(data["status"]),
            fails_gate=data["fails_gate"],
            message=data["message"],
        )


@dataclass(frozen=True)
class PolicyReport:
    """Every outcome of a policy evaluation and the resulting verdict."""

    policy_name: str
    """The policy's name."""
    policy_version: int
    """The policy file format version."""
    policy_digest: str
    """BLAKE3 hex digest of the policy file's bytes."""
    outcomes: tuple[RuleOutcome, ...]
    """In policy rule order, then feature, then group."""
    verdict: Verdict
    """``fail`` iff some outcome fails the gate."""
    counts: Mapping[str, int]
    """Number of outcomes per :class:`Status` value (every status present, zeros included)."""
    baseline_given: bool = False
    """Whether a baseline was supplied for regression checks."""

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS

    @property
    def problems(self) -> tuple[RuleOutcome, ...]:
        """Outcomes worth showing: everything but pass and not applicable."""
        quiet = (Status.PASS, Status.NOT_APPLICABLE)
        return tuple(item for item in self.outcomes if item.status not in quiet)

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": {
                "name": self.policy_name,
                "version": self.policy_version,
                "digest": self.policy_digest,
            },
            "verdict": self.verdict.value,
            "counts": dict(self.counts),
            "baseline_given": self.baseline_given,
            "outcomes": [item.to_json() for item in self.outcomes],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PolicyReport:
        policy = data["policy"]
        return cls(
            policy_name=policy["name"],
            policy_version=policy["version"],
            policy_digest=policy["digest"],
            outcomes=tuple(RuleOutcome.from_json(item) for item in data["outcomes"]),
            verdict=Verdict(data["verdict"]),
            counts=dict(data["counts"]),
            baseline_given=data["baseline_given"],
        )
