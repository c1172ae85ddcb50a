"""The payloads of key records: ``key_rotation`` and ``key_revocation``, strictly read.

Part of the verifier's trusted core. A key record names a key by its OpenSSH line; a format-1
record repeats its fingerprint beside it, as do format-2 records written before bias-ledger
derived it. Where held, the two must agree, and everything shows the fingerprint computed from
the key.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import KeyFileError, VerificationError
from bias_ledger.ledger.keys import fingerprint, parse_public_key
from bias_ledger.ledger.record import FINGERPRINT_HELD

ROTATION = "key_rotation"
REVOCATION = "key_revocation"


def key_of(text: object, *, where: str) -> Ed25519PublicKey:
    """An OpenSSH public key line held in a record; a bad one fails verification."""
    if not isinstance(text, str):
        raise VerificationError(f"{where}: expected an OpenSSH public key line")
    try:
        return parse_public_key(text, source=where)
    except KeyFileError as exc:
        raise VerificationError(exc.message) from exc


def _named_key(
    payload: object, key_field: str, fp_field: str, *, where: str, format_version: int
) -> str:
    """The fingerprint of the key a payload holds, which must be the fingerprint it states
    where it states one (a format-1 record always does; a format-2 one may)."""
    fields = payload if isinstance(payload, dict) else {}
    key = key_of(fields.get(key_field), where=f"{where} {key_field}")
    found = fingerprint(key)
    if fp_field not in fields and format_version not in FINGERPRINT_HELD:
        return found
    stated = fields.get(fp_field)
    if stated != found:
        raise VerificationError(
            f"{where}: {fp_field} reads {stated!r}, but {key_field} is the key {found} "
            "(a record that displays one key and authorises another)"
        )
    return found


def rotation_successor(payload: object, *, where: str, format_version: int) -> str:
    """The new key's OpenSSH line of a ``key_rotation`` payload (of a record of
    ``format_version``), its fingerprint checked where held."""
    _named_key(
        payload, "new_public_key", "new_fingerprint", where=where, format_version=format_version
    )
    assert isinstance(payload, dict)
    return str(payload["new_public_key"])


def revocation_target(payload: object, *, where: str, format_version: int) -> tuple[str, int]:
    """(revoked fingerprint, invalid_after) of a ``key_revocation`` payload (of a record of
    ``format_version``): the fingerprint derived from the key, checked where held."""
    found = _named_key(
        payload,
        "revoked_public_key",
        "revoked_fingerprint",
        where=where,
        format_version=format_version,
    )
    assert isinstance(payload, dict)
    after = payload.get("invalid_after")
    if type(after) is not int or after < -1:
        raise VerificationError(
            f"{where}: invalid_after must be a record index (or -1: every record), found {after!r}"
        )
    return found, after


def computed_fingerprint(public_key: object) -> str:
    """The fingerprint of an OpenSSH key line held in a record, computed from the key: a
    fingerprint field could name another key than the one trust follows."""
    try:
        return fingerprint(parse_public_key(str(public_key)))
    except KeyFileError:
        return "(unreadable key)"
