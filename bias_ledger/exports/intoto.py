"""``bias-ledger attest``: an audit record as in-toto Statements in DSSE envelopes, Ed25519-signed.

The fairness-audit Statement names the model artifact (SHA-256 and BLAKE3) as its subject; its
predicate holds the audit summary and the record's place in the ledger (entry, inclusion proof,
signed checkpoint), so it can be checked against the log. With a gate verdict, an in-toto
``test-result`` Statement follows. The output is JSON Lines, one envelope per line.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bias_ledger.errors import InputError
from bias_ledger.exports.intoto_model import (
    FAIRNESS_PREDICATE,
    PAYLOAD_TYPE,
    STATEMENT_TYPE,
    TEST_RESULT_PREDICATE,
    audit_summary,
    pae,
    test_result,
    verdict_of,
)
from bias_ledger.ledger.canonical import encode
from bias_ledger.ledger.keys import fingerprint
from bias_ledger.verify.records import VerifiedLedger


@dataclass(frozen=True)
class Attestation:
    """The signed envelopes, fairness audit first."""

    envelopes: tuple[Mapping[str, Any], ...]
    statements: tuple[Mapping[str, Any], ...]

    def jsonl(self) -> bytes:
        """One canonical JSON envelope per line (the in-toto bundle layout)."""
        return b"".join(encode(dict(envelope)) + b"\n" for envelope in self.envelopes)


def sign_envelope(statement: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """A DSSE envelope over the Statement's canonical bytes; keyid is the key's fingerprint."""
    payload = encode(dict(statement))
    signature = key.sign(pae(PAYLOAD_TYPE, payload))
    return {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [
            {
                "keyid": fingerprint(key.public_key()),
                "sig": base64.b64encode(signature).decode("ascii"),
            }
        ],
    }


def _gate(ledger: VerifiedLedger, index: int) -> int | None:
    """The latest gate record (within the checkpoint) that judges record ``index``."""
    latest = None
    for item in ledger.records():
        if item.index > index:
            record = item.record()
            if record.get("kind") == "gate":
                judged = (record.get("gate") or {}).get("judges") or {}
                if judged.get("index") == index:
                    latest = item.index
    return latest


def _link(ledger: VerifiedLedger, index: int) -> dict[str, Any]:
    """A record's entry and its inclusion proof in the tree of the signed checkpoint: format 1's
    entry line holds the record; a format-2 entry commits to it, so the record comes along."""
    item = ledger.record(index)
    leaf, proof = ledger.inclusion_proof(index)
    link: dict[str, Any] = {
        "index": index,
        "record_hash": item.record_hash,
        "entry": base64.b64encode(item.entry).decode("ascii"),
        "inclusion_proof": {
            "hash": "blake3-256" if ledger.format_version == 1 else "sha256",
            "tree_size": ledger.size,
            "leaf_hash": leaf.hex(),
            "hashes": [node.hex() for node in proof],
        },
    }
    if ledger.format_version == 2:
        link["record"] = base64.b64encode(item.data).decode("ascii")
    return link


def subject_of(audit: Mapping[str, Any], model: Path | None, *, where: str) -> dict[str, Any]:
    """The model artifact as an in-toto ResourceDescriptor: name, sha256 and blake3 digests."""
    from bias_ledger.exports.digests import sha256_file
    from bias_ledger.io.digest import digest_file

    artifact = (audit.get("subject") or {}).get("artifact")
    if model is None:
        if not isinstance(artifact, Mapping):
            raise InputError(
                f"{where}: the audit names no model artifact (audit with --model FILE); an "
                "attestation's subject is the model file"
            )
        if not artifact.get("sha256"):
            raise InputError(
                f"{where}: the record has the model's BLAKE3 but not its SHA-256; pass "
                "--model FILE (the same file) to add it"
            )
        return {
            "name": artifact["name"],
            "digest": {"sha256": artifact["sha256"], "blake3": artifact["blake3"]},
        }
    blake, _ = digest_file(model)
    if isinstance(artifact, Mapping) and artifact.get("blake3") != blake:
        raise InputError(
            f"{model}: BLAKE3 {blake} is not the audited model's {artifact.get('blake3')}"
        )
    name = artifact["name"] if isinstance(artifact, Mapping) else model.name
    return {"name": name, "digest": {"sha256": sha256_file(model), "blake3": blake}}


def attest_record(
    path: Path, index: int, key: Ed25519PrivateKey, *, model: Path | None = None
) -> Attestation:
    """Attest audit record ``index`` of the ledger at ``path`` (verified first)."""
    from bias_ledger.verify.records import open_verified

    # Integrity (format 1 or 2): who is trusted is the attestation verifier's decision, made
    # with its own keys.
    ledger = open_verified(path, None)
    size = ledger.size
    if not 0 <= index < size:
        from bias_ledger.verify.records import no_such_record

        raise no_such_record(path, index, size)
    record = ledger.record(index).record()
    where = f"{path} record {index}"
    if record.get("kind") != "audit":
        raise InputError(f"{where}: expected an audit record, found {record.get('kind')}")
    audit = record["audit"]
    gate = _gate(ledger, index)
    verdict = verdict_of(audit, ledger.record(gate).record()["gate"] if gate is not None else None)
    ledger_link = {
        "origin": ledger.origin,
        **({"format_version": 2} if ledger.format_version == 2 else {}),
        **_link(ledger, index),
        "gate": _link(ledger, gate) if gate is not None else None,
        "checkpoint": ledger.signed_checkpoint.decode("utf-8"),
    }
    subject = [subject_of(audit, model, where=where)]
    statements: list[dict[str, Any]] = [
        {
            "_type": STATEMENT_TYPE,
            "subject": subject,
            "predicateType": FAIRNESS_PREDICATE,
            "predicate": {"audit": audit_summary(record, verdict), "ledger": ledger_link},
        }
    ]
    if verdict is not None:
        statements.append(
            {
                "_type": STATEMENT_TYPE,
                "subject": subject,
                "predicateType": TEST_RESULT_PREDICATE,
                "predicate": test_result(verdict),
            }
        )
    envelopes = tuple(sign_envelope(statement, key) for statement in statements)
    return Attestation(envelopes, tuple(statements))
