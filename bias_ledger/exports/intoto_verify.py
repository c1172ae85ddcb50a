"""Verify an attestation written by ``bias-ledger attest`` against trusted keys and the log.

Checks, in order: each DSSE envelope's signature (PAE, Ed25519, by a trusted key); the in-toto
Statement; the audit record's entry (signature, trusted signer, record hash); its inclusion
proof against the checkpoint's root; the checkpoint's signature by a trusted key; that the
predicate's summary is exactly what the proven record says; that the subject is the audited
model; and that a test-result Statement says what the proven verdict says. Part of the
verifier's trusted core: standard library, blake3, cryptography and ``ledger/`` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import blake3

from bias_ledger.errors import VerificationError
from bias_ledger.exports.dsse_verify import b64, json_object, open_envelope
from bias_ledger.exports.intoto_model import (
    FAIRNESS_PREDICATE,
    TEST_RESULT_PREDICATE,
    audit_summary,
    test_result,
    verdict_of,
)
from bias_ledger.ledger import note
from bias_ledger.ledger.canonical import parse_json
from bias_ledger.ledger.checkpoint import Checkpoint, verify_signed_checkpoint
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.entry_checks import CheckedEntry, Step, check_entry, record_links
from bias_ledger.ledger.keys import parse_public_key
from bias_ledger.ledger.merkle import BLAKE3_HASHER, SHA256_HASHER
from bias_ledger.ledger.merkle_verify import verify_inclusion
from bias_ledger.ledger.record import parse_header
from bias_ledger.ledger.tlog_checkpoint import parse_checkpoint
from bias_ledger.ledger.tlog_entry import parse_entry
from bias_ledger.ledger.tlog_sig import check_signature
from bias_ledger.ledger.tlog_tiles import leaf_hash
from bias_ledger.ledger.trust import TrustedKeys


@dataclass(frozen=True)
class AttestationVerification:
    """What a successful verification established."""

    subject: Mapping[str, Any]
    origin: str
    index: int
    record_hash: str
    checkpoint_size: int
    predicate_types: tuple[str, ...]
    steps: tuple[Step, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": True,
            "subject": dict(self.subject),
            "origin": self.origin,
            "index": self.index,
            "record_hash": self.record_hash,
            "checkpoint_size": self.checkpoint_size,
            "predicate_types": list(self.predicate_types),
            "steps": [step.to_json() for step in self.steps],
        }


def _checked_v2(link: Mapping[str, Any], index: int, *, where: str) -> tuple[CheckedEntry, bytes]:
    """A format-2 link's entry and the record it commits to: BLAKE3, header, SSHSIG."""
    data = b64(link.get("entry"), f"{where} entry")
    raw = b64(link.get("record"), f"{where} record")
    entry = parse_entry(data, where=f"{where} entry")
    if blake3.blake3(raw).hexdigest() != entry.record or len(raw) != entry.size:
        raise VerificationError(f"{where}: the record does not hash to {entry.record}")
    record = parse_json(raw, where=where)
    header = parse_header(record, where=where, versions=frozenset({2}))
    found = (header.index, header.kind.value, header.timestamp, header.signer.fingerprint)
    if found != (entry.index, entry.kind, entry.timestamp, entry.signer):
        raise VerificationError(f"{where}: the record's header disagrees with its entry")
    key = parse_public_key(header.signer.public_key, source=where)
    check_signature(entry.signature, raw, key, where=where)
    approves, new_key, revokes = record_links(record, header, where=where)
    leaf = leaf_hash(data)
    return CheckedEntry(header, entry.record, leaf, approves, new_key, revokes), raw


def _proven_record(
    link: Mapping[str, Any],
    checkpoint: Checkpoint,
    trusted: TrustedKeys,
    *,
    where: str,
    format_version: int = 1,
) -> dict[str, Any]:
    """The record whose entry the link carries, proven in the checkpoint's tree."""
    index = link.get("index")
    if type(index) is not int or not 0 <= index < checkpoint.size:
        raise VerificationError(f"{where}: expected a record index below {checkpoint.size}")
    if format_version == 2:
        checked, raw = _checked_v2(link, index, where=where)
        hasher = SHA256_HASHER
    else:
        line = b64(link.get("entry"), f"{where} entry")
        checked, raw = (
            check_entry(line, index, source=where),
            parse_line(line, where=where).record_bytes,
        )
        hasher = BLAKE3_HASHER
    if checked.header.index != index:
        raise VerificationError(f"{where}: entry is record {checked.header.index}, not {index}")
    if checked.record_hash != link.get("record_hash"):
        raise VerificationError(
            f"{where}: expected record_hash {checked.record_hash} (BLAKE3 of the entry's "
            f"record), found {link.get('record_hash')}"
        )
    stamp = datetime.fromisoformat(checked.header.timestamp.replace("Z", "+00:00"))
    trusted.require(
        parse_public_key(checked.header.signer.public_key), what=f"{where} record", at=stamp
    )
    proof = json_object(link.get("inclusion_proof"), f"{where} inclusion_proof")
    if proof.get("tree_size") != checkpoint.size:
        raise VerificationError(
            f"{where}: expected an inclusion proof in the checkpoint's tree of size "
            f"{checkpoint.size}, found tree_size {proof.get('tree_size')}"
        )
    hashes = proof.get("hashes")
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise VerificationError(f"{where}: expected the proof's hashes as hex strings")
    try:
        nodes = [bytes.fromhex(h) for h in hashes]
    except ValueError as exc:
        raise VerificationError(f"{where}: a proof hash is not hex ({exc})") from exc
    if proof.get("hash") != ("sha256" if format_version == 2 else "blake3-256"):
        raise VerificationError(f"{where}: the proof's hash is not format {format_version}'s")
    verify_inclusion(hasher, index, checkpoint.size, checked.leaf_hash, nodes, checkpoint.root_hash)
    return dict(parse_json(raw, where=where))


def _note_checkpoint(
    data: bytes, ledger: Mapping[str, Any], trusted: TrustedKeys, where: str
) -> Checkpoint:
    """A format-2 checkpoint: a C2SP signed note whose Ed25519 signature is by a trusted key
    (the candidates are the keys of the records the attestation carries)."""
    body = parse_checkpoint(note.parse_note(data, f"{where} checkpoint").text, where)
    keys = {}
    for name in ("record", "gate"):
        link = ledger if name == "record" else ledger.get("gate")
        raw = link.get("record") if isinstance(link, Mapping) else None
        if isinstance(raw, str):
            record = parse_json(b64(raw, f"{where} {name}"), where=where)
            signer = record.get("signer") if isinstance(record, dict) else None
            if isinstance(signer, dict) and isinstance(signer.get("public_key"), str):
                key = parse_public_key(signer["public_key"], source=where)
                keys[note.note_verifier(body.origin, key)] = key
    opened = note.open_note(data, keys, f"{where} checkpoint")
    trusted.require(keys[opened.verified_by[0]], what=f"{where} checkpoint")
    return Checkpoint(body.origin, body.size, body.root_hash)


def _check_subject(subject: Sequence[Any], audit: Mapping[str, Any], where: str) -> None:
    artifact = (audit.get("subject") or {}).get("artifact")
    if not isinstance(artifact, Mapping):
        raise VerificationError(f"{where}: the proven audit record names no model artifact")
    digest = subject[0]["digest"]
    if digest["blake3"] != artifact.get("blake3"):
        raise VerificationError(
            f"{where}: subject BLAKE3 {digest['blake3']} is not the audited model's "
            f"{artifact.get('blake3')}"
        )
    if artifact.get("sha256") and digest["sha256"] != artifact["sha256"]:
        raise VerificationError(
            f"{where}: subject SHA-256 {digest['sha256']} is not the audited model's "
            f"{artifact['sha256']}"
        )


def _fairness(
    statement: Mapping[str, Any], trusted: TrustedKeys, where: str
) -> tuple[AttestationVerification, dict[str, Any] | None]:
    predicate = json_object(statement.get("predicate"), f"{where} predicate")
    ledger = json_object(predicate.get("ledger"), f"{where} predicate.ledger")
    text = ledger.get("checkpoint")
    if not isinstance(text, str):
        raise VerificationError(f"{where}: expected the signed checkpoint in predicate.ledger")
    format_version = ledger.get("format_version", 1)
    if format_version == 2:
        checkpoint = _note_checkpoint(text.encode("utf-8"), ledger, trusted, where)
    elif format_version == 1:
        checkpoint = verify_signed_checkpoint(
            text.encode("utf-8"), trusted, source=f"{where} checkpoint"
        )
    else:
        raise VerificationError(f"{where}: unknown ledger format_version {format_version!r}")
    if checkpoint.origin != ledger.get("origin"):
        raise VerificationError(
            f"{where}: checkpoint origin {checkpoint.origin!r}, predicate says "
            f"{ledger.get('origin')!r}"
        )
    record = _proven_record(
        ledger, checkpoint, trusted, where=f"{where} audit", format_version=format_version
    )
    if record.get("kind") != "audit" or record.get("origin") != checkpoint.origin:
        raise VerificationError(f"{where}: the proven record is not an audit of this log")
    gate_payload = None
    if ledger.get("gate") is not None:
        gate = _proven_record(
            json_object(ledger["gate"], f"{where} gate"),
            checkpoint,
            trusted,
            where=f"{where} gate",
            format_version=format_version,
        )
        gate_payload = json_object(gate.get("gate"), f"{where} gate record")
        judged = gate_payload.get("judges") or {}
        if judged.get("index") != record["index"] or judged.get("record_hash") != ledger.get(
            "record_hash"
        ):
            raise VerificationError(f"{where}: the gate record does not judge this audit")
    verdict = verdict_of(record["audit"], gate_payload)
    if predicate.get("audit") != audit_summary(record, verdict):
        raise VerificationError(
            f"{where}: the predicate's audit summary differs from what the proven record "
            "states (the summary was altered, or belongs to another record)"
        )
    _check_subject(statement["subject"], record["audit"], where)
    steps = (
        Step("checkpoint", f"signed by a trusted key: {checkpoint.origin} size {checkpoint.size}"),
        Step("record", f"record {record['index']} signed by a trusted key, hash matches"),
        Step("inclusion", f"record {record['index']} is in the checkpoint's Merkle tree"),
        Step("summary", "the predicate's audit summary is the proven record's"),
        Step("subject", "sha256 and blake3 of the audited model artifact"),
    )
    result = AttestationVerification(
        subject=statement["subject"][0],
        origin=checkpoint.origin,
        index=int(record["index"]),
        record_hash=str(ledger["record_hash"]),
        checkpoint_size=checkpoint.size,
        predicate_types=(FAIRNESS_PREDICATE,),
        steps=steps,
    )
    return result, verdict


def verify_attestation(
    data: bytes, trusted: TrustedKeys, *, source: str = "attestation"
) -> AttestationVerification:
    """Verify every envelope of an attestation file (JSON Lines); raise on the first failure."""
    lines = [line for line in data.split(b"\n") if line.strip()]
    if not lines:
        raise VerificationError(f"{source}: expected DSSE envelopes, one per line; found none")
    statements = []
    for number, line in enumerate(lines, start=1):
        where = f"{source} line {number}"
        statements.append(
            (where, open_envelope(parse_json(line, where=where), trusted, where=where))
        )
    where, first = statements[0]
    if first["predicateType"] != FAIRNESS_PREDICATE:
        raise VerificationError(
            f"{where}: expected the {FAIRNESS_PREDICATE} Statement first, found "
            f"{first['predicateType']!r}"
        )
    result, verdict = _fairness(first, trusted, where)
    steps = [Step("envelope", f"DSSE signature by a trusted key over {where}"), *result.steps]
    for where, statement in statements[1:]:
        if statement["predicateType"] != TEST_RESULT_PREDICATE:
            raise VerificationError(
                f"{where}: unknown predicateType {statement['predicateType']!r}"
            )
        if statement["subject"] != first["subject"]:
            raise VerificationError(f"{where}: subject differs from the audit Statement's")
        if verdict is None or statement.get("predicate") != test_result(verdict):
            raise VerificationError(
                f"{where}: the test-result predicate does not match the proven gate verdict"
            )
        steps.append(Step("test-result", f"{where}: the proven verdict, DSSE-signed"))
    types = tuple(statement["predicateType"] for _, statement in statements)
    return AttestationVerification(
        result.subject,
        result.origin,
        result.index,
        result.record_hash,
        result.checkpoint_size,
        types,
        tuple(steps),
    )
