"""Opening a DSSE envelope: the in-toto Statement inside, if a trusted key signed it.

DSSE v1 (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md): the signature is
over PAE(payloadType, payload). Part of the verifier's trusted core (standard library,
blake3, cryptography and ``ledger/`` only).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import VerificationError
from bias_ledger.exports.intoto_model import PAYLOAD_TYPE, STATEMENT_TYPE, pae
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.canonical import parse_json
from bias_ledger.ledger.checkpoint import parse_signed_checkpoint
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.keys import fingerprint, parse_public_key
from bias_ledger.ledger.trust import TrustedKeys


def b64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise VerificationError(f"{what}: expected base64 text, found {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise VerificationError(f"{what}: expected base64, found invalid text ({exc})") from exc


def json_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise VerificationError(f"{what}: expected a JSON object, found {type(value).__name__}")
    return value


def open_envelope(envelope: Any, trusted: TrustedKeys, *, where: str) -> dict[str, Any]:
    """The Statement inside a DSSE envelope signed by a trusted key; VerificationError if not."""
    envelope = json_object(envelope, where)
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise VerificationError(
            f"{where}: expected payloadType {PAYLOAD_TYPE!r}, found {envelope.get('payloadType')!r}"
        )
    payload = b64(envelope.get("payload"), f"{where} payload")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise VerificationError(f"{where}: expected at least one signature")
    signed = pae(PAYLOAD_TYPE, payload)
    embedded = _embedded_keys(payload)
    for position, item in enumerate(signatures):
        item = json_object(item, f"{where} signature {position}")
        keyid = item.get("keyid")
        entry = trusted.keys.get(keyid) if isinstance(keyid, str) else None
        if entry is None:
            continue  # a key we do not trust proves nothing
        key = entry.public_key or embedded.get(entry.fingerprint)
        if key is None:
            continue
        try:
            key.verify(b64(item.get("sig"), f"{where} sig"), signed)
        except InvalidSignature:
            raise VerificationError(
                f"{where}: the signature by trusted key {keyid} does not match the payload "
                "(the envelope was altered after signing)"
            ) from None
        statement = json_object(parse_json(payload, where=f"{where} payload"), f"{where} payload")
        _check_statement(statement, where)
        return statement
    listed = ", ".join(str(json_object(s, where).get("keyid")) for s in signatures)
    raise VerificationError(
        f"{where}: expected a signature by a key trusted in {trusted.source} (with its public "
        f"key), found signatures by {listed}"
    )


def _embedded_keys(payload: bytes) -> dict[str, Ed25519PublicKey]:
    """Public keys named inside the (not yet verified) payload, by fingerprint.

    A key trusted only by fingerprint (``--trusted-key``) is found here: the fingerprint is a
    hash of the key, so a key from untrusted bytes is used only if it is the trusted one.
    """
    keys: dict[str, Ed25519PublicKey] = {}
    with contextlib.suppress(Exception):
        ledger = json.loads(payload)["predicate"]["ledger"]
        links = [ledger, ledger.get("gate") or {}]
        for link in links:
            if link.get("entry"):
                line = base64.b64decode(link["entry"])
                record = json.loads(parse_line(line, where="").record_bytes)
                key = parse_public_key(record["signer"]["public_key"])
                keys[fingerprint(key)] = key
        _, armored = parse_signed_checkpoint(ledger["checkpoint"].encode(), source="")
        key = sshsig.embedded_public_key(armored)
        keys[fingerprint(key)] = key
    return keys


def _check_statement(statement: Mapping[str, Any], where: str) -> None:
    if statement.get("_type") != STATEMENT_TYPE:
        raise VerificationError(
            f"{where}: expected _type {STATEMENT_TYPE!r}, found {statement.get('_type')!r}"
        )
    subject = statement.get("subject")
    if not isinstance(subject, list) or not subject:
        raise VerificationError(f"{where}: expected a non-empty subject list")
    for item in subject:
        digest = json_object(item, f"{where} subject").get("digest")
        if not isinstance(digest, dict) or not {"sha256", "blake3"} <= set(digest):
            raise VerificationError(f"{where}: expected subject digests sha256 and blake3")
    if not isinstance(statement.get("predicateType"), str):
        raise VerificationError(f"{where}: expected a predicateType")
