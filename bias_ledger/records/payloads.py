"""The payloads of audit, approval and gate records (the header and signature are the store's);
key records' payloads are in :mod:`bias_ledger.records.keys`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bias_ledger._audit_model import AuditResult
    from bias_ledger.policy.report import PolicyReport


def audit_payload(result: AuditResult, policy_report: PolicyReport | None) -> dict[str, Any]:
    """An ``audit`` record's payload: the audit JSON, the policy verdict, the environment."""
    from bias_ledger.provenance import environment

    payload = result.to_json()
    payload["policy"] = policy_report.to_json() if policy_report is not None else None
    payload["environment"] = environment()
    return payload


def approval_payload(index: int, record_hash: str, note: str | None) -> dict[str, Any]:
    """An ``approval`` record's payload: which audit record it approves (by hash), and why."""
    return {"approves": {"index": index, "record_hash": record_hash}, "note": note or ""}


def gate_payload(
    index: int, record_hash: str, subject: Mapping[str, Any], report: PolicyReport
) -> dict[str, Any]:
    """A ``gate`` record's payload: the verdict on audit record ``index`` (by hash); the gate
    adds ``baseline``."""
    return {
        "judges": {"index": index, "record_hash": record_hash},
        "subject": dict(subject),
        "policy": report.to_json(),
    }
