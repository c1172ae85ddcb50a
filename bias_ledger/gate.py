"""Gate decisions: policy verdicts on audits, baselines from approvals, and their payloads."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bias_ledger.errors import InputError, VerificationError
from bias_ledger.ledger.entry import armor, parse_line
from bias_ledger.ledger.reader import read_ledger
from bias_ledger.ledger.record import RecordKind
from bias_ledger.ledger.trust import TrustedKeys
from bias_ledger.metrics.model import MetricResults
from bias_ledger.results_json import results_from_json

LATEST_APPROVED = "latest-approved"


@dataclass(frozen=True)
class Baseline:
    """The results a regression rule compares against, and where they came from."""

    results: MetricResults
    source: Mapping[str, Any]
    """JSON description: record index and hash, approval index and approver, or bundle."""


def _records(path: Path) -> list[tuple[dict[str, Any], bytes]]:
    stored = read_ledger(path)
    items = []
    for index, line in enumerate(stored.lines):
        entry = parse_line(line, where=f"{path} record {index}")
        items.append((json.loads(entry.record_bytes), line))
    return items


def audit_record_results(record: Mapping[str, Any], *, where: str) -> MetricResults:
    if record.get("kind") != RecordKind.AUDIT.value:
        raise InputError(f"{where}: expected an audit record, found a {record.get('kind')} record")
    return results_from_json(record["audit"]["results"])


def _approval_signed_by_trusted(line: bytes, trusted: TrustedKeys, where: str) -> str:
    from bias_ledger.ledger import sshsig

    entry = parse_line(line, where=where)
    signer = sshsig.verify(armor(entry.signature), entry.record_bytes)
    return trusted.require(signer, what=where).principals


def resolve_baseline(path: Path, spec: str, *, approvers: TrustedKeys | None = None) -> Baseline:
    """``latest-approved``, a record index, or a bundle file."""
    import blake3

    if spec == LATEST_APPROVED:
        records = _records(path)
        for index in range(len(records) - 1, -1, -1):
            record, line = records[index]
            if record.get("kind") != RecordKind.APPROVAL.value:
                continue
            where = f"{path} record {index}"
            principal = ""
            if approvers is not None:
                try:
                    principal = _approval_signed_by_trusted(line, approvers, where)
                except VerificationError:
                    continue
            target = record["approval"]["approves"]
            approved, approved_line = records[target["index"]]
            record_bytes = parse_line(approved_line, where=where).record_bytes
            if blake3.blake3(record_bytes).hexdigest() != target["record_hash"]:
                raise VerificationError(
                    f"{where}: approval names record {target['index']} with hash "
                    f"{target['record_hash']}, which does not match; run 'bias-ledger verify'"
                )
            return Baseline(
                results=audit_record_results(approved, where=f"{path} record {target['index']}"),
                source={
                    "kind": "approval",
                    "approval_index": index,
                    "record_index": target["index"],
                    "record_hash": target["record_hash"],
                    "approver": record["signer"]["fingerprint"],
                    "principal": principal,
                },
            )
        trusted_note = " by a trusted approver" if approvers is not None else ""
        raise InputError(
            f"--baseline latest-approved: no approval record{trusted_note} in {path}; "
            "approve one with 'bias-ledger approve N'"
        )
    if spec.isdigit():
        index = int(spec)
        records = _records(path)
        if index >= len(records):
            raise InputError(f"--baseline {index}: the ledger has records 0..{len(records) - 1}")
        record, line = records[index]
        digest = blake3.blake3(parse_line(line, where=spec).record_bytes).hexdigest()
        return Baseline(
            results=audit_record_results(record, where=f"{path} record {index}"),
            source={"kind": "record", "record_index": index, "record_hash": digest},
        )
    bundle = Path(spec)
    if bundle.is_file():
        from bias_ledger.bundle import read_bundle_baseline

        return read_bundle_baseline(bundle, trusted=approvers)
    raise InputError(
        f"--baseline {spec!r}: expected 'latest-approved', a record index, or a bundle file"
    )
