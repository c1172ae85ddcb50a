"""SSHSIG checks of format-2 records against a known key, without re-parsing every blob.

A ledger has few signers and many records: the blob of an Ed25519 SSHSIG signature by a given
key in namespace ``bias-ledger`` with SHA-512 is a fixed prefix followed by the 64 signature
bytes. A blob that is not exactly that goes through the full parser for its error message.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bias_ledger.errors import VerificationError
from bias_ledger.ledger import sshsig
from bias_ledger.ledger.entry import armor
from bias_ledger.ledger.keys import encode_string, fingerprint, public_key_blob

_MAGIC = b"SSHSIG"
_NAMESPACE = sshsig.NAMESPACE.encode()
_HASH = b"sha512"


def blob_prefix(key: Ed25519PublicKey) -> bytes:
    """The bytes an SSHSIG blob by ``key`` (bias-ledger namespace, SHA-512) starts with."""
    return _prefix_of(public_key_blob(key))


@lru_cache(maxsize=64)
def _prefix_of(key_blob: bytes) -> bytes:
    return (
        _MAGIC
        + (1).to_bytes(4, "big")
        + encode_string(key_blob)
        + encode_string(_NAMESPACE)
        + encode_string(b"")
        + encode_string(_HASH)
        + (4 + 11 + 4 + 64).to_bytes(4, "big")
        + encode_string(b"ssh-ed25519")
        + (64).to_bytes(4, "big")
    )


def signed_data(message: bytes) -> bytes:
    """What Ed25519 signs in SSHSIG (namespace ``bias-ledger``, SHA-512 of the message)."""
    return _SIGNED_PREFIX + hashlib.sha512(message).digest()


_SIGNED_PREFIX = (
    _MAGIC
    + encode_string(_NAMESPACE)
    + encode_string(b"")
    + encode_string(_HASH)
    + (64).to_bytes(4, "big")
)
"""Everything :func:`signed_data` holds before the digest (the same for every record)."""


def check_signature(
    blob: bytes, message: bytes, key: Ed25519PublicKey, *, where: str, prefix: bytes = b""
) -> None:
    """``blob`` is a valid SSHSIG signature of ``message`` by ``key``; raise otherwise.

    ``prefix`` is :func:`blob_prefix` of ``key``, when the caller keeps it.
    """
    prefix = prefix or blob_prefix(key)
    if len(blob) == len(prefix) + 64 and blob.startswith(prefix):
        try:
            key.verify(blob[-64:], signed_data(message))
            return
        except InvalidSignature:
            raise VerificationError(
                f"{where}: SSH signature by {fingerprint(key)} does not match the record "
                "bytes (the record was changed after signing)"
            ) from None
    try:
        signer = sshsig.verify(armor(blob), message)
    except VerificationError as exc:
        raise VerificationError(f"{where}: {exc.message}") from exc
    if signer.public_bytes_raw() != key.public_bytes_raw():
        raise VerificationError(
            f"{where}: signer field names {fingerprint(key)}, but the signature was made by "
            f"{fingerprint(signer)}"
        )
