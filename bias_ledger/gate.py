"""Gate decisions: policy verdicts on audits, baselines from approvals, and their payloads."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bias_ledger.baselines import Baseline, audit_record_results
from bias_ledger.errors import InputError, VerificationError
from bias_ledger.gate_trust import GateTrust, VerifiedLedger
from bias_ledger.ledger.digits import record_index
from bias_ledger.ledger.record import RecordKind, signer_fingerprint
from bias_ledger.metrics.model import MetricResults

__all__ = [
    "LATEST_APPROVED",
    "Baseline",
    "audit_record_results",
    "baseline_index",
    "resolve_baseline",
]

LATEST_APPROVED = "latest-approved"


def baseline_index(spec: str) -> int | None:
    """The record index ``--baseline`` names in ASCII digits; None for ``latest-approved`` or a
    bundle path; InputError for more digits than any record index has."""
    return record_index(spec, what="--baseline")


def _approval(ledger: VerifiedLedger, index: int, approvers: str) -> dict[str, Any]:
    """The baseline source fields of approval record ``index``."""
    record = ledger.records[index]
    return {
        "approval_index": index,
        "approver": signer_fingerprint(record),
        "principal": ledger.approver_principal(index) or "",
        "trusted_by": approvers,
    }


def _approvals_of(ledger: VerifiedLedger, target: int | None) -> list[int]:
    """Approval records (of ``target``, or of any record), latest first."""
    return [
        index
        for index in range(len(ledger.entries) - 1, -1, -1)
        if ledger.entries[index].header.kind is RecordKind.APPROVAL
        and (target is None or (ledger.entries[index].approves or (-1, ""))[0] == target)
    ]


def _from_record(ledger: VerifiedLedger, index: int, option: str) -> tuple[MetricResults, str]:
    """A baseline's audit record, refused when it is invalid: its key could no longer sign it
    (rotated out, or revoked), whoever approved it."""
    record = ledger.record(index, option=option)
    invalid = ledger.invalid_reason(index)
    if invalid:
        raise VerificationError(
            f"{option}: {ledger.where(index)} is invalid{invalid}: a record its key could no "
            "longer sign is never a baseline, approved or not"
        )
    return audit_record_results(record, where=ledger.where(index)), ledger.entries[
        index
    ].record_hash


def _trust_source(trust: GateTrust) -> str:
    if trust.approvers is not None:
        return trust.approvers.source
    return "--trust-ledger-keys" if trust.trusted is None else trust.trusted.source


def _latest_approved(ledger: VerifiedLedger, trust: GateTrust) -> Baseline:
    approvals = _approvals_of(ledger, None)
    if not approvals:
        raise InputError(
            f"--baseline latest-approved: no approval record in {ledger.path}; "
            "approve one with 'bias-ledger approve N'"
        )
    usable = [index for index in approvals if ledger.approver_principal(index) is not None]
    if not usable:
        raise VerificationError(
            f"--baseline latest-approved: no approval record in {ledger.path} is signed by a key "
            f"trusted in {_trust_source(trust)} (approvals {', '.join(map(str, approvals))} are "
            "signed by other keys)"
        )
    approval = usable[0]
    target = ledger.entries[approval].approves
    assert target is not None  # check_entries requires it of an approval
    results, digest = _from_record(ledger, target[0], "--baseline")
    source = {"kind": "approval", "record_index": target[0], "record_hash": digest}
    return Baseline(results, {**source, **_approval(ledger, approval, _trust_source(trust))})


def _numbered(ledger: VerifiedLedger, index: int, trust: GateTrust) -> Baseline:
    results, digest = _from_record(ledger, index, "--baseline")
    source: dict[str, Any] = {"kind": "record", "record_index": index, "record_hash": digest}
    if trust.approvers is not None:
        approvals = [i for i in _approvals_of(ledger, index) if ledger.approver_principal(i)]
        if not approvals:
            raise VerificationError(
                f"--baseline {index}: no approval of record {index} is signed by a key trusted in "
                f"{trust.approvers.source}; approve it with 'bias-ledger approve {index}'"
            )
        return Baseline(
            results, {**source, **_approval(ledger, approvals[0], trust.approvers.source)}
        )
    principal = ledger.signer_principal(index)
    if principal is None:
        raise VerificationError(
            f"{ledger.where(index)}: not signed by a trusted key that may sign it"
            f"{ledger.invalid_reason(index)}"
        )
    return Baseline(results, {**source, "principal": principal, "trusted_by": _trust_source(trust)})


def judged_record(ledger: VerifiedLedger, index: int) -> tuple[Mapping[str, Any], str]:
    """Record ``index`` (JSON) and its hash, once verified and signed by a trusted key."""
    record = ledger.record(index, option="--record")
    invalid = ledger.invalid_reason(index)
    if invalid:
        raise VerificationError(
            f"--record {index}: {ledger.where(index)} is invalid{invalid}: a record its key "
            "could no longer sign is never judged"
        )
    if ledger.signer_principal(index) is None:
        raise VerificationError(
            f"--record {index}: {ledger.where(index)} is signed by "
            f"{signer_fingerprint(record)}, not a trusted key; pass --trusted-keys FILE "
            "listing it"
        )
    return record, ledger.entries[index].record_hash


def resolve_baseline(ledger: VerifiedLedger | None, spec: str, trust: GateTrust) -> Baseline:
    """``latest-approved``, a record index, or a bundle file, verified before it is used."""
    if not trust.anchored:
        raise trust.refusal(f"--baseline {spec}")
    bundle, index = Path(spec), baseline_index(spec)
    if spec != LATEST_APPROVED and index is None:
        if not bundle.is_file():
            raise InputError(
                f"--baseline {spec!r}: expected 'latest-approved', a record index, or a bundle file"
            )
        from bias_ledger.bundle import read_bundle_baseline

        return read_bundle_baseline(bundle, trust=trust)
    assert ledger is not None, "the ledger is verified for a ledger baseline"
    if index is None:
        return _latest_approved(ledger, trust)
    return _numbered(ledger, index, trust)
