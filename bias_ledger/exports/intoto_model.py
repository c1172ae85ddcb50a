"""The in-toto attestation of a fairness audit: constants, DSSE's PAE, and the audit summary.

Shared by the writer (``intoto.py``) and the verifier (``intoto_verify.py``); standard library
only, so the verifier stays in the trusted core. Formats: in-toto Statement v1
(https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md) in a DSSE v1 envelope
(https://github.com/secure-systems-lab/dsse/blob/master/envelope.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bias_ledger.results_layout import expanded

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
FAIRNESS_PREDICATE = "https://bias-ledger.dev/attestation/fairness-audit/v1"
"""Our predicate: the audit summary and the audit record's place in the signed ledger."""
TEST_RESULT_PREDICATE = "https://in-toto.io/attestation/test-result/v0.1"
"""The vetted in-toto predicate for a test run's outcome (here: the policy gate's verdict)."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding: the bytes that are signed."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def verdict_of(audit: Mapping[str, Any], gate: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The policy verdict on an audit: a later gate record's, else the audit's own, else None."""
    source = gate if gate is not None else audit
    policy = source.get("policy")
    if not isinstance(policy, Mapping):
        return None
    rules: dict[str, str] = {}
    for outcome in policy.get("outcomes") or ():
        rule, status = str(outcome.get("rule")), str(outcome.get("status"))
        previous = rules.get(rule, "not_applicable")
        rules[rule] = max(previous, status, key=lambda s: _SEVERITY.get(s, 0))
    return {
        "policy": dict(policy.get("policy") or {}),
        "verdict": policy.get("verdict"),
        "counts": dict(policy.get("counts") or {}),
        "rules": rules,
    }


# The worst outcome of a rule decides its test-result list (failed > warned > passed).
_SEVERITY = {"not_applicable": 0, "pass": 1, "warn": 2, "insufficient_data": 2}
_SEVERITY |= {"inconclusive": 2, "fail": 3}


def _feature_summary(feature: Mapping[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "features": list(feature.get("features") or ()),
        "reference": feature.get("reference"),
        "summaries": dict(feature.get("summaries") or {}),
    }
    if "impact_ratios" in feature:
        summary["impact_ratios"] = list(feature["impact_ratios"])
    return summary


def audit_summary(record: Mapping[str, Any], verdict: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the predicate states about the audit, derived from the record's JSON only.

    A verifier derives it again from the record proven in the log and compares: the summary
    can say nothing the signed record does not.
    """
    audit = expanded(record["audit"])
    results = audit.get("results")
    features: list[dict[str, Any]] = []
    if isinstance(results, Mapping):
        features.extend(_feature_summary(f) for f in results.get("features") or ())
        features.extend(
            {"class": item.get("class"), **_feature_summary(feature)}
            for item in results.get("per_class") or ()
            for feature in item["results"]["features"]
        )
    summary: dict[str, Any] = {
        "timestamp": record["timestamp"],
        "standard": audit.get("standard"),
        "task": (results or {}).get("task") if isinstance(results, Mapping) else None,
        "model": {
            "name": (audit.get("subject") or {}).get("model_name"),
            "version": (audit.get("subject") or {}).get("model_version"),
        },
        "inputs": [
            {"role": i.get("role"), "name": i.get("name"), "blake3": i.get("blake3")}
            for i in audit.get("inputs") or ()
        ],
        "rows": (audit.get("data") or {}).get("rows"),
        "intervals": (audit.get("statistics") or {}).get("intervals"),
        "features": features,
        "verdict": dict(verdict) if verdict is not None else None,
    }
    if audit.get("standard") == "nyc-ll144":
        summary["nyc_ll144"] = audit.get("nyc_ll144")
        summary["declaration"] = audit.get("declaration")
    if audit.get("purpose"):
        summary["purpose"] = audit["purpose"]
    return summary


def test_result(verdict: Mapping[str, Any]) -> dict[str, Any]:
    """The in-toto test-result v0.1 predicate of a gate verdict (tests are the policy rules)."""
    rules: Mapping[str, str] = verdict.get("rules") or {}
    failed = sorted(r for r, s in rules.items() if _SEVERITY.get(s) == 3)
    warned = sorted(r for r, s in rules.items() if _SEVERITY.get(s) == 2)
    passed = sorted(r for r, s in rules.items() if _SEVERITY.get(s, 0) <= 1)
    if verdict.get("verdict") == "fail":
        result = "FAILED"
    else:
        result = "WARNED" if warned or failed else "PASSED"
    policy = verdict.get("policy") or {}
    return {
        "result": result,
        "configuration": [
            {"name": str(policy.get("name")), "digest": {"blake3": str(policy.get("digest"))}}
        ],
        "passedTests": passed,
        "warnedTests": warned,
        "failedTests": failed,
    }
