"""OpenSSH SSHSIG signatures (PROTOCOL.sshsig) with Ed25519: sign, parse and verify.

Signatures made here verify with ``ssh-keygen -Y verify -n bias-ledger`` and vice versa.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bias_ledger.errors import KeyFileError, VerificationError
from bias_ledger.ledger.keys import (
    KEY_TYPE,
    WireReader,
    encode_string,
    fingerprint,
    public_key_blob,
    public_key_from_blob,
)

NAMESPACE = "bias-ledger"
"""The SSHSIG namespace of every bias-ledger signature."""

BEGIN = "-----BEGIN SSH SIGNATURE-----"
END = "-----END SSH SIGNATURE-----"
_MAGIC = b"SSHSIG"
_VERSION = 1
_HASHES = {"sha512": hashlib.sha512, "sha256": hashlib.sha256}
"""What :func:`sign` can make (sha256 only for tests of the refusal)."""
VERIFIED_HASH = "sha512"
"""The only SSHSIG message hash a bias-ledger signature may use (as ssh-keygen's default)."""
_LINE_WIDTH = 70  # as ssh-keygen wraps its armor


@dataclass(frozen=True)
class SSHSignature:
    """The fields of a parsed SSHSIG blob, not yet verified."""

    public_key: Ed25519PublicKey
    """The public key the signature claims to be made with."""
    namespace: str
    """The namespace the signer declared, e.g. ``bias-ledger``."""
    hash_algorithm: str
    """``sha512`` or ``sha256``: the hash of the message that was signed."""
    signature: bytes
    """The raw 64-byte Ed25519 signature."""


def _signed_data(namespace: str, hash_algorithm: str, message: bytes) -> bytes:
    digest = _HASHES[hash_algorithm](message).digest()
    return (
        _MAGIC
        + encode_string(namespace.encode())
        + encode_string(b"")
        + encode_string(hash_algorithm.encode())
        + encode_string(digest)
    )


def sign(
    private_key: Ed25519PrivateKey,
    message: bytes,
    *,
    namespace: str = NAMESPACE,
    hash_algorithm: str = "sha512",
) -> str:
    """Return the armored SSHSIG signature of ``message``, as ``ssh-keygen -Y sign`` writes it."""
    if not namespace or hash_algorithm not in _HASHES:
        raise ValueError(f"cannot sign with namespace {namespace!r} and hash {hash_algorithm!r}")
    raw = private_key.sign(_signed_data(namespace, hash_algorithm, message))
    blob = (
        _MAGIC
        + _VERSION.to_bytes(4, "big")
        + encode_string(public_key_blob(private_key.public_key()))
        + encode_string(namespace.encode())
        + encode_string(b"")
        + encode_string(hash_algorithm.encode())
        + encode_string(encode_string(KEY_TYPE.encode()) + encode_string(raw))
    )
    text = base64.b64encode(blob).decode()
    lines = [text[i : i + _LINE_WIDTH] for i in range(0, len(text), _LINE_WIDTH)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


def _dearmor(armored: str) -> bytes:
    lines = armored.replace("\r\n", "\n").strip("\n").split("\n")
    if lines[0] != BEGIN:
        raise VerificationError(f"SSH signature: expected {BEGIN!r}, got {lines[0][:40]!r}")
    if len(lines) < 3 or lines[-1] != END:
        raise VerificationError(f"SSH signature: expected {END!r} as the last line")
    try:
        return base64.b64decode("".join(line.strip() for line in lines[1:-1]), validate=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII character
        raise VerificationError(f"SSH signature: the armor is not valid base64: {exc}") from exc


def parse(armored: str) -> SSHSignature:
    """Parse an armored SSHSIG signature without verifying it."""
    blob = _dearmor(armored)
    try:
        reader = WireReader(blob)
        magic = reader.take(len(_MAGIC))
        if magic != _MAGIC:
            raise VerificationError(f"SSH signature: expected magic 'SSHSIG', got {magic!r}")
        version = reader.uint32()
        if version != _VERSION:
            raise VerificationError(f"SSH signature: expected version 1, got {version}")
        key_blob = reader.string()
        namespace = reader.string().decode("utf-8", "replace")
        reader.string()  # reserved: ignored, as PROTOCOL.sshsig says
        hash_algorithm = reader.string().decode("ascii", "replace")
        signature_blob = WireReader(reader.string())
        reader.end()
        signature_type = signature_blob.string().decode("ascii", "replace")
        raw = signature_blob.string()
        signature_blob.end()
    except ValueError as exc:
        raise VerificationError(f"SSH signature: malformed signature blob: {exc}") from exc
    try:
        public_key = public_key_from_blob(key_blob, source="SSH signature")
    except KeyFileError as exc:
        raise VerificationError(exc.message) from exc
    if hash_algorithm != VERIFIED_HASH:
        # docs/FORMAT.md section 5: bias-ledger signs with sha512 only, and refuses the rest so
        # that one signed thing has one signature form.
        raise VerificationError(
            f"SSH signature: expected hash algorithm {VERIFIED_HASH!r}, got {hash_algorithm!r}"
        )
    if signature_type != KEY_TYPE or len(raw) != 64:
        raise VerificationError(
            f"SSH signature: expected a 64-byte {KEY_TYPE} signature, "
            f"got {signature_type} of {len(raw)} bytes"
        )
    return SSHSignature(public_key, namespace, hash_algorithm, raw)


def embedded_public_key(armored: str) -> Ed25519PublicKey:
    """Return the public key an armored signature names, without verifying anything."""
    return parse(armored).public_key


def verify(armored: str, message: bytes, *, namespace: str = NAMESPACE) -> Ed25519PublicKey:
    """Check an armored SSHSIG signature over ``message``; return the key that made it.

    This proves only that the embedded key signed; the caller decides whether to trust it.
    """
    parsed = parse(armored)
    if parsed.namespace != namespace:
        raise VerificationError(
            f"SSH signature: expected namespace {namespace!r}, got {parsed.namespace!r}"
        )
    try:
        parsed.public_key.verify(
            parsed.signature, _signed_data(parsed.namespace, parsed.hash_algorithm, message)
        )
    except InvalidSignature as exc:
        raise VerificationError(
            f"SSH signature by {fingerprint(parsed.public_key)}: expected a valid signature "
            "over the signed bytes, got one that does not match them"
        ) from exc
    return parsed.public_key
