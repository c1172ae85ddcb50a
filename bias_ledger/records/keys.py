"""Payloads of the key records, ``key_rotation`` and ``key_revocation`` (docs/FORMAT.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import InputError, KeyFileError
from bias_ledger.ledger.entry import parse_line
from bias_ledger.ledger.files import read_regular
from bias_ledger.ledger.key_text import key_text_message, looks_like_key_text
from bias_ledger.ledger.keys import fingerprint, parse_public_key, public_key_openssh
from bias_ledger.ledger.reader import read_ledger
from bias_ledger.ledger.record import FINGERPRINT_WRITTEN


def rotation_payload(successor: Ed25519PublicKey, *, format_version: int) -> dict[str, Any]:
    """The payload of a new rotation record of ``format_version``: the successor's key, and its
    fingerprint where that format writes it (format 2 derives it from the key)."""
    payload = {"new_public_key": public_key_openssh(successor)}
    if format_version in FINGERPRINT_WRITTEN:
        payload["new_fingerprint"] = fingerprint(successor)
    return payload


def revocation_payload(
    revoked: Ed25519PublicKey, *, after: int, size: int, reason: str, format_version: int
) -> dict[str, Any]:
    """``after`` must name a record already written (or be -1: everything the key signed);
    the revoked key's fingerprint is written where ``format_version`` writes it."""
    if not -1 <= after < size:
        raise InputError(
            f"--after {after}: expected -1 (every record) or an index of the ledger's records "
            f"0..{size - 1}"
            if size
            else f"--after {after}: the ledger is empty; expected -1"
        )
    named: dict[str, Any] = {"revoked_public_key": public_key_openssh(revoked)}
    if format_version in FINGERPRINT_WRITTEN:
        named["revoked_fingerprint"] = fingerprint(revoked)
    return {**named, "invalid_after": after, "reason": reason}


def _keys_in(lines: tuple[bytes, ...]) -> dict[str, str]:
    """Fingerprint to OpenSSH line, of every key that signed a record or that a rotation
    introduced; fingerprints are computed from the keys, never read from the records."""
    found: dict[str, str] = {}
    for line in lines:
        try:
            record = json.loads(parse_line(line, where="").record_bytes)
            texts = [record["signer"]["public_key"]]
            if record.get("kind") == "key_rotation":
                texts.append(record["key_rotation"]["new_public_key"])
        except (ValueError, KeyError, TypeError, LookupError):
            continue  # unreadable records are verify's business, not a key lookup's
        for text in texts:
            try:
                found.setdefault(fingerprint(parse_public_key(text)), text)
            except (KeyFileError, AttributeError):
                continue
    return found


def known_key(path: Path, text: str) -> tuple[Ed25519PublicKey, int]:
    """The key named by a fingerprint the ledger knows, or by a ``.pub`` file; and the number of
    records in the ledger."""
    stored = read_ledger(path)
    if text.startswith("SHA256:"):
        keys = _keys_in(stored.lines)
        if text not in keys:
            raise InputError(
                f"{text}: no record of {path} was signed by this key or introduces it; "
                "give its .pub file instead"
            )
        return parse_public_key(keys[text]), len(stored.lines)
    try:
        line = read_regular(text, error=KeyFileError).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        if looks_like_key_text(text):
            raise KeyFileError(
                key_text_message("REVOKED", "a fingerprint or a .pub file")
            ) from None
        raise KeyFileError(f"{text}: cannot read the public key file ({exc})") from None
    return parse_public_key(line, source=text), len(stored.lines)
