"""Recording an audit from Python: the payload ``bias-ledger audit`` records, signed and appended.

``bias_ledger.audit(...)`` computes; :func:`record_audit` puts the result in a ledger, exactly as
the CLI does (same payload, same signature, same checkpoint).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bias_ledger._audit import AuditResult
    from bias_ledger.ledger.store import Appended
    from bias_ledger.policy.report import PolicyReport


def audit_payload(result: AuditResult, policy_report: PolicyReport | None = None) -> dict[str, Any]:
    """The audit record's payload: the result's JSON, the policy verdict, the environment."""
    from bias_ledger.provenance import environment

    payload = result.to_json()
    payload["policy"] = policy_report.to_json() if policy_report is not None else None
    payload["environment"] = environment()
    return payload


def record_audit(
    result: AuditResult,
    ledger: str | Path,
    key: Ed25519PrivateKey,
    *,
    policy_report: PolicyReport | None = None,
    labels: Mapping[str, str] | None = None,
) -> Appended:
    """Sign ``result`` with ``key`` and append it to the ledger directory ``ledger``.

    ``labels`` are the CI labels a record carries (git commit, branch, ...); the CLI passes
    :func:`bias_ledger.provenance.ci_labels`. Load a key with
    :func:`bias_ledger.signing.load_signing_key`.
    """
    from bias_ledger.ledger.record import RecordKind
    from bias_ledger.ledger.store import append_record

    payload = audit_payload(result, policy_report)
    return append_record(Path(ledger), RecordKind.AUDIT, payload, key, labels=labels)
