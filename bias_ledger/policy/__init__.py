"""Fairness policies: TOML rules over metric results, judged into a pass or fail verdict."""

from __future__ import annotations

from bias_ledger.policy.evaluate import evaluate_policy
from bias_ledger.policy.load import load_policy, parse_policy
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
)
from bias_ledger.policy.report import Check, PolicyReport, RuleOutcome, Status, Verdict

__all__ = [
    "POLICY_FORMAT_VERSION",
    "Bounds",
    "Check",
    "Direction",
    "DisparityKind",
    "InsufficientMode",
    "Policy",
    "PolicyReport",
    "Regression",
    "Rule",
    "RuleOutcome",
    "Scope",
    "ScopeKind",
    "Severity",
    "Status",
    "TargetKind",
    "Verdict",
    "evaluate_policy",
    "load_policy",
    "parse_policy",
]
